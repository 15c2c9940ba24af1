"""The benchmark (``frontier bench``): our batched backends against the torch baselines researchers use.

Workload (docs/science.md section 3, no early stopping): n = 50 inputs, batch B = 32, hinge loss,
SGD lr 0.1 with coupled weight decay 0.01, float32, R independent runs of a 2-layer ReLU MLP
of width r, a fixed number of steps. All four contenders start from the same initial
weights (:func:`sim.init.initialize`, dense, seeds 0..R-1) and train on the same
pre-generated online minibatches (:class:`sim.data.MinibatchStream`); generating the data
is outside the timed region for all four alike. The contenders:

- ``naive``: R separate ``torch.nn`` models, Linear(n, r) + ReLU + Linear(r, 1, bias=False),
  one ``torch.optim.SGD`` each, a Python loop over the runs at every step (how public
  sparse-parity code trains seeds). Its cost per run-step does not depend on R, so only a
  subset of ``naive_runs`` runs is timed and the rate is reported per run-step.
- ``ensemble``: ``torch.func``: ``stack_module_state`` + ``functional_call`` +
  ``vmap(grad(loss))`` over all R runs, and a hand-written SGD update on the stacked params.
- our backends (every benchmarked entry of :data:`sim.backends.BACKENDS`: torch, numba,
  triton), each driven through its ``make_kernel(...).train``:
  ``torch`` (batched), ``numba`` (CPU only),
  ``triton`` (CUDA only: fused kernels, one read and one write of the weights per step).

Our backends are driven exactly as :func:`sim.engine.run_group` drives them in sweeps: one
``kernel.train(runs, X, y)`` call per pre-generated int8 block X (R, steps, B, n). The
baselines get their minibatches pre-converted to float32 tensors on the device (a
conversion our kernels do inside the timed region).

FLOPs per run-step (every scalar add, multiply, compare or max is one FLOP; B batch,
n inputs, r width)::

    forward   H = X W^T 2Bnr,  + b Br,  relu Br,  f = A u 2Br
    loss      hinge slope: 1 - y f 2B,  select B,  / B  B               = 4B
    backward  gu = A^T delta 2Br,  gH = delta u^T * 1[H > 0] 2Br,
              gW = gH^T X 2Bnr,  gb = sum_B gH Br
    update    p - lr (g + wd p): 4 per parameter, nr + 2r parameters
    total     flops_per_run_step = 4Bnr + 9Br + 4B + 4(nr + 2r)

These are the FLOPs of the dense computation every contender is asked to do, and GFLOP/s
is that count over the measured time. Above width 256 our numba kernel does less arithmetic
for the same update (inputs are ±1, so X W^T and gH^T X are sums, not multiply-adds; samples
whose hinge margin is met contribute no gradient and are skipped), so its GFLOP/s there is an
*effective* rate, comparable across contenders, and not bounded by the matmul peak; at widths
<= 256 (runs in SIMD lanes, sim.backends.lane_vectors) it does the dense arithmetic.

Bytes per run-step (the compulsory memory traffic of a kernel that keeps H, gH and gW in
cache or registers; every extra pass over W adds 4nr)::

    bytes_per_run_step = 2 * 4 (nr + 2r)   (float32 W, b, u read once and written once)
                       + B (n + 1)         (int8 minibatch X and labels y read once)

Evaluation (for the grid estimate): one test error of a run on M samples costs
``M (2nr + 4r + 2)`` FLOPs (H, + b, relu, f = A u, sign compare).

Each measurement: one untimed warm-up call (numba compilation, torch.func tracing), one
calibration repetition of enough calls to last ``min_seconds``, then ``repeats - 1`` more
repetitions, interleaved across contenders and thread counts (so a change in the machine's
load hits all alike); each contender keeps its best repetition. The matmul peak (best of a few large square float32 ``torch.matmul``) and,
on CUDA, the device-to-device copy bandwidth are measured in the same process, so the
ratios are meaningful on a loaded machine even when absolute rates are not.

Modules: :mod:`bench.workload` (the runs, their data, our kernels on them), :mod:`bench.costs`
(FLOP and byte formulas, the paper-grid estimate), :mod:`bench.baselines` (naive loop, torch.func
ensemble), :mod:`bench.harness` (settings, timing, the run and its table); ``bench/results/`` keeps
the raw JSON of recorded runs and ``bench/tune_triton.py`` the GPU tuning recipe.
"""

from bench.costs import GridEstimate, PaperGrid, estimate_grid_hours, flops_per_run_step
from bench.harness import BenchSettings, format_table, full_settings, quick_settings, run_benchmark
from bench.workload import CUDA_WIDTHS, WIDTHS

__all__ = [
    "BenchSettings", "CUDA_WIDTHS", "GridEstimate", "PaperGrid", "WIDTHS", "estimate_grid_hours",
    "flops_per_run_step", "format_table", "full_settings", "quick_settings", "run_benchmark",
]
