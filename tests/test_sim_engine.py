"""The simulation engine (issue 3): the torch kernel against a torch.nn + autograd +
torch.optim.SGD oracle and the numpy reference kernel, batched against alone,
learning, determinism, divergence, config validation and the data streams.

Torch runs single-threaded here (fixture below): under ``pytest -n 2`` on two cores,
torch's default of one OpenMP thread per core oversubscribes the machine and its
barriers then cost far more than the arithmetic (measured: ~35x slower on a small group).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
import torch

import sim
from sim import RunConfig
import sim.backends.numpy as backend_numpy
import sim.backends.torch as backend_torch
from sim.data import MinibatchStream, draw_support, sparse_parity
from sim.config import LOSSES
from sim.init import initialize, sparse_supports
from kernels import build_kernel, train_kernel
from strategies import mixed_run_configs, with_other_targets

pytestmark = pytest.mark.usefixtures("single_torch_thread")


@functools.lru_cache(maxsize=None)  # shared by the per-config and the batched test
def autograd_reference(config: RunConfig, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain torch.nn + autograd + torch.optim.SGD in float64: the oracle of docs/science.md section 3."""
    W, b, u = initialize(config)
    hidden = torch.nn.Linear(config.n, config.width, dtype=torch.float64)
    output = torch.nn.Linear(config.width, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        hidden.weight.copy_(torch.from_numpy(W))
        hidden.bias.copy_(torch.from_numpy(b))
        output.weight.copy_(torch.from_numpy(u)[None])
    model = torch.nn.Sequential(hidden, torch.nn.ReLU(), output)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    X_all, y_all = MinibatchStream(config).next(steps)
    for t in range(steps):
        X = torch.from_numpy(X_all[t]).to(torch.float64)
        y = torch.from_numpy(y_all[t]).to(torch.float64)
        f = model(X).squeeze(1)
        if config.loss == "hinge":
            loss = torch.relu(1 - y * f).mean()  # subgradient 0 at the kink, as the engine
        elif config.loss == "square":
            loss = torch.nn.functional.mse_loss(f, y)
        else:
            loss = torch.logaddexp(torch.zeros_like(f), -y * f).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (hidden.weight.detach().numpy().copy(), hidden.bias.detach().numpy().copy(),
            output.weight.detach().numpy()[0].copy())


ORACLE_CONFIGS = [
    RunConfig(n=10, k=3, width=24, samples=samples, init=init, loss=loss,
              lr=0.05 + 0.01 * i, weight_decay=(0.01, 0.0, 0.05)[i % 3], seed=100 + i)
    for i, (samples, init, loss) in enumerate(
        (samples, init, loss) for samples in (64, None) for init in ("dense", "sparse") for loss in LOSSES
    )
]


# Every other target (issue 18), online and offline, dense and sparse: labels are data.
TARGET_ORACLE_CONFIGS = with_other_targets([ORACLE_CONFIGS[i] for i in (6, 4, 2, 9)])


def assert_weights_close(actual, expected, rtol=1e-9, label=""):
    for name, a, e in zip("Wbu", actual, expected):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=0, err_msg=f"{label} {name}")


@pytest.mark.parametrize("config", ORACLE_CONFIGS + TARGET_ORACLE_CONFIGS,
                         ids=lambda c: f"{c.target}-{c.loss}-{c.init}-{'online' if c.online else 'offline'}")
def test_kernels_match_autograd_sgd(config):
    expected = autograd_reference(config, 200)
    got = train_kernel(build_kernel(backend_numpy, [config]), [config], (200,))
    assert_weights_close([p[0] for p in got], expected, label="numpy")
    # uneven blocks: the stream and the kernel must not care how steps are chunked
    got = train_kernel(build_kernel(backend_torch, [config]), [config], (37, 63, 100))
    assert_weights_close([p[0] for p in got], expected, label="torch")
    # weights actually moved (the comparison is not between two untouched inits)
    assert np.abs(got[0][0] - initialize(config)[0]).max() > 1e-3


