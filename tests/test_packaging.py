"""Packaging: the base install (no extras) is what `theory` needs, and it works on its own.

A theorist who wants only exact theory runs ``pip install parity-frontier``: sympy, nothing
else. Built here from this checkout into a throwaway venv (about 10 s with a package index).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_metadata_keeps_torch_a_range_and_the_pin_in_constraints() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(meta["dependencies"]) + [r for extra in meta["optional-dependencies"].values() for r in extra]
    torch = [r for r in requirements if r.replace(" ", "").startswith("torch")]
    assert torch and all("==" not in r for r in torch), torch
    assert meta["dependencies"] == ["sympy>=1.12"]
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().split()


@pytest.mark.slow
def test_base_install_runs_bounds_and_theory_without_torch_or_numba(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ there
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "out", "figs", "*.egg-info",
                                                                  "__pycache__", ".pytest_cache", ".hypothesis"))
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    install = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    bounds = subprocess.run([env / "bin" / "frontier", "bounds", "--n", "50", "--k", "3", "--s", "2"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert bounds.returncode == 0, bounds.stderr
    assert "| 50 | 3 | 2 | 0 | 0.002449 | 3/1225 | 409 |" in bounds.stdout
    probe = ("import importlib.util, theory\n"
             "print(theory.critical_width(50, 3, 2), [m for m in ('torch', 'numba', 'numpy') "
             "if importlib.util.find_spec(m)])")
    result = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["409", "[]"], sys.executable
