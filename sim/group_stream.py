"""The minibatch streams of all runs of a group at once, in one compiled call per block.

:class:`GroupStream` writes the next ``steps`` minibatches of every active run of a group
straight into the engine's int8 block (A, steps, B, n), bit-identical to one
:class:`sim.data.MinibatchStream` per run (the slow oracle the tests compare it with): the
same seeds give the same batches, however the steps are chunked into calls.

Why compiled: per run and block, the Python stream costs a permutation call per epoch, a
fancy-index gather of X[idx] and (online) an unpacking of raw words through numpy
temporaries; at width 10 that was more time than the training kernel (see the README,
Performance). Here one ``prange`` over runs does it all.

Labels: the compiled code writes the parity of each run's support, the label of every stored
run (target ``parity``). A run of another target (sim.targets) gets its labels from a numpy pass
afterwards: over its training and test sets once, and over each online block after the compiled
fill (with a noisy target's flips from its own generator), so the parity path is untouched and
the other targets are bit for bit sim.data's (docs/targets.md measures the cost).

How it stays identical: every stream of a run is numpy's PCG64 seeded by
``default_rng([seed, stream])``, reproduced here from the generator's state (128-bit LCG
step, XSL-RR output). Online rows are raw 64-bit words, bits little-endian, as
:func:`sim.data.random_sign_rows`. An offline epoch is ``Generator.permutation(m)``:
arange(m) shuffled by Fisher-Yates from the last position down, each swap index drawn by
numpy's ``random_interval`` (a masked rejection loop on buffered 32-bit halves of the
words). The bit generator and seeding are covered by numpy's
stream-compatibility policy, ``Generator.permutation`` is not: the tests check this copy
against numpy's, so a change in numpy is caught rather than silently changing stored runs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from .config import RunConfig
from .data import (STREAM_LABEL_NOISE, STREAM_ONLINE, STREAM_ORDER, STREAM_TEST, STREAM_TRAIN, add_label_noise,
                   clean_labels, rng_for, target_support)

_JIT = dict(cache=True, nogil=True)

_MULT_HI = np.uint64(0x2360ED051FC65DA4)  # PCG64's 128-bit multiplier, high and low words
_MULT_LO = np.uint64(0x4385DF649FCCF645)
_U32 = np.uint64(0xFFFFFFFF)

# Row of the state array: the 128-bit LCG state and increment, then numpy's buffered
# 32-bit half (a flag and the value) that next_uint32 keeps between calls.
HI, LO, INC_HI, INC_LO, HAS_U32, U32 = range(6)

PREFETCH_ROWS = 16  # offline rows fetched this far ahead of their copy
MAX_SAMPLES = 2**32  # numpy's permutation switches to 64-bit draws above (see _permutation)


@intrinsic
def _mul_high(typingctx, a, b):
    """The high 64 bits of the 128-bit product a * b (one x86-64 ``mul``)."""
    if a != types.uint64 or b != types.uint64:
        return None

    def codegen(context, builder, sig, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64), codegen


@njit(inline="always", **_JIT)
def _step(hi, lo, inc_hi, inc_lo):
    """numpy's pcg64_random_r: (hi, lo) <- (hi, lo) * MULT + inc (mod 2^128), then the
    XSL-RR output word; returns (hi, lo, word). State in locals: it stays in registers."""
    new_lo = lo * _MULT_LO
    new_hi = _mul_high(lo, _MULT_LO) + hi * _MULT_LO + lo * _MULT_HI
    lo = new_lo + inc_lo
    hi = new_hi + inc_hi + np.uint64(lo < new_lo)
    x = hi ^ lo
    rot = hi >> np.uint64(58)
    return hi, lo, (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(inline="always", **_JIT)
def _next64(state):
    """The next raw word of the generator whose state row is ``state`` (updated)."""
    hi, lo, word = _step(state[HI], state[LO], state[INC_HI], state[INC_LO])
    state[HI], state[LO] = hi, lo
    return word


@njit(**_JIT)
def _permutation(state, perm):
    """perm = Generator.permutation(len(perm)): arange, then for i = m-1 down to 1 swap
    perm[i] with perm[j], j = random_interval(i): the smallest all-ones mask >= i applied to
    fresh values until one is <= i; values are 32-bit halves of words (low half first, the
    high half buffered across calls as numpy's next_uint32 does). numpy draws whole words
    for i >= 2^32: :class:`GroupStream` refuses training sets that large."""
    m = perm.shape[0]
    for i in range(m):
        perm[i] = i
    hi, lo, inc_hi, inc_lo = state[HI], state[LO], state[INC_HI], state[INC_LO]
    has_half, half = state[HAS_U32] != 0, state[U32]
    mask = np.uint64(max(m - 1, 0))
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    for i in range(m - 1, 0, -1):
        limit = np.uint64(i)
        if limit <= mask >> np.uint64(1):  # i decreases: the mask halves at powers of two
            mask >>= np.uint64(1)
        while True:
            if has_half:
                has_half = False
                value = half
            else:
                hi, lo, word = _step(hi, lo, inc_hi, inc_lo)
                has_half = True
                half = word >> np.uint64(32)
                value = word & _U32
            value &= mask
            if value <= limit:
                break
        j = np.int64(value)
        perm[i], perm[j] = perm[j], perm[i]
    state[HI], state[LO] = hi, lo
    state[HAS_U32], state[U32] = np.uint64(has_half), half


@intrinsic
def _load8(typingctx, arr, offset):
    """The 8 bytes arr[offset:offset + 8] of a 1-d int8 array as one uint64 (unaligned load)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int8 and arr.ndim == 1 and arr.layout == "C"
            and isinstance(offset, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        pointer = _byte_pointer(context, builder, sig, args)
        return builder.load(builder.bitcast(pointer, ir.IntType(64).as_pointer()), align=1)

    return types.uint64(arr, offset), codegen


@intrinsic
def _store8(typingctx, arr, offset, value):
    """arr[offset:offset + 8] = the 8 bytes of ``value`` (uint64, unaligned store)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int8 and arr.ndim == 1 and arr.layout == "C"
            and isinstance(offset, types.Integer) and value == types.uint64):
        return None

    def codegen(context, builder, sig, args):
        pointer = _byte_pointer(context, builder, sig, args)
        builder.store(args[2], builder.bitcast(pointer, ir.IntType(64).as_pointer()), align=1)
        return context.get_dummy_value()

    return types.void(arr, offset, value), codegen


@intrinsic
def _prefetch(typingctx, arr, offset):
    """A hint to fetch the cache line of arr[offset] (1-d int8) for reading (llvm.prefetch)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int8 and arr.ndim == 1 and arr.layout == "C"
            and isinstance(offset, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        pointer = _byte_pointer(context, builder, sig, args)
        i32 = ir.IntType(32)
        signature = ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32])
        function = builder.module.declare_intrinsic("llvm.prefetch", [pointer.type], signature)
        builder.call(function, [pointer, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, offset), codegen


@intrinsic
def _move32(typingctx, dst, d, src, s):
    """dst[d:d + 32] = src[s:s + 32] (1-d int8 arrays) as one unaligned 32-byte vector move."""
    if not all(isinstance(a, types.Array) and a.dtype == types.int8 and a.ndim == 1 and a.layout == "C"
               for a in (dst, src)) or not all(isinstance(o, types.Integer) for o in (d, s)):
        return None

    def codegen(context, builder, sig, args):
        vector = ir.VectorType(ir.IntType(8), 32).as_pointer()
        source = _byte_pointer(context, builder, (sig.args[2], sig.args[3]), args[2:])
        target = _byte_pointer(context, builder, (sig.args[0], sig.args[1]), args[:2])
        builder.store(builder.load(builder.bitcast(source, vector), align=1), builder.bitcast(target, vector), align=1)
        return context.get_dummy_value()

    return types.void(dst, d, src, s), codegen


def _byte_pointer(context, builder, sig, args):
    """The address of array args[0] at element offset args[1]; ``sig`` is a signature or the
    (array type, offset type) pair."""
    argtypes = getattr(sig, "args", sig)
    data = context.make_array(argtypes[0])(context, builder, args[0]).data
    return builder.gep(data, [context.cast(builder, args[1], argtypes[1], types.intp)])


@njit(inline="always", **_JIT)
def copy_row(dst, d, src, s, n):
    """dst[d:d + n] = src[s:s + n] (1-d int8 arrays) in 32-byte (n >= 32) or 8-byte moves, the
    last one overlapping (a byte loop, or a ``range`` with a step, compiled to many times slower
    code). Also used by the numba backend to gather test samples."""
    if n >= 32:
        end = s + n - 32
        last = d + n - 32
        while s < end:
            _move32(dst, d, src, s)
            d += 32
            s += 32
        _move32(dst, last, src, end)
    elif n >= 8:
        end = s + n - 8
        last = d + n - 8
        while s < end:
            _store8(dst, d, _load8(src, s))
            d += 8
            s += 8
        _store8(dst, last, _load8(src, end))
    else:
        for j in range(n):
            dst[d + j] = src[s + j]


@njit(**_JIT)
def _fill_offline(state, perm, position, train_X, train_y, X, y, n):
    """The next len(y) samples of an offline run into X (flat rows of n), y: consecutive entries
    of the epochs' permutations, a fresh one drawn only when the last is used up."""
    count = y.shape[0]
    m = perm.shape[0]
    pos = position[0]
    t = 0
    while t < count:
        if pos == m:
            _permutation(state, perm)
            pos = 0
        take = min(count - t, m - pos)
        for q in range(take):
            row = perm[pos + q]
            if q + PREFETCH_ROWS < take:  # rows are random: fetch ahead what the next copies read
                ahead = perm[pos + q + PREFETCH_ROWS] * n
                _prefetch(train_X, ahead)
                _prefetch(train_X, ahead + n - 1)
            copy_row(X, (t + q) * n, train_X, row * n, n)
            y[t + q] = train_y[row]
        pos += take
        t += take
    position[0] = pos


@njit(**_JIT)
def _fill_online(state, support, signs, X, y, n):
    """len(y) fresh samples of an online run into X (flat rows of n), y: each row ceil(n/64) raw
    words, bit j of the row (little-endian) -> x_j = 1 - 2 bit; y = the product of x over the
    support. ``signs[byte]`` holds the 8 int8 ±1 of a byte's bits: one 8-byte store per byte.
    A row's last partial byte is stored whole too (its spill is overwritten by the next rows)
    unless that would write past the run's block (the last rows)."""
    count = y.shape[0]
    nbytes = (n + 7) // 8
    for t in range(count):
        d = t * n
        last = nbytes if d + 8 * nbytes <= count * n else n // 8
        word = np.uint64(0)
        for q in range(last):
            if q % 8 == 0:
                word = _next64(state)
            _store8(X, d + 8 * q, signs[(word >> np.uint64(8 * (q % 8))) & np.uint64(255)])
        for j in range(8 * last, n):
            if j % 64 == 0:
                word = _next64(state)
            X[d + j] = np.int8(1) - np.int8(2) * np.int8((word >> np.uint64(j % 64)) & np.uint64(1))
        label = np.int8(1)
        for i in support:
            label *= X[d + i]
        y[t] = label


@njit(parallel=True, **_JIT)
def _fill(runs, X, y, states, online, perms, start, positions, train_X, train_y, supports, support_size, signs):
    """X[a] (steps, B, n), y[a] (steps, B) = the next minibatches of run runs[a]; prange over runs.
    Offline run r owns rows start[r]:start[r + 1] of the concatenated training sets and of perms."""
    A, steps, B, n = X.shape
    for a in prange(A):
        r = runs[a]
        Xa = X[a].reshape(steps * B * n)
        ya = y[a].reshape(steps * B)
        if online[r]:
            _fill_online(states[r], supports[r, :support_size[r]], signs, Xa, ya, n)
        else:
            rows = slice(start[r], start[r + 1])
            _fill_offline(states[r], perms[rows], positions[r:r + 1], train_X[rows].reshape(-1), train_y[rows],
                          Xa, ya, n)


@njit(**_JIT)
def _sign_rows(states, supports, support_size, signs, X, y, start, n):
    """Rows start[r]:start[r + 1] of X (flat rows of n), y: fresh ±1 rows of generator r, with
    their parities (as :func:`_fill_online`)."""
    for r in range(states.shape[0]):
        _fill_online(states[r], supports[r, :support_size[r]], signs, X[start[r] * n:start[r + 1] * n],
                     y[start[r]:start[r + 1]], n)


@njit(parallel=True, **_JIT)
def _sign_rows_parallel(states, supports, support_size, signs, X, y, start, n):
    """:func:`_sign_rows`, prange over generators (for big sets: below PARALLEL_SIGN_BYTES a
    parallel region on a busy machine waits longer for its second thread than the work takes)."""
    for r in prange(states.shape[0]):
        _fill_online(states[r], supports[r, :support_size[r]], signs, X[start[r] * n:start[r + 1] * n],
                     y[start[r]:start[r + 1]], n)


PARALLEL_SIGN_BYTES = 2**22


def _supports(configs: Sequence[RunConfig]) -> tuple[np.ndarray, np.ndarray]:
    """(supports (R, max k) int64 padded with 0, k (R,)) of the configs."""
    supports = [target_support(c) for c in configs]
    size = np.array([len(s) for s in supports], dtype=np.int64)
    padded = np.zeros((len(configs), max(size, default=1)), dtype=np.int64)
    for i, support in enumerate(supports):
        padded[i, :len(support)] = support
    return padded, size


def sign_rows(configs: Sequence[RunConfig], stream: int, counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """X (sum counts, n) int8, y: counts[i] rows of :func:`sim.data.random_sign_rows` from run i's
    ``stream`` and their labels, for every run in one compiled call (and a numpy pass for targets
    other than the parity): bit for bit ``training_set`` (STREAM_TRAIN) or ``test_set``
    (STREAM_TEST) of each config, concatenated (the numpy calls per run were most of a small
    group's set-up)."""
    n = configs[0].n if configs else 1
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    X = np.empty((int(start[-1]), n), dtype=np.int8)
    y = np.empty(int(start[-1]), dtype=np.int8)
    if len(configs):
        states = np.stack([stream_state(c.seed, stream) for c in configs])
        supports, size = _supports(configs)
        rows = _sign_rows_parallel if X.nbytes > PARALLEL_SIGN_BYTES else _sign_rows
        rows(states, supports, size, _sign_table(), X.reshape(-1), y, start, n)
        _relabel_sets(configs, stream, start, X, y)
    return X, y


def _relabel_sets(configs: Sequence[RunConfig], stream: int, start: np.ndarray, X: np.ndarray, y: np.ndarray) -> None:
    """Rows of runs whose target is not the parity: the compiled call wrote the parity of their
    support; here they get their target's labels (sim.data.clean_labels), and a noisy target's
    training set its flips, as sim.data.training_set draws them. A numpy pass once per set: the
    parity path (every stored run) stays the compiled one, bit for bit."""
    for r, config in enumerate(configs):
        if config.target != "parity":
            rows = slice(start[r], start[r + 1])
            y[rows] = clean_labels(config, X[rows])
            if stream == STREAM_TRAIN:
                y[rows] = add_label_noise(config, y[rows], rng_for(config.seed, STREAM_LABEL_NOISE))


def group_test_sets(configs: Sequence[RunConfig]) -> tuple[np.ndarray, np.ndarray]:
    """The test sets of configs of one n and test_size, stacked: X (R, M, n), y (R, M); bit for
    bit :func:`sim.data.test_set` of each."""
    sizes = {(c.n, c.test_size) for c in configs}
    if len(sizes) != 1:
        raise ValueError(f"group_test_sets needs configs of one (n, test_size), got {sorted(sizes)}")
    n, M = sizes.pop()
    X, y = sign_rows(configs, STREAM_TEST, [M] * len(configs))
    return X.reshape(len(configs), M, n), y.reshape(len(configs), M)


def _sign_table() -> np.ndarray:
    """(256,) uint64: entry b holds the 8 bytes int8 1 - 2 * (bit k of b), k = 0..7, in memory order."""
    bits = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little")
    return np.ascontiguousarray((1 - 2 * bits.astype(np.int8)).astype(np.int8)).view(np.uint64).reshape(256)


def generator_state(rng: np.random.Generator | np.random.PCG64) -> np.ndarray:
    """The (6,) uint64 state row (HI, LO, INC_HI, INC_LO, HAS_U32, U32) of a PCG64 generator."""
    state = getattr(rng, "bit_generator", rng).state
    if state["bit_generator"] != "PCG64":
        raise ValueError(f"bit generator {state['bit_generator']!r}: only PCG64 is reproduced")
    words = (state["state"]["state"] >> 64, state["state"]["state"], state["state"]["inc"] >> 64,
             state["state"]["inc"], state["has_uint32"], state["uinteger"])
    return np.array([w & 0xFFFFFFFFFFFFFFFF for w in words], dtype=np.uint64)


def stream_state(seed: int, stream: int) -> np.ndarray:
    """generator_state(rng_for(seed, stream)) without building the Generator (half the time:
    default_rng(s) is Generator(PCG64(s)))."""
    return generator_state(np.random.PCG64([int(seed), int(stream)]))


class GroupStream:
    """The minibatch streams of a group of runs (configs of one n and batch size), with the
    training sets of its offline runs (:meth:`training_set`, bit for bit ``training_set(c)``)."""

    def __init__(self, configs: Sequence[RunConfig]) -> None:
        shapes = {(c.n, c.batch_size) for c in configs}
        if len(shapes) > 1:
            raise ValueError(f"GroupStream needs configs of one (n, batch_size), got {sorted(shapes)}")
        self.n, self.batch_size = shapes.pop() if shapes else (1, 1)
        R = len(configs)
        self.online = np.array([c.online for c in configs], dtype=np.bool_)
        sizes = np.array([0 if c.online else c.samples for c in configs], dtype=np.int64)
        if sizes.size and sizes.max() > MAX_SAMPLES:
            raise ValueError(f"samples={sizes.max()} above {MAX_SAMPLES}: the compiled permutation "
                             "covers numpy's 32-bit draws only")
        self.start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.train_X, self.train_y = sign_rows(configs, STREAM_TRAIN, sizes)
        self.perms = np.empty(int(self.start[-1]), dtype=np.uint32)  # values < m <= MAX_SAMPLES = 2^32
        self.positions = sizes.copy()  # every run starts with its (empty) epoch used up
        self.states = np.stack([
            stream_state(c.seed, STREAM_ONLINE if c.online else STREAM_ORDER) for c in configs
        ]) if R else np.empty((0, 6), dtype=np.uint64)
        self.supports, self.support_size = _supports(configs)
        self.signs = _sign_table()
        # Online runs of another target than the parity get their labels after the compiled fill
        # (:meth:`fill`), a noisy one its flips from its own generator, kept across blocks.
        self.relabelled = {i: (c, rng_for(c.seed, STREAM_LABEL_NOISE)) for i, c in enumerate(configs)
                           if c.online and c.target != "parity"}

    def training_set(self, i: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Run i's training set (views), None for an online run."""
        if self.online[i]:
            return None
        rows = slice(self.start[i], self.start[i + 1])
        return self.train_X[rows], self.train_y[rows]

    def fill(self, runs: np.ndarray, X: np.ndarray, y: np.ndarray) -> None:
        """X[a] (steps, B, n), y[a] (steps, B) = the next X.shape[1] minibatches of run runs[a]
        (X, y C-contiguous int8; runs distinct indices into the group)."""
        runs = np.ascontiguousarray(runs, dtype=np.int64)
        if X.shape != (runs.size, X.shape[1], self.batch_size, self.n) or y.shape != X.shape[:3]:
            raise ValueError(f"fill: X {X.shape}, y {y.shape} do not match {runs.size} runs of batch "
                             f"{self.batch_size}, n {self.n}")
        if not (X.dtype == y.dtype == np.int8 and X.flags.c_contiguous and y.flags.c_contiguous):
            raise ValueError("fill: X and y must be C-contiguous int8 arrays")
        if runs.size and X.shape[1]:
            _fill(runs, X, y, self.states, self.online, self.perms, self.start, self.positions,
                  self.train_X, self.train_y, self.supports, self.support_size, self.signs)
            for a, i in enumerate(runs):
                if i in self.relabelled:
                    config, noise = self.relabelled[i]
                    y[a] = add_label_noise(config, clean_labels(config, X[a]), noise)

    def next(self, runs: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``steps`` minibatches of the runs: X (A, steps, B, n), y (A, steps, B) int8."""
        X = np.empty((len(runs), steps, self.batch_size, self.n), dtype=np.int8)
        y = np.empty((len(runs), steps, self.batch_size), dtype=np.int8)
        self.fill(runs, X, y)
        return X, y
