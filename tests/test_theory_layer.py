"""Layer rule (DEVELOPERS.md): theory/ imports nothing of ours and neither numpy, torch nor numba."""

from __future__ import annotations

import subprocess
import sys

import pytest

THEORY_MODULES = (
    "theory", "theory.activations", "theory.anticoncentration", "theory.fourier", "theory.lottery", "theory.ltf",
    "theory.neuron", "theory.predict", "theory.scaling", "theory.sq", "theory.symbolic",
)
FORBIDDEN = ("numpy", "torch", "numba", "scipy", "sim", "verify", "paper_figs", "frontier")


@pytest.mark.parametrize("module", THEORY_MODULES)
def test_importing_theory_pulls_in_no_forbidden_module(module: str) -> None:
    # A fresh interpreter per module: each one alone must stay within pure Python + sympy.
    code = (
        f"import sys, {module}\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {set(FORBIDDEN)!r})\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == ""


def test_every_public_name_is_exported() -> None:
    import theory

    assert sorted(theory.__all__) == sorted(set(theory.__all__))
    for name in theory.__all__:
        assert hasattr(theory, name), name
    from theory.fourier import ltf_coefficient, signal_carrying_fraction  # the names the issue asks for

    assert theory.ltf_coefficient is ltf_coefficient and theory.signal_carrying_fraction is signal_carrying_fraction
