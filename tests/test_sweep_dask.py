"""A sweep through a Dask LocalCluster on 127.0.0.1 writes exactly the rows of the local pool."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.grid import load_grid
from sim.store import load
from sim.sweep import sweep

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BACKEND = "numpy"
VOLATILE = ["wall_seconds", "finished_at", "host"]


def stored_rows(path: Path) -> pd.DataFrame:
    return load(path).drop(columns=VOLATILE).sort_values("run_id").reset_index(drop=True)


def test_dask_local_cluster_matches_local_pool(tmp_path):
    from distributed import LocalCluster

    grid = load_grid(EXAMPLES / "ci_tiny.toml")
    pool = sweep(grid, tmp_path / "pool.sqlite", backend=BACKEND, workers=2, batch_runs=4, progress=False)
    assert pool.ran == len(grid)

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        dask = sweep(grid, tmp_path / "dask.sqlite", backend=BACKEND, scheduler=address, batch_runs=3,
                     progress=False)
        assert (dask.total, dask.ran) == (len(grid), len(grid))
        again = sweep(grid, tmp_path / "dask.sqlite", backend=BACKEND, scheduler=address, progress=False)
        assert (again.already, again.ran) == (len(grid), 0)

    pd.testing.assert_frame_equal(stored_rows(tmp_path / "dask.sqlite"), stored_rows(tmp_path / "pool.sqlite"))


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    grid = load_grid(EXAMPLES / "ci_tiny.toml")[:2]
    with pytest.raises(ValueError, match="cannot reach Dask scheduler"):
        sweep(grid, tmp_path / "s.sqlite", backend=BACKEND, scheduler="tcp://127.0.0.1:9", progress=False)
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        sweep(grid, tmp_path / "s.sqlite", backend=BACKEND, scheduler="tcp://nohost", progress=False)
    assert not (tmp_path / "s.sqlite").exists()
