"""Sparse-parity (and other targets') data, test sets and minibatch streams (docs/science.md 1,
docs/targets.md).

Every random quantity of a run comes from its own stream ``default_rng([seed, STREAM])``
so that, for example, widening a network does not change its data, and every backend
sees the same run. Random ±1 entries are read from raw 64-bit generator words (one
word per 64 entries of a row), so a stream gives the same values however the caller
chunks it into blocks of steps.
"""

from __future__ import annotations

import functools

import numpy as np

from .config import RunConfig
from .targets import TARGETS, flips

STREAM_SUPPORT = 0
STREAM_TRAIN = 1
STREAM_TEST = 2
STREAM_INIT = 3
STREAM_ORDER = 4
STREAM_ONLINE = 5
STREAM_INTERVENTION = 6
STREAM_LABEL_NOISE = 7  # the label flips of a noisy target (training set, or the online stream)


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """The generator of one named random stream of a run."""
    return np.random.default_rng([int(seed), int(stream)])


@functools.lru_cache(maxsize=4096)  # drawn several times per run (data, test set, stream)
def support_order(n: int, k: int, seed: int) -> tuple[int, ...]:
    """The hidden support S in the order it was drawn: a uniformly random ordered k-subset of
    range(n). The order gives a target's coordinates their roles (sim.targets)."""
    if not 1 <= k <= n:
        raise ValueError(f"k={k} must satisfy 1 <= k <= n={n}")
    return tuple(int(i) for i in rng_for(seed, STREAM_SUPPORT).choice(n, size=k, replace=False))


@functools.lru_cache(maxsize=4096)
def draw_support(n: int, k: int, seed: int) -> tuple[int, ...]:
    """The hidden support S: a uniformly random k-subset of range(n), sorted."""
    return tuple(sorted(support_order(n, k, seed)))


def support_size(config: RunConfig) -> int:
    """|S| of the run's target: k, or tasks - 1 + tasks k for a multitask parity (sim.targets)."""
    return TARGETS[config.target].support_size(config.k, config.tasks)


def target_roles(config: RunConfig) -> tuple[int, ...]:
    """The run's support S in role order (sim.targets): stair i is the i-th coordinate, a
    multitask parity's control bits come first, then each task's k bits."""
    return support_order(config.n, support_size(config), config.seed)


def target_support(config: RunConfig) -> tuple[int, ...]:
    """The run's support S, sorted (for the parity: :func:`draw_support` (n, k, seed))."""
    return draw_support(config.n, support_size(config), config.seed)


def clean_labels(config: RunConfig, X: np.ndarray) -> np.ndarray:
    """The run's target of every row of X (int8 ±1, any leading shape), without label noise."""
    if config.target == "parity":  # the path every stored parity run was made by
        return parity_labels(X, draw_support(config.n, config.k, config.seed))
    return TARGETS[config.target].labels(X[..., list(target_roles(config))], config.k, config.tasks)


def task_of(config: RunConfig, X: np.ndarray) -> np.ndarray:
    """The task (0..tasks-1) of every row of X for a multitask target (sim.targets.task_index)."""
    from .targets import task_index

    if not TARGETS[config.target].multitask:
        raise ValueError(f"RunConfig.target={config.target!r} has no tasks")
    return task_index(X[..., list(target_roles(config)[:config.tasks - 1])], config.tasks)


def add_label_noise(config: RunConfig, y: np.ndarray, noise: np.random.Generator | None) -> np.ndarray:
    """y with the next len(y) flips of ``noise`` (the run's STREAM_LABEL_NOISE generator) applied,
    for a noisy target; y itself otherwise (docs/targets.md: training labels only)."""
    if not TARGETS[config.target].noisy:
        return y
    y = np.ascontiguousarray(y)
    flat = y.reshape(-1)  # a view: samples in stream order
    flat[flips(noise.bit_generator, flat.size, config.label_noise)] *= -1
    return y


