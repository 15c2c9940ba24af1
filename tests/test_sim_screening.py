"""The exact early exit of test evaluation (sim.engine.screened_test_metrics).

It must change no reported number (success, steps, final errors, divergence) on any backend,
and it must actually skip test samples for runs that cannot succeed.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
from functools import partial

import numpy as np
import pytest

import sim
import sim.engine as engine
from sim import RunConfig
import sim.backends.numba as backend_numba
from sim.backends.numpy import make_kernel as numpy_kernel
from sim.data import MinibatchStream
from sim.data import test_set as make_test_set  # (not named test_*: pytest would collect it)
from sim.init import initialize
from kernels import build_kernel

CONFIGS = [
    RunConfig(n=16, k=3, width=48, samples=m, init=init, loss=loss, max_steps=1500, test_size=800, seed=seed)
    for seed, (m, init, loss) in enumerate(
        [(60, "dense", "hinge"), (400, "sparse", "hinge"), (None, "sparse", "square"), (30, "dense", "logistic"),
         (2000, "sparse", "hinge"), (None, "dense", "hinge")]
    )
] + [RunConfig(n=16, k=3, width=48, samples=200, loss="square", lr=50.0, max_steps=600, test_size=800, seed=9)]


def comparable(result: sim.RunResult) -> dict:
    return {k: v for k, v in dataclasses.asdict(result).items() if k != "wall_seconds"}


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_screening_changes_no_reported_number(backend, monkeypatch):
    screened = sim.train(CONFIGS, backend=backend, dtype="float64")
    monkeypatch.setattr(engine, "SCREEN_MIN_TEST_SIZE", 10**9)  # one full count per evaluation
    unscreened = sim.train(CONFIGS, backend=backend, dtype="float64")
    outcomes = {(r.success, r.diverged) for r in screened}
    assert {(True, False), (False, False), (False, True)} <= outcomes, "mix successes, failures, a divergence"
    assert [comparable(r) for r in screened] == [comparable(r) for r in unscreened]


def test_screening_skips_the_test_set_of_runs_at_chance():
    config = RunConfig(n=16, k=3, width=32, samples=40, test_size=1000, seed=3)
    W, b, u = initialize(config)
    test_X, test_y = make_test_set(config)
    kernel = numpy_kernel(W[None], b[None], u[None], lr=np.array([0.1]), weight_decay=np.array([0.01]),
                          loss_ids=np.array([0]), test_X=test_X[None], test_y=test_y[None])
    seen = []
    evaluate_test = kernel.evaluate_test

    def counting(runs, start=0, stop=None):
        seen.append((stop if stop is not None else config.test_size) - start)
        return evaluate_test(runs, start, stop)

    kernel.evaluate_test = counting
    runs = np.array([0])
    full_error, _ = evaluate_test(runs)
    assert full_error[0] > 0.3  # an untrained network is at chance
    error, _, complete = engine.screened_test_metrics(kernel, runs, np.array([True]), np.array([0.1]), 1000)
    # the first part (256 samples: 101 errors could already pass 10% of 1000) told it cannot reach 10%
    assert sum(seen) == engine.SCREEN_PART_SAMPLES == 256 and not complete[0]
    assert 0.1 < error[0] <= full_error[0]  # a lower bound that already exceeds the target
    seen.clear()
    error, _, complete = engine.screened_test_metrics(kernel, runs, np.array([False]), np.array([0.1]), 1000)
    assert sum(seen) == 1000 and complete[0] and error[0] == full_error[0]  # exact when not screened


def test_screen_bounds_start_where_the_first_exit_is_possible():
    for test_size, target in [(10_000, 0.1), (800, 0.1), (1000, 0.0), (5000, 0.37), (400, 0.9)]:
        bounds = engine.screen_bounds(test_size, target)
        first_exit = int(np.floor(target * test_size)) + 1  # errors needed to exceed the target
        assert bounds[0] == 0 and bounds[-1] == test_size and np.all(np.diff(bounds) > 0)
        assert bounds[1] >= min(first_exit, test_size) and bounds[1] - engine.SCREEN_PART_SAMPLES < first_exit
        assert np.all(np.diff(bounds)[1:-1] == engine.SCREEN_PART_SAMPLES)
    # The paper's evaluation: a run at chance counts 2048 of 10^4 samples (quarters: 2500).
    assert engine.chance_exit_fraction(10_000, 0.1) == 0.2048


def _seed_with_late_pattern(config: RunConfig, inputs: int, after: int) -> int:
    """A seed whose test set has no sample with x_0..x_{inputs-1} all +1 among its first
    ``after`` samples, and one later."""
    for seed in range(100):
        X, _ = make_test_set(config.replace(seed=seed))
        hits = np.flatnonzero((X[:, :inputs] > 0).all(axis=1))
        if hits.size and hits[0] >= after:
            return seed
    raise AssertionError("no such seed among 100")


@pytest.mark.parametrize("guarded", [True, False])
def test_large_weights_are_not_screened_so_a_late_overflow_is_still_a_divergence(guarded, monkeypatch):
    # One neuron, active only when x_0..x_10 are all +1 (1 sample in 2048), with output 1e20: its
    # float32 square loss overflows there and only there; elsewhere f = 0, an error. lr 1e-30 leaves
    # the weights as they are. Counted to the end, the first evaluation sees the inf loss: diverged
    # at step 100. Screened after the first 1024 samples (no such sample among them), the run would
    # go on to step 200; the output bound (2.1e21 > SCREEN_MAX_OUTPUT) keeps it from being screened.
    inputs, scale = 11, 1e20
    base = RunConfig(n=16, k=3, width=1, samples=64, loss="square", lr=1e-30, weight_decay=0.0,
                     max_steps=200, eval_every=100, test_size=10_000)
    config = base.replace(seed=_seed_with_late_pattern(base, inputs, after=1024))
    W = np.zeros((1, 16))
    W[0, :inputs] = scale
    weights = [(W, np.array([-(inputs - 1) * scale]), np.array([1.0]))]
    make = partial(numpy_kernel, dtype="float32")
    if not guarded:
        monkeypatch.setattr(engine, "SCREEN_MAX_OUTPUT", np.inf)
    screened = engine.run_group([config], make, initial_weights=weights)[0]
    monkeypatch.setattr(engine, "SCREEN_MIN_TEST_SIZE", 10**9)
    unscreened = engine.run_group([config], make, initial_weights=weights)[0]
    assert unscreened.diverged and unscreened.steps_run == 100
    assert (comparable(screened) == comparable(unscreened)) == guarded


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_output_bound_bounds_every_output_and_hidden_unit(backend):
    configs = [RunConfig(n=8, k=3, width=5, seed=s) for s in range(3)]
    kernel = build_kernel(importlib.import_module(f"sim.backends.{backend}"), configs)
    W, b, u = kernel.parameters(np.arange(3))
    X = np.array(list(itertools.product([-1.0, 1.0], repeat=8)))  # every ±1 input
    H = X @ np.swapaxes(W, 1, 2) + b[:, None, :]
    f = np.maximum(H, 0) @ u[..., None]
    bound = kernel.output_bound(np.arange(3))
    slack = bound * (1 + 1e-12)  # the maximum |h| attains the bound: both are sums, rounded differently
    assert np.all(slack >= np.abs(f).max(axis=(1, 2))) and np.all(slack >= np.abs(H).max(axis=(1, 2)))
    H_exact = np.abs(W).sum(axis=2) + np.abs(b)
    np.testing.assert_allclose(bound, np.maximum((np.abs(u) * H_exact).sum(axis=1), H_exact.max(axis=1)), rtol=1e-12)
    # A diverged run (lr 1e300: inf, then NaN weights) never passes the screening test.
    wild = [c.replace(lr=1e300, loss="square") if c.seed == 1 else c for c in configs]
    kernel = build_kernel(importlib.import_module(f"sim.backends.{backend}"), wild)
    kernel.train(np.arange(3), *[np.stack(a) for a in zip(*[MinibatchStream(c).next(5) for c in wild])])
    assert list(kernel.finite(np.arange(3))) == [True, False, True]
    assert list(kernel.output_bound(np.arange(3)) < engine.SCREEN_MAX_OUTPUT) == [True, False, True]


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_final_train_errors_in_one_call_equal_one_call_per_run(backend):
    configs = [RunConfig(n=10, k=3, width=12, samples=m, seed=s) for s, m in enumerate([40, 40, 300, 40, 300])]
    kernel = build_kernel(importlib.import_module(f"sim.backends.{backend}"), configs)
    kernel.train(np.arange(5), *[np.stack(a) for a in zip(*[MinibatchStream(c).next(30) for c in configs])])
    trains = [sim.data.training_set(c) for c in configs]
    together = engine.final_train_errors(kernel, [0, 1, 2, 3, 4], trains)
    alone = {i: float(kernel.evaluate(np.array([i]), X[None], y[None])[0][0]) for i, (X, y) in enumerate(trains)}
    assert together == alone and len(set(alone.values())) > 1


def test_numba_screened_count_is_exact_and_learns_which_samples_are_wrong():
    # NumbaKernel.screen_test counts in its own order: a run it lets go has more errors than its
    # limit on the full count too; a run it counts to the end has exactly the full count.
    configs = [RunConfig(n=20, k=3, width=40, test_size=2000, seed=s) for s in range(6)]
    kernel = build_kernel(importlib.import_module("sim.backends.numba"), configs, dtype="float32")
    runs = np.arange(6)
    full_errors, full_loss = kernel.evaluate_test(runs)
    full_counts = np.rint(full_errors * 2000)
    for limits in (np.full(6, 100.0), full_counts - 1, full_counts, np.array([0.0, 5, 900, 1e9, 1000, 2000])):
        errors, losses, seen = kernel.screen_test(runs, limits)
        done = seen == 2000
        assert np.all(errors[~done] > limits[~done]) and np.all(full_counts[~done] > limits[~done])
        assert np.all(errors[~done] <= limits[~done] + backend_numba.SCREEN_BLOCK)  # it stops at once
        np.testing.assert_array_equal(errors[done], full_counts[done])
        np.testing.assert_allclose(losses[done] / 2000, full_loss[done], rtol=1e-9)
    # Counted to the end once, the samples it got wrong come first: with the same weights, an
    # exit needs just over the limit; with every prediction flipped it moves to the right pool.
    kernel.screen_test(runs, np.full(6, 1e9))
    _, _, seen = kernel.screen_test(runs, np.full(6, 100.0))
    assert np.all(seen == 128)  # 101 errors: two blocks of 64, every sample wrong
    kernel.screen_test(runs, np.full(6, 1e9))
    kernel.u *= -1  # f -> -f: the wrong samples become right and the right ones wrong
    _, _, seen = kernel.screen_test(runs, np.full(6, 100.0))
    assert np.all(seen <= 64 + 128), seen  # one block of the old wrong pool, then the old right one


def test_training_sets_of_a_group_stream_are_stacked_without_a_copy():
    from sim.group_stream import GroupStream

    configs = [RunConfig(n=9, k=3, width=4, samples=m, seed=s) for s, m in enumerate([30, 30, 30, 12])]
    stream = GroupStream(configs)
    trains = [stream.training_set(i) for i in range(4)]
    view = engine._stacked([X for X, _ in trains[:3]])
    assert np.shares_memory(view, stream.train_X)
    np.testing.assert_array_equal(view, np.stack([X for X, _ in trains[:3]]))
    scattered = engine._stacked([trains[2][0], trains[0][0]])  # not one after the other: a copy
    assert not np.shares_memory(scattered, stream.train_X)
    np.testing.assert_array_equal(scattered, np.stack([trains[2][0], trains[0][0]]))
