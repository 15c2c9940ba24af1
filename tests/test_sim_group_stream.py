"""sim.group_stream.GroupStream (compiled, all runs of a group at once) against its slow exact
oracle, one sim.data.MinibatchStream per run: the same batches, bit for bit, however chunked."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
import sim.engine as engine
import sim.group_stream
from sim import RunConfig
from sim.data import MinibatchStream, STREAM_ORDER, rng_for
from sim.group_stream import GroupStream, _permutation, generator_state, group_test_sets, stream_state
from strategies import with_other_targets


def assert_streams_match(configs: list[RunConfig], calls: list[tuple[list[int], int]]) -> None:
    """Each call (runs, steps) advances only those runs, as the engine does when runs stop."""
    group = GroupStream(configs)
    alone = [MinibatchStream(c) for c in configs]
    for runs, steps in calls:
        X, y = group.next(np.array(runs, dtype=np.int64), steps)
        for a, i in enumerate(runs):
            X_alone, y_alone = alone[i].next(steps)
            np.testing.assert_array_equal(X[a], X_alone, err_msg=f"run {i}, {steps} steps")
            np.testing.assert_array_equal(y[a], y_alone, err_msg=f"run {i}, {steps} steps")


@pytest.mark.parametrize("samples", [1, 5, 32, 50, 100, 1000], ids=lambda m: f"m={m}")
def test_offline_group_stream_equals_the_per_run_stream(samples):
    # B = 32: m < B (several epochs per step), m = B, m not a multiple of B, many epochs per block
    configs = [RunConfig(n=20, k=3, width=4, samples=samples, seed=s) for s in range(3)]
    assert_streams_match(configs, [([0, 1, 2], 1), ([0, 1, 2], 7), ([1], 40), ([0, 2], 3), ([0, 1, 2], 64)])


@pytest.mark.parametrize("n", [3, 8, 31, 32, 50, 64, 97], ids=lambda n: f"n={n}")
def test_offline_rows_of_every_length_are_copied_exactly(n):
    # rows are moved in 32-byte (n >= 32), 8-byte (n >= 8) or 1-byte pieces, the last overlapping
    configs = [RunConfig(n=n, k=2, width=4, samples=m, batch_size=7, seed=s) for s, m in enumerate([3, 40])]
    assert_streams_match(configs, [([0, 1], 1), ([0, 1], 13), ([1], 6)])


@pytest.mark.parametrize("n", [1, 7, 8, 50, 64, 65, 130], ids=lambda n: f"n={n}")
def test_online_group_stream_equals_the_per_run_stream(n):
    # rows of ceil(n/64) words: partial bytes, exactly one word, a word and a bit, several words
    configs = [RunConfig(n=n, k=1 + n // 20, width=4, batch_size=5, seed=s) for s in range(3)]
    assert_streams_match(configs, [([0, 1, 2], 1), ([0, 2], 9), ([0, 1, 2], 33)])


def test_mixed_group_of_online_and_offline_runs_with_different_k_and_m():
    configs = [RunConfig(n=30, k=k, width=4, samples=m, batch_size=16, seed=11 + s)
               for s, (k, m) in enumerate([(2, None), (3, 7), (5, 300), (1, None), (4, 16)])]
    assert_streams_match(configs, [([0, 1, 2, 3, 4], 3), ([1, 3, 4], 20), ([0, 1, 2, 3, 4], 50), ([2], 1)])


def test_every_target_gets_the_per_run_streams_batches_and_labels():
    # labels of targets other than the parity come from a numpy pass after the compiled fill (online)
    # or over the sets (offline); a noisy run's flips must not depend on the chunking either
    configs = with_other_targets([RunConfig(n=20, k=3, width=4, samples=m, batch_size=16, seed=21 + s)
                                  for s, m in enumerate([None, 50, None, 300, 400, 7, None, 1000])])
    assert {c.target for c in configs} == {"noisy_parity", "staircase", "sparse_majority", "multitask_parity"}
    assert_streams_match(configs, [(list(range(8)), 3), ([0, 2, 4, 6], 17), (list(range(8)), 40), ([6], 1)])
    test_X, test_y = group_test_sets(configs)
    group = GroupStream(configs)
    for i, config in enumerate(configs):
        X, y = sim.data.test_set(config)
        np.testing.assert_array_equal(test_X[i], X)
        np.testing.assert_array_equal(test_y[i], y)
        if not config.online:  # with a noisy run's flips
            for mine, theirs in zip(group.training_set(i), sim.data.training_set(config)):
                np.testing.assert_array_equal(mine, theirs)


@settings(max_examples=25, deadline=None)
@given(samples=st.one_of(st.none(), st.integers(1, 70)), chunks=st.lists(st.integers(1, 9), min_size=1, max_size=6))
def test_group_stream_does_not_depend_on_chunking(samples, chunks):
    config = RunConfig(n=11, k=3, width=4, samples=samples, batch_size=8, seed=5)
    whole_X, whole_y = GroupStream([config]).next(np.array([0]), sum(chunks))
    stream = GroupStream([config])
    parts = [stream.next(np.array([0]), steps) for steps in chunks]
    np.testing.assert_array_equal(whole_X, np.concatenate([X for X, _ in parts], axis=1))
    np.testing.assert_array_equal(whole_y, np.concatenate([y for _, y in parts], axis=1))


def test_compiled_permutation_is_numpys_and_leaves_the_same_generator_state():
    for seed in range(5):
        rng = rng_for(seed, STREAM_ORDER)
        state = generator_state(rng)
        for m in (1, 2, 3, 17, 256, 257, 5000, 70_000):  # masks across byte and 16-bit boundaries
            perm = np.empty(m, dtype=np.int64)
            _permutation(state, perm)
            np.testing.assert_array_equal(perm, rng.permutation(m))
        np.testing.assert_array_equal(state, generator_state(rng))  # incl. the buffered 32-bit half
    for seed, stream in [(0, 0), (7, 4), (2**40 + 3, 5)]:
        np.testing.assert_array_equal(stream_state(seed, stream), generator_state(rng_for(seed, stream)))


def test_training_sets_are_shared_views_and_bad_blocks_are_refused():
    configs = [RunConfig(n=6, k=2, width=4, samples=9, seed=1), RunConfig(n=6, k=2, width=4, seed=2)]
    group = GroupStream(configs)
    X, y = group.training_set(0)
    assert X.shape == (9, 6) and y.shape == (9,) and np.shares_memory(X, group.train_X)
    assert group.training_set(1) is None
    with pytest.raises(ValueError, match="do not match"):
        group.fill(np.array([0]), np.empty((1, 2, 31, 6), np.int8), np.empty((1, 2, 31), np.int8))
    with pytest.raises(ValueError, match="one \\(n, batch_size\\)"):
        GroupStream([configs[0], configs[0].replace(n=7)])


class PerRunStreams:
    """The engine's stream before GroupStream: one MinibatchStream per run (the oracle)."""

    made = 0

    def __init__(self, configs):
        PerRunStreams.made += 1
        self.trains = [None if c.online else sim.data.training_set(c) for c in configs]
        self.streams = [MinibatchStream(c, t) for c, t in zip(configs, self.trains)]

    def training_set(self, i):
        return self.trains[i]

    def fill(self, runs, X, y):
        for a, i in enumerate(runs):
            self.streams[i].next(X.shape[1], X[a], y[a])


