"""Numba CPU backend: all active runs of a group advance through a block of SGD steps
in one compiled call (the update rule is the one in :mod:`sim.engine`'s docstring).

Layout and arithmetic (why this is fast on a CPU):

- Weights are stored *neuron-minor*: ``Wt`` has shape (R, n, rp) (the transpose of the
  engine's (R, width, n)), with the width padded to ``rp``, a multiple of ``LANES``.
  Every inner loop then runs over neurons in blocks of ``LANES`` contiguous floats, which
  LLVM turns into SIMD without reassociating any sum (``fastmath=False`` keeps results
  reproducible). Padded neurons have w = b = u = 0 and stay exactly 0 under the update
  (relu(0) = 0 gives them zero gradient), so they change nothing.
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
  a per-step sum of the chunk partials of f between the forward and backward phases.

Float32 by default; float64 compiles the same code for the other dtype.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

LANES = 8        # floats per SIMD block (one AVX2 register of float32)
CHUNK = 256      # neurons per cache block and per parallel work item (a multiple of LANES)
EVAL_SAMPLES = 256   # test samples per evaluation work item
RUNS_PER_THREAD = 2  # below this many active runs per thread, parallelise over neuron chunks

_JIT = dict(cache=True, fastmath=False, nogil=True)


@njit(**_JIT)
def _loss_slope(loss_id, yv, f, one):
    """(l(y, f), dl/df) for hinge (0), square (1), logistic (2); yv = ±one."""
    zero = one - one
    if loss_id == 0:
        margin = one - yv * f
        if margin > zero:
            return margin, -yv
        if margin <= zero:
            return zero, zero
        return margin, margin  # NaN propagates
    if loss_id == 1:
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
def _forward_chunk(Wt, bias, u, c0, c1, plist, pcount, h, S, lane, fpart, one):
    """h[:, c0:c1] = X W^T + b on one chunk of neurons (sign trick, see module doc) and
    fpart[b] = sum_{i in chunk} relu(h_bi) u_i (LANES lane accumulators, fixed tree)."""
    n = Wt.shape[0]
    B = h.shape[0]
    zero = one - one
    for i0 in range(c0, c1, LANES):
        for t in range(LANES):
            S[i0 + t] = zero
    for j in range(n):
        for i0 in range(c0, c1, LANES):
            for t in range(LANES):
                S[i0 + t] += Wt[j, i0 + t]
    for b in range(B):
        for i0 in range(c0, c1, LANES):
            for t in range(LANES):
                h[b, i0 + t] = zero
        for k in range(pcount[b]):
            j = plist[b, k]
            for i0 in range(c0, c1, LANES):
                for t in range(LANES):
                    h[b, i0 + t] += Wt[j, i0 + t]
        for t in range(LANES):
            lane[t] = zero
        for i0 in range(c0, c1, LANES):
            for t in range(LANES):
                v = bias[i0 + t] - S[i0 + t] + (h[b, i0 + t] + h[b, i0 + t])
                h[b, i0 + t] = v
                lane[t] += (v if v > zero else zero) * u[i0 + t]
        fpart[b] = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]))


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
def _backward_lists(X, delta, alist, blist, bcount):
    """alist = samples with delta != 0 (returned count); blist[j, :bcount[j]] = those of
    them with X[b, j] = +1."""
    B, n = X.shape
    nact = 0
    for b in range(B):
        alist[nact] = b
        nact += delta[b] != 0
    for j in range(n):
        count = 0
        for k in range(nact):
            b = alist[k]
            blist[j, count] = b
            count += X[b, j] > 0
        bcount[j] = count
    return nact


@njit(**_JIT)
def _backward_chunk(Wt, bias, u, c0, c1, delta, alist, nact, blist, bcount, h, G, gu, acc, lr, wd, one):
    """The fused SGD update of one chunk of neurons; h[b, chunk] is overwritten by gh."""
    n = Wt.shape[0]
    zero = one - one
    for i0 in range(c0, c1, LANES):
        for t in range(LANES):
            G[i0 + t] = zero
            gu[i0 + t] = zero
    for k in range(nact):
        b = alist[k]
        d = delta[b]
        for i0 in range(c0, c1, LANES):
            for t in range(LANES):
                v = h[b, i0 + t]
                pos = v > zero
                g = d * u[i0 + t] if pos else zero
                h[b, i0 + t] = g
                G[i0 + t] += g
                gu[i0 + t] += (v if pos else zero) * d
    decay = one - lr * wd
    for j in range(n):
        for i0 in range(c0, c1, LANES):
            for t in range(LANES):
                acc[i0 + t] = zero
        for k in range(bcount[j]):
            b = blist[j, k]
            for i0 in range(c0, c1, LANES):
                for t in range(LANES):
                    acc[i0 + t] += h[b, i0 + t]
        for i0 in range(c0, c1, LANES):
            for t in range(LANES):
                Wt[j, i0 + t] = decay * Wt[j, i0 + t] - lr * ((acc[i0 + t] + acc[i0 + t]) - G[i0 + t])
    for i0 in range(c0, c1, LANES):
        for t in range(LANES):
            bias[i0 + t] = decay * bias[i0 + t] - lr * G[i0 + t]
            u[i0 + t] = decay * u[i0 + t] - lr * gu[i0 + t]


@njit(parallel=True, **_JIT)
def _train(Wt, bias, u, runs, X, y, lr, wd, loss_ids, one, batch, by_chunks):
    """Advance runs[a] by X.shape[1] steps on X[a] (steps, B, n), y[a] (steps, B).

    by_chunks=False: prange over runs, each run through all its steps.
    by_chunks=True: per step, prange over (run, chunk) items for the forward, a per-run
    reduction of f, then prange over items for the backward and update.
    """
    A, steps, B, n = X.shape
    rp = Wt.shape[2]
    nchunks = (rp + CHUNK - 1) // CHUNK
    if not by_chunks:
        for a in prange(A):
            r = runs[a]
            plist = np.empty((B, n), np.int64)
            pcount = np.empty(B, np.int64)
            alist = np.empty(B, np.int64)
            blist = np.empty((n, B), np.int64)
            bcount = np.empty(n, np.int64)
            h = np.empty((B, rp), Wt.dtype)
            S = np.empty(rp, Wt.dtype)
            G = np.empty(rp, Wt.dtype)
            gu = np.empty(rp, Wt.dtype)
            acc = np.empty(rp, Wt.dtype)
            lane = np.empty(LANES, Wt.dtype)
            fpart = np.empty((nchunks, B), Wt.dtype)
            delta = np.empty(B, Wt.dtype)
            for s in range(steps):
                Xs = X[a, s]
                _plus_lists(Xs, plist, pcount)
                for c in range(nchunks):
                    c0 = c * CHUNK
                    c1 = min(rp, c0 + CHUNK)
                    _forward_chunk(Wt[r], bias[r], u[r], c0, c1, plist, pcount, h, S, lane, fpart[c], one)
                _deltas(fpart, y[a, s], loss_ids[r], batch, one, delta)
                nact = _backward_lists(Xs, delta, alist, blist, bcount)
                for c in range(nchunks):
                    c0 = c * CHUNK
                    c1 = min(rp, c0 + CHUNK)
                    _backward_chunk(Wt[r], bias[r], u[r], c0, c1, delta, alist, nact, blist, bcount,
                                    h, G, gu, acc, lr[r], wd[r], one)
    else:
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
        lane = np.empty((A * nchunks, LANES), Wt.dtype)
        fpart = np.empty((A, nchunks, B), Wt.dtype)
        delta = np.empty((A, B), Wt.dtype)
        items = A * nchunks
        for s in range(steps):
            for a in range(A):
                _plus_lists(X[a, s], plist[a], pcount[a])
            for item in prange(items):
                a = item // nchunks
                c = item % nchunks
                r = runs[a]
                c0 = c * CHUNK
                c1 = min(rp, c0 + CHUNK)
                _forward_chunk(Wt[r], bias[r], u[r], c0, c1, plist[a], pcount[a], h[a], S[a], lane[item],
                               fpart[a, c], one)
            for a in range(A):
                _deltas(fpart[a], y[a, s], loss_ids[runs[a]], batch, one, delta[a])
                nact[a] = _backward_lists(X[a, s], delta[a], alist[a], blist[a], bcount[a])
            for item in prange(items):
                a = item // nchunks
                c = item % nchunks
                r = runs[a]
                c0 = c * CHUNK
                c1 = min(rp, c0 + CHUNK)
                _backward_chunk(Wt[r], bias[r], u[r], c0, c1, delta[a], alist[a], nact[a], blist[a], bcount[a],
                                h[a], G[a], gu[a], acc[a], lr[r], wd[r], one)


@njit(parallel=True, **_JIT)
def _evaluate(Wt, bias, u, runs, X, xslab, y, loss_ids, one, errors, losses):
    """errors[a], losses[a]: error rate and mean loss of runs[a] on X[xslab[a]] (M, n),
    y[xslab[a]] (M,). Work items are (run, block of EVAL_SAMPLES samples); the hidden
    activations exist only for one block of samples and one chunk of neurons at a time."""
    A = runs.shape[0]
    M = X.shape[1]
    n = X.shape[2]
    rp = Wt.shape[2]
    nchunks = (rp + CHUNK - 1) // CHUNK
    nblocks = (M + EVAL_SAMPLES - 1) // EVAL_SAMPLES
    items = A * nblocks
    item_err = np.zeros(items, np.float64)
    item_loss = np.zeros(items, np.float64)
    zero = one - one
    for item in prange(items):
        a = item // nblocks
        blk = item % nblocks
        r = runs[a]
        m0 = blk * EVAL_SAMPLES
        m1 = min(M, m0 + EVAL_SAMPLES)
        Bk = m1 - m0
        Xb = X[xslab[a], m0:m1]
        yb = y[xslab[a], m0:m1]
        plist = np.empty((Bk, n), np.int64)
        pcount = np.empty(Bk, np.int64)
        h = np.empty((Bk, rp), Wt.dtype)
        S = np.empty(rp, Wt.dtype)
        lane = np.empty(LANES, Wt.dtype)
        fpart = np.empty((nchunks, Bk), Wt.dtype)
        _plus_lists(Xb, plist, pcount)
        for c in range(nchunks):
            c0 = c * CHUNK
            c1 = min(rp, c0 + CHUNK)
            _forward_chunk(Wt[r], bias[r], u[r], c0, c1, plist, pcount, h, S, lane, fpart[c], one)
        err = 0.0
        tot = 0.0
        for b in range(Bk):
            f = fpart[0, b]
            for c in range(1, nchunks):
                f += fpart[c, b]
            yv = one if yb[b] > 0 else -one
            correct = (f > zero and yv > zero) or (f < zero and yv < zero)
            err += 0.0 if correct else 1.0
            loss, _ = _loss_slope(loss_ids[r], yv, f, one)
            tot += loss
        item_err[item] = err
        item_loss[item] = tot
    for a in range(A):
        e = 0.0
        t = 0.0
        for blk in range(nblocks):
            e += item_err[a * nblocks + blk]
            t += item_loss[a * nblocks + blk]
        errors[a] = e / M
        losses[a] = t / M


@njit(parallel=True, **_JIT)
def _finite(Wt, bias, u, runs, width, out):
    for a in prange(runs.shape[0]):
        r = runs[a]
        ok = True
        for j in range(Wt.shape[1]):
            for i in range(width):
                ok &= np.isfinite(Wt[r, j, i])
        for i in range(width):
            ok &= np.isfinite(bias[r, i]) and np.isfinite(u[r, i])
        out[a] = ok


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

    def _runs(self, runs) -> np.ndarray:
        return np.ascontiguousarray(runs, dtype=np.int64)

    def train(self, runs, X, y) -> None:
        runs = self._runs(runs)
        if runs.size == 0 or X.shape[1] == 0:
            return
        by_chunks = runs.size < RUNS_PER_THREAD * numba.get_num_threads() and self.padded_width > CHUNK
        _train(self.Wt, self.b, self.u, runs, np.ascontiguousarray(X, dtype=np.int8),
               np.ascontiguousarray(y, dtype=np.int8), self.lr, self.weight_decay, self.loss_ids,
               self.one, self.dtype.type(X.shape[2]), by_chunks)

    def _evaluate(self, runs, X, xslab, y):
        errors = np.empty(runs.size)
        losses = np.empty(runs.size)
        if runs.size:
            _evaluate(self.Wt, self.b, self.u, runs, X, xslab, y, self.loss_ids, self.one, errors, losses)
        return errors, losses

    def evaluate(self, runs, X, y):
        runs = self._runs(runs)
        return self._evaluate(runs, np.ascontiguousarray(X, dtype=np.int8), np.arange(runs.size),
                              np.ascontiguousarray(y, dtype=np.int8))

    def evaluate_test(self, runs):
        runs = self._runs(runs)
        return self._evaluate(runs, self.test_X, runs, self.test_y)

    def finite(self, runs):
        runs = self._runs(runs)
        out = np.empty(runs.size, dtype=np.bool_)
        if runs.size:
            _finite(self.Wt, self.b, self.u, runs, self.width, out)
        return out

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
