"""Triton backend: fused GPU kernels that move one read and one write of the weights per step.

Same layout, working-set handling and update rule as :mod:`sim.backends.torch` (it subclasses
:class:`~sim.backends.torch.TorchKernel`: ``Wb = [W b]`` (R, r, n + 1), ``u`` (R, r)); only the
arithmetic of a training step and of the network outputs at evaluation is replaced.

Why: the torch backend's step is a cuBLAS bmm, two baddbmm and about eight elementwise
passes, i.e. about three passes over W and five over the (R, B, r) activations per step
(measured on an H100: 14% of the device's copy bandwidth by the 2-pass byte formula of
``frontier bench``). Here a step is two launches, and the update of step t is fused with the
forward pass of step t + 1, so W is read once and written once per step:

    forward   (once per block)  fpart[t0] = per-tile sums of relu([X_t0 1] Wb^T) u
    for t in the block:
      delta   (grid R)          f_t = sum of fpart[t] over tiles (fixed order),
                                delta_t = lr * dl/df(y_t, f_t) / B
      update  (grid R x tiles)  h = [X_t 1] Wb^T (recomputed from the tile in registers),
                                gh = (delta_t u^T) * 1[h > 0],
                                Wb <- decay Wb - gh^T [X_t 1],  u <- decay u - delta_t^T relu(h),
                                and, with the new tile still in registers,
                                fpart[t + 1] = per-tile sums of relu([X_t+1 1] Wb^T) u

which is the update of :mod:`sim.engine` (decay = 1 - lr weight_decay; lr rides in delta).
Every sum has a fixed order (tile sums, then tiles in order), so a run's arithmetic does not
depend on the other runs in the call: batched = alone, bit for bit, and reruns are identical.

Precision (float32): the inputs are ±1, exact in TF32, so a product X W^T on tensor cores
needs only W split in two TF32 parts, W = W_hi + W_lo (W_hi: W with the low 13 mantissa bits
cleared; W_lo = W - W_hi exactly); ``dot(X, W_hi) + dot(X, W_lo)`` then carries about 21 of
float32's 24 bits per product, accumulated in float32 (Triton's "tf32x3" would spend a third
product on the zero low part of X). The same holds for gh^T X with gh split. float64 uses
IEEE float64 products. Results agree with the torch backend to float32 rounding, not bit
for bit (a different summation order).

Devices: CUDA; on the CPU only under Triton's interpreter (``TRITON_INTERPRET=1`` set before
this module is imported), which is how the test suite checks these kernels without a GPU.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import triton
import triton.language as tl

from ..config import LOSS_IDS
from .torch import TorchKernel

INTERPRETED = os.environ.get("TRITON_INTERPRET", "0") == "1"

# Neurons per program (a power of two >= 16: tl.dot's minimum) and programs' warps.
BLOCK_WIDTH = 64
NUM_WARPS = 8
# Test samples per evaluation program; fpart tiles summed per iteration by the delta kernel.
BLOCK_SAMPLES = 64
BLOCK_TILES = 32
# Update-kernel programs per multiprocessor (0: one program per tile); see _update_kernel.
UPDATE_WAVES = 0
# Input columns (n + 1 with the bias) per register tile: wider inputs are done in chunks.
MAX_CHUNK_COLUMNS = 64
# Loss ids as constexpr globals (the compiler refuses plain globals); the rest is logistic.
HINGE = tl.constexpr(LOSS_IDS["hinge"])
SQUARE = tl.constexpr(LOSS_IDS["square"])
TF32_HIGH_MASK = tl.constexpr(-8192)  # 0xFFFFE000 as int32: sign, exponent and the 10 mantissa bits TF32 keeps


@triton.jit
def _split_dot(exact, other, acc, EXACT_LEFT: tl.constexpr, SPLIT: tl.constexpr):
    """acc + exact @ other (EXACT_LEFT) or acc + other @ exact, where ``exact`` holds ±1/0 (exact in TF32).

    SPLIT: two TF32 tensor-core products of ``other``'s high and low parts (module doc);
    otherwise one IEEE product (float64)."""
    # (no early returns: the compiler visits statements after a constexpr-if's return)
    if SPLIT:
        high = (other.to(tl.int32, bitcast=True) & TF32_HIGH_MASK).to(tl.float32, bitcast=True)
        low = other - high
        if EXACT_LEFT:
            result = tl.dot(exact, high, tl.dot(exact, low, acc, input_precision="tf32"), input_precision="tf32")
        else:
            result = tl.dot(high, exact, tl.dot(low, exact, acc, input_precision="tf32"), input_precision="tf32")
    else:
        if EXACT_LEFT:
            result = tl.dot(exact, other, acc, input_precision="ieee")
        else:
            result = tl.dot(other, exact, acc, input_precision="ieee")
    return result


@triton.jit
def _load_inputs(ptr, row_stride, n, count, samples, cols, dtype: tl.constexpr):
    """[X 1] as a (samples, cols) tile: int8 rows of X (length n, ``row_stride`` apart) at
    ptr, a ones column at n, zeros beyond (padding rows/columns contribute nothing)."""
    valid = samples[:, None] < count
    x = tl.load(ptr + samples[:, None] * row_stride + cols[None, :], mask=valid & (cols[None, :] < n), other=0)
    return tl.where(valid & (cols[None, :] == n), 1.0, x.to(dtype)).to(dtype)


@triton.jit
def _load_weights(Wb_ptr, run, rows, cols, width, n):
    """The (rows, cols) tile of run's [W b] (zeros outside the network) and its mask."""
    mask = (rows[:, None] < width) & (cols[None, :] <= n)
    Wb = tl.load(Wb_ptr + run * width * (n + 1) + rows[:, None] * (n + 1) + cols[None, :], mask=mask, other=0.0)
    return Wb, mask


