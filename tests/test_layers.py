"""The layer rule holds for every package, statically and at import time, and the checker
catches a planted violation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layers import PACKAGES, violations

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_respects_the_layer_rule() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize("package, planted", [
    ("sim", "import theory.fourier\n"),                        # sim may not import theory
    ("verify", "from jobs import demo\n"),                     # verify may not import jobs
    ("theory", "import numpy as np\n"),                        # theory is pure Python + sympy
    ("tabular", "import importlib\nimportlib.import_module(f'sim.{name}')\n"),  # no hidden loading
    ("jobs", "from frontier.cli import main\n"),                # jobs may not import the CLI
])
def test_a_planted_violation_is_reported(tmp_path: Path, package: str, planted: str) -> None:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / package / "planted.py").write_text(planted)
    found = violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{package}/planted.py:"), found


THEORY_MODULES = ["theory"] + sorted(f"theory.{p.stem}" for p in (ROOT / "theory").glob("*.py")
                                      if p.stem != "__init__")
FORBIDDEN = ("numpy", "torch", "numba", "scipy", "pandas", "sim", "verify", "paper_figs", "frontier", "jobs", "bench",
             "tabular")


@pytest.mark.parametrize("module", THEORY_MODULES)
def test_importing_a_theory_module_pulls_in_no_forbidden_module(module: str) -> None:
    # A fresh interpreter per module: each one alone must stay within pure Python + sympy.
    code = (f"import sys, {module}\n"
            f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {set(FORBIDDEN)!r})))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                          cwd=ROOT)
    assert proc.stdout.strip() == ""


def test_every_public_theory_name_is_exported() -> None:
    import theory
    from theory.fourier import ltf_coefficient, signal_carrying_fraction  # the names issue 20 asks for

    assert sorted(theory.__all__) == sorted(set(theory.__all__))
    assert all(hasattr(theory, name) for name in theory.__all__)
    assert theory.ltf_coefficient is ltf_coefficient and theory.signal_carrying_fraction is signal_carrying_fraction


def test_the_bounds_command_needs_no_numpy() -> None:
    """`frontier bounds` is the theorist's command: a base install (sympy only) must run it."""
    code = (
        "import sys\n"
        "from frontier.cli import main\n"
        "status = main(['bounds', '--n', '20', '--k', '3', '--s', '2', '--format', 'csv'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'numpy', 'torch', 'numba', 'scipy', 'pandas'})\n"
        "print('status', status, 'heavy', ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                          cwd=ROOT)
    assert proc.stdout.strip().endswith("status 0 heavy"), proc.stdout
