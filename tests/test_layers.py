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


def test_importing_theory_pulls_in_no_forbidden_module() -> None:
    code = (
        "import sys, theory, theory.fourier, theory.lottery, theory.sq, theory.predict, theory.tables\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'numpy', 'torch', 'numba', 'scipy', 'pandas', 'sim', 'verify', 'paper_figs', 'frontier', 'jobs', 'bench',"
        " 'tabular'})\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                          cwd=ROOT)
    assert proc.stdout.strip() == ""


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