@triton.jit
def _hidden(Wb_ptr, x_ptr, x_row_stride, run, rows, samples, width, n, count,
            BM: tl.constexpr, BLOCK_R: tl.constexpr, KC: tl.constexpr, NUM_K: tl.constexpr,
            SPLIT: tl.constexpr):
    """h = [X 1] Wb^T on (samples, rows), summed over NUM_K chunks of KC input columns (wide
    inputs: a chunk at a time keeps the tiles in registers)."""
    dtype = Wb_ptr.dtype.element_ty
    h = tl.zeros((BM, BLOCK_R), dtype=dtype)
    for k in range(NUM_K):
        cols = k * KC + tl.arange(0, KC)
        Wb, _ = _load_weights(Wb_ptr, run, rows, cols, width, n)
        x = _load_inputs(x_ptr, x_row_stride, n, count, samples, cols, dtype)
        h = _split_dot(x, tl.trans(Wb), h, True, SPLIT)
    return h


@triton.jit
def _forward_kernel(Wb_ptr, u_ptr, X_ptr, fpart_ptr, width, n, batch, x_run_stride, x_offset,
                    BLOCK_R: tl.constexpr, BP: tl.constexpr, KC: tl.constexpr, NUM_K: tl.constexpr,
                    SPLIT: tl.constexpr):
    """fpart[run, tile, b] = sum_{i in tile} relu(h_bi) u_i for one minibatch (grid R x tiles)."""
    run = tl.program_id(0).to(tl.int64)
    tile = tl.program_id(1)
    rows = tile * BLOCK_R + tl.arange(0, BLOCK_R)
    samples = tl.arange(0, BP)
    u = tl.load(u_ptr + run * width + rows, mask=rows < width, other=0.0)
    h = _hidden(Wb_ptr, X_ptr + run * x_run_stride + x_offset, n, run, rows, samples, width, n, batch,
                BP, BLOCK_R, KC, NUM_K, SPLIT)
    part = tl.sum(tl.maximum(h, 0.0) * u[None, :], axis=1)
    tl.store(fpart_ptr + (run * tl.num_programs(1) + tile) * BP + samples, part)


