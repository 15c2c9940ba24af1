"""The exact early exit of test evaluation (sim.engine.screened_test_metrics).

It must change no reported number (success, steps, final errors, divergence) on any backend,
and it must actually skip test samples for runs that cannot succeed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sim
import sim.engine as engine
from sim import RunConfig
from sim.backends.numpy import make_kernel as numpy_kernel
from sim.data import test_set as make_test_set  # (not named test_*: pytest would collect it)
from sim.init import initialize

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
    assert sum(seen) == 250 and not complete[0]  # one quarter told it cannot reach 10%
    assert 0.1 < error[0] <= full_error[0]  # a lower bound that already exceeds the target
    seen.clear()
    error, _, complete = engine.screened_test_metrics(kernel, runs, np.array([False]), np.array([0.1]), 1000)
    assert sum(seen) == 1000 and complete[0] and error[0] == full_error[0]  # exact when not screened
