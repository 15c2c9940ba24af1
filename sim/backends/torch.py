"""Torch backend: R runs batched into 3-D tensors, one device (CPU or CUDA).

Implements the :class:`sim.engine.Kernel` protocol with hand-written forward,
backward and update (no autograd), one batched matrix product per term and no
per-run Python loop inside a step. The update is the one in the
:mod:`sim.engine` docstring (docs/science.md section 3), rearranged so that every
step is one ``bmm``, two ``baddbmm_`` and a few elementwise passes. The bias is
stored as column n of Wb = [W b] and the inputs get a column of ones, X1 = [X 1]:

    h = X1 Wb^T                        (bmm)
    a = relu(h),  f = sum_i a_i u_i    (relu_, mul, sum)
    delta = lr * dl/df / B             (per run; lr folded in here)
    M = 1[h > 0] * u                   (the (B, r) gradient gate, scaled by u)
    u  <- (1 - lr wd) u  - delta^T a               (baddbmm_, beta = decay)
    Wb <- (1 - lr wd) Wb - M^T (delta * X1)        (baddbmm_)

which is ``gh = (delta u^T) * 1[h > 0]``, ``gW = gh^T X``, ``gb = sum_B gh``,
``gu = a^T delta`` and coupled weight decay ``p <- p - lr (g + wd p)``
(torch.optim.SGD). Since X is ±1, ``delta * X1`` is exact.

Active-subset handling: the kernel keeps *working* tensors for the runs it is
currently training (``rows``) and a *home* copy of all R runs. When the set of
runs passed to :meth:`TorchKernel.train` changes (runs finish and leave the
batch), the working state is written back home and the new subset is gathered
once (``index_select``), so steps never gather. Test sets live on the device as
int8, also compacted with the working set, and are converted to the compute
dtype chunk by chunk at evaluation time.

Threads: the kernel leaves torch's thread count alone. On a CPU that other processes
share (pytest -n 2 on two cores, a busy node) one OpenMP barrier per op makes the
default of one thread per core several times slower than ``torch.set_num_threads(1)``
(measured on the 2-core dev machine, R=256, n=50: width 100, 174 vs 14 steps/s).
"""

from __future__ import annotations

import numpy as np
import torch

from ..config import LOSS_IDS

DTYPES = {"float32": torch.float32, "float64": torch.float64}

# Elements of the (runs, samples, width) hidden activations materialised at once
# during evaluation: 2**24 floats is 64 MiB in float32. Bounds memory for 10^4-sample
# test sets of hundreds of wide runs, and for large offline training sets.
EVAL_CHUNK_ELEMENTS = 2**24

HINGE, SQUARE, LOGISTIC = LOSS_IDS["hinge"], LOSS_IDS["square"], LOSS_IDS["logistic"]