@triton.jit
def _delta_kernel(fpart_ptr, y_ptr, loss_ptr, lr_over_batch_ptr, delta_ptr, num_tiles, batch,
                  y_run_stride, y_offset, BP: tl.constexpr, BLOCK_T: tl.constexpr):
    """f = sum of run's fpart over tiles (fixed order); delta = lr/B * dl/df (grid R).

    Losses as in sim.engine (ids: ``sim.config.LOSS_IDS``): hinge -y 1[y f < 1], square
    2 (f - y), logistic -y sigmoid(-y f)."""
    run = tl.program_id(0).to(tl.int64)
    samples = tl.arange(0, BP)
    tiles = tl.arange(0, BLOCK_T)
    acc = tl.zeros((BLOCK_T, BP), dtype=fpart_ptr.dtype.element_ty)
    for start in range(0, num_tiles, BLOCK_T):
        index = start + tiles
        acc += tl.load(fpart_ptr + (run * num_tiles + index[:, None]) * BP + samples[None, :],
                       mask=index[:, None] < num_tiles, other=0.0)
    f = tl.sum(acc, axis=0)
    valid = samples < batch
    y = tl.load(y_ptr + run * y_run_stride + y_offset + samples, mask=valid, other=0).to(f.dtype)
    loss_id = tl.load(loss_ptr + run)
    hinge = tl.where(y * f < 1.0, -y, 0.0)
    square = 2.0 * (f - y)
    logistic = -y * tl.sigmoid(-y * f)
    slope = tl.where(loss_id == HINGE, hinge, tl.where(loss_id == SQUARE, square, logistic))
    delta = slope * tl.load(lr_over_batch_ptr + run)
    tl.store(delta_ptr + run * BP + samples, tl.where(valid, delta, 0.0).to(f.dtype))


@triton.jit
def _update_chunk(Wb_ptr, X_ptr, Wb, mask, x, cols, gh, decay, h_next, run, rows, samples, width, n, batch,
                  x_run_stride, x_next_offset, BLOCK_R: tl.constexpr, KC: tl.constexpr, SPLIT: tl.constexpr,
                  HAS_NEXT: tl.constexpr):
    """Wb <- decay Wb - gh^T [X 1] on one column chunk, stored; returns h_next plus the chunk's
    share of [X_next 1] Wb^T (with the updated weights, still in registers)."""
    gW = _split_dot(x, tl.trans(gh), tl.zeros((BLOCK_R, KC), dtype=Wb.dtype), False, SPLIT)
    Wb = decay * Wb - gW
    tl.store(Wb_ptr + run * width * (n + 1) + rows[:, None] * (n + 1) + cols[None, :], Wb, mask=mask)
    if HAS_NEXT:
        x_next = _load_inputs(X_ptr + run * x_run_stride + x_next_offset, n, n, batch, samples, cols, Wb.dtype)
        h_next = _split_dot(x_next, tl.trans(Wb), h_next, True, SPLIT)
    return h_next


@triton.jit
def _update_kernel(Wb_ptr, u_ptr, X_ptr, delta_ptr, decay_ptr, fpart_ptr, width, n, batch,
                   x_run_stride, x_offset, x_next_offset, num_tiles,
                   BLOCK_R: tl.constexpr, BP: tl.constexpr, KC: tl.constexpr, NUM_K: tl.constexpr,
                   SPLIT: tl.constexpr, HAS_NEXT: tl.constexpr):
    """One SGD step of tiles of neurons, each followed by its forward partials of the next step.

    Grid R x P: program p of a run takes tiles p, p + P, ... (P = tiles: one each), so the
    compiler can prefetch a program's next tile while it works on the current one; a tile's
    arithmetic is the same whichever program does it. With one column chunk the weight tile
    stays in registers from load to store; with several (n + 1 > KC) each chunk is loaded again
    for its update, from cache (the first pass read it)."""
    run = tl.program_id(0).to(tl.int64)
    samples = tl.arange(0, BP)
    dtype = Wb_ptr.dtype.element_ty
    x_ptr = X_ptr + run * x_run_stride + x_offset
    delta = tl.load(delta_ptr + run * BP + samples)
    decay = tl.load(decay_ptr + run)
    if NUM_K == 1:
        cols = tl.arange(0, KC)
        x = _load_inputs(x_ptr, n, n, batch, samples, cols, dtype)
    for tile in range(tl.program_id(1), num_tiles, tl.num_programs(1)):
        rows = tile * BLOCK_R + tl.arange(0, BLOCK_R)
        u = tl.load(u_ptr + run * width + rows, mask=rows < width, other=0.0)
        if NUM_K == 1:
            Wb, mask = _load_weights(Wb_ptr, run, rows, cols, width, n)
            h = _split_dot(x, tl.trans(Wb), tl.zeros((BP, BLOCK_R), dtype=dtype), True, SPLIT)
        else:
            h = _hidden(Wb_ptr, x_ptr, n, run, rows, samples, width, n, batch, BP, BLOCK_R, KC, NUM_K, SPLIT)
        gh = tl.where(h > 0, delta[:, None] * u[None, :], 0.0).to(dtype)
        gu = tl.sum(delta[:, None] * tl.maximum(h, 0.0), axis=0)
        u = decay * u - gu
        tl.store(u_ptr + run * width + rows, u, mask=rows < width)
        h_next = tl.zeros((BP, BLOCK_R), dtype=dtype)
        if NUM_K == 1:
            h_next = _update_chunk(Wb_ptr, X_ptr, Wb, mask, x, cols, gh, decay, h_next, run, rows, samples, width,
                                   n, batch, x_run_stride, x_next_offset, BLOCK_R, KC, SPLIT, HAS_NEXT)
        else:
            for k in range(NUM_K):
                chunk_cols = k * KC + tl.arange(0, KC)
                Wb, mask = _load_weights(Wb_ptr, run, rows, chunk_cols, width, n)
                x_chunk = _load_inputs(x_ptr, n, n, batch, samples, chunk_cols, dtype)
                h_next = _update_chunk(Wb_ptr, X_ptr, Wb, mask, x_chunk, chunk_cols, gh, decay, h_next, run, rows,
                                       samples, width, n, batch, x_run_stride, x_next_offset, BLOCK_R, KC, SPLIT,
                                       HAS_NEXT)
        if HAS_NEXT:
            part = tl.sum(tl.maximum(h_next, 0.0) * u[None, :], axis=1)
            tl.store(fpart_ptr + (run * num_tiles + tile) * BP + samples, part)


