"""Issue 13, the error contract: every expected failure (OSError, sqlite3.Error, a refused size)
is one `error:` line and exit status 2; a bug is one line that says how to get the traceback
(`--debug`), never a bare traceback; `frontier --version` answers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import frontier.commands.bounds as bounds_command

ROOT = Path(__file__).resolve().parents[1]




@pytest.mark.parametrize("failure, fragment", [
    (OSError(28, "No space left on device", "bounds.md"), "No space left on device: bounds.md"),
    (sqlite3.OperationalError("database is locked"), "database is locked"),
    (MemoryError("run needs 40.0 GiB"), "run needs 40.0 GiB"),
    (TimeoutError("scheduler did not answer"), "scheduler did not answer"),
    (PermissionError(13, "Permission denied", "out"), "Permission denied: out"),
])
def test_expected_failures_are_one_error_line(failure, fragment, cli, monkeypatch):
    def fail(args):
        raise failure

    monkeypatch.setattr(bounds_command, "run", fail)
    status, out, err = cli("bounds", "--n", 5, "--k", 2, "--s", 2)
    assert status == 2 and out == ""
    assert err == f"error: {fragment}\n"


def test_a_bug_is_one_line_and_debug_shows_the_traceback(cli, monkeypatch):
    def bug(args):
        raise KeyError("success")

    monkeypatch.setattr(bounds_command, "run", bug)
    status, _, err = cli("bounds", "--n", 5, "--k", 2, "--s", 2)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith("error: unexpected KeyError") and "rerun with --debug" in err
    for argv in (["--debug", "bounds", "--n", "5", "--k", "2", "--s", "2"],
                 ["bounds", "--n", "5", "--k", "2", "--s", "2", "--debug"]):
        status, _, err = cli(*argv)
        assert status == 2 and "Traceback (most recent call last)" in err and "KeyError" in err


def test_version():
    process = subprocess.run([sys.executable, "-m", "frontier.cli", "--version"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith("frontier (parity-frontier) ")


def test_a_command_error_is_one_line_under_python_dash_m_too(tmp_path):
    """`python -m frontier.cli` runs cli.py as __main__, a second copy of the module: a CliError
    raised by a command (which imports frontier.cli) must still be one line, not a traceback."""
    process = subprocess.run([sys.executable, "-m", "frontier.cli", "verify", str(tmp_path / "s.sqlite"),
                              "--keep-store", "x"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert process.returncode == 2
    assert process.stderr == "error: --keep-store only goes with --quick\n"