def random_sign_rows(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A (rows, cols) int8 array of independent uniform ±1, consuming ceil(cols/64) words a row."""
    words_per_row = -(-cols // 64)
    raw = rng.bit_generator.random_raw(rows * words_per_row).astype("<u8", copy=False)
    bits = np.unpackbits(raw.view(np.uint8).reshape(rows, words_per_row * 8), axis=1, bitorder="little")
    return (1 - 2 * bits[:, :cols].astype(np.int8)).astype(np.int8)


def parity_labels(X: np.ndarray, support: tuple[int, ...]) -> np.ndarray:
    """y = prod_{i in S} x_i as int8 (works on any leading shape)."""
    return np.prod(X[..., list(support)], axis=-1, dtype=np.int8)


def _check_sizes(n: int, k: int, m: int, support: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if n < 1:
        raise ValueError(f"n={n} must be >= 1")
    if not 1 <= k <= n:
        raise ValueError(f"k={k} must satisfy 1 <= k <= n={n}")
    if m < 0:
        raise ValueError(f"m={m} must be >= 0")
    if support is None:
        return None
    support = tuple(sorted(int(i) for i in support))
    if len(support) != k or len(set(support)) != k or support[0] < 0 or support[-1] >= n:
        raise ValueError(f"support={support} must be k={k} distinct indices in range(n={n})")
    return support


def sparse_parity(
    n: int, k: int, m: int, seed: int, support: tuple[int, ...] | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """m training samples of the (n, k)-sparse parity: X int8 (m, n) of ±1, y int8 (m,), S.

    S is drawn from ``seed`` unless given. Deterministic in (n, k, m, seed, support).
    """
    support = _check_sizes(n, k, m, support) or draw_support(n, k, seed)
    X = random_sign_rows(rng_for(seed, STREAM_TRAIN), m, n)
    return X, parity_labels(X, support), support


def training_set(config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """The fixed training set of an offline run (docs/science.md 1): its target's labels, flipped
    by the run's label noise for a noisy target (the first m words of STREAM_LABEL_NOISE)."""
    if config.samples is None:
        raise ValueError("RunConfig.samples=None: an online run has no fixed training set")
    X = random_sign_rows(rng_for(config.seed, STREAM_TRAIN), config.samples, config.n)
    return X, add_label_noise(config, clean_labels(config, X), rng_for(config.seed, STREAM_LABEL_NOISE))


def test_set(config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """``config.test_size`` fresh samples with the run's support and clean labels (also for a
    noisy target: success is measured against the target, docs/targets.md), from their own stream."""
    X = random_sign_rows(rng_for(config.seed, STREAM_TEST), config.test_size, config.n)
    return X, clean_labels(config, X)


class MinibatchStream:
    """The minibatches a run trains on, step after step.

    Offline: each epoch is a fresh permutation of the training set; batches are
    consecutive slices of the concatenated permutations, so every step has exactly
    ``batch_size`` samples (a batch may straddle two epochs, and ``m < batch_size``
    works). Online: every step draws ``batch_size`` fresh samples.
    The sequence does not depend on how many steps each call to :meth:`next` asks for.
    """

    def __init__(self, config: RunConfig, train: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.config = config
        self.support = target_support(config)
        if config.online:
            self._rng = rng_for(config.seed, STREAM_ONLINE)
            self._noise = rng_for(config.seed, STREAM_LABEL_NOISE)
        else:
            self._X, self._y = train if train is not None else training_set(config)
            self._rng = rng_for(config.seed, STREAM_ORDER)
            self._pending = np.empty(0, dtype=np.int64)

    def _indices(self, count: int) -> np.ndarray:
        parts = [self._pending]
        have = self._pending.size
        while have < count:
            perm = self._rng.permutation(self.config.samples)
            parts.append(perm)
            have += perm.size
        flat = np.concatenate(parts)
        self._pending = flat[count:]
        return flat[:count]

    def next(self, steps: int, out_X: np.ndarray | None = None, out_y: np.ndarray | None = None):
        """The next ``steps`` minibatches: X int8 (steps, B, n), y int8 (steps, B).

        ``out_X``/``out_y`` may be given to fill preallocated arrays (no extra copy).
        """
        B, n = self.config.batch_size, self.config.n
        if self.config.online:
            X = random_sign_rows(self._rng, steps * B, n).reshape(steps, B, n)
            y = add_label_noise(self.config, clean_labels(self.config, X), self._noise)
        else:
            idx = self._indices(steps * B)
            X = self._X[idx].reshape(steps, B, n)
            y = self._y[idx].reshape(steps, B)
        if out_X is None:
            return X, y
        out_X[...] = X
        out_y[...] = y
        return out_X, out_y