@triton.jit
def _outputs_kernel(Wb_ptr, u_ptr, X_ptr, f_ptr, width, n, samples_count, x_run_stride, x_row_stride,
                    BLOCK_M: tl.constexpr, BLOCK_R: tl.constexpr, KC: tl.constexpr, NUM_K: tl.constexpr,
                    SPLIT: tl.constexpr):
    """f[run, m] = relu([x_m 1] Wb^T) u for a tile of samples, neurons summed tile by tile in
    order (grid sample tiles x R: the programs that run together share one run's weights in
    L2); the (samples, width) activations never leave registers."""
    run = tl.program_id(1).to(tl.int64)
    samples = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    dtype = u_ptr.dtype.element_ty
    x_ptr = X_ptr + run * x_run_stride
    f = tl.zeros((BLOCK_M,), dtype=dtype)
    if NUM_K == 1:
        cols = tl.arange(0, KC)
        x = _load_inputs(x_ptr, x_row_stride, n, samples_count, samples, cols, dtype)
    for start in range(0, width, BLOCK_R):
        rows = start + tl.arange(0, BLOCK_R)
        u = tl.load(u_ptr + run * width + rows, mask=rows < width, other=0.0)
        if NUM_K == 1:
            Wb, _ = _load_weights(Wb_ptr, run, rows, cols, width, n)
            h = _split_dot(x, tl.trans(Wb), tl.zeros((BLOCK_M, BLOCK_R), dtype=dtype), True, SPLIT)
        else:
            h = _hidden(Wb_ptr, x_ptr, x_row_stride, run, rows, samples, width, n, samples_count,
                        BLOCK_M, BLOCK_R, KC, NUM_K, SPLIT)
        f += tl.sum(tl.maximum(h, 0.0) * u[None, :], axis=1)
    tl.store(f_ptr + run * samples_count + samples, f, mask=samples < samples_count)


def _padded(size: int, minimum: int = 16) -> int:
    """The power of two >= size and >= minimum (tl.dot and tl.arange need powers of two >= 16)."""
    return max(minimum, triton.next_power_of_2(size))