def test_batched_torch_kernel_matches_autograd_for_mixed_losses_and_rates():
    """All 12 oracle configs in one kernel: per-run loss, lr and weight decay vectors."""
    got = train_kernel(build_kernel(backend_torch, ORACLE_CONFIGS), ORACLE_CONFIGS, (100, 100))
    for j, config in enumerate(ORACLE_CONFIGS):
        assert_weights_close([p[j] for p in got], autograd_reference(config, 200), label=f"run {j}")


def test_torch_kernel_shrinking_active_set_matches_numpy():
    """Runs leave the batch (compaction), come back, and finished runs stay readable."""
    configs = ORACLE_CONFIGS[:5]
    kernels = [build_kernel(backend_numpy, configs), build_kernel(backend_torch, configs)]
    streams = [[MinibatchStream(c) for c in configs] for _ in kernels]
    schedule = [np.arange(5), np.array([0, 2, 3, 4]), np.array([2, 4]), np.array([1, 2, 4]), np.array([4])]
    for runs in schedule:
        for kernel, kernel_streams in zip(kernels, streams):
            X = np.empty((len(runs), 30, 32, 10), dtype=np.int8)
            y = np.empty((len(runs), 30, 32), dtype=np.int8)
            for j, i in enumerate(runs):
                kernel_streams[i].next(30, X[j], y[j])
            kernel.train(runs, X, y)
        numpy_kernel, torch_kernel = kernels
        everyone = np.arange(5)
        assert_weights_close(torch_kernel.parameters(everyone), numpy_kernel.parameters(everyone))
        for query in (everyone, np.array([1]), np.array([0, 4]), runs):
            np.testing.assert_array_equal(torch_kernel.evaluate_test(query)[0], numpy_kernel.evaluate_test(query)[0])
            np.testing.assert_allclose(torch_kernel.evaluate_test(query)[1], numpy_kernel.evaluate_test(query)[1],
                                       rtol=1e-9)
        np.testing.assert_array_equal(torch_kernel.finite(everyone), np.ones(5, dtype=bool))
        X_train, y_train, _ = sparse_parity(10, 3, 50, seed=1)
        np.testing.assert_array_equal(
            torch_kernel.evaluate(np.array([3]), X_train[None], y_train[None])[0],
            numpy_kernel.evaluate(np.array([3]), X_train[None], y_train[None])[0],
        )


def test_cuda_device_is_checked():
    """device='cuda': a clear ValueError without CUDA, else the same weights as on the CPU."""
    config = ORACLE_CONFIGS[0]
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            build_kernel(backend_torch, [config], device="cuda")
        with pytest.raises(ValueError, match="CUDA is not available"):
            sim.train([config], backend="torch", device="cuda")
    else:
        cpu = train_kernel(build_kernel(backend_torch, [config]), [config], (200,))
        gpu = train_kernel(build_kernel(backend_torch, [config], device="cuda"), [config], (200,))
        assert_weights_close(gpu, cpu)
    with pytest.raises(ValueError, match="device"):
        build_kernel(backend_torch, [config], device="tpu")
    with pytest.raises(ValueError, match="dtype"):
        build_kernel(backend_torch, [config], dtype="float16")


MIXED_CONFIGS = mixed_run_configs(
    ns=(10, 12), widths=(16, 40), samples=(None, 40, 300, 1000), lrs=(0.1, 0.05, 0.2),
    max_steps=(300, 700, 1500, 1000), seed_step=7, seed_offset=1,
)


def test_batch_equals_each_run_alone():
    together = sim.train(MIXED_CONFIGS, backend="torch", dtype="float64")
    outcomes = {(r.success, r.diverged) for r in together}
    assert len(outcomes) > 1, "the batch should mix successes and failures"
    assert len({r.steps_run for r in together}) > 2, "runs should leave the batch at different steps"
    for config, result in zip(MIXED_CONFIGS, together):
        alone = sim.train([config], backend="torch", dtype="float64")[0]
        assert dataclasses.replace(result, wall_seconds=0.0) == dataclasses.replace(alone, wall_seconds=0.0), config


