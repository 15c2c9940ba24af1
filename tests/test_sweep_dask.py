"""Sweeps through a Dask LocalCluster on 127.0.0.1: exactly the rows of the local pool, and a
worker killed mid-sweep loses nothing (Dask reruns its batch; the client alone writes)."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.grid import load_grid, parse_grid
from sim.store import load, run_id
from sim.sweep import sweep

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BACKEND = "numpy"
VOLATILE = ["wall_seconds", "finished_at", "host"]
SLOWER_GRID = """
n = 12
k = 3
width = [16, 32]
samples = [100, "online"]
seeds = 6
max_steps = 1000
eval_every = 100
test_size = 300
target_error = 0.0
"""


def stored_rows(path: Path) -> pd.DataFrame:
    return load(path).drop(columns=VOLATILE).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                      dashboard_address=None) as local_cluster:
        assert local_cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield local_cluster


def test_dask_local_cluster_matches_local_pool(cluster, tmp_path):
    grid = load_grid(EXAMPLES / "ci_tiny.toml")
    pool = sweep(grid, tmp_path / "pool.sqlite", backend=BACKEND, workers=2, batch_runs=4, progress=False)
    assert pool.ran == len(grid)

    address = cluster.scheduler_address
    dask = sweep(grid, tmp_path / "dask.sqlite", backend=BACKEND, scheduler=address, batch_runs=3,
                 progress=False)
    assert (dask.total, dask.ran) == (len(grid), len(grid))
    again = sweep(grid, tmp_path / "dask.sqlite", backend=BACKEND, scheduler=address, progress=False)
    assert (again.already, again.ran) == (len(grid), 0)
    pd.testing.assert_frame_equal(stored_rows(tmp_path / "dask.sqlite"), stored_rows(tmp_path / "pool.sqlite"))


def test_a_worker_killed_mid_sweep_loses_nothing(cluster, tmp_path):
    from distributed import Client

    configs = parse_grid(SLOWER_GRID)
    store = tmp_path / "dask.sqlite"
    with Client(cluster.scheduler_address) as client:
        victim_pid = next(iter(client.run(os.getpid).values()))
    killed_at: list[int] = []

    def kill_one_worker_once_rows_appear() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if store.exists():
                db = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)
                try:
                    rows = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                except sqlite3.OperationalError:
                    rows = 0
                finally:
                    db.close()
                if rows >= 2:
                    os.kill(victim_pid, signal.SIGKILL)
                    killed_at.append(rows)
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_worker_once_rows_appear)
    killer.start()
    summary = sweep(configs, store, backend=BACKEND, scheduler=cluster.scheduler_address, batch_runs=2,
                    progress=False)
    killer.join()
    assert killed_at and killed_at[0] < len(configs), "the worker was not killed mid-sweep"
    assert summary.ran == len(configs)
    assert sorted(load(store)["run_id"]) == sorted(map(run_id, configs))  # each run exactly once

    reference = tmp_path / "in_process.sqlite"
    sweep(configs, reference, backend=BACKEND, workers=1, progress=False)
    pd.testing.assert_frame_equal(stored_rows(store), stored_rows(reference))


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    grid = load_grid(EXAMPLES / "ci_tiny.toml")[:2]
    with pytest.raises(ValueError, match="cannot reach Dask scheduler"):
        sweep(grid, tmp_path / "s.sqlite", backend=BACKEND, scheduler="tcp://127.0.0.1:9", progress=False)
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        sweep(grid, tmp_path / "s.sqlite", backend=BACKEND, scheduler="tcp://nohost", progress=False)
    assert not (tmp_path / "s.sqlite").exists()
