"""numba against torch (issue 3): in float64 the two backends give the same weights after
200 steps (rtol 1e-9) and the same success/steps_to_success on a batch of 16 mixed configs.
(Both are checked against a torch.nn + autograd + SGD oracle in tests/test_sim_engine.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from kernels import trained_weights
from strategies import mixed_run_configs, with_other_targets
from sim import RunConfig
import sim.backends.numba as backend_numba
import sim.backends.torch as backend_torch
from sim.config import LOSSES
from sim.init import initialize

pytestmark = pytest.mark.usefixtures("single_torch_thread")


@pytest.mark.parametrize("width", [24, 300], ids=["narrow", "wide"])
def test_numba_and_torch_weights_agree_after_200_steps(width):
    """Every loss, dense and sparse init, offline and online, in one group; the wide case
    crosses the numba kernel's neuron chunk (256) and the per-run lr/weight-decay vectors differ."""
    configs = [
        RunConfig(n=20, k=3, width=width, samples=samples, init=init, loss=loss,
                  lr=0.02 + 0.01 * i, weight_decay=(0.01, 0.0, 0.03)[i % 3], seed=40 + i)
        for i, (samples, init, loss) in enumerate(
            (samples, init, loss) for samples in (100, None) for init in ("dense", "sparse") for loss in LOSSES
        )
    ]
    numba_weights = trained_weights(backend_numba, configs)
    torch_weights = trained_weights(backend_torch, configs)
    initial_W = np.stack([initialize(c)[0] for c in configs])
    assert np.abs(torch_weights[0] - initial_W).max() > 1e-3  # the weights moved
    for name, a, e in zip("Wbu", numba_weights, torch_weights):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=0, err_msg=name)


MIXED_CONFIGS = mixed_run_configs(
    ns=(12, 16), widths=(32, 200), samples=(None, 40, 400, 2000), lrs=(0.1, 0.05, 0.3),
    max_steps=(300, 700, 1000, 800), seed_step=11, seed_offset=2,
)


def test_numba_and_torch_agree_on_a_mixed_batch():
    numba_results = sim.train(MIXED_CONFIGS, backend="numba", dtype="float64")
    torch_results = sim.train(MIXED_CONFIGS, backend="torch", dtype="float64")
    assert 0 < sum(r.success for r in torch_results) < len(MIXED_CONFIGS), "the batch should mix outcomes"
    assert any(r.diverged for r in torch_results), "and include a divergence (square loss, lr 0.3)"
    for config, a, b in zip(MIXED_CONFIGS, numba_results, torch_results):
        assert (a.success, a.steps_to_success, a.steps_run, a.diverged) == \
            (b.success, b.steps_to_success, b.steps_run, b.diverged), config
        assert a.final_test_error == b.final_test_error and a.final_train_error == b.final_train_error, config


def test_numba_and_torch_agree_on_every_other_target():
    """Issue 18: the same weights after 200 steps (one group, online and offline, dense and sparse)
    and the same results, per-task test errors included, on a batch of mixed targets."""
    group = with_other_targets([
        RunConfig(n=20, k=3, width=40, samples=samples, init=init, loss=loss, seed=70 + i)
        for i, (samples, init, loss) in enumerate(
            (samples, init, loss) for samples in (100, None) for init in ("dense", "sparse") for loss in LOSSES[:2])
    ])
    for name, a, e in zip("Wbu", trained_weights(backend_numba, group), trained_weights(backend_torch, group)):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=0, err_msg=name)
    batch = with_other_targets(MIXED_CONFIGS)
    numba_results = sim.train(batch, backend="numba", dtype="float64")
    torch_results = sim.train(batch, backend="torch", dtype="float64")
    assert 0 < sum(r.success for r in torch_results) < len(batch)
    assert any(r.task_test_errors is not None for r in torch_results)
    for config, a, b in zip(batch, numba_results, torch_results):
        assert a.to_dict() | {"wall_seconds": 0} == b.to_dict() | {"wall_seconds": 0}, config
