"""Reference backend: plain numpy, one run at a time, written to be read.

This is the slow exact oracle for the fast backends (see sim/engine.py for the
update it implements). It keeps weights in the requested dtype (float64 for tests).
"""

from __future__ import annotations

import numpy as np

from ..config import LOSS_IDS

HINGE, SQUARE = LOSS_IDS["hinge"], LOSS_IDS["square"]


def loss_and_slope(loss_id: int, y: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample loss l(y, f) and dl/df for hinge, square, logistic (ids: ``LOSS_IDS``)."""
    if loss_id == HINGE:
        margin = 1.0 - y * f
        return np.maximum(margin, 0.0), np.where(margin > 0, -y, 0.0)
    if loss_id == SQUARE:
        return (f - y) ** 2, 2.0 * (f - y)
    z = -y * f
    return np.logaddexp(0.0, z), -y / (1.0 + np.exp(-z))


class NumpyKernel:
    def __init__(self, W, b, u, *, lr, weight_decay, loss_ids, test_X, test_y, dtype="float64"):
        self.dtype = np.dtype(dtype)
        self.W, self.b, self.u = (np.array(p, dtype=self.dtype) for p in (W, b, u))
        self.lr = np.asarray(lr, dtype=self.dtype)
        self.weight_decay = np.asarray(weight_decay, dtype=self.dtype)
        self.loss_ids = np.asarray(loss_ids)
        self.test_X, self.test_y = test_X, test_y

    def _step(self, i: int, X: np.ndarray, y: np.ndarray) -> None:
        W, b, u = self.W[i], self.b[i], self.u[i]
        X = X.astype(self.dtype)
        y = y.astype(self.dtype)
        h = X @ W.T + b
        a = np.maximum(h, 0)
        f = a @ u
        _, slope = loss_and_slope(int(self.loss_ids[i]), y, f)
        delta = slope / len(y)
        gu = a.T @ delta
        gh = np.outer(delta, u) * (h > 0)
        gW = gh.T @ X
        gb = gh.sum(axis=0)
        lr, wd = self.lr[i], self.weight_decay[i]
        self.W[i] = W - lr * (gW + wd * W)
        self.b[i] = b - lr * (gb + wd * b)
        self.u[i] = u - lr * (gu + wd * u)

    def train(self, runs, X, y):
        with np.errstate(all="ignore"):
            for j, i in enumerate(runs):
                for t in range(X.shape[1]):
                    self._step(i, X[j, t], y[j, t])

    def evaluate(self, runs, X, y):
        errors, losses = np.empty(len(runs)), np.empty(len(runs))
        with np.errstate(all="ignore"):
            for j, i in enumerate(runs):
                Xf, yf = X[j].astype(self.dtype), y[j].astype(self.dtype)
                f = np.maximum(Xf @ self.W[i].T + self.b[i], 0) @ self.u[i]
                errors[j] = np.mean(np.sign(f) != yf)
                losses[j] = np.mean(loss_and_slope(int(self.loss_ids[i]), yf, f)[0])
        return errors, losses

    def evaluate_test(self, runs, start=0, stop=None):
        return self.evaluate(runs, self.test_X[runs, start:stop], self.test_y[runs, start:stop])

    def finite(self, runs):
        return np.array([
            np.isfinite(self.W[i]).all() and np.isfinite(self.b[i]).all() and np.isfinite(self.u[i]).all()
            for i in runs
        ])

    def output_bound(self, runs):
        H = np.abs(self.W[runs]).astype(np.float64).sum(axis=-1) + np.abs(self.b[runs]).astype(np.float64)
        with np.errstate(invalid="ignore"):
            return np.maximum((np.abs(self.u[runs]).astype(np.float64) * H).sum(axis=-1), H.max(axis=-1))

    def parameters(self, runs):
        return (self.W[runs].astype(np.float64), self.b[runs].astype(np.float64), self.u[runs].astype(np.float64))


def make_kernel(W, b, u, *, dtype="float64", device="cpu", **kwargs) -> NumpyKernel:
    if device != "cpu":
        raise ValueError(f"device={device!r}: the numpy backend runs on the CPU only")
    return NumpyKernel(W, b, u, dtype=dtype, **kwargs)
