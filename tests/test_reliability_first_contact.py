"""Issue 25, first contact: what a new user meets following the README and docs/api.md.

At 98c3d10: the api.md sweep, pasted into a script, broke its pool and blamed "worker processes
died ... (killed, or out of memory?)"; help texts listed stale or no choices (demo's grid, verify's
checks, figs' targets, bench's jax); `fit` wrote ./fit/, which .gitignore did not know, and showed
no progress; a bogus MPLBACKEND left an empty folder; a closed stdout lost the output with exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_contract import one_error_line

ROOT = Path(__file__).resolve().parents[1]
TINY = "n = 8\nk = 2\nwidth = [8, 16]\nsamples = [64, \"online\"]\nseeds = 2\nmax_steps = 100\neval_every = 50\n" \
       "test_size = 100\n"


def test_a_sweep_from_a_script_without_the_main_guard_says_what_to_do(tmp_path):
    (tmp_path / "grid.toml").write_text(TINY)
    script = tmp_path / "unguarded.py"
    script.write_text("import sim.grid, sim.sweep\n"
                      "configs = sim.grid.load_grid('grid.toml')\n"
                      "sim.sweep.sweep(configs, 'runs.sqlite', backend='numpy', workers=2, progress=False)\n")
    done = subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError: sweep(workers=2) was called from the script") and "__main__" in last, last
    assert "died" not in done.stderr
    assert not (tmp_path / "runs.sqlite").exists()  # refused before the store or a pool was made


def test_the_same_script_with_the_guard_sweeps(tmp_path):
    from sim.sweep import main_script_without_guard

    (tmp_path / "grid.toml").write_text(TINY)
    script = tmp_path / "guarded.py"
    script.write_text("import sim.grid, sim.sweep\n\n\nif __name__ == '__main__':\n"
                      "    configs = sim.grid.load_grid('grid.toml')\n"
                      "    print(sim.sweep.sweep(configs, 'runs.sqlite', backend='numpy', workers=2, progress=False).ran)\n")
    done = subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "8", done.stderr
    assert main_script_without_guard() is None  # pytest's own entry point is guarded


def help_text(*command: str) -> str:
    done = subprocess.run([sys.executable, "-m", "frontier.cli", *command, "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_texts_list_the_registries_choices():
    from bench.harness import BASELINES, OURS
    from jobs.demo import DEMO_GRID
    from paper_figs import STORE_FIGURES
    from verify.checks import CHECK_NAMES

    demo = help_text("demo")
    assert all(f"n {part['n']}; k {part['k']}" in demo for part in DEMO_GRID)
    assert "n=20, k=3, dense vs 2-hot sparse, widths 8..256" not in demo  # the old one-n grid
    verify = " ".join(help_text("verify").split())
    assert all(f" {name} " in verify for name in CHECK_NAMES)
    figs = help_text("figs")
    assert all(f"\n  {name} " in figs for name in STORE_FIGURES)
    bench = help_text("bench")
    assert all(name in bench for name in BASELINES + OURS)
    info = help_text("info")
    assert "grids" not in info.split("positional arguments")[0]


def test_train_errors_name_the_flag(cli):
    status, _, err = cli("train", "--n", "8", "--k", "2", "--width", "0")
    assert one_error_line(status, err, "--width 0 must be >= 1")
    status, _, err = cli("train", "--n", "8", "--k", "9", "--width", "8")
    assert one_error_line(status, err, "--k 9") and "RunConfig" not in err


def test_fit_writes_under_out_which_gitignore_knows_and_shows_progress(tmp_path):
    from sim.grid import parse_grid
    from sim.sweep import sweep

    store = tmp_path / "runs.sqlite"
    sweep(parse_grid("n = 8\nk = 2\nwidth = [8, 16, 32]\nsamples = [32, 64, 128]\nseeds = 3\nmax_steps = 200\n"
                     "eval_every = 50\ntest_size = 100\n"), store, backend="numpy", workers=1, progress=False)
    done = subprocess.run([sys.executable, "-m", "frontier.cli", "fit", str(store), "--model", "A", "B",
                           "--bootstrap", "10", "--no-figures"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert "fitting model A (1/2" in done.stderr and "fitting model B (2/2" in done.stderr
    assert (tmp_path / "out" / "fit" / "fit.json").is_file() and not (tmp_path / "fit").exists()
    ignored = subprocess.run(["git", "check-ignore", "-q", "out/fit/fit.json"], cwd=ROOT)
    assert ignored.returncode == 0  # .gitignore knows where fit writes


def test_a_bogus_matplotlib_backend_is_one_line_and_makes_no_folder(tmp_path):
    env = dict(os.environ, MPLBACKEND="bogus")
    out = tmp_path / "figs"
    done = subprocess.run([sys.executable, "-m", "frontier.cli", "figs", str(tmp_path / "none.sqlite"), "--out",
                           str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert one_error_line(done.returncode, done.stderr, "store")  # the missing store is named first
    (tmp_path / "empty.sqlite").write_bytes(b"")
    done = subprocess.run([sys.executable, "-m", "frontier.cli", "figs", str(tmp_path / "empty.sqlite"), "--out",
                           str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert one_error_line(done.returncode, done.stderr, "MPLBACKEND='bogus'"), done.stderr
    assert not out.exists()


def test_a_closed_stdout_is_an_error_not_a_silent_loss():
    command = f"exec {sys.executable} -m frontier.cli bounds --n 20 --k 3 --s 2 >&-"  # stdout closed
    done = subprocess.run(["bash", "-c", command], stderr=subprocess.PIPE, text=True, timeout=120)
    assert one_error_line(done.returncode, done.stderr, "standard output is closed"), done.stderr


@pytest.mark.parametrize("selector", ["n <= 30 or True", "init < 5"])
def test_fit_refuses_a_bad_selector_before_reading_the_store(cli, tmp_path, selector):
    status, out, err = cli("fit", tmp_path / "missing.sqlite", "--fit", selector, "--predict", "n == 40")
    assert one_error_line(status, err, "--fit: selector")  # not "does not exist", and nothing fitted
