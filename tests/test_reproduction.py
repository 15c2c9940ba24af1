"""jobs.reproduction: the n = 100 reproduction's tables from a store (paired cells only, ratio
paired draw by draw) and the committed store loads with the toolkit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from jobs import reproduction
from sim.store import load


def _store(tmp_path: Path) -> Path:
    from sim.config import RunConfig, RunResult
    from sim.store import Store

    rng = np.random.default_rng(0)
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        for init, m50 in (("dense", 600.0), ("sparse", 300.0)):
            for width in (8, 64):
                for m in (150, 300, 600, 1200):
                    for seed in range(16):
                        ok = bool(rng.random() < 1 / (1 + (m50 / m) ** 4))
                        config = RunConfig(n=20, k=3, width=width, samples=m, init=init, seed=seed, max_steps=500,
                                           test_size=400)
                        store.write(config, RunResult(ok, 300 if ok else None, 300 if ok else 500, 0.05 if ok else 0.5,
                                                      0.0, False, 2.0), "numpy", "cpu", "float64")
        # A sparse-only cell (another experiment's): the tables must not read it.
        for seed in range(16):
            store.write(RunConfig(n=20, k=3, width=64, samples=100, init="sparse", seed=seed, max_steps=500,
                                  test_size=400), RunResult(True, 300, 300, 0.05, 0.0, False, 2.0), "numpy", "cpu",
                        "float64")
    return path


def test_tables_read_paired_cells_and_pair_the_ratio(tmp_path):
    frame = load(_store(tmp_path))
    m50, ratio = reproduction.tables(frame, n_bootstrap=300)
    assert set(m50["init"]) == {"dense", "sparse"} and set(m50["width"]) == {8, 64}
    assert (m50["runs"] == 64).all()  # 4 m x 16 seeds: the sparse-only m = 100 cell is not read
    assert list(ratio["width"]) == [8, 64]
    for r in ratio.to_dict("records"):
        assert math.isclose(r["ratio"], r["m50_dense"] / r["m50_sparse"])
        assert r["ci_low"] <= r["ratio"] <= r["ci_high"]
        assert r["critical_width"] == 64
    assert (ratio["ratio"] > 1.3).all()  # truth 2: a ratio this far from it would be a bug (fixed seed)
    text = reproduction.summary_markdown(frame, m50, ratio)
    assert "| 3 | 64 | 1.00 |" in text and "CPU-hours" in text


def test_run_writes_every_output(tmp_path):
    _store(tmp_path)
    outcome = reproduction.run(tmp_path, figures=False)
    for name in ("m50.csv", "ratio.csv", "success.csv", "summary.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert outcome["runs"] == 272
    with pytest.raises(ValueError, match="no runs"):
        (tmp_path / "empty").mkdir()
        from sim.store import Store

        with Store(tmp_path / "empty" / "runs.sqlite"):
            pass
        reproduction.run(tmp_path / "empty", figures=False)


def test_the_committed_n100_store_loads():
    store = Path(__file__).resolve().parent.parent / "results" / "fig2_n100" / "runs.sqlite"
    frame = load(store)
    assert len(frame) > 0 and set(frame["n"]) == {100} and (frame["max_steps"] == 100_000).all()
    assert (frame["test_size"] == 10_000).all()
