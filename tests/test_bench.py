"""`frontier bench`: the output's shape and the formulas (never a speed; issue 6)."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys

import pytest

from frontier.cli import main
from bench import costs, harness


def test_flops_formula_by_hand() -> None:
    # B=1, n=1, r=1: forward 2+1+1+2, loss 4, backward 2+2+2+1, update 4*3.
    assert costs.flops_per_run_step(1, n=1, batch=1) == 6 + 4 + 7 + 12
    # The matmul terms dominate at the paper's n and batch: 4Bn / (4Bn + 9B + 4n + 8) > 0.9.
    r = 1000
    assert 4 * 32 * 50 * r / costs.flops_per_run_step(r) > 0.9
    assert costs.bytes_per_run_step(10, n=50, batch=32) == 8 * (500 + 20) + 32 * 51


def test_paper_grid_size() -> None:
    grid = costs.PaperGrid()
    assert grid.samples[:5] == (100, 200, 300, 600, 1000) and grid.samples[-2:] == (1_000_000, None)
    assert grid.total_runs == 9 * 18 * 6 * 2 * 2 * 50 == 194_400


def test_grid_estimate_matches_a_hand_count() -> None:
    # A fake measurement with the same achieved FLOP rate everywhere: hours = total FLOPs / rate.
    rate = 1e12
    rows = [{"width": w, "contenders": {"torch": {
        "run_steps_per_s": rate / costs.flops_per_run_step(w), "gflops": rate / 1e9,
        "eval_seconds_per_run": costs.eval_flops(w, 50, 100) / rate}}} for w in (10, 1000)]
    result = {"machine": {"device": "cpu", "cpu_model": "test"}, "settings": {"eval_samples": 100}, "widths": rows}
    grid = costs.PaperGrid(widths=(10, 100), n_values=(50, 100), seeds=1, steps_per_run=1000, eval_every=100)
    est = costs.estimate_grid_hours(result, grid)
    per_n = grid.runs_per_width // 2
    flops = sum(per_n * (1000 * costs.flops_per_run_step(r, n) + 10 * costs.eval_flops(r, n, grid.test_size))
                for r in grid.widths for n in grid.n_values)
    assert math.isclose(est.hours, flops / rate / 3600, rel_tol=1e-12)
    # The early-exit estimate counts the part of every evaluation a run at chance counts (0.2048 of
    # 10^4 samples at the 10% target: 2048 samples, parts of 256 from the first possible exit).
    train_flops = sum(per_n * 1000 * costs.flops_per_run_step(r, n) for r in grid.widths for n in grid.n_values)
    eval_flops = flops - train_flops
    assert math.isclose(est.hours_with_early_exit, (train_flops + eval_flops * 0.2048) / rate / 3600, rel_tol=1e-12)
    assert "CPU-hours" in est.label and "not GPU-hours" in est.label
    assert est.train_bandwidth_floor_hours is None  # no copy measurement on a CPU
    # With a copy bandwidth: the floor is the compulsory training bytes over it.
    copy = 2e12
    est = costs.estimate_grid_hours({**result, "copy_bytes_per_s": copy}, grid)
    floor_bytes = sum(per_n * 1000 * costs.bytes_per_run_step(r, n) for r in grid.widths for n in grid.n_values)
    assert math.isclose(est.train_bandwidth_floor_hours, floor_bytes / copy / 3600, rel_tol=1e-12)


def test_contenders_by_device() -> None:
    """numba is CPU only; triton is CUDA only (its CPU interpreter is a test tool, not a speed)."""
    import importlib.util

    jax = ("jax",) if importlib.util.find_spec("jax") else ()
    assert harness.available_contenders("cpu") == ("naive", "ensemble", *jax, "numba", "torch")
    assert harness.available_contenders("cuda") == ("naive", "ensemble", *jax, "torch", "triton")
    assert set(harness.OURS) == {"torch", "numba", "triton"}


def test_bench_quick_json_shape() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "frontier.cli", "bench", "--quick", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert [row["width"] for row in result["widths"]] == [10, 100, 1000, 10000]
    assert result["matmul_gflops"] > 0 and result["copy_bytes_per_s"] is None
    optional = {"jax"} & set(harness.available_contenders("cpu"))  # the [bench] extra, where installed
    for row in result["widths"]:
        assert set(row["contenders"]) == {"naive", "ensemble", "torch", "numba"} | optional
        assert row["flops_per_run_step"] == costs.flops_per_run_step(row["width"])
        for name, c in row["contenders"].items():
            for key in ("run_steps_per_s", "gflops", "fraction_of_matmul", "bytes_per_s", "seconds", "threads"):
                assert c[key] > 0 and math.isfinite(c[key]), (row["width"], name, key)
            assert c["calls"] >= 1 and 1 <= c["timed_runs"] <= row["runs"]
            assert math.isclose(c["gflops"] * 1e9, c["run_steps_per_s"] * row["flops_per_run_step"], rel_tol=1e-9)
        assert set(row["speedups"]) == {f"{o}_over_{b}" for o in ("torch", "numba")
                                        for b in ("naive", "ensemble", *optional)}
        for key, value in row["speedups"].items():
            ours, base = key.split("_over_")
            expected = row["contenders"][ours]["run_steps_per_s"] / row["contenders"][base]["run_steps_per_s"]
            assert math.isclose(value, expected, rel_tol=1e-12)
    end_to_end = result["end_to_end"]["rows"]  # sim.train beside the kernel alone (issue 19)
    assert [(r["width"], r["mode"]) for r in end_to_end] == [(w, m) for w in (10, 100, 1000)
                                                             for m in ("offline", "online")]
    for r in end_to_end:
        assert r["end_to_end"] > 0 and r["kernel"] > 0 and math.isclose(r["ratio"], statistics.median(r["ratios"]))
    table = harness.format_table(result)
    assert sum(line.startswith("| 10000 |") for line in table.splitlines()) == 4 + len(optional)
    assert "End to end (`sim.train`" in table and sum(line.startswith("| 1000 | 4 |") for line in table.splitlines()) == 2
    # The CUDA table (bandwidth columns) from the same numbers, as if a copy had been measured.
    result["copy_bytes_per_s"] = 1e9
    for row in result["widths"]:
        for c in row["contenders"].values():
            c["fraction_of_copy"] = c["bytes_per_s"] / 1e9
    assert "% of copy" in harness.format_table(result)
    # A smoke test says so and makes no estimate from numbers that measure nothing (issue 13).
    assert result["smoke_test"] is True and "grid_estimate" not in result
    assert table.splitlines()[0].startswith("SMOKE TEST (--quick)") and "Paper grid estimate" not in table


def test_bench_cuda_guard(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    # Where CUDA exists too: the guard must answer as it would on a machine without one.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["bench", "--device", "cuda", "--quick"]) == 2
    assert capsys.readouterr().err.strip() == "error: CUDA is not available"


def test_bench_bad_widths(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--widths", "10,zero"])
    assert exit_info.value.code == 2
    assert "widths" in capsys.readouterr().err


def test_copy_bandwidth_is_device_agnostic() -> None:
    # The CUDA-only measurement is plain torch: it runs on the CPU too (a shape check, not a speed).
    assert harness.copy_bandwidth_bytes_per_s("cpu", megabytes=4, repeats=1, min_seconds=0.0) > 0


def test_the_jax_baseline_trains_as_the_reference_does() -> None:
    """The optional JAX contender (a vmap(jit(lax.scan)) ensemble, the [bench] extra, which [dev]
    installs) does the same SGD as the numpy reference kernel: float32 weights within 1e-4 after one block."""
    import numpy as np

    from bench.baselines import jax_step_fn
    from bench.workload import kernel_for, make_workload

    work = make_workload(width=12, runs=3, block_steps=20, pool_steps=20)
    call = jax_step_fn(work, "cpu")
    call()
    reference = kernel_for("numpy", work, "cpu")
    reference.train(np.arange(3), *work.blocks[0])
    for got, expected in zip(call.parameters(), reference.parameters(np.arange(3))):
        assert np.allclose(got, expected, atol=1e-4), np.abs(got - expected).max()


def test_evaluation_share_times_the_evaluation_inside_sim_train() -> None:
    """bench.end_to_end.evaluation_share on a tiny workload: a share in (0, 1) per mode (it wraps
    sim.training's kernel factory, so a moved module breaks it here, not in a user's run)."""
    from bench.end_to_end import evaluation_share

    result = evaluation_share(width=10, runs=2, steps=200, eval_every=100, test_size=500, repeats=1)
    assert [row["mode"] for row in result["rows"]] == ["offline", "online"]
    assert all(0 < row["share"] < 1 for row in result["rows"]), result
