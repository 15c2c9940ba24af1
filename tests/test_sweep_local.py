"""sim.sweep on the local machine: in-process and process-pool sweeps write the same rows
as sim.train alone, resume skips stored runs, overlapping grids reuse them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.engine import group_key
from sim.grid import load_grid
from sim.store import load, run_id
from sim.sweep import make_batches, sweep
from sim.training import train

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BACKEND = "numpy"  # the sweep machinery is backend-independent; numpy runs tiny grids fastest
VOLATILE = ["wall_seconds", "finished_at", "host"]


def stored_rows(path: Path) -> pd.DataFrame:
    """A store's rows without the columns that legitimately differ between two sweeps."""
    return load(path).drop(columns=VOLATILE).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def grid():
    return load_grid(EXAMPLES / "ci_tiny.toml")


@pytest.fixture(scope="module")
def in_process_store(grid, tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "in_process.sqlite"
    summary = sweep(grid, path, backend=BACKEND, workers=1, progress=False)
    assert (summary.total, summary.already, summary.ran) == (len(grid), 0, len(grid))
    return path


def test_in_process_sweep_stores_what_train_returns(grid, in_process_store):
    rows = load(in_process_store).set_index("run_id")
    assert len(rows) == len(grid) and rows.index.is_unique
    for config, result in zip(grid, train(grid, backend=BACKEND)):
        row = rows.loc[run_id(config)]
        assert row["seed"] == config.seed and row["width"] == config.width
        assert bool(row["success"]) == result.success
        assert row["steps_run"] == result.steps_run
        assert row["final_test_error"] == pytest.approx(result.final_test_error, abs=0)
    assert 0 < rows["success"].sum() < len(grid), "the tiny grid should straddle the frontier"


def test_pool_sweep_gives_the_same_rows(grid, in_process_store, tmp_path):
    path = tmp_path / "pool.sqlite"
    summary = sweep(grid, path, backend=BACKEND, workers=2, batch_runs=5, progress=False)
    assert summary.ran == len(grid)
    pd.testing.assert_frame_equal(stored_rows(path), stored_rows(in_process_store))


def test_resume_runs_only_what_is_missing_and_overlaps_are_reused(grid, in_process_store, tmp_path):
    path = tmp_path / "resume.sqlite"
    first = sweep(grid[::2], path, backend=BACKEND, workers=1, progress=False)
    assert (first.total, first.ran) == (len(grid[::2]), len(grid[::2]))
    second = sweep(grid, path, backend=BACKEND, workers=1, progress=False)
    assert (second.total, second.already, second.ran) == (len(grid), len(grid[::2]), len(grid) - len(grid[::2]))
    third = sweep(grid, path, backend=BACKEND, workers=1, progress=False)
    assert (third.already, third.ran) == (len(grid), 0)
    pd.testing.assert_frame_equal(stored_rows(path), stored_rows(in_process_store))


def test_batches_keep_compatible_runs_together(grid):
    batches = make_batches(list(reversed(grid)), 3)
    assert [len(b) for b in batches] == [3] * (len(grid) // 3) + ([len(grid) % 3] if len(grid) % 3 else [])
    flat = [c for batch in batches for c in batch]
    assert sorted(map(run_id, flat)) == sorted(map(run_id, grid))
    keys = [group_key(c) for c in flat]
    assert keys == sorted(keys)  # each group_key is one contiguous stretch
    with pytest.raises(ValueError, match="batch_runs=0"):
        make_batches(grid, 0)


def test_bad_arguments_fail_before_the_store_is_created(grid, tmp_path):
    path = tmp_path / "never.sqlite"
    for kwargs, fragment in [
        ({"backend": "jax"}, "backend='jax'"),
        ({"workers": 0}, "workers=0"),
        ({"batch_runs": -1}, "batch_runs=-1"),
        ({"device": "tpu"}, "device='tpu'"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            sweep(grid, path, progress=False, **({"backend": BACKEND} | kwargs))
    assert not path.exists()