def test_engine_results_and_curves_are_those_of_the_per_run_streams(monkeypatch):
    configs = [RunConfig(n=12, k=3, width=16, samples=m, max_steps=700, eval_every=100, test_size=200, seed=s)
               for s, m in enumerate([None, 20, 200, 1000, None])]
    fast = sim.train(configs, backend="numba", dtype="float64")
    fast_history = sim.train_history(configs[2], backend="numba", dtype="float64")
    monkeypatch.setattr(sim.group_stream, "GroupStream", PerRunStreams)
    monkeypatch.setattr(engine, "MAX_BLOCK_BYTES", 12 * 32 * 37)  # other chunkings: 37 steps a call
    slow = sim.train(configs, backend="numba", dtype="float64")
    slow_history = sim.train_history(configs[2], backend="numba", dtype="float64")
    assert PerRunStreams.made >= 2  # the engine did use the per-run streams
    assert {r.success for r in fast} == {True, False}
    assert [r.to_dict() | {"wall_seconds": 0} for r in fast] == [r.to_dict() | {"wall_seconds": 0} for r in slow]
    assert (fast_history.test_error, fast_history.train_loss) == (slow_history.test_error, slow_history.train_loss)


@pytest.mark.parametrize("parallel", [False, True])
def test_training_and_test_sets_drawn_for_the_group_are_each_runs_own(parallel, monkeypatch):
    monkeypatch.setattr(sim.group_stream, "PARALLEL_SIGN_BYTES", 0 if parallel else 2**40)
    configs = [RunConfig(n=n, k=3, width=4, samples=m, test_size=77, seed=s)
               for s, (n, m) in enumerate([(50, 100), (50, None), (50, 1), (50, 333)])]
    stream = GroupStream(configs)
    test_X, test_y = group_test_sets(configs)
    for i, config in enumerate(configs):
        X, y = sim.data.test_set(config)
        np.testing.assert_array_equal(test_X[i], X)
        np.testing.assert_array_equal(test_y[i], y)
        if config.online:
            assert stream.training_set(i) is None
        else:
            for mine, theirs in zip(stream.training_set(i), sim.data.training_set(config)):
                np.testing.assert_array_equal(mine, theirs)
    wide = [RunConfig(n=130, k=2, width=4, samples=9, test_size=5, seed=3)]  # rows of three words
    np.testing.assert_array_equal(GroupStream(wide).training_set(0)[0], sim.data.training_set(wide[0])[0])
    np.testing.assert_array_equal(group_test_sets(wide)[0][0], sim.data.test_set(wide[0])[0])
