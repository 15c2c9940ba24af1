"""Layer rule (DEVELOPERS.md): theory/ imports nothing of ours and neither torch nor numba."""

from __future__ import annotations

import subprocess
import sys


def test_importing_theory_pulls_in_no_forbidden_module() -> None:
    code = (
        "import sys, theory, theory.fourier, theory.lottery, theory.sq, theory.predict\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'numba', 'sim', 'verify', 'paper_figs', 'frontier'})\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == ""
