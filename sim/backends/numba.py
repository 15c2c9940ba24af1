"""Numba CPU backend: all active runs of a group advance through a block of SGD steps
in one compiled call (the update rule is the one in :mod:`sim.engine`'s docstring).

Layout and arithmetic (why this is fast on a CPU):

- Weights are stored *neuron-minor*: ``Wt`` has shape (R, n, rp) (the transpose of the
  engine's (R, width, n)), with the width padded to ``rp``, a multiple of ``LANES``.
  Every inner loop then runs over a contiguous slice of neurons (indexed from 0: a signed
  offset index makes numba emit a wrap-around check that blocks vectorisation), which
  LLVM's loop vectoriser turns into SIMD without reassociating any sum (``fastmath=False``
  keeps results reproducible). Padded neurons have w = b = u = 0 and stay exactly 0 under
  the update (relu(0) = 0 gives them zero gradient), so they change nothing.
- Inputs are ±1, so no multiplications are needed for X W^T or gh^T X. With
  P_b = {j : x_bj = +1} and column sums S_i = sum_j W_ij:
      h_bi = b_i + sum_j x_bj W_ij = b_i - S_i + 2 sum_{j in P_b} W_ij
  and, with G_i = sum_b gh_bi (which is also the bias gradient) and Q_j = {b : x_bj = +1},
      (gh^T X)_ij = 2 sum_{b in Q_j} gh_bi - G_i.
  Samples with dl/df = 0 (hinge margin met) have gh_b = 0 and are skipped.
  The update is fused with the (coupled) weight decay in one pass over W:
      W <- (1 - lr wd) W - lr gW.
- Neurons are processed in chunks of ``CHUNK`` (cache blocking). f_b is summed as
  per-chunk partials, each over ``LANES`` lane accumulators, in a fixed order, so a run's
  arithmetic does not depend on how many runs share the call or on the thread count:
  a batched run is bit-identical to the same run alone.
- Parallelism: with many active runs, ``prange`` over runs, each thread taking all steps
  of its runs (the run's weights stay in cache across steps). With few runs (fewer than
  ``RUNS_PER_THREAD`` per thread), ``prange`` over (run, neuron chunk) work items, with
  a per-step sum of the chunk partials of f between the forward and backward phases
  (wide networks only: see ``MIN_CHUNKED_WIDTH``).

Small widths (up to ``MAX_LANE_WIDTH``): runs in SIMD lanes. Above, a row loop over a few
neurons is mostly fixed overhead (width 10 is padded to 16 and a vectorised loop costs ~13
cycles however short; width 100 leaves a scalar remainder), so there the *runs* fill the
vector instead: groups of ``LANES`` consecutive active runs, one run per lane, every weight,
activation and input a vector of the group's runs ((inputs, width, LANES) interleaved; the
explicit LLVM vector type of :mod:`sim.backends.lane_vectors`). The arithmetic is the dense update
(x = ±1 as floats, no index lists, no skipping: lanes disagree on which samples to skip) in
register tiles of 2 samples x 4 neurons (forward) and 2 inputs x 4 neurons (gW), with
exact fused multiply-adds (llvm.fma) and every sum in a fixed order (inputs, samples or
neurons ascending). Nothing crosses lanes, so a run's result does not depend on its lane,
its group or the other runs: batched == alone, bit for bit. Unused lanes of the last group
hold zero weights, zero inputs and lr = 0 and stay zero; padded neurons (width rounded up to
``LANE_TILE_NEURONS``), a padded input (odd n) and a padded sample (odd B, delta = 0) change
nothing. ``prange`` over groups; the int8 minibatches of a group are transposed into lanes
every step with 8 x 8 vector shuffles. The path depends on the width only (never on R or the
active set). Measured (``frontier bench``, n = 50, B = 32, R = 256, float32, 2 cores): 8x the
sign-trick path at width 10 and 2x at width 100; about 1.1-1.2x at 256-384.

Float32 by default; float64 compiles the same code for the other dtype.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..config import LOSS_IDS
from ..group_stream import copy_row
from .lane_vectors import LANES as VECTOR_LANES
from .lane_vectors import transpose_i8_to_lanes, vfma, vload, vrelu, vsplat, vstore, vwhere_positive

LANES = VECTOR_LANES  # floats per SIMD block (one AVX2 register of float32)
LANE_TILE_NEURONS = 4  # runs-in-lanes path: width padded to a multiple of this (register tiles)
MAX_LANE_WIDTH = 256   # widths up to this train with runs in SIMD lanes (see the module doc)
CHUNK = 256      # neurons per cache block and per parallel work item (a multiple of LANES)
EVAL_SAMPLES = 256   # test samples per evaluation work item
SCREEN_BLOCK = 64    # test samples per step of the screened count (NumbaKernel.screen_test)
# Screening pools: the samples a run got wrong at its last screened count, those it did not
# reach, those it got right; prior error rates of each (weight SCREEN_PRIOR_WEIGHT samples).
SCREEN_PRIORS = (0.75, 0.5, 0.25)
SCREEN_PRIOR_WEIGHT = 16.0
RUNS_PER_THREAD = 2  # below this many active runs per thread, parallelise over neuron chunks...
# ...but only for networks this wide: the chunk path has two thread barriers per step. Measured
# (n=50, B=32, float32, 2 cores): on a quiet machine 2.1x faster than the run path at width 10^4
# with one run, equal at width 10^3; on a loaded machine (GNU OpenMP layer) 5x *slower* at 10^4.
MIN_CHUNKED_WIDTH = 4096

_JIT = dict(cache=True, fastmath=False, nogil=True)
HINGE, SQUARE = LOSS_IDS["hinge"], LOSS_IDS["square"]  # compile-time constants; the rest is logistic


@njit(**_JIT)
def _loss_slope(loss_id, yv, f, one):
    """(l(y, f), dl/df) for hinge, square, logistic (ids: ``LOSS_IDS``); yv = ±one."""
    zero = one - one
    if loss_id == HINGE:
        margin = one - yv * f
        if margin > zero:
            return margin, -yv
        if margin <= zero:
            return zero, zero
        return margin, margin  # NaN propagates
    if loss_id == SQUARE:
        diff = f - yv
        return diff * diff, (one + one) * diff
    z = -yv * f
    # log(1 + exp(z)) without overflow, as np.logaddexp(0, z)
    if z > zero:
        loss = z + np.log1p(np.exp(-z))
    else:
        loss = np.log1p(np.exp(z))
    return loss, -yv / (one + np.exp(-z))


@njit(**_JIT)
def _plus_lists(X, plist, pcount):
    """plist[b, :pcount[b]] = {j : X[b, j] = +1} (branch-free compaction)."""
    B, n = X.shape
    for b in range(B):
        count = 0
        for j in range(n):
            plist[b, count] = j
            count += X[b, j] > 0
        pcount[b] = count


@njit(**_JIT)
def _both_lists(X, plist, pcount, qlist, qcount):
    """The sample-wise lists P_b (as :func:`_plus_lists`) and the input-wise lists
    qlist[j, :qcount[j]] = Q_j = {b : X[b, j] = +1}, in one pass over X."""
    B, n = X.shape
    for j in range(n):
        qcount[j] = 0
    for b in range(B):
        count = 0
        for j in range(n):
            positive = X[b, j] > 0
            plist[b, count] = j
            count += positive
            qlist[j, qcount[j]] = b
            qcount[j] += positive
        pcount[b] = count


@njit(**_JIT)
def _lane_dot(a, u, m, zero):
    """sum_{i < m} a_i u_i with LANES independent accumulators and a fixed tree (m a
    multiple of LANES): instruction-level parallelism without reassociating, deterministic."""
    q0 = q1 = q2 = q3 = q4 = q5 = q6 = q7 = zero
    for i in range(0, m, LANES):
        q0 += a[i] * u[i]
        q1 += a[i + 1] * u[i + 1]
        q2 += a[i + 2] * u[i + 2]
        q3 += a[i + 3] * u[i + 3]
        q4 += a[i + 4] * u[i + 4]
        q5 += a[i + 5] * u[i + 5]
        q6 += a[i + 6] * u[i + 6]
        q7 += a[i + 7] * u[i + 7]
    return ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7))


@njit(**_JIT)
def _sum_rows(dst, rows, index, count, c0, c1, zero):
    """dst[i] = sum_{k < count} rows[index[k], c0 + i] for i < c1 - c0, rows added in pairs
    (half the loop overhead and dst traffic) in a fixed order, so results are deterministic."""
    m = c1 - c0
    for i in range(m):
        dst[i] = zero
    for k in range(0, count - 1, 2):
        r1 = rows[index[k], c0:c1]
        r2 = rows[index[k + 1], c0:c1]
        for i in range(m):
            dst[i] += r1[i] + r2[i]
    if count % 2:
        r1 = rows[index[count - 1], c0:c1]
        for i in range(m):
            dst[i] += r1[i]


@njit(**_JIT)
def _forward_chunk(Wt, bias, u, c0, c1, plist, pcount, h, S, fpart, one):
    """a = relu(X W^T + b) into h[:, c0:c1] for one chunk of neurons (sign trick, see the
    module doc) and fpart[b] = sum_{i in chunk} a_bi u_i.

    Loops run over slices from 0: LLVM vectorises them only when the index is known to be
    non-negative (no wrap-around check)."""
    n = Wt.shape[0]
    B = h.shape[0]
    m = c1 - c0
    zero = one - one
    Sc = S[c0:c1]
    bc = bias[c0:c1]
    for i in range(m):
        Sc[i] = bc[i]
    for j in range(n):
        w = Wt[j, c0:c1]
        for i in range(m):
            Sc[i] -= w[i]
    uc = u[c0:c1]
    for b in range(B):
        hb = h[b, c0:c1]
        _sum_rows(hb, Wt, plist[b], pcount[b], c0, c1, zero)
        for i in range(m):
            v = Sc[i] + (hb[i] + hb[i])
            hb[i] = v if v > zero else zero
        fpart[b] = _lane_dot(hb, uc, m, zero)


@njit(**_JIT)
def _deltas(fpart, y, loss_id, batch, one, delta):
    """f_b = sum of the chunk partials (in chunk order); delta_b = dl/df / B (batch = B)."""
    nchunks, B = fpart.shape
    for b in range(B):
        f = fpart[0, b]
        for c in range(1, nchunks):
            f += fpart[c, b]
        yv = one if y[b] > 0 else -one
        _, slope = _loss_slope(loss_id, yv, f, one)
        delta[b] = slope / batch


@njit(**_JIT)
def _active_lists(delta, alist, qlist, qcount, blist, bcount):
    """alist[:nact] = samples with delta != 0 (returns nact); when some have delta = 0
    (hinge margin met), blist/bcount = qlist/qcount without them (their gh is 0)."""
    B = delta.shape[0]
    nact = 0
    for b in range(B):
        alist[nact] = b
        nact += delta[b] != 0
    if nact < B:
        for j in range(qlist.shape[0]):
            count = 0
            for k in range(qcount[j]):
                b = qlist[j, k]
                blist[j, count] = b
                count += delta[b] != 0
            bcount[j] = count
    return nact


@njit(**_JIT)
def _backward_chunk(Wt, bias, u, c0, c1, delta, alist, nact, blist, bcount, h, G, gu, acc, lr, wd, one):
    """The fused SGD update of one chunk of neurons; h[b, chunk] holds a = relu(h) on entry
    and is overwritten by gh = delta_b u 1[a > 0]."""
    n = Wt.shape[0]
    m = c1 - c0
    zero = one - one
    Gc = G[c0:c1]
    guc = gu[c0:c1]
    uc = u[c0:c1]
    bc = bias[c0:c1]
    accc = acc[c0:c1]
    for i in range(m):
        Gc[i] = zero
        guc[i] = zero
    for k in range(nact):
        b = alist[k]
        d = delta[b]
        hb = h[b, c0:c1]
        for i in range(m):
            a = hb[i]
            g = d * uc[i] if a > zero else zero
            hb[i] = g
            Gc[i] += g
            guc[i] += a * d
    decay = one - lr * wd
    for j in range(n):
        _sum_rows(accc, h, blist[j], bcount[j], c0, c1, zero)
        w = Wt[j, c0:c1]
        for i in range(m):
            w[i] = decay * w[i] - lr * ((accc[i] + accc[i]) - Gc[i])
    for i in range(m):
        bc[i] = decay * bc[i] - lr * Gc[i]
        uc[i] = decay * uc[i] - lr * guc[i]


@njit(**_JIT)
def _chunk_bounds(c, rp):
    c0 = c * CHUNK
    return c0, min(rp, c0 + CHUNK)


@njit(**_JIT)
def _train_one_run(Wt, bias, u, X, y, lr, wd, loss_id, one, batch):
    """All steps of one run: X (steps, B, n), y (steps, B); weights updated in place."""
    steps, B, n = X.shape
    rp = Wt.shape[1]
    nchunks = (rp + CHUNK - 1) // CHUNK
    plist = np.empty((B, n), np.int64)
    pcount = np.empty(B, np.int64)
    alist = np.empty(B, np.int64)
    qlist = np.empty((n, B), np.int64)
    qcount = np.empty(n, np.int64)
    blist = np.empty((n, B), np.int64)
    bcount = np.empty(n, np.int64)
    h = np.empty((B, rp), Wt.dtype)
    S = np.empty(rp, Wt.dtype)
    G = np.empty(rp, Wt.dtype)
    gu = np.empty(rp, Wt.dtype)
    acc = np.empty(rp, Wt.dtype)
    fpart = np.empty((nchunks, B), Wt.dtype)
    delta = np.empty(B, Wt.dtype)
    for s in range(steps):
        _both_lists(X[s], plist, pcount, qlist, qcount)
        for c in range(nchunks):
            c0, c1 = _chunk_bounds(c, rp)
            _forward_chunk(Wt, bias, u, c0, c1, plist, pcount, h, S, fpart[c], one)
        _deltas(fpart, y[s], loss_id, batch, one, delta)
        nact = _active_lists(delta, alist, qlist, qcount, blist, bcount)
        ql, qc = (qlist, qcount) if nact == B else (blist, bcount)
        for c in range(nchunks):
            c0, c1 = _chunk_bounds(c, rp)
            _backward_chunk(Wt, bias, u, c0, c1, delta, alist, nact, ql, qc, h, G, gu, acc, lr, wd, one)


@njit(parallel=True, **_JIT)
def _train_by_runs(Wt, bias, u, runs, X, y, lr, wd, loss_ids, one, batch):
    """Advance runs[a] by X.shape[1] steps on X[a] (steps, B, n), y[a] (steps, B):
    prange over runs, each thread taking every step of its runs (weights stay in cache)."""
    for a in prange(runs.shape[0]):
        r = runs[a]
        _train_one_run(Wt[r], bias[r], u[r], X[a], y[a], lr[r], wd[r], loss_ids[r], one, batch)


@njit(parallel=True, **_JIT)
def _forward_items(Wt, bias, u, runs, plist, pcount, h, S, fpart, one):
    nchunks = fpart.shape[1]
    rp = Wt.shape[2]
    for item in prange(runs.shape[0] * nchunks):
        a = item // nchunks
        c = item % nchunks
        r = runs[a]
        c0, c1 = _chunk_bounds(c, rp)
        _forward_chunk(Wt[r], bias[r], u[r], c0, c1, plist[a], pcount[a], h[a], S[a], fpart[a, c], one)


@njit(parallel=True, **_JIT)
def _backward_items(Wt, bias, u, runs, delta, alist, nact, blist, bcount, h, G, gu, acc, lr, wd, one):
    nchunks = (Wt.shape[2] + CHUNK - 1) // CHUNK
    rp = Wt.shape[2]
    for item in prange(runs.shape[0] * nchunks):
        a = item // nchunks
        c = item % nchunks
        r = runs[a]
        c0, c1 = _chunk_bounds(c, rp)
        _backward_chunk(Wt[r], bias[r], u[r], c0, c1, delta[a], alist[a], nact[a], blist[a], bcount[a],
                        h[a], G[a], gu[a], acc[a], lr[r], wd[r], one)


@njit(**_JIT)
def _train_by_chunks(Wt, bias, u, runs, X, y, lr, wd, loss_ids, one, batch):
    """As :func:`_train_by_runs`, for few wide runs: every step runs a parallel forward over
    (run, neuron chunk) items, sums f per run from the chunk partials (the same order as
    :func:`_train_one_run`, so results are bit-identical), then a parallel backward."""
    A, steps, B, n = X.shape
    rp = Wt.shape[2]
    nchunks = (rp + CHUNK - 1) // CHUNK
    plist = np.empty((A, B, n), np.int64)
    pcount = np.empty((A, B), np.int64)
    alist = np.empty((A, B), np.int64)
    nact = np.empty(A, np.int64)
    blist = np.empty((A, n, B), np.int64)
    bcount = np.empty((A, n), np.int64)
    h = np.empty((A, B, rp), Wt.dtype)
    S = np.empty((A, rp), Wt.dtype)
    G = np.empty((A, rp), Wt.dtype)
    gu = np.empty((A, rp), Wt.dtype)
    acc = np.empty((A, rp), Wt.dtype)
    fpart = np.empty((A, nchunks, B), Wt.dtype)
    delta = np.empty((A, B), Wt.dtype)
    for s in range(steps):
        for a in range(A):
            _both_lists(X[a, s], plist[a], pcount[a], blist[a], bcount[a])
        _forward_items(Wt, bias, u, runs, plist, pcount, h, S, fpart, one)
        for a in range(A):
            _deltas(fpart[a], y[a, s], loss_ids[runs[a]], batch, one, delta[a])
            nact[a] = _active_lists(delta[a], alist[a], blist[a], bcount[a], blist[a], bcount[a])
        _backward_items(Wt, bias, u, runs, delta, alist, nact, blist, bcount, h, G, gu, acc, lr, wd, one)


# --------------------------------------------------------------------------- runs in lanes
# Small widths: the runs themselves fill the SIMD lanes (see the module docstring).


@njit(**_JIT)
def _lane_forward(W, bias, u, Xf, A, f, B, n, npad, rp):
    """A[b, i] = relu(b_i + sum_j x_bj W_ji) and f[b] = sum_i A[b, i] u_i (i ascending), every
    value a vector over the group's runs. W (npad, rp, LANES), bias/u (rp, LANES),
    Xf (Bpad, npad, LANES) ±1/0, A (Bpad, rp, LANES), f (Bpad, LANES); rp a multiple of
    LANE_TILE_NEURONS, Bpad = B rounded up to 2 (pad samples: x = 0).

    Tiles of 2 samples x 4 neurons keep 8 accumulators in registers; a tile of neurons is the
    outer loop so its weights stay in L1 while all samples stream past."""
    like = vload(bias, 0)
    zero = vsplat(0, like)
    for b in range(0, B + (B & 1)):
        vstore(f, b * LANES, zero)
    for i in range(0, rp, 4):
        o = i * LANES
        b0 = vload(bias, o)
        b1 = vload(bias, o + LANES)
        b2 = vload(bias, o + 2 * LANES)
        b3 = vload(bias, o + 3 * LANES)
        u0 = vload(u, o)
        u1 = vload(u, o + LANES)
        u2 = vload(u, o + 2 * LANES)
        u3 = vload(u, o + 3 * LANES)
        for b in range(0, B, 2):
            p0, p1, p2, p3 = b0, b1, b2, b3
            q0, q1, q2, q3 = b0, b1, b2, b3
            xo = b * npad * LANES
            zo = xo + npad * LANES
            wo = o
            for _ in range(n):  # offsets advanced by addition: no index arithmetic in the loop
                x = vload(Xf, xo)
                z = vload(Xf, zo)
                w0 = vload(W, wo)
                w1 = vload(W, wo + LANES)
                w2 = vload(W, wo + 2 * LANES)
                w3 = vload(W, wo + 3 * LANES)
                p0 = vfma(x, w0, p0)
                p1 = vfma(x, w1, p1)
                p2 = vfma(x, w2, p2)
                p3 = vfma(x, w3, p3)
                q0 = vfma(z, w0, q0)
                q1 = vfma(z, w1, q1)
                q2 = vfma(z, w2, q2)
                q3 = vfma(z, w3, q3)
                xo += LANES
                zo += LANES
                wo += rp * LANES
            p0, p1, p2, p3 = vrelu(p0), vrelu(p1), vrelu(p2), vrelu(p3)
            q0, q1, q2, q3 = vrelu(q0), vrelu(q1), vrelu(q2), vrelu(q3)
            ao = (b * rp + i) * LANES
            vstore(A, ao, p0)
            vstore(A, ao + LANES, p1)
            vstore(A, ao + 2 * LANES, p2)
            vstore(A, ao + 3 * LANES, p3)
            ao += rp * LANES
            vstore(A, ao, q0)
            vstore(A, ao + LANES, q1)
            vstore(A, ao + 2 * LANES, q2)
            vstore(A, ao + 3 * LANES, q3)
            fo = b * LANES
            vstore(f, fo, (((vload(f, fo) + p0 * u0) + p1 * u1) + p2 * u2) + p3 * u3)
            vstore(f, fo + LANES, (((vload(f, fo + LANES) + q0 * u0) + q1 * u1) + q2 * u2) + q3 * u3)


@njit(**_JIT)
def _lane_backward(W, bias, u, Xf, A, delta, G, gu, lr, decay, B, npad, rp):
    """The fused SGD update of a group of runs in lanes (layouts as :func:`_lane_forward`);
    A holds the activations on entry and gh = delta_b u 1[a > 0] on exit.
    delta (Bpad, LANES) is 0 on pad samples; lr, decay = 1 - lr wd: (LANES,) per run."""
    like = vload(bias, 0)
    zero = vsplat(0, like)
    Bpad = B + (B & 1)
    for i in range(rp):
        vstore(G, i * LANES, zero)
        vstore(gu, i * LANES, zero)
    for b in range(Bpad):
        d = vload(delta, b * LANES)
        for i in range(rp):
            o = i * LANES
            ao = (b * rp + i) * LANES
            a = vload(A, ao)
            g = vwhere_positive(a, d * vload(u, o))
            vstore(A, ao, g)
            vstore(G, o, vload(G, o) + g)
            vstore(gu, o, vload(gu, o) + a * d)
    step = vload(lr, 0)
    keep = vload(decay, 0)
    # gW_ji = sum_b gh_bi x_bj in tiles of 2 inputs x 4 neurons, b ascending; W <- keep W - lr gW
    for i in range(0, rp, 4):
        for j in range(0, npad, 2):
            p0, p1, p2, p3 = zero, zero, zero, zero
            q0, q1, q2, q3 = zero, zero, zero, zero
            xo = j * LANES
            go = i * LANES
            for _ in range(Bpad):
                x = vload(Xf, xo)
                z = vload(Xf, xo + LANES)
                g0 = vload(A, go)
                g1 = vload(A, go + LANES)
                g2 = vload(A, go + 2 * LANES)
                g3 = vload(A, go + 3 * LANES)
                p0 = vfma(x, g0, p0)
                p1 = vfma(x, g1, p1)
                p2 = vfma(x, g2, p2)
                p3 = vfma(x, g3, p3)
                q0 = vfma(z, g0, q0)
                q1 = vfma(z, g1, q1)
                q2 = vfma(z, g2, q2)
                q3 = vfma(z, g3, q3)
                xo += npad * LANES
                go += rp * LANES
            wo = (j * rp + i) * LANES
            vstore(W, wo, keep * vload(W, wo) - step * p0)
            vstore(W, wo + LANES, keep * vload(W, wo + LANES) - step * p1)
            vstore(W, wo + 2 * LANES, keep * vload(W, wo + 2 * LANES) - step * p2)
            vstore(W, wo + 3 * LANES, keep * vload(W, wo + 3 * LANES) - step * p3)
            wo += rp * LANES
            vstore(W, wo, keep * vload(W, wo) - step * q0)
            vstore(W, wo + LANES, keep * vload(W, wo + LANES) - step * q1)
            vstore(W, wo + 2 * LANES, keep * vload(W, wo + 2 * LANES) - step * q2)
            vstore(W, wo + 3 * LANES, keep * vload(W, wo + 3 * LANES) - step * q3)
    for i in range(rp):
        o = i * LANES
        vstore(bias, o, keep * vload(bias, o) - step * vload(G, o))
        vstore(u, o, keep * vload(u, o) - step * vload(gu, o))


@njit(inline="always", **_JIT)
def _hinge_deltas(ys, f, l, B, batch, one, delta):
    """delta[b, l] = dl/df / B of the hinge loss for the samples of lane l: the values of
    :func:`_loss_slope` (-y where the margin 1 - y f is positive, 0 where it is not, NaN for a NaN
    margin) as selects, without its branches: half-met margins mispredicted them."""
    zero = one - one
    for b in range(B):
        yv = one if ys[b] > 0 else -one
        margin = one - yv * f[b, l]
        slope = -yv if margin > zero else zero
        delta[b, l] = (slope if margin == margin else margin) / batch


def lane_padded_width(width: int, itemsize: int) -> int:
    """The width rounded up to LANE_TILE_NEURONS, and further when a row of LANES-vectors
    would span a multiple of 8 cache lines: rows of W and A 4 KiB apart (width 128) all map to
    the same L1 set, which made width 128 five times slower than width 100."""
    rp = -(-width // LANE_TILE_NEURONS) * LANE_TILE_NEURONS
    while (rp * LANES * itemsize // 64) % 8 == 0:
        rp += LANE_TILE_NEURONS
    return rp


@njit(**_JIT)
def _train_lane_group(Wt, bias, u, runs, first, X, y, lr, wd, loss_ids, one, batch, width, rp):
    """All steps of the runs runs[first:first + LANES] (fewer at the end: the other lanes
    hold zero weights, zero inputs and lr = 0, and stay zero), one run per lane.

    The group's weights are copied into lane-interleaved buffers, trained, and copied back;
    every step converts the int8 minibatches to ±1 floats in the same layout."""
    A_, steps, B, n = X.shape
    nl = min(LANES, A_ - first)
    npad = n + (n & 1)
    Bpad = B + (B & 1)
    dt = Wt.dtype
    W = np.zeros((npad, rp, LANES), dt)
    bl = np.zeros((rp, LANES), dt)
    ul = np.zeros((rp, LANES), dt)
    lrl = np.zeros(LANES, dt)
    decay = np.ones(LANES, dt)
    losses = np.zeros(LANES, np.int64)
    for l in range(nl):
        r = runs[first + l]
        for j in range(n):
            for i in range(width):
                W[j, i, l] = Wt[r, j, i]
        for i in range(width):
            bl[i, l] = bias[r, i]
            ul[i, l] = u[r, i]
        lrl[l] = lr[r]
        decay[l] = one - lr[r] * wd[r]
        losses[l] = loss_ids[r]
    Xf = np.zeros((Bpad, npad, LANES), dt)
    A = np.empty((Bpad, rp, LANES), dt)
    f = np.empty((Bpad, LANES), dt)
    delta = np.zeros((Bpad, LANES), dt)
    G = np.empty((rp, LANES), dt)
    gu = np.empty((rp, LANES), dt)
    stride = steps * B * n  # between the minibatches of consecutive runs in X
    whole = B * n - (B * n) % LANES if nl == LANES and npad == n else 0
    for s in range(steps):
        start = (first * steps + s) * B * n
        for k in range(0, whole, LANES):
            transpose_i8_to_lanes(X, start + k, stride, Xf, k * LANES)
        for l in range(nl):  # the rest (odd n, a partial group, B n not a multiple of LANES)
            Xs = X[first + l, s]
            for k in range(whole, B * n):
                b = k // n
                j = k - b * n
                Xf[b, j, l] = Xs[b, j]
        _lane_forward(W, bl, ul, Xf, A, f, B, n, npad, rp)
        for l in range(nl):
            ys = y[first + l, s]
            if losses[l] == 0:
                _hinge_deltas(ys, f, l, B, batch, one, delta)
                continue
            for b in range(B):
                yv = one if ys[b] > 0 else -one
                _, slope = _loss_slope(losses[l], yv, f[b, l], one)
                delta[b, l] = slope / batch
        _lane_backward(W, bl, ul, Xf, A, delta, G, gu, lrl, decay, B, npad, rp)
    for l in range(nl):
        r = runs[first + l]
        for j in range(n):
            for i in range(width):
                Wt[r, j, i] = W[j, i, l]
        for i in range(width):
            bias[r, i] = bl[i, l]
            u[r, i] = ul[i, l]


@njit(parallel=True, **_JIT)
def _train_in_lanes(Wt, bias, u, runs, X, y, lr, wd, loss_ids, one, batch, width, rp):
    """As :func:`_train_by_runs` for small widths: runs in groups of LANES consecutive
    active runs, one run per SIMD lane, prange over the groups."""
    groups = (runs.shape[0] + LANES - 1) // LANES
    for g in prange(groups):
        _train_lane_group(Wt, bias, u, runs, g * LANES, X, y, lr, wd, loss_ids, one, batch, width, rp)


@njit(inline="always", **_JIT)
def _rows_tile(Wt, plist, count, o, zero):
    """For the 4 LANES-vectors of neurons at flat offset o of each row of Wt (n, rp): the sum of
    the rows in plist[:count], added in pairs as :func:`_sum_rows` adds them (0 + (r1 + r2) +
    (r3 + r4) + ... + r_last), kept in registers: 4 independent chains, no store to h."""
    rp = Wt.shape[1]
    a0, a1, a2, a3 = zero, zero, zero, zero
    k = 0
    while k + 1 < count:
        p = plist[k] * rp + o
        q = plist[k + 1] * rp + o
        a0 = a0 + (vload(Wt, p) + vload(Wt, q))
        a1 = a1 + (vload(Wt, p + LANES) + vload(Wt, q + LANES))
        a2 = a2 + (vload(Wt, p + 2 * LANES) + vload(Wt, q + 2 * LANES))
        a3 = a3 + (vload(Wt, p + 3 * LANES) + vload(Wt, q + 3 * LANES))
        k += 2
    if k < count:
        p = plist[k] * rp + o
        a0 = a0 + vload(Wt, p)
        a1 = a1 + vload(Wt, p + LANES)
        a2 = a2 + vload(Wt, p + 2 * LANES)
        a3 = a3 + vload(Wt, p + 3 * LANES)
    return a0, a1, a2, a3


@njit(inline="always", **_JIT)
def _rows_vector(Wt, plist, count, o, zero):
    """As :func:`_rows_tile` for one LANES-vector of neurons (the tail of a chunk)."""
    rp = Wt.shape[1]
    a = zero
    k = 0
    while k + 1 < count:
        a = a + (vload(Wt, plist[k] * rp + o) + vload(Wt, plist[k + 1] * rp + o))
        k += 2
    if k < count:
        a = a + vload(Wt, plist[k] * rp + o)
    return a


@njit(**_JIT)
def _chunk_outputs(Wt, S, u, plist, count, c0, c1, q, first, f):
    """For every sample b of the block: the chunk partial of f, sum over neurons c0 <= i < c1 of
    relu(h_bi) u_i with h_b = S + 2 (sum of the rows in plist[b, :count[b]]), added into f[b]
    (set, if ``first``). The order is :func:`_lane_dot`'s (lane l accumulates the neurons
    i = l mod LANES ascending in q[b], then a fixed tree), so f equals :func:`_forward_chunk`'s
    bit for bit. Tiles of 4 LANES-vectors of neurons outermost: their rows (n x 32 floats) stay in
    L1 while every sample of the block reads them (sample-outer read W from L2 at width 1000)."""
    like = vload(S, 0)
    zero = vsplat(0, like)
    M = count.shape[0]
    for b in range(M):
        vstore(q, b * LANES, zero)
    i = c0
    while i + 4 * LANES <= c1:
        s0, s1, s2, s3 = vload(S, i), vload(S, i + LANES), vload(S, i + 2 * LANES), vload(S, i + 3 * LANES)
        u0, u1, u2, u3 = vload(u, i), vload(u, i + LANES), vload(u, i + 2 * LANES), vload(u, i + 3 * LANES)
        for b in range(M):
            a0, a1, a2, a3 = _rows_tile(Wt, plist[b], count[b], i, zero)
            qb = vload(q, b * LANES)
            qb = qb + vrelu(s0 + (a0 + a0)) * u0
            qb = qb + vrelu(s1 + (a1 + a1)) * u1
            qb = qb + vrelu(s2 + (a2 + a2)) * u2
            qb = qb + vrelu(s3 + (a3 + a3)) * u3
            vstore(q, b * LANES, qb)
        i += 4 * LANES
    while i < c1:
        s0, u0 = vload(S, i), vload(u, i)
        for b in range(M):
            a = _rows_vector(Wt, plist[b], count[b], i, zero)
            vstore(q, b * LANES, vload(q, b * LANES) + vrelu(s0 + (a + a)) * u0)
        i += LANES
    for b in range(M):
        o = b * LANES
        part = ((q[o] + q[o + 1]) + (q[o + 2] + q[o + 3])) + ((q[o + 4] + q[o + 5]) + (q[o + 6] + q[o + 7]))
        f[b] = part if first else f[b] + part


@njit(**_JIT)
def _input_sums(Wt, bias, S):
    """S = b - sum_j W_j (j ascending), as :func:`_forward_chunk` computes it."""
    n, rp = Wt.shape
    for i in range(rp):
        S[i] = bias[i]
    for j in range(n):
        for i in range(rp):
            S[i] -= Wt[j, i]


@njit(**_JIT)
def _outputs(Wt, S, u, X, f):
    """f[b] = f(X[b]) for the samples X (M, n), given S (:func:`_input_sums`).

    The arithmetic of the training forward pass (:func:`_forward_chunk`: h = S + 2 sum_{j in P_b}
    W_j, f = sum of the chunk partials of relu(h) u), in the same order, so test errors and
    losses are those of the reference evaluation bit for bit; but with the activations in
    registers (:func:`_chunk_outputs`), never an (M, width) array."""
    M, n = X.shape
    rp = Wt.shape[1]
    plist = np.empty((M, n), np.int64)
    count = np.empty(M, np.int64)
    _plus_lists(X, plist, count)
    q = np.empty(M * LANES, Wt.dtype)
    for c0 in range(0, rp, CHUNK):
        _chunk_outputs(Wt, S, u, plist, count, c0, min(rp, c0 + CHUNK), q, c0 == 0, f)


@njit(inline="always", **_JIT)
def _error_and_loss(f, label, loss_id, one):
    """(1.0 if sign(f) != y else 0.0 (f = 0 is an error), l(y, f)) of one sample."""
    zero = one - one
    yv = one if label > 0 else -one
    correct = (f > zero and yv > zero) or (f < zero and yv < zero)
    loss, _ = _loss_slope(loss_id, yv, f, one)
    return 0.0 if correct else 1.0, loss


@njit(**_JIT)
def _evaluate_block(Wt, bias, u, X, y, loss_id, one):
    """(errors, summed loss) of one run on the samples X (M, n), y (M,) (see :func:`_outputs`)."""
    S = np.empty(Wt.shape[1], Wt.dtype)
    _input_sums(Wt, bias, S)
    f = np.empty(X.shape[0], Wt.dtype)
    _outputs(Wt, S, u, X, f)
    errors = 0.0
    total = 0.0
    for b in range(X.shape[0]):
        error, loss = _error_and_loss(f[b], y[b], loss_id, one)
        errors += error
        total += loss
    return errors, total


@njit(parallel=True, **_JIT)
def _evaluate(Wt, bias, u, runs, X, xslab, y, start, stop, loss_ids, one, errors, losses):
    """errors[a], losses[a]: error rate and mean loss of runs[a] on samples [start, stop) of
    X[xslab[a]] (M, n), y[xslab[a]] (M,). Work items are (run, block of EVAL_SAMPLES samples),
    so activations exist for one block at a time (never (M, width) for all runs)."""
    A = runs.shape[0]
    M = stop - start
    nblocks = (M + EVAL_SAMPLES - 1) // EVAL_SAMPLES
    item_errors = np.empty(A * nblocks, np.float64)
    item_losses = np.empty(A * nblocks, np.float64)
    for item in prange(A * nblocks):
        a = item // nblocks
        m0 = (item % nblocks) * EVAL_SAMPLES
        m1 = min(M, m0 + EVAL_SAMPLES)
        r = runs[a]
        e, t = _evaluate_block(Wt[r], bias[r], u[r], X[xslab[a], start + m0:start + m1],
                               y[xslab[a], start + m0:start + m1], loss_ids[r], one)
        item_errors[item] = e
        item_losses[item] = t
    for a in range(A):  # plain loops: a numpy .sum() here would become another parfor
        e = 0.0
        t = 0.0
        for k in range(a * nblocks, (a + 1) * nblocks):
            e += item_errors[k]
            t += item_losses[k]
        errors[a] = e / M
        losses[a] = t / M


@njit(**_JIT)
def _screen_run(Wt, bias, u, X, y, loss_id, one, limit, order, split):
    """Count the test errors of one run until there are more than ``limit`` (it cannot succeed)
    or every sample is counted; returns (errors, summed loss, samples counted).

    Samples are taken SCREEN_BLOCK at a time from three pools of ``order``: [0, split[0]) wrong
    at the last screened count, [split[0], split[1]) not reached, [split[1], M) right; each time
    from the pool with the highest error rate so far (SCREEN_PRIORS to start). Errors persist
    between evaluations (measured at width 1000, k = 6: 80-85% offline, ~55% online), so an
    exit needs fewer samples; a run whose sign flips moves on to the other pools. Which samples
    are counted changes no decision: more than ``limit`` errors among some samples means more
    among all, and a count that reaches M is the full count. ``order``/``split`` are rewritten:
    wrong, not reached, right."""
    M, n = X.shape
    S = np.empty(Wt.shape[1], Wt.dtype)
    _input_sums(Wt, bias, S)
    Xb = np.empty(SCREEN_BLOCK * n, np.int8)
    yb = np.empty(SCREEN_BLOCK, np.int8)
    f = np.empty(SCREEN_BLOCK, Wt.dtype)
    flat = X.reshape(M * n)
    ptr = np.array([0, split[0], split[1]])
    end = np.array([split[0], split[1], M])
    pool_errors = np.zeros(3)
    pool_seen = np.zeros(3)
    wrong = np.empty(M, order.dtype)
    right = np.empty(M, order.dtype)
    nwrong = nright = seen = 0
    errors = total = 0.0
    while seen < M and errors <= limit:
        best, best_rate = 0, -1.0
        for p in range(3):
            rate = (pool_errors[p] + SCREEN_PRIOR_WEIGHT * SCREEN_PRIORS[p]) / (pool_seen[p] + SCREEN_PRIOR_WEIGHT)
            if ptr[p] < end[p] and rate > best_rate:
                best, best_rate = p, rate
        take = min(SCREEN_BLOCK, end[best] - ptr[best])
        for q in range(take):
            copy_row(Xb, q * n, flat, order[ptr[best] + q] * n, n)
            yb[q] = y[order[ptr[best] + q]]
        _outputs(Wt, S, u, Xb[:take * n].reshape((take, n)), f)
        for q in range(take):
            error, loss = _error_and_loss(f[q], yb[q], loss_id, one)
            errors += error
            total += loss
            pool_errors[best] += error
            if error > 0:
                wrong[nwrong] = order[ptr[best] + q]
                nwrong += 1
            else:
                right[nright] = order[ptr[best] + q]
                nright += 1
        pool_seen[best] += take
        ptr[best] += take
        seen += take
    unseen = np.empty(M - nwrong - nright, order.dtype)
    k = 0
    for p in range(3):
        for t in range(ptr[p], end[p]):
            unseen[k] = order[t]
            k += 1
    order[:nwrong] = wrong[:nwrong]
    order[nwrong:M - nright] = unseen
    order[M - nright:] = right[:nright]
    split[0], split[1] = nwrong, M - nright
    return errors, total, seen


@njit(parallel=True, **_JIT)
def _screen(Wt, bias, u, runs, X, y, loss_ids, one, limits, order, split, errors, losses, seen):
    """:func:`_screen_run` for every run runs[a] on its test set X[r], y[r]; prange over runs."""
    for a in prange(runs.shape[0]):
        r = runs[a]
        errors[a], losses[a], seen[a] = _screen_run(Wt[r], bias[r], u[r], X[r], y[r], loss_ids[r], one,
                                                   limits[a], order[r], split[r])


@njit(**_JIT)
def _weight_checks(Wt, bias, u, runs, finite, bound):
    """finite[a]: every weight of run runs[a] is finite (w - w is 0 for finite w, NaN for inf or
    NaN); bound[a]: :meth:`NumbaKernel.output_bound`, in float64. Per-neuron sums, so the loop
    over a row vectorises (one scalar sum of w - w was a 4-cycle chain per weight). Serial: 0.1 ns
    a weight on one core, and a short parallel region waited ~8 ms for a busy second core."""
    n, rp = Wt.shape[1], Wt.shape[2]
    for a in range(runs.shape[0]):
        r = runs[a]
        H = np.empty(rp, np.float64)
        residue = np.empty(rp, Wt.dtype)
        for i in range(rp):
            H[i] = abs(np.float64(bias[r, i]))
            residue[i] = (bias[r, i] - bias[r, i]) + (u[r, i] - u[r, i])
        for j in range(n):
            w = Wt[r, j]
            for i in range(rp):
                H[i] += abs(np.float64(w[i]))
                residue[i] += w[i] - w[i]
        ok = True
        total = 0.0
        largest = 0.0
        for i in range(rp):
            ok &= residue[i] == 0
            total += abs(np.float64(u[r, i])) * H[i]
            largest = max(largest, H[i])
        finite[a] = ok
        bound[a] = max(total, largest) if ok else np.inf


class NumbaKernel:
    """The :class:`sim.engine.Kernel` of the numba backend (see the module docstring)."""

    def __init__(self, W, b, u, *, lr, weight_decay, loss_ids, test_X, test_y, dtype="float32"):
        self.dtype = np.dtype(dtype)
        W = np.asarray(W)
        R, width, n = W.shape
        rp = -(-width // LANES) * LANES
        self.width, self.n, self.padded_width = width, n, rp
        self.Wt = np.zeros((R, n, rp), self.dtype)
        self.Wt[:, :, :width] = np.swapaxes(W, 1, 2)
        self.b = np.zeros((R, rp), self.dtype)
        self.b[:, :width] = b
        self.u = np.zeros((R, rp), self.dtype)
        self.u[:, :width] = u
        self.lr = np.ascontiguousarray(lr, dtype=self.dtype)
        self.weight_decay = np.ascontiguousarray(weight_decay, dtype=self.dtype)
        self.loss_ids = np.ascontiguousarray(loss_ids, dtype=np.int64)
        self.test_X = np.ascontiguousarray(test_X, dtype=np.int8)
        self.test_y = np.ascontiguousarray(test_y, dtype=np.int8)
        self.one = self.dtype.type(1)
        # The path depends on the width only (never on R or the active set): batch == alone.
        self.runs_in_lanes = width <= MAX_LANE_WIDTH
        self.lane_width = lane_padded_width(width, self.dtype.itemsize)

    def _runs(self, runs) -> np.ndarray:
        return np.ascontiguousarray(runs, dtype=np.int64)

    def train(self, runs, X, y) -> None:
        runs = self._runs(runs)
        if runs.size == 0 or X.shape[1] == 0:
            return
        args = (self.Wt, self.b, self.u, runs, np.ascontiguousarray(X, dtype=np.int8),
                np.ascontiguousarray(y, dtype=np.int8), self.lr, self.weight_decay, self.loss_ids,
                self.one, self.dtype.type(X.shape[2]))
        if self.runs_in_lanes:
            _train_in_lanes(*args, self.width, self.lane_width)
        elif self.parallel_over_chunks(runs.size):
            _train_by_chunks(*args)
        else:
            _train_by_runs(*args)

    def parallel_over_chunks(self, num_runs: int) -> bool:
        """Whether :meth:`train` splits work by (run, neuron chunk) rather than by run:
        when there are too few runs to keep every thread busy and the width is large."""
        return (num_runs < RUNS_PER_THREAD * numba.get_num_threads()
                and self.padded_width >= max(MIN_CHUNKED_WIDTH, CHUNK + 1))

    def _evaluate(self, runs, X, xslab, y, start=0, stop=None):
        stop = X.shape[1] if stop is None else min(stop, X.shape[1])
        errors = np.empty(runs.size)
        losses = np.empty(runs.size)
        if runs.size:
            _evaluate(self.Wt, self.b, self.u, runs, X, xslab, y, start, stop, self.loss_ids, self.one,
                      errors, losses)
        return errors, losses

    def evaluate(self, runs, X, y):
        runs = self._runs(runs)
        return self._evaluate(runs, np.ascontiguousarray(X, dtype=np.int8), np.arange(runs.size),
                              np.ascontiguousarray(y, dtype=np.int8))

    def evaluate_test(self, runs, start=0, stop=None):
        runs = self._runs(runs)
        return self._evaluate(runs, self.test_X, runs, self.test_y, start, stop)

    def screen_test(self, runs, limits):
        """(errors, summed loss, samples counted) of each run on its test set, counted until it
        has more than limits[j] errors (see :func:`_screen_run`; :class:`sim.engine.Kernel`)."""
        runs = self._runs(runs)
        R, M = self.test_y.shape
        if not hasattr(self, "screen_order"):  # every sample "not reached" to start
            self.screen_order = np.tile(np.arange(M, dtype=np.int32), (R, 1))
            self.screen_split = np.tile(np.array([0, M], dtype=np.int64), (R, 1))
        errors, losses, seen = np.empty(runs.size), np.empty(runs.size), np.empty(runs.size, np.int64)
        if runs.size:
            _screen(self.Wt, self.b, self.u, runs, self.test_X, self.test_y, self.loss_ids, self.one,
                    np.ascontiguousarray(limits, dtype=np.float64), self.screen_order, self.screen_split,
                    errors, losses, seen)
        return errors, losses, seen

    def _weight_checks(self, runs):
        runs = self._runs(runs)
        finite = np.empty(runs.size, dtype=bool)
        bound = np.empty(runs.size)
        if runs.size:  # padded entries are zeros: they change neither
            _weight_checks(self.Wt, self.b, self.u, runs, finite, bound)
        return finite, bound

    def finite(self, runs):
        return self._weight_checks(runs)[0]

    def output_bound(self, runs):
        return self._weight_checks(runs)[1]

    def parameters(self, runs):
        runs = self._runs(runs)
        W = np.swapaxes(self.Wt[runs, :, :self.width], 1, 2).astype(np.float64)
        return (np.ascontiguousarray(W), self.b[runs, :self.width].astype(np.float64),
                self.u[runs, :self.width].astype(np.float64))


def make_kernel(W, b, u, *, lr, weight_decay, loss_ids, test_X, test_y, dtype="float32",
                device="cpu") -> NumbaKernel:
    """The numba kernel for a group of runs (see :class:`sim.engine.Kernel`)."""
    if device != "cpu":
        raise ValueError(f"device={device!r}: the numba backend runs on the CPU only")
    if str(dtype) not in ("float32", "float64"):
        raise ValueError(f"dtype={dtype!r} must be 'float32' or 'float64'")
    return NumbaKernel(W, b, u, lr=lr, weight_decay=weight_decay, loss_ids=loss_ids,
                       test_X=test_X, test_y=test_y, dtype=dtype)