def test_batch_equals_each_run_alone_for_other_targets():
    configs = with_other_targets(MIXED_CONFIGS[:8])
    together = sim.train(configs, backend="torch", dtype="float64")
    assert {r.success for r in together} == {True, False}
    assert all((r.task_test_errors is not None) == (c.target == "multitask_parity" and not r.diverged)
               for c, r in zip(configs, together))
    for config, result in zip(configs, together):
        alone = sim.train([config], backend="torch", dtype="float64")[0]
        assert dataclasses.replace(result, wall_seconds=0.0) == dataclasses.replace(alone, wall_seconds=0.0), config


def fastest_cpu_backend() -> str:
    """numba when it is importable, else torch (the learning test runs on the faster one)."""
    try:
        import sim.backends.numba  # noqa: F401
    except ImportError:
        return "torch"
    return "numba"


def test_it_learns_with_enough_samples_and_not_with_few():
    """n=30, k=3, width 1000, 2-hot sparse init (docs/science.md 5.1).

    m=2000 succeeds in >= 9 of 10 seeds, m=20 in none. For CI time the protocol's
    T = 10^5 steps is lowered to max_steps=2000 and the test set to 1000 samples
    (error resolution 0.001, far finer than the 0.1 criterion). With fixed seeds the
    outcome is deterministic; the 9/10 threshold leaves room for one unlucky seed.
    """
    base = RunConfig(n=30, k=3, width=1000, init="sparse", max_steps=2000, test_size=1000)
    backend = fastest_cpu_backend()
    rich = sim.train([base.replace(samples=2000, seed=s) for s in range(10)], backend=backend)
    poor = sim.train([base.replace(samples=20, seed=s) for s in range(10)], backend=backend)
    assert sum(r.success for r in rich) >= 9, rich
    assert not any(r.success for r in poor), poor
    # the small-data runs fail by overfitting, not by not training
    assert all(r.final_train_error == 0.0 and r.final_test_error > 0.3 for r in poor), poor


def test_same_seed_same_backend_is_bit_identical():
    configs = [RunConfig(n=12, k=3, width=64, samples=samples, init="sparse", loss="hinge",
                         max_steps=600, test_size=500, seed=3) for samples in (200, None)]
    first = [sim.train_history(c, backend="torch", dtype="float32") for c in configs]
    second = [sim.train_history(c, backend="torch", dtype="float32") for c in configs]
    for a, b in zip(first, second):
        assert dataclasses.replace(a.result, wall_seconds=0.0) == dataclasses.replace(b.result, wall_seconds=0.0)
        assert a.test_error == b.test_error and a.train_loss == b.train_loss
        for wa, wb in zip(a.final_weights, b.final_weights):
            np.testing.assert_array_equal(wa, wb)
    batched = sim.train(configs, backend="torch", dtype="float32")
    assert [dataclasses.replace(r, wall_seconds=0.0) for r in batched] == \
        [dataclasses.replace(h.result, wall_seconds=0.0) for h in first]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_learning_rate_diverges_without_crashing(dtype):
    sane = RunConfig(n=10, k=3, width=16, samples=100, loss="square", max_steps=300, test_size=200, seed=5)
    wild = sane.replace(lr=1e6)
    results = sim.train([wild, sane], backend="torch", dtype=dtype)
    assert results[0].diverged and not results[0].success
    assert results[0].steps_run == 100, "divergence is caught at the first evaluation"
    assert results[0].final_train_error is None
    assert not results[1].diverged
    reference = sim.train([wild], backend="numpy", dtype=dtype)[0]
    assert reference.diverged and reference.steps_run == results[0].steps_run


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"k": 11}, "k"),
        ({"k": 0}, "k"),
        ({"init": "sparse", "sparsity": 11}, "sparsity"),
        ({"width": 0}, "width"),
        ({"loss": "cross-entropy"}, "loss"),
        ({"init": "orthogonal"}, "init"),
        ({"sparse_values": "gaussian"}, "sparse_values"),
        ({"samples": 0}, "samples"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"batch_size": 0}, "batch_size"),
        ({"target_error": 1.0}, "target_error"),
        ({"seed": -1}, "seed"),
        ({"width": 2.5}, "width"),
    ],
)
def test_config_validation_names_the_bad_field(changes, field):
    with pytest.raises(ValueError, match=rf"RunConfig\.{field}="):
        RunConfig(**{"n": 10, "k": 3, "width": 8, **changes})


