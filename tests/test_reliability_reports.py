"""Issue 13, honest output: the demo's report describes every run it analyses (a --tiny demo into
a folder holding other runs used to list only the tiny grid while its checks used every run), and
`frontier tickets` with a bad --store fails before the training, not after it."""

from __future__ import annotations

import time


from jobs.demo import TINY_GRID
from sim.grid import parse_grid
from sim.store import load
from sim.sweep import sweep

OTHER_GRID = """
n = 8
k = 2
width = [8, 32]
samples = [64, "online"]
init = ["dense", "sparse"]
seeds = 2
max_steps = 200
eval_every = 50
test_size = 200
"""
OTHER_RUNS = 16




def test_a_tiny_demo_over_a_fuller_store_describes_every_run_it_analyses(tmp_path, cli):
    out = tmp_path / "demo"
    out.mkdir()
    sweep(parse_grid(OTHER_GRID), out / "runs.sqlite", backend="numpy", workers=1, progress=False)
    status, _, err = cli("demo", "--tiny", "--out", out, "--workers", 1)
    assert status == 0, err
    report = (out / "report.md").read_text()
    what_was_run = report.split("## What was run", 1)[1].split("\n## ", 1)[0]
    stored = load(out / "runs.sqlite")
    assert len(stored) > OTHER_RUNS
    assert f"uses all {len(stored)} runs of the store" in what_was_run
    assert f"{OTHER_RUNS} of them are not in the grid requested by this invocation" in what_was_run
    # One row per setting of the store: the earlier grid's settings are listed with their runs.
    for setting in ("n=8 k=2 dense", "n=8 k=2 sparse(s=2,uniform)", f"n={TINY_GRID[0]['n']} k=3 dense"):
        row = next(line for line in what_was_run.splitlines() if line.startswith(f"| {setting}"))
        assert row.split("|")[2].strip().isdigit()
    assert "numpy/cpu/float32 (16 runs)" in what_was_run


def test_tickets_with_a_bad_store_fails_before_training(tmp_path, cli):
    notes = tmp_path / "notes.sqlite"
    notes.write_text("my notes\n")
    tiny = ["tickets", "--n", 10, "--k", 2, "--width", 8, "--top", 2, "--seeds", 1, "--random-nets", 1,
            "--max-steps", 200, "--eval-every", 100, "--backend", "numpy", "--out", tmp_path / "figs"]
    for store, fragment in ((notes, "not an SQLite database"), (tmp_path / "missing" / "t.sqlite", "does not exist"),
                            (tmp_path, "is a directory")):
        started = time.perf_counter()
        status, out, err = cli(*tiny, "--store", store)
        assert status == 2 and err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err
        assert out == "" and time.perf_counter() - started < 2.0  # nothing was trained
    assert notes.read_text() == "my notes\n"
