"""The numba backend against the float64 numpy reference kernel (sim/backends/numpy.py).

The update rule is the one in sim/engine.py's docstring; these tests drive both kernels
with the same minibatches from the runs' own data streams and compare weights.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numba import njit

import sim
import sim.backends.numba as backend_numba
import sim.backends.numpy as backend_numpy
from sim.data import MinibatchStream, training_set
from sim.data import test_set as _test_set  # a bare `test_set` would be collected by pytest
from sim.engine import LOSS_IDS
from sim.init import initialize

RTOL = 1e-9  # issue 3: numba and the reference agree to rtol 1e-9 in float64 after 200 steps


def _kernels(configs, dtypes=("float64", "float64"), factories=(backend_numba.make_kernel, backend_numpy.make_kernel)):
    inits = [initialize(c) for c in configs]
    tests = [_test_set(c) for c in configs]
    args = dict(
        lr=np.array([c.lr for c in configs]),
        weight_decay=np.array([c.weight_decay for c in configs]),
        loss_ids=np.array([LOSS_IDS[c.loss] for c in configs]),
        test_X=np.stack([t[0] for t in tests]),
        test_y=np.stack([t[1] for t in tests]),
    )
    W, b, u = (np.stack([p[i] for p in inits]) for i in range(3))
    return [make(W, b, u, dtype=dtype, **args) for make, dtype in zip(factories, dtypes)]


def _drive(kernels, configs, schedule):
    """Feed every kernel the same minibatches: schedule = [(run indices, steps), ...]."""
    streams = [MinibatchStream(c, None if c.online else training_set(c)) for c in configs]
    B, n = configs[0].batch_size, configs[0].n
    for runs, steps in schedule:
        runs = np.asarray(runs, dtype=np.int64)
        X = np.empty((runs.size, steps, B, n), np.int8)
        y = np.empty((runs.size, steps, B), np.int8)
        for j, i in enumerate(runs):
            streams[i].next(steps, X[j], y[j])
        for kernel in kernels:
            kernel.train(runs, X, y)


def _assert_parameters_close(a, b, runs, rtol=RTOL):
    for name, p, q in zip("Wbu", a.parameters(runs), b.parameters(runs)):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol * np.abs(q).max(), err_msg=name)


def _mixed_configs(width: int) -> list[sim.RunConfig]:
    """Every loss x dense/sparse x offline/online, with varied lr and weight decay."""
    configs = []
    for seed, (loss, init, samples) in enumerate(itertools.product(
            ("hinge", "square", "logistic"), ("dense", "sparse"), (200, None))):
        configs.append(sim.RunConfig(
            n=20, k=3, width=width, samples=samples, init=init, loss=loss, seed=seed,
            lr=0.05 + 0.01 * seed, weight_decay=0.01 * (seed % 3), test_size=700))
    return configs


def test_matches_reference_all_losses_with_shrinking_active_set():
    configs = _mixed_configs(width=13)  # 13: padded to 16 lanes inside the kernel
    numba_kernel, reference = _kernels(configs)
    everyone = np.arange(len(configs))
    survivors = np.array([0, 2, 3, 5, 7, 8, 10, 11])  # the others stop at step 120 (smaller max_steps)
    _drive((numba_kernel, reference), configs, [(everyone, 70), (everyone, 50), (survivors, 80)])
    _assert_parameters_close(numba_kernel, reference, everyone)
    # The survivors really trained on: 200 steps differ from 120 steps.
    assert not np.allclose(numba_kernel.parameters(survivors)[0], initialize(configs[0])[0])

    errors, losses = numba_kernel.evaluate_test(survivors)
    ref_errors, ref_losses = reference.evaluate_test(survivors)
    np.testing.assert_array_equal(errors, ref_errors)
    np.testing.assert_allclose(losses, ref_losses, rtol=RTOL)
    offline = np.array([i for i in everyone if not configs[i].online])
    X = np.stack([training_set(configs[i])[0] for i in offline])
    y = np.stack([training_set(configs[i])[1] for i in offline])
    errors, losses = numba_kernel.evaluate(offline, X, y)
    ref_errors, ref_losses = reference.evaluate(offline, X, y)
    np.testing.assert_array_equal(errors, ref_errors)
    np.testing.assert_allclose(losses, ref_losses, rtol=RTOL)
    assert np.all(numba_kernel.finite(everyone))


def test_chunk_parallel_path_matches_reference_and_is_bitwise_equal_to_the_run_path(monkeypatch):
    width = 2 * backend_numba.CHUNK + 44  # three neuron chunks, the last one partial
    configs = [
        sim.RunConfig(n=20, k=3, width=width, samples=None, loss="hinge", seed=1),
        sim.RunConfig(n=20, k=3, width=width, samples=300, init="sparse", loss="square", seed=2, lr=0.02),
    ]
    schedule = [([0, 1], 60), ([1], 40)]  # two parallel regions per step: kept short for CI

    # The real thresholds pick this path only for a few very wide runs: lower them here.
    monkeypatch.setattr(backend_numba, "MIN_CHUNKED_WIDTH", 0)
    monkeypatch.setattr(backend_numba, "RUNS_PER_THREAD", 100)
    by_chunks, reference = _kernels(configs)
    assert by_chunks.parallel_over_chunks(1) and by_chunks.parallel_over_chunks(2)
    _drive((by_chunks, reference), configs, schedule)
    _assert_parameters_close(by_chunks, reference, np.arange(2))

    monkeypatch.setattr(backend_numba, "RUNS_PER_THREAD", 0)
    (by_runs,) = _kernels(configs, dtypes=("float64",), factories=(backend_numba.make_kernel,))
    assert not by_runs.parallel_over_chunks(1)
    _drive((by_runs,), configs, schedule)
    for p, q in zip(by_chunks.parameters([0, 1]), by_runs.parameters([0, 1])):
        np.testing.assert_array_equal(p, q)  # same arithmetic whichever way the work is split


def test_float32_agrees_with_float64_for_a_few_steps():
    configs = _mixed_configs(width=40)[:6]
    f32, f64 = _kernels(configs, dtypes=("float32", "float64"),
                        factories=(backend_numba.make_kernel, backend_numba.make_kernel))
    _drive((f32, f64), configs, [(np.arange(6), 10)])
    # float32 rounding (eps 6e-8) over 10 steps of sums of ~25 terms: 1e-5 of the weight scale
    # is a generous bound that a wrong update (e.g. missing weight decay, 1e-3) would break.
    for p, q in zip(f32.parameters(np.arange(6)), f64.parameters(np.arange(6))):
        assert p.dtype == np.float64
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-5 * np.abs(q).max())
    e32, _ = f32.evaluate_test(np.arange(6))
    e64, _ = f64.evaluate_test(np.arange(6))
    np.testing.assert_allclose(e32, e64, atol=2 / 700)  # at most a couple of borderline test samples


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_learning_rate_diverges_without_crashing(dtype):
    configs = [
        sim.RunConfig(n=20, k=3, width=30, samples=100, loss="square", lr=1e6, max_steps=300, seed=3),
        sim.RunConfig(n=20, k=3, width=30, samples=None, loss="square", lr=0.05, max_steps=300, seed=4),
    ]
    with np.errstate(all="raise"):  # the kernel must not raise floating-point errors either
        diverged, fine = sim.train(configs, backend="numba", dtype=dtype)
    assert diverged.diverged and not diverged.success
    assert diverged.steps_run == configs[0].eval_every  # caught at the first evaluation
    assert not fine.diverged and fine.steps_run == 300


def test_train_is_deterministic_and_a_batched_run_equals_the_run_alone():
    configs = [
        sim.RunConfig(n=20, k=2, width=50, samples=300, init="sparse", max_steps=2000, seed=5),
        sim.RunConfig(n=20, k=2, width=50, samples=None, loss="logistic", max_steps=700, seed=6),
        sim.RunConfig(n=20, k=3, width=50, samples=150, max_steps=500, seed=7),
    ]
    strip = lambda results: [r.to_dict() | {"wall_seconds": 0.0} for r in results]  # noqa: E731
    first = strip(sim.train(configs, backend="numba"))
    assert first == strip(sim.train(configs, backend="numba"))
    assert first == [strip(sim.train(c, backend="numba"))[0] for c in configs]
    assert first[0]["success"]  # k=2 with 300 samples is easy: the backend learns
    h1 = sim.train_history(configs[1], backend="numba")
    h2 = sim.train_history(configs[1], backend="numba")
    for p, q in zip(h1.final_weights, h2.final_weights):
        np.testing.assert_array_equal(p, q)
    assert h1.test_error == h2.test_error


def test_bad_device_and_dtype_are_value_errors():
    W, b, u = (p[None] for p in initialize(sim.RunConfig(n=5, k=2, width=3)))
    kwargs = dict(lr=np.array([0.1]), weight_decay=np.array([0.0]), loss_ids=np.array([0]),
                  test_X=np.ones((1, 4, 5), np.int8), test_y=np.ones((1, 4), np.int8))
    with pytest.raises(ValueError, match="device"):
        backend_numba.make_kernel(W, b, u, device="cuda", **kwargs)
    with pytest.raises(ValueError, match="dtype"):
        backend_numba.make_kernel(W, b, u, dtype="float16", **kwargs)


# ----------------------------------------------------------------- runs in SIMD lanes (widths <= 256)


def _lane_configs(width: int, n: int, batch_size: int) -> list[sim.RunConfig]:
    """12 runs (a full group of 8 lanes and a partial one): every loss x dense/sparse x
    offline/online, per-run lr and weight decay."""
    return [sim.RunConfig(n=n, k=3, width=width, samples=samples, init=init, loss=loss, seed=seed,
                          batch_size=batch_size, lr=0.05 + 0.01 * seed, weight_decay=0.01 * (seed % 3),
                          test_size=300)
            for seed, (loss, init, samples) in enumerate(itertools.product(
                ("hinge", "square", "logistic"), ("dense", "sparse"), (200, None)))]


@pytest.mark.parametrize(("width", "n", "batch_size"), [(10, 20, 32), (100, 21, 15)],
                         ids=["w10-even-n", "w100-odd-n-odd-batch"])
def test_runs_in_lanes_match_reference_after_200_steps(width, n, batch_size):
    configs = _lane_configs(width, n, batch_size)
    lanes, reference = _kernels(configs)
    assert lanes.runs_in_lanes
    everyone = np.arange(len(configs))
    # The active set shrinks and changes which lane (and group) each run trains in.
    schedule = [(everyone, 70), (np.array([0, 2, 3, 5, 7, 8, 10, 11]), 50), (np.array([1, 3, 4, 9, 11]), 80)]
    _drive((lanes, reference), configs, schedule)
    _assert_parameters_close(lanes, reference, everyone)
    assert np.all(lanes.finite(everyone))
    assert not np.allclose(lanes.parameters([11])[0], initialize(configs[11])[0])  # it trained 200 steps


def test_runs_in_lanes_batch_equals_alone_bitwise():
    """A run's arithmetic does not depend on its lane, its group or its neighbours; the int8
    transpose (full groups) and the scalar conversion (partial groups) give the same floats."""
    configs = _lane_configs(width=10, n=20, batch_size=32)[:11]
    runs = np.arange(len(configs))
    together, *_ = _kernels(configs, dtypes=("float32",), factories=(backend_numba.make_kernel,))
    _drive((together,), configs, [(runs, 30)])
    subset, *_ = _kernels(configs, dtypes=("float32",), factories=(backend_numba.make_kernel,))
    _drive((subset,), configs, [(np.array([3, 9]), 30)])
    for i in runs:
        alone, *_ = _kernels([configs[i]], dtypes=("float32",), factories=(backend_numba.make_kernel,))
        _drive((alone,), [configs[i]], [(np.array([0]), 30)])
        for p, q in zip(together.parameters([i]), alone.parameters([0])):
            np.testing.assert_array_equal(p, q)
        if i in (3, 9):
            for p, q in zip(subset.parameters([i]), alone.parameters([0])):
                np.testing.assert_array_equal(p, q)


def test_the_path_depends_on_width_only_and_the_sign_trick_path_still_matches(monkeypatch):
    def kernel(width, runs):
        configs = [sim.RunConfig(n=10, k=3, width=width, seed=s, test_size=50) for s in range(runs)]
        return _kernels(configs, dtypes=("float32",), factories=(backend_numba.make_kernel,))[0]

    for runs in (1, 9):
        assert kernel(backend_numba.MAX_LANE_WIDTH, runs).runs_in_lanes
        assert not kernel(backend_numba.MAX_LANE_WIDTH + 1, runs).runs_in_lanes
    # Lane rows never 4 KiB apart (L1 set conflicts): 128 float32 neurons x 8 lanes would be.
    assert backend_numba.lane_padded_width(10, 4) == 12
    assert backend_numba.lane_padded_width(100, 4) == 100
    assert backend_numba.lane_padded_width(128, 4) == 132
    assert backend_numba.lane_padded_width(128, 8) == 132

    # The neuron-minor sign-trick path (used above MAX_LANE_WIDTH) at a small width as well.
    monkeypatch.setattr(backend_numba, "MAX_LANE_WIDTH", 0)
    configs = _mixed_configs(width=13)
    by_runs, reference = _kernels(configs)
    assert not by_runs.runs_in_lanes
    everyone = np.arange(len(configs))
    _drive((by_runs, reference), configs, [(everyone, 60), (np.array([1, 4, 6]), 40)])
    _assert_parameters_close(by_runs, reference, everyone)


def test_int8_to_lanes_transpose_matches_numpy():
    from numba import njit

    from sim.backends.lane_vectors import LANES, transpose_i8_to_lanes

    @njit
    def to_lanes(X, start, stride, out):
        for k in range(0, out.shape[0], LANES):
            transpose_i8_to_lanes(X, start + k, stride, out.reshape(-1), k * LANES)

    rng = np.random.default_rng(0)
    X = rng.integers(-128, 128, size=(LANES, 5, 24), dtype=np.int8)  # 8 rows of (5 steps, 24)
    for dtype in (np.float32, np.float64):
        out = np.full((24, LANES), np.nan, dtype)
        to_lanes(X, 2 * 24, 5 * 24, out)  # step 2 of every row, lane l = row l
        np.testing.assert_array_equal(out, X[:, 2, :].T.astype(dtype))


@njit
def _reference_evaluate_block(Wt, bias, u, X, y, loss_id, one):
    """The evaluation as it was before the register-tiled one: the training forward pass
    (_forward_chunk on all samples into an (M, width) array), then errors and summed loss."""
    M, n = X.shape
    rp = Wt.shape[1]
    nchunks = (rp + backend_numba.CHUNK - 1) // backend_numba.CHUNK
    zero = one - one
    plist = np.empty((M, n), np.int64)
    pcount = np.empty(M, np.int64)
    h = np.empty((M, rp), Wt.dtype)
    S = np.empty(rp, Wt.dtype)
    fpart = np.empty((nchunks, M), Wt.dtype)
    backend_numba._plus_lists(X, plist, pcount)
    for c in range(nchunks):
        c0, c1 = backend_numba._chunk_bounds(c, rp)
        backend_numba._forward_chunk(Wt, bias, u, c0, c1, plist, pcount, h, S, fpart[c], one)
    errors = 0.0
    total = 0.0
    for b in range(M):
        f = fpart[0, b]
        for c in range(1, nchunks):
            f += fpart[c, b]
        yv = one if y[b] > 0 else -one
        errors += 0.0 if (f > zero and yv > zero) or (f < zero and yv < zero) else 1.0
        total += backend_numba._loss_slope(loss_id, yv, f, one)[0]
    return errors, total


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_evaluation_is_the_training_forward_pass_bit_for_bit(dtype):
    # Widths across tiles of 32 neurons, LANES tails and several CHUNKs; zero rows (f = 0 ties),
    # huge weights (overflow to inf, NaN losses) and NaN weights: errors and summed losses must be
    # exactly those of the forward pass the kernels train with.
    rng = np.random.default_rng(7)
    for width, n, scale in [(1, 5, 1.0), (10, 50, 1.0), (100, 51, 0.3), (264, 50, 1.0), (1000, 50, 0.05),
                            (520, 7, 1e19), (40, 3, 0.0)]:
        rp = -(-width // backend_numba.LANES) * backend_numba.LANES
        Wt = np.zeros((n, rp), dtype)
        Wt[:, :width] = rng.normal(size=(n, width)) * scale
        bias, u = np.zeros(rp, dtype), np.zeros(rp, dtype)
        bias[:width] = rng.normal(size=width) * scale
        u[:width] = rng.normal(size=width) / np.sqrt(width)
        if width == 100:
            Wt[3, 17] = np.nan
        X = (1 - 2 * rng.integers(0, 2, size=(300, n))).astype(np.int8)
        y = (1 - 2 * rng.integers(0, 2, size=300)).astype(np.int8)
        for loss_id in LOSS_IDS.values():
            fast = backend_numba._evaluate_block(Wt, bias, u, X, y, loss_id, dtype(1))
            slow = _reference_evaluate_block(Wt, bias, u, X, y, loss_id, dtype(1))
            np.testing.assert_array_equal(np.array(fast), np.array(slow), err_msg=f"width {width} loss {loss_id}")


@njit
def _deltas_by_loss_slope(ys, f, l, B, batch, one, delta):
    for b in range(B):
        yv = one if ys[b] > 0 else -one
        delta[b, l] = backend_numba._loss_slope(0, yv, f[b, l], one)[1] / batch


@njit
def _deltas_by_selects(ys, f, l, B, batch, one, delta):
    backend_numba._hinge_deltas(ys, f, l, B, batch, one, delta)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_branch_free_hinge_deltas_are_the_loss_slopes_bit_for_bit(dtype):
    rng = np.random.default_rng(3)
    special = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45, 0.9999999, 1.0000001]
    f = np.concatenate([special, rng.normal(size=200) * 2]).astype(dtype)[:, None].repeat(2, axis=1)
    ys = (1 - 2 * rng.integers(0, 2, size=f.shape[0])).astype(np.int8)
    fast, slow = np.zeros_like(f), np.zeros_like(f)
    for l in range(2):
        _deltas_by_selects(ys, f, l, f.shape[0], dtype(32), dtype(1), fast)
        _deltas_by_loss_slope(ys, f, l, f.shape[0], dtype(32), dtype(1), slow)
    np.testing.assert_array_equal(fast.view(f"u{f.itemsize}"), slow.view(f"u{f.itemsize}"))
