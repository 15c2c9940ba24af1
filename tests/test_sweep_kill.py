"""kill -9 a running `frontier sweep` (client and pool workers), resume it: every run is
stored exactly once and the store equals that of an uninterrupted sweep."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from sim.grid import load_grid
from sim.store import load, run_id
from sim.sweep import sweep
from stores import SLOW_GRID, count_rows

BACKEND = "numpy"
VOLATILE = ["wall_seconds", "finished_at", "host"]




def frontier_sweep(grid: Path, store: Path, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "frontier.cli", "sweep", str(grid), "--store", str(store),
               "--backend", BACKEND, "--workers", "2", "--batch-runs", "2", "--quiet"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_kill_minus_nine_then_resume(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(SLOW_GRID)
    configs = load_grid(grid)
    total = len(configs)
    store = tmp_path / "killed.sqlite"

    process = frontier_sweep(grid, store, start_new_session=True)
    deadline = time.monotonic() + 60
    try:
        while count_rows(store) < 2:
            assert process.poll() is None, f"sweep ended before it could be killed: {process.communicate()}"
            assert time.monotonic() < deadline, "sweep wrote nothing in 60 s"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the client and its pool workers
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    stored_at_kill = count_rows(store)
    assert 2 <= stored_at_kill < total

    resumed = frontier_sweep(grid, store)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert f"{stored_at_kill} were already in" in out and f"{total}/{total}" in out

    db = sqlite3.connect(store)
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM runs").fetchone() == (total, total)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()

    reference = tmp_path / "uninterrupted.sqlite"
    assert sweep(configs, reference, backend=BACKEND, workers=1, progress=False).ran == total
    killed_rows = load(store).drop(columns=VOLATILE).sort_values("run_id").reset_index(drop=True)
    reference_rows = load(reference).drop(columns=VOLATILE).sort_values("run_id").reset_index(drop=True)
    assert sorted(killed_rows["run_id"]) == sorted(map(run_id, configs))
    pd.testing.assert_frame_equal(killed_rows, reference_rows)

    again = frontier_sweep(grid, store)
    out, _ = again.communicate(timeout=60)
    assert again.returncode == 0 and out.startswith(f"nothing to do: all {total} runs")