class TritonKernel(TorchKernel):
    """:class:`~sim.backends.torch.TorchKernel` with the fused Triton step and evaluation."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.device.type != "cuda" and not INTERPRETED:
            raise ValueError(
                f"device={str(self.device)!r}: the triton backend runs on CUDA (or on the CPU under "
                "Triton's interpreter, TRITON_INTERPRET=1 set before import)"
            )
        self._split = self.dtype == torch.float32
        self._block_width = min(BLOCK_WIDTH, _padded(self.width))
        self._chunk = min(MAX_CHUNK_COLUMNS, _padded(self.n + 1))
        self._chunks = triton.cdiv(self.n + 1, self._chunk)

    def _kernel_args(self) -> dict:
        return dict(BLOCK_R=self._block_width, KC=self._chunk, NUM_K=self._chunks, SPLIT=self._split)

    def _update_programs(self, runs: int, tiles: int) -> int:
        """Programs per run of the update kernel: every tile its own (UPDATE_WAVES = 0), or
        enough for UPDATE_WAVES programs per multiprocessor, each looping over its tiles."""
        if UPDATE_WAVES <= 0:
            return tiles
        processors = (torch.cuda.get_device_properties(self.device).multi_processor_count
                      if self.device.type == "cuda" else 1)
        return max(1, min(tiles, triton.cdiv(UPDATE_WAVES * processors, runs)))

    def _launch(self, kernel, grid, *args, **meta) -> None:
        options = {} if INTERPRETED else {"num_warps": NUM_WARPS}
        kernel[grid](*args, **meta, **options)

    def train(self, runs: np.ndarray, X: np.ndarray, y: np.ndarray) -> None:
        """Advance runs[j] by X.shape[1] SGD steps on X[j] (steps, B, n), y[j] (steps, B)."""
        runs = np.asarray(runs, dtype=np.int64)
        if not np.array_equal(runs, self.rows):
            self._set_rows(runs)
        R, steps, B, n = X.shape
        if R != len(runs) or n != self.n:
            raise ValueError(f"X has shape {X.shape}, expected ({len(runs)}, steps, B, {self.n})")
        if steps == 0:
            return
        with torch.inference_mode():
            X_dev = torch.from_numpy(np.ascontiguousarray(X, dtype=np.int8)).to(self.device)
            y_dev = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int8)).to(self.device)
            BP = _padded(B)
            tiles = triton.cdiv(self.width, self._block_width)
            fpart = self._buffer("fpart", (R, tiles, BP))
            delta = self._buffer("delta", (R, BP))
            lr_over_batch = self._lr_over_batch_t(B).reshape(R).contiguous()
            decay = self._decay_t.contiguous()
            loss_ids = self._loss_ids_t
            Wb, u = self.Wb, self.u
            x_stride, y_stride = steps * B * n, steps * B
            meta = dict(BP=BP, **self._kernel_args())
            programs = self._update_programs(R, tiles)
            self._launch(_forward_kernel, (R, tiles), Wb, u, X_dev, fpart, self.width, n, B, x_stride, 0, **meta)
            for t in range(steps):
                self._launch(_delta_kernel, (R,), fpart, y_dev, loss_ids, lr_over_batch, delta, tiles, B,
                             y_stride, t * B, BP=BP, BLOCK_T=BLOCK_TILES)
                has_next = t + 1 < steps
                self._launch(_update_kernel, (R, programs), Wb, u, X_dev, delta, decay, fpart, self.width, n, B,
                             x_stride, t * B * n, (t + 1) * B * n if has_next else 0, tiles,
                             HAS_NEXT=has_next, **meta)

    def _eval_chunk(self, runs: int) -> int:
        # f is the only (R, samples) array: no activations to bound, so one chunk of up to 2**26 outputs.
        return max(1, 2**26 // max(1, runs))

    def _network_outputs(self, Wb: torch.Tensor, u: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        R, M, n = X.shape
        if X.stride(2) != 1:
            X = X.contiguous()
        f = torch.empty((R, M), dtype=self.dtype, device=self.device)
        if M == 0:
            return f
        self._launch(_outputs_kernel, (triton.cdiv(M, BLOCK_SAMPLES), R), Wb.contiguous(), u.contiguous(), X, f,
                     self.width, n, M, X.stride(0), X.stride(1), BLOCK_M=BLOCK_SAMPLES, **self._kernel_args())
        return f


def make_kernel(*args, device: str = "cuda", **kwargs) -> TritonKernel:
    """A :class:`TritonKernel` for R runs (see :class:`sim.engine.Kernel` for the arguments).

    ``device`` "cuda" (or "cuda:N"); "cpu" only under Triton's interpreter. ValueError otherwise.
    """
    return TritonKernel(*args, device=device, **kwargs)