def resolve_device(device: str | torch.device) -> torch.device:
    """A torch.device; ValueError if it names CUDA and CUDA is not available."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device={device!r} is not a torch device: {error}") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r}: CUDA is not available to torch {torch.__version__} on this machine")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) present")
    elif resolved.type != "cpu":
        raise ValueError(f"device={device!r} must be 'cpu' or 'cuda'")
    return resolved


def loss_slope(loss_id: int, y: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """dl/df elementwise for one loss (hinge 0, square 1, logistic 2); see sim.engine.

    Hinge uses the subgradient 0 at the kink (y f = 1), as torch.relu(1 - y f) does.
    """
    if loss_id == HINGE:
        return torch.where(y * f < 1, -y, 0.0)
    if loss_id == SQUARE:
        return 2.0 * (f - y)
    return -y * torch.sigmoid(-y * f)


def loss_value(loss_id: int, y: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """l(y, f) elementwise for one loss; logistic as logaddexp(0, -y f) (no overflow)."""
    if loss_id == HINGE:
        return torch.clamp_min(1.0 - y * f, 0.0)
    if loss_id == SQUARE:
        return (f - y) ** 2
    return torch.logaddexp(-y * f, torch.zeros((), dtype=f.dtype, device=f.device))


def _per_run(fn, loss_ids: torch.Tensor, present: tuple[int, ...], y: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """fn(loss, y, f) with each run (row) using its own loss; no per-run Python loop."""
    out = fn(present[0], y, f)
    for loss_id in present[1:]:
        out = torch.where((loss_ids == loss_id).unsqueeze(1), fn(loss_id, y, f), out)
    return out


class TorchKernel:
    """The arithmetic of one group of R runs on one torch device (Kernel protocol)."""

    def __init__(
        self,
        W: np.ndarray,
        b: np.ndarray,
        u: np.ndarray,
        *,
        lr: np.ndarray,
        weight_decay: np.ndarray,
        loss_ids: np.ndarray,
        test_X: np.ndarray,
        test_y: np.ndarray,
        dtype: str = "float32",
        device: str = "cpu",
    ) -> None:
        if dtype not in DTYPES:
            raise ValueError(f"dtype={dtype!r} must be one of {sorted(DTYPES)}")
        self.dtype = DTYPES[dtype]
        self.device = resolve_device(device)
        W = np.asarray(W)
        if W.ndim != 3:
            raise ValueError(f"W must have shape (runs, width, n), got {W.shape}")
        self.num_runs, self.width, self.n = W.shape
        lr = np.broadcast_to(np.asarray(lr, dtype=np.float64), (self.num_runs,))
        weight_decay = np.broadcast_to(np.asarray(weight_decay, dtype=np.float64), (self.num_runs,))
        loss_ids = np.broadcast_to(np.asarray(loss_ids, dtype=np.int64), (self.num_runs,))
        unknown = sorted(set(loss_ids.tolist()) - set(LOSS_IDS.values()))
        if unknown:
            raise ValueError(f"loss_ids contains unknown loss id {unknown[0]} (known: {LOSS_IDS})")

        with torch.inference_mode():
            as_float = dict(dtype=self.dtype, device=self.device)
            # home: all R runs; working (self.Wb, self.u): the runs in self.rows.
            # The bias is column n of Wb, so that it rides along in the products with X
            # augmented by a column of ones (no bias broadcast, no separate bias update).
            self.home_Wb = torch.empty((self.num_runs, self.width, self.n + 1), **as_float)
            self.home_Wb[..., :self.n] = torch.as_tensor(W, **as_float)
            self.home_Wb[..., self.n] = torch.as_tensor(np.asarray(b), **as_float)
            self.home_u = torch.tensor(np.asarray(u), **as_float)
            self.home_test_X = torch.as_tensor(np.asarray(test_X, dtype=np.int8)).to(self.device)
            self.home_test_y = torch.as_tensor(np.asarray(test_y, dtype=np.int8)).to(self.device)
        self._lr = lr.copy()
        self._weight_decay = weight_decay.copy()
        self._loss_ids = loss_ids.copy()
        self._set_rows(np.arange(self.num_runs), first=True)

    # ----- working set -------------------------------------------------------------

    def _set_rows(self, runs: np.ndarray, first: bool = False) -> None:
        """Make ``runs`` the working set: write the current one back home, gather once."""
        with torch.inference_mode():
            if first:
                self.Wb, self.u = self.home_Wb, self.home_u
                self.test_X, self.test_y = self.home_test_X, self.home_test_y
            else:
                self._write_home()
                index = torch.as_tensor(runs, dtype=torch.int64, device=self.device)
                self.Wb = self.home_Wb.index_select(0, index)
                self.u = self.home_u.index_select(0, index)
                self.test_X = self.home_test_X.index_select(0, index)
                self.test_y = self.home_test_y.index_select(0, index)
            self.rows = np.array(runs, dtype=np.int64)
            self._position = {int(i): j for j, i in enumerate(self.rows)}
            lr = self._lr[self.rows]
            decay = 1.0 - lr * self._weight_decay[self.rows]
            losses = self._loss_ids[self.rows]
            self._present_losses = tuple(sorted(set(losses.tolist())))
            self._loss_ids_t = torch.as_tensor(losses, dtype=torch.int64, device=self.device)
            self._lr_t = torch.as_tensor(lr, dtype=self.dtype, device=self.device)
            # One decay for all runs (the usual case) folds into baddbmm's beta;
            # otherwise it is a separate per-run scaling pass.
            self._uniform_decay = float(decay[0]) if np.all(decay == decay[0]) else None
            self._decay_t = torch.as_tensor(decay, dtype=self.dtype, device=self.device)
            self._buffers: dict = {}

    def _write_home(self) -> None:
        if self.Wb is self.home_Wb:
            return
        index = torch.as_tensor(self.rows, dtype=torch.int64, device=self.device)
        self.home_Wb.index_copy_(0, index, self.Wb)
        self.home_u.index_copy_(0, index, self.u)

    def _params(self, runs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W, b, u, loss ids) of ``runs`` (views when they are the working set)."""
        Wb, u, loss_ids = self._params_wb(runs)
        return Wb[..., :self.n], Wb[..., self.n], u, loss_ids

    def _params_wb(self, runs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """([W b], u, loss ids) of ``runs`` (the working tensors themselves when they are the working set)."""
        runs = np.asarray(runs, dtype=np.int64)
        if np.array_equal(runs, self.rows):
            Wb, u, loss_ids = self.Wb, self.u, self._loss_ids_t
        else:
            if all(int(i) in self._position for i in runs):
                index = [self._position[int(i)] for i in runs]
                Wb, u = self.Wb, self.u
            else:
                self._write_home()
                index = runs
                Wb, u = self.home_Wb, self.home_u
            index = torch.as_tensor(index, dtype=torch.int64, device=self.device)
            Wb, u = Wb.index_select(0, index), u.index_select(0, index)
            loss_ids = torch.as_tensor(self._loss_ids[runs], dtype=torch.int64, device=self.device)
        return Wb, u, loss_ids

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: torch.dtype | None = None) -> torch.Tensor:
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape:
            buffer = torch.empty(shape, dtype=dtype or self.dtype, device=self.device)
            self._buffers[name] = buffer
        return buffer

    # ----- Kernel protocol ---------------------------------------------------------

    def train(self, runs: np.ndarray, X: np.ndarray, y: np.ndarray) -> None:
        """Advance runs[j] by X.shape[1] SGD steps on X[j] (steps, B, n), y[j] (steps, B)."""
        runs = np.asarray(runs, dtype=np.int64)
        if not np.array_equal(runs, self.rows):
            self._set_rows(runs)
        R, steps, B, n = X.shape
        if R != len(runs) or n != self.n:
            raise ValueError(f"X has shape {X.shape}, expected ({len(runs)}, steps, B, {self.n})")
        with torch.inference_mode():
            # One int8 transfer and one conversion per block, laid out (steps, R, B, n + 1)
            # so that each step's batch is one contiguous slab; column n holds the ones
            # that multiply the bias.
            X_dev = torch.from_numpy(np.ascontiguousarray(X)).to(self.device, non_blocking=True)
            y_dev = torch.from_numpy(np.ascontiguousarray(y)).to(self.device, non_blocking=True)
            X_block = self._buffers.get("X_block")
            if X_block is None or X_block.shape != (steps, R, B, n + 1):
                X_block = torch.empty((steps, R, B, n + 1), dtype=self.dtype, device=self.device)
                X_block[..., n] = 1
                self._buffers["X_block"] = X_block
            y_block = self._buffer("y_block", (steps, R, B))
            X_block[..., :n].copy_(X_dev.permute(1, 0, 2, 3))
            y_block.copy_(y_dev.permute(1, 0, 2))
            del X_dev, y_dev
            buffers = (
                self._buffer("a", (R, B, self.width)),
                self._buffer("gate", (R, B, self.width)),
                self._buffer("f", (R, B)),
                self._buffer("delta_X", (R, B, n + 1)),
            )
            for t in range(steps):
                self._step(X_block[t], y_block[t], *buffers)

    def _step(self, X: torch.Tensor, y: torch.Tensor, a: torch.Tensor, gate: torch.Tensor, f: torch.Tensor,
              delta_X: torch.Tensor) -> None:
        """One SGD step of all working runs on X (R, B, n + 1) with ones in column n, y (R, B)."""
        Wb, u = self.Wb, self.u
        u_row = u.unsqueeze(1)  # (R, 1, r)
        # forward: h = [X 1] [W b]^T (into a), a = relu(h), f = sum_i a_i u_i
        # (f as a product and a row sum: bmm with one output column is several times slower on CPU)
        torch.bmm(X, Wb.transpose(1, 2), out=a)
        a.relu_()
        torch.sum(torch.mul(a, u_row, out=gate), dim=2, out=f)
        # delta = lr * dl/df / B per run: the learning rate rides along in delta
        delta = _per_run(loss_slope, self._loss_ids_t, self._present_losses, y, f)
        delta.mul_(self._lr_over_batch_t(X.shape[1]))
        # gate = 1[h > 0] * u, taken before u changes (sign(relu(h)) = 1[h > 0]); gh = delta * gate
        torch.sign(a, out=gate).mul_(u_row)
        torch.mul(X, delta.unsqueeze(2), out=delta_X)  # exact: X is ±1; column n is delta
        decay = self._uniform_decay
        if decay is None:
            u.mul_(self._decay_t.unsqueeze(1))
            Wb.mul_(self._decay_t.view(-1, 1, 1))
            decay = 1.0
        # u <- decay u - delta^T a;  [W b] <- decay [W b] - gate^T (delta [X 1])
        u_row.baddbmm_(delta.unsqueeze(1), a, beta=decay, alpha=-1.0)
        Wb.baddbmm_(gate.transpose(1, 2), delta_X, beta=decay, alpha=-1.0)

    def _lr_over_batch_t(self, batch_size: int) -> torch.Tensor:
        cached = self._buffers.get(("lr_over_batch", batch_size))
        if cached is None:
            cached = (self._lr_t / batch_size).unsqueeze(1)
            self._buffers[("lr_over_batch", batch_size)] = cached
        return cached

    def _eval_chunk(self, runs: int) -> int:
        """Samples per evaluation chunk: bounds the (runs, samples, width) hidden activations."""
        return max(1, EVAL_CHUNK_ELEMENTS // max(1, runs * self.width))

    def _network_outputs(self, Wb: torch.Tensor, u: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        """f = relu([X 1] Wb^T) u, (R, m) in the compute dtype, for int8 X (R, m, n) on the device."""
        n = self.n
        hidden = torch.baddbmm(Wb[..., n].unsqueeze(1), X.to(self.dtype), Wb[..., :n].transpose(1, 2)).relu_()
        return hidden.mul_(u.unsqueeze(1)).sum(dim=2)  # (a bmm with one output column is slow on CPU)

    def _forward_errors(self, Wb, u, loss_ids, present, X, y) -> tuple[np.ndarray, np.ndarray]:
        """(error rate, mean loss) as float64 numpy for runs with params (Wb, u) on
        int8 X (R, M, n), y (R, M) already on the device; chunked over samples."""
        R, M, _ = X.shape
        errors = torch.zeros(R, dtype=torch.float64, device=self.device)
        losses = torch.zeros(R, dtype=torch.float64, device=self.device)
        chunk = self._eval_chunk(R)
        for start in range(0, M, chunk):
            fc = self._network_outputs(Wb, u, X[:, start:start + chunk])
            yc = y[:, start:start + chunk].to(self.dtype)
            errors += (torch.sign(fc) != yc).sum(dim=1, dtype=torch.float64)
            fc64, yc64 = fc.to(torch.float64), yc.to(torch.float64)
            losses += _per_run(loss_value, loss_ids, present, yc64, fc64).sum(dim=1)
        # divide on the host: numpy's division is correctly rounded, so rates equal the
        # reference's np.mean exactly (CUDA divides by a scalar as a product with 1/M)
        return errors.cpu().numpy() / M, losses.cpu().numpy() / M

    def evaluate(self, runs: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(error rate, mean loss) of runs[j] on X[j] (M, n), y[j] (M,), as float64 (len(runs),)."""
        runs = np.asarray(runs, dtype=np.int64)
        with torch.inference_mode():
            Wb, u, loss_ids = self._params_wb(runs)
            present = tuple(sorted(set(self._loss_ids[runs].tolist())))
            X_dev = torch.from_numpy(np.ascontiguousarray(X, dtype=np.int8)).to(self.device)
            y_dev = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int8)).to(self.device)
            return self._forward_errors(Wb, u, loss_ids, present, X_dev, y_dev)

    def evaluate_test(self, runs: np.ndarray, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(error rate, mean loss) on samples [start:stop) of the runs' own test sets (kept on the device)."""
        runs = np.asarray(runs, dtype=np.int64)
        with torch.inference_mode():
            if np.array_equal(runs, self.rows):
                test_X, test_y = self.test_X, self.test_y
            else:
                index = torch.as_tensor(runs, dtype=torch.int64, device=self.device)
                test_X = self.home_test_X.index_select(0, index)
                test_y = self.home_test_y.index_select(0, index)
            Wb, u, loss_ids = self._params_wb(runs)
            present = tuple(sorted(set(self._loss_ids[runs].tolist())))
            return self._forward_errors(Wb, u, loss_ids, present, test_X[:, start:stop], test_y[:, start:stop])

    def finite(self, runs: np.ndarray) -> np.ndarray:
        """Bool (len(runs),): all weights of the run are finite."""
        with torch.inference_mode():
            W, b, u, _ = self._params(np.asarray(runs, dtype=np.int64))
            ok = torch.isfinite(W).flatten(1).all(dim=1) & torch.isfinite(b).all(dim=1) & torch.isfinite(u).all(dim=1)
            return ok.cpu().numpy()

    def output_bound(self, runs: np.ndarray) -> np.ndarray:
        """See :class:`sim.engine.Kernel` (float64 sums, on the device)."""
        with torch.inference_mode():
            W, b, u, _ = self._params(np.asarray(runs, dtype=np.int64))
            H = W.abs().sum(dim=-1, dtype=torch.float64) + b.abs().to(torch.float64)
            bound = torch.maximum((u.abs().to(torch.float64) * H).sum(dim=-1), H.amax(dim=-1))
            return bound.cpu().numpy()

    def parameters(self, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Current (W, b, u) of the runs as float64 numpy arrays."""
        with torch.inference_mode():
            W, b, u, _ = self._params(np.asarray(runs, dtype=np.int64))
            return tuple(p.to(torch.float64).cpu().numpy().copy() for p in (W, b, u))  # type: ignore[return-value]


#: A :class:`TorchKernel` for R runs (see :class:`sim.engine.Kernel` for the arguments): ``dtype``
#: "float32" | "float64"; ``device`` "cpu" | "cuda" (or "cuda:N"), ValueError if CUDA is asked
#: for and not available.
make_kernel = TorchKernel