def test_config_round_trip_and_unknown_field():
    config = RunConfig(n=10, k=3, width=8, samples=50, init="sparse", seed=4)
    assert RunConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="'depth'"):
        RunConfig.from_dict({**config.to_dict(), "depth": 2})
    with pytest.raises(ValueError, match="backend"):
        sim.train([config], backend="jax")


def test_sparse_parity_is_deterministic_and_labels_are_the_parity():
    X1, y1, S1 = sparse_parity(20, 4, 300, seed=11)
    X2, y2, S2 = sparse_parity(20, 4, 300, seed=11)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert S1 == S2 and len(S1) == 4 and list(S1) == sorted(S1)
    assert X1.dtype == np.int8 and y1.dtype == np.int8 and set(np.unique(X1)) == {-1, 1}
    np.testing.assert_array_equal(y1, np.prod(X1[:, list(S1)].astype(int), axis=1))
    X3, _, _ = sparse_parity(20, 4, 300, seed=12)
    assert not np.array_equal(X1, X3)
    _, y_given, S_given = sparse_parity(20, 4, 300, seed=11, support=(7, 1, 3, 19))
    assert S_given == (1, 3, 7, 19)
    np.testing.assert_array_equal(y_given, np.prod(X1[:, [1, 3, 7, 19]].astype(int), axis=1))


def test_support_is_not_always_the_first_k():
    supports = {draw_support(30, 3, seed) for seed in range(50)}
    assert len(supports) > 40  # C(30,3)=4060 possibilities: 50 draws almost never collide
    assert (0, 1, 2) not in supports or len(supports) > 1
    assert sum(max(s) >= 10 for s in supports) > 30


@pytest.mark.parametrize("samples", [50, 10, None], ids=["offline", "offline-m<B", "online"])
def test_minibatch_stream_does_not_depend_on_chunking(samples):
    config = RunConfig(n=9, k=3, width=4, samples=samples, batch_size=32, seed=21)
    X_all, y_all = MinibatchStream(config).next(10)
    stream = MinibatchStream(config)
    one_by_one = [stream.next(1) for _ in range(10)]
    np.testing.assert_array_equal(X_all, np.concatenate([X for X, _ in one_by_one]))
    np.testing.assert_array_equal(y_all, np.concatenate([y for _, y in one_by_one]))
    assert X_all.shape == (10, 32, 9)
    np.testing.assert_array_equal(y_all, np.prod(X_all[..., list(draw_support(9, 3, 21))].astype(int), axis=-1))
    if samples is not None:
        # offline: every epoch is a permutation of the training set
        X_train, _ = sim.data.training_set(config)
        rows = X_all.reshape(-1, 9)[:samples]
        assert sorted(map(bytes, rows)) == sorted(map(bytes, X_train))


@pytest.mark.parametrize("values", ["uniform", "sign"])
def test_sparse_init_has_exactly_s_nonzeros_per_row(values):
    config = RunConfig(n=40, k=3, width=200, init="sparse", sparsity=3, sparse_values=values, seed=2)
    W, b, u = initialize(config)
    assert W.shape == (200, 40) and b.shape == (200,) and u.shape == (200,)
    assert np.all(np.count_nonzero(W, axis=1) == 3)
    np.testing.assert_array_equal(np.sort(np.flatnonzero(W[0])), sparse_supports(config)[0])
    assert np.abs(W).max() <= 1 / np.sqrt(3) + 1e-15
    assert len({tuple(row) for row in sparse_supports(config)}) > 150  # supports differ between neurons
    dense = initialize(config.replace(init="dense"))[0]
    assert np.count_nonzero(dense) == dense.size and np.abs(dense).max() <= 1 / np.sqrt(40)
