"""`frontier bench`: our batched backends against the torch baselines researchers use (issue 6).

Workload (science.md section 3, no early stopping): n = 50 inputs, batch B = 32, hinge loss,
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
- ``torch``: our torch backend, ``sim.backend_torch.make_kernel(...).train`` (batched).
- ``numba``: our numba backend, ``sim.backend_numba.make_kernel(...).train`` (CPU only).
- ``triton``: our triton backend, ``sim.backend_triton.make_kernel(...).train`` (CUDA only):
  fused kernels, one read and one write of the weights per step.

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
<= 256 (runs in SIMD lanes, sim.lane_vectors) it does the dense arithmetic.

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
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from sim.engine import chance_exit_fraction

N_INPUTS = 50
K_PARITY = 3
BATCH = 32
LR = 0.1
WEIGHT_DECAY = 0.01
WIDTHS = (10, 100, 1000, 10000)
# On CUDA the bandwidth target is at widths >= 3 x 10^4: measured by default there.
CUDA_WIDTHS = WIDTHS + (30_000, 100_000)
CONTENDERS = ("naive", "ensemble", "torch", "numba", "triton")
OURS = ("torch", "numba", "triton")
BASELINES = ("naive", "ensemble")

FLOPS_FORMULA = "4Bnr + 9Br + 4B + 4(nr + 2r)"
BYTES_FORMULA = "2*4*(nr + 2r) + B(n + 1)"
EVAL_FLOPS_FORMULA = "M(2nr + 4r + 2) per evaluation on M test samples"


def flops_per_run_step(width: int, n: int = N_INPUTS, batch: int = BATCH) -> int:
    """Forward + backward + SGD-update FLOPs of one SGD step of one run (module docstring)."""
    B, r = batch, width
    return 4 * B * n * r + 9 * B * r + 4 * B + 4 * (n * r + 2 * r)


def bytes_per_run_step(width: int, n: int = N_INPUTS, batch: int = BATCH, float_bytes: int = 4) -> int:
    """Compulsory memory traffic of one SGD step of one run: params read + written, data read."""
    return 2 * float_bytes * (n * width + 2 * width) + batch * (n + 1)


def eval_flops(width: int, n: int, samples: int) -> int:
    """FLOPs of one test-error evaluation of one run on ``samples`` inputs."""
    return samples * (2 * n * width + 4 * width + 2)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class BenchSettings:
    """What one benchmark run measures.

    ``runs[w]``: R at width w; ``block_steps``: steps per pre-generated block (one kernel
    call); ``naive_runs``: how many of the R runs the naive loop times; ``eval_samples``:
    test-set size of the evaluation timing (the sim default is 10^4); ``pool_steps``: distinct
    pre-generated steps our kernels cycle through (None: :func:`pool_steps_for`); ``thread_counts``:
    every contender is timed with each of these torch/numba thread counts and keeps its
    best (empty: the process's current threads). On a shared, oversubscribed machine a
    2-thread OpenMP region can wait a whole scheduler slice for its second thread, which
    makes the small-op baselines tens of times slower; taking the best of 1 and all
    cores keeps the comparison fair to them.
    """

    device: str = "cpu"
    widths: tuple[int, ...] = WIDTHS
    runs: Mapping[int, int] = field(default_factory=lambda: {10: 256, 100: 256, 1000: 32, 10000: 4})
    block_steps: int = 50
    naive_runs: int = 16
    min_seconds: float = 1.0
    repeats: int = 3
    eval_samples: int = 10_000
    eval_runs: int = 16
    matmul_size: int = 2048
    contenders: tuple[str, ...] = CONTENDERS
    thread_counts: tuple[int, ...] = ()
    pool_steps: int | None = None

    def runs_at(self, width: int) -> int:
        if width in self.runs:
            return int(self.runs[width])
        # Unlisted widths: keep R * width roughly constant at the largest listed width's level.
        return max(1, min(256, 40_000 // width))


def full_settings(device: str = "cpu", widths: Sequence[int] = WIDTHS) -> BenchSettings:
    """The README measurement: R = 256 at widths 10 and 100, 32 at 1000, 4 at 10^4 (CPU)."""
    runs = {10: 256, 100: 256, 1000: 32, 10000: 4}
    if device != "cpu":
        runs = {10: 4096, 100: 4096, 1000: 512, 10000: 64, 30000: 32, 100000: 8}
    contenders = CONTENDERS
    threads = tuple(sorted({1, os.cpu_count() or 1})) if device == "cpu" else ()
    return BenchSettings(device=device, widths=tuple(widths), runs=runs, contenders=contenders,
                         thread_counts=threads, min_seconds=0.5)


def quick_settings(device: str = "cpu", widths: Sequence[int] = WIDTHS) -> BenchSettings:
    """Tiny R and steps: a smoke test of every code path in seconds."""
    contenders = CONTENDERS
    return BenchSettings(
        device=device, widths=tuple(widths), runs={10: 4, 100: 4, 1000: 2, 10000: 2},
        block_steps=2, pool_steps=2, naive_runs=2, min_seconds=0.0, repeats=1, eval_samples=256, eval_runs=2,
        matmul_size=256, contenders=contenders,
    )


# --------------------------------------------------------------------------- timing


def _synchronizer(device: str) -> Callable[[], None]:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.synchronize
    return lambda: None


def time_calls(call: Callable[[], None], sync: Callable[[], None], min_seconds: float,
               repeats: int) -> tuple[int, float]:
    """(calls per repetition, best seconds per repetition) after one untimed warm-up call."""
    call()
    sync()
    start = time.perf_counter()
    call()
    sync()
    once = time.perf_counter() - start
    calls = max(1, math.ceil(min_seconds / max(once, 1e-9)))
    best = once if calls == 1 else math.inf
    for _ in range(repeats if calls > 1 else repeats - 1):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        sync()
        best = min(best, time.perf_counter() - start)
    return calls, best


def matmul_peak_gflops(device: str = "cpu", size: int = 2048, repeats: int = 5,
                       min_seconds: float = 0.2) -> float:
    """Best-of-``repeats`` GFLOP/s of a square float32 ``torch.matmul`` (2 size^3 FLOPs)."""
    import torch

    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(size, size, generator=gen).to(device)
    b = torch.randn(size, size, generator=gen).to(device)
    out = torch.empty(size, size, device=device)
    sync = _synchronizer(device)
    calls, seconds = time_calls(lambda: torch.matmul(a, b, out=out), sync, min_seconds, repeats)
    return 2.0 * size**3 * calls / seconds / 1e9


def copy_bandwidth_bytes_per_s(device: str = "cpu", megabytes: int = 256, repeats: int = 5,
                               min_seconds: float = 0.2) -> float:
    """Best-of-``repeats`` bytes/s of a same-device tensor copy (counts read + write)."""
    import torch

    count = megabytes * 2**20 // 4
    src = torch.ones(count, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    sync = _synchronizer(device)
    calls, seconds = time_calls(lambda: dst.copy_(src), sync, min_seconds, repeats)
    return 2.0 * src.numel() * 4 * calls / seconds


# --------------------------------------------------------------------------- workload


@dataclass
class Workload:
    """Initial weights (float64, stacked) and a pool of pre-generated minibatch blocks.

    ``blocks[i]`` = (X (R, steps, B, n) int8, y (R, steps, B) int8), consecutive online
    minibatches of every run. Our kernels cycle through the whole pool (``pool_steps``
    distinct steps), because the numba kernel skips samples whose hinge margin is met
    and would speed up on a small block it has memorised; fresh data keeps the
    measurement at the cost of early training, where nearly every sample is active.
    The baselines do the same dense work whatever the data and cycle over ``blocks[0]``.
    """

    width: int
    W: np.ndarray  # (R, r, n)
    b: np.ndarray  # (R, r)
    u: np.ndarray  # (R, r)
    blocks: list[tuple[np.ndarray, np.ndarray]]

    @property
    def runs(self) -> int:
        return self.W.shape[0]

    @property
    def steps(self) -> int:
        """Steps per block (one kernel call)."""
        return self.blocks[0][0].shape[1]

    @property
    def X(self) -> np.ndarray:
        return self.blocks[0][0]

    @property
    def y(self) -> np.ndarray:
        return self.blocks[0][1]


def pool_steps_for(runs: int, block_steps: int, n: int = N_INPUTS, batch: int = BATCH,
                   max_bytes: int = 2**26, max_steps: int = 400) -> int:
    """Distinct steps of data to pre-generate: up to ``max_steps``, within ``max_bytes`` of int8."""
    fit = max_bytes // (runs * batch * (n + 1))
    blocks = max(1, min(max_steps, fit) // block_steps)
    return blocks * block_steps


def make_workload(width: int, runs: int, block_steps: int, pool_steps: int | None = None,
                  n: int = N_INPUTS, batch: int = BATCH) -> Workload:
    """R dense-init runs (seeds 0..R-1) and ``pool_steps`` online minibatches each, from sim."""
    from sim import RunConfig
    from sim.data import MinibatchStream
    from sim.init import initialize

    pool_steps = pool_steps or pool_steps_for(runs, block_steps, n, batch)
    configs = [RunConfig(n=n, k=K_PARITY, width=width, batch_size=batch, seed=s) for s in range(runs)]
    inits = [initialize(c) for c in configs]
    streams = [MinibatchStream(c) for c in configs]
    blocks = []
    for _ in range(max(1, pool_steps // block_steps)):
        X = np.empty((runs, block_steps, batch, n), dtype=np.int8)
        y = np.empty((runs, block_steps, batch), dtype=np.int8)
        for j, stream in enumerate(streams):
            stream.next(block_steps, X[j], y[j])
        blocks.append((X, y))
    return Workload(width, np.stack([p[0] for p in inits]), np.stack([p[1] for p in inits]),
                    np.stack([p[2] for p in inits]), blocks)


def _torch_model(W: np.ndarray, b: np.ndarray, u: np.ndarray, device: str):
    import torch
    from torch import nn

    width, n = W.shape
    model = nn.Sequential(nn.Linear(n, width), nn.ReLU(), nn.Linear(width, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.as_tensor(W, dtype=torch.float32))
        model[0].bias.copy_(torch.as_tensor(b, dtype=torch.float32))
        model[2].weight.copy_(torch.as_tensor(u, dtype=torch.float32)[None])
    return model.to(device)


def naive_step_fn(work: Workload, runs: int, device: str) -> Callable[[], None]:
    """One call = one SGD step of each of ``runs`` separate nn models (Python loop)."""
    import torch

    models = [_torch_model(work.W[i], work.b[i], work.u[i], device) for i in range(runs)]
    optims = [torch.optim.SGD(m.parameters(), lr=LR, weight_decay=WEIGHT_DECAY) for m in models]
    X = torch.as_tensor(work.X[:runs], dtype=torch.float32, device=device)
    Y = torch.as_tensor(work.y[:runs], dtype=torch.float32, device=device)
    clock = [0]

    def step() -> None:
        t = clock[0] % work.steps
        clock[0] += 1
        for model, optim, x, y in zip(models, optims, X[:, t], Y[:, t]):
            optim.zero_grad()
            f = model(x).squeeze(-1)
            loss = torch.clamp(1.0 - y * f, min=0.0).mean()
            loss.backward()
            optim.step()

    return step


def ensemble_step_fn(work: Workload, device: str) -> Callable[[], None]:
    """One call = one SGD step of all R runs with torch.func (vmap of grad over stacked params)."""
    import torch
    from torch.func import functional_call, grad, stack_module_state, vmap

    models = [_torch_model(work.W[i], work.b[i], work.u[i], device) for i in range(work.runs)]
    params, _ = stack_module_state(models)
    params = {name: p.detach() for name, p in params.items()}
    base = copy.deepcopy(models[0]).to("meta")
    del models

    def loss_of(p: dict, x, y):
        f = functional_call(base, (p,), (x,)).squeeze(-1)
        return torch.clamp(1.0 - y * f, min=0.0).mean()

    grads_of = vmap(grad(loss_of))
    X = torch.as_tensor(work.X, dtype=torch.float32, device=device)
    Y = torch.as_tensor(work.y, dtype=torch.float32, device=device)
    names = list(params)
    tensors = [params[name] for name in names]
    clock = [0]

    def step() -> None:
        t = clock[0] % work.steps
        clock[0] += 1
        g = grads_of(params, X[:, t], Y[:, t])
        g = [g[name] for name in names]
        with torch.no_grad():
            torch._foreach_add_(g, tensors, alpha=WEIGHT_DECAY)  # g + wd p
            torch._foreach_add_(tensors, g, alpha=-LR)  # p - lr (g + wd p)

    return step


def kernel_for(backend: str, work: Workload, device: str, test_samples: int = BATCH):
    """Our backend's kernel for the workload's runs, built as sim.engine.run_group builds it."""
    import importlib

    module = importlib.import_module(f"sim.backend_{backend}")
    R = work.runs
    rng = np.random.default_rng(0)
    test_X = (1 - 2 * rng.integers(0, 2, size=(R, test_samples, work.X.shape[-1]))).astype(np.int8)
    test_y = np.prod(test_X[..., :K_PARITY], axis=-1, dtype=np.int8)
    return module.make_kernel(
        work.W, work.b, work.u, lr=np.full(R, LR), weight_decay=np.full(R, WEIGHT_DECAY),
        loss_ids=np.zeros(R, dtype=np.int64), test_X=test_X, test_y=test_y,
        dtype="float32", device=device,
    )


# --------------------------------------------------------------------------- measurement


@dataclass(frozen=True)
class Measurement:
    """One contender at one width. ``timed_runs`` < ``runs`` for the naive subset."""

    contender: str
    width: int
    runs: int
    timed_runs: int
    steps_per_call: int
    calls: int
    seconds: float
    run_steps_per_s: float
    gflops: float
    fraction_of_matmul: float
    bytes_per_s: float
    fraction_of_copy: float | None
    threads: int
    eval_seconds_per_run: float | None = None


def current_threads(contender: str) -> int:
    """The thread count a contender runs with now (numba's for numba, torch's otherwise)."""
    if contender == "numba":
        import numba

        return numba.get_num_threads()
    import torch

    return torch.get_num_threads()


@contextlib.contextmanager
def thread_count(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch and numba threads (None: leave them), then restore."""
    if threads is None:
        yield
        return
    import numba
    import torch

    before = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        numba.set_num_threads(before[1])


@dataclass
class Prepared:
    """A contender ready to time: ``call()`` advances ``timed_runs`` runs by ``steps_per_call``."""

    contender: str
    call: Callable[[], None]
    timed_runs: int
    steps_per_call: int
    eval_seconds_per_run: float | None


def prepare_contender(contender: str, work: Workload, settings: BenchSettings) -> Prepared:
    """Build a contender's models or kernel on the workload (untimed)."""
    device = settings.device
    if contender == "naive":
        timed_runs = min(settings.naive_runs, work.runs)
        return Prepared(contender, naive_step_fn(work, timed_runs, device), timed_runs, 1, None)
    if contender == "ensemble":
        return Prepared(contender, ensemble_step_fn(work, device), work.runs, 1, None)
    if contender not in OURS:
        raise ValueError(f"contender={contender!r} must be one of {CONTENDERS}")
    kernel = kernel_for(contender, work, device)
    all_runs = np.arange(work.runs)
    clock = [0]

    def call() -> None:
        X, y = work.blocks[clock[0] % len(work.blocks)]
        clock[0] += 1
        kernel.train(all_runs, X, y)

    eval_seconds = _eval_seconds_per_run(kernel, work, settings, _synchronizer(device))
    return Prepared(contender, call, work.runs, work.steps, eval_seconds)


def measure_contenders(contenders: Sequence[str], work: Workload, settings: BenchSettings,
                       matmul_gflops: float, copy_bytes_per_s: float | None) -> dict[str, Measurement]:
    """Time every contender on one workload, interleaved: each of the ``repeats`` rounds
    times one repetition of every (contender, thread count), so that a change in the
    machine's load hits all contenders alike; each keeps its best repetition."""
    sync = _synchronizer(settings.device)
    prepared = {c: prepare_contender(c, work, settings) for c in contenders}
    threads_list = settings.thread_counts or (None,)
    calls: dict[tuple[str, int | None], int] = {}
    best: dict[str, tuple[float, int, float, int | None]] = {}

    def record(c: str, threads: int | None, n_calls: int, seconds: float) -> None:
        p = prepared[c]
        rate = p.timed_runs * p.steps_per_call * n_calls / seconds
        if c not in best or rate > best[c][0]:
            best[c] = (rate, n_calls, seconds, threads)

    for threads in threads_list:
        with thread_count(threads):
            for c, p in prepared.items():  # warm-up and calibration
                n_calls, seconds = time_calls(p.call, sync, settings.min_seconds, 1)
                calls[(c, threads)] = n_calls
                record(c, threads, n_calls, seconds)
    for _ in range(settings.repeats - 1 if settings.min_seconds > 0 else 0):
        for threads in threads_list:
            with thread_count(threads):
                for c, p in prepared.items():
                    start = time.perf_counter()
                    for _ in range(calls[(c, threads)]):
                        p.call()
                    sync()
                    record(c, threads, calls[(c, threads)], time.perf_counter() - start)
    out = {}
    for c, p in prepared.items():
        rate, n_calls, seconds, threads = best[c]
        flop_rate = rate * flops_per_run_step(work.width)
        byte_rate = rate * bytes_per_run_step(work.width)
        out[c] = Measurement(
            contender=c, width=work.width, runs=work.runs, timed_runs=p.timed_runs,
            steps_per_call=p.steps_per_call, calls=n_calls, seconds=seconds, run_steps_per_s=rate,
            gflops=flop_rate / 1e9, fraction_of_matmul=flop_rate / 1e9 / matmul_gflops,
            bytes_per_s=byte_rate,
            fraction_of_copy=None if copy_bytes_per_s is None else byte_rate / copy_bytes_per_s,
            threads=threads or current_threads(c),
            eval_seconds_per_run=p.eval_seconds_per_run,
        )
    return out


def _eval_seconds_per_run(kernel, work: Workload, settings: BenchSettings, sync) -> float:
    """Seconds of one test evaluation (``eval_samples`` inputs) per run, via kernel.evaluate."""
    runs = np.arange(min(settings.eval_runs, work.runs))
    rng = np.random.default_rng(1)
    X = (1 - 2 * rng.integers(0, 2, size=(runs.size, settings.eval_samples, work.X.shape[-1]))).astype(np.int8)
    y = np.prod(X[..., :K_PARITY], axis=-1, dtype=np.int8)
    calls, seconds = time_calls(lambda: kernel.evaluate(runs, X, y), sync,
                                settings.min_seconds / 4, max(1, settings.repeats - 1))
    return seconds / calls / runs.size * 1.0


def available_contenders(device: str, wanted: Iterable[str] = CONTENDERS) -> tuple[str, ...]:
    """``wanted`` less numba off the CPU (numba kernels are CPU only) and triton on the CPU
    (its CPU interpreter is a test tool, not a speed) or where triton is not installed."""
    import importlib.util

    on_cpu = device == "cpu"
    has_triton = importlib.util.find_spec("triton") is not None
    return tuple(c for c in wanted
                 if not (c == "numba" and not on_cpu) and not (c == "triton" and (on_cpu or not has_triton)))


def machine_info(device: str) -> dict[str, Any]:
    """CPU model (lscpu's 'Model name'), cores, thread counts, library versions, GPU name."""
    import numba
    import torch

    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu_model": model, "cpu_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "numba_threads": numba.get_num_threads(), "torch": torch.__version__, "numba": numba.__version__,
        "numpy": np.__version__, "python": platform.python_version(), "device": device,
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def run_benchmark(settings: BenchSettings, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure every contender at every width; a JSON-ready dict with every number."""
    import torch

    if settings.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA is not available")
    unknown = sorted(set(settings.contenders) - set(CONTENDERS))
    if unknown:
        raise ValueError(f"contender={unknown[0]!r} must be one of {CONTENDERS}")
    for width in settings.widths:
        if width < 1:
            raise ValueError(f"width={width} must be >= 1")
    say = progress or (lambda message: None)
    contenders = available_contenders(settings.device, settings.contenders)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    peak_seconds = min(0.2, settings.min_seconds)
    peak_repeats = max(settings.repeats, 5) if settings.min_seconds > 0 else 1

    def matmul_peak() -> float:
        # Best over the same thread counts the contenders get: a fair ceiling for all.
        best = 0.0
        for threads in settings.thread_counts or (None,):
            with thread_count(threads):
                best = max(best, matmul_peak_gflops(settings.device, settings.matmul_size,
                                                    peak_repeats, peak_seconds))
        return best

    matmul = matmul_peak()
    say(f"matmul {settings.matmul_size}^2 float32: {matmul:.1f} GFLOP/s")
    copy_bw = None
    if settings.device.startswith("cuda"):
        copy_bw = copy_bandwidth_bytes_per_s(settings.device, 256 if settings.min_seconds > 0 else 16,
                                             peak_repeats, peak_seconds)
        say(f"device copy: {copy_bw / 1e9:.1f} GB/s")

    rows = []
    for width in settings.widths:
        runs = settings.runs_at(width)
        work = make_workload(width, runs, settings.block_steps, settings.pool_steps)
        measured = measure_contenders(contenders, work, settings, matmul, copy_bw)
        for contender, m in measured.items():
            say(f"width {width:>6} R {runs:>4} {contender:>8}: {m.run_steps_per_s:12.4g} run-steps/s "
                f"{m.gflops:8.3g} GFLOP/s ({100 * m.fraction_of_matmul:.1f}% of matmul, {m.threads} threads)")
        rows.append({
            "width": width, "runs": runs, "steps_per_block": settings.block_steps,
            "flops_per_run_step": flops_per_run_step(width),
            "bytes_per_run_step": bytes_per_run_step(width),
            "contenders": {name: asdict(m) for name, m in measured.items()},
            "speedups": speedups(measured),
        })
        del work

    result = {
        "started": started,
        "machine": machine_info(settings.device),
        "settings": {**asdict(settings), "runs": {str(w): settings.runs_at(w) for w in settings.widths}},
        "workload": {"n": N_INPUTS, "batch": BATCH, "loss": "hinge", "lr": LR, "weight_decay": WEIGHT_DECAY,
                     "dtype": "float32", "init": "dense", "data": "online minibatches, pre-generated, untimed"},
        "formulas": {"flops_per_run_step": FLOPS_FORMULA, "bytes_per_run_step": BYTES_FORMULA,
                     "eval_flops": EVAL_FLOPS_FORMULA},
        "matmul_gflops": matmul,
        "copy_bytes_per_s": copy_bw,
        "widths": rows,
    }
    # The machine's load drifts during a run: take the peak as the best of a measurement
    # before and one after, so every fraction_of_matmul is against the same (higher) peak.
    matmul_after = matmul_peak()
    say(f"matmul again at the end: {matmul_after:.1f} GFLOP/s")
    if matmul_after > matmul:
        for row in rows:
            for c in row["contenders"].values():
                c["fraction_of_matmul"] = c["gflops"] / matmul_after
    result["matmul_gflops_before_after"] = [matmul, matmul_after]
    result["matmul_gflops"] = max(matmul, matmul_after)
    ours = [c for c in OURS if c in contenders]
    if ours:
        result["grid_estimate"] = asdict(estimate_grid_hours(result, backends=ours))
    return result


def speedups(measured: Mapping[str, Measurement]) -> dict[str, float]:
    """run-steps/s of each of our backends over each baseline, e.g. ``numba_over_naive``."""
    out = {}
    for ours in OURS:
        for base in BASELINES:
            if ours in measured and base in measured:
                out[f"{ours}_over_{base}"] = measured[ours].run_steps_per_s / measured[base].run_steps_per_s
    return out


# --------------------------------------------------------------------------- grid estimate


def _one_two_three_six(lo: int, hi: int) -> tuple[int, ...]:
    values = []
    decade = 1
    while decade <= hi:
        values += [v * decade for v in (1, 2, 3, 6) if lo <= v * decade <= hi]
        decade *= 10
    return tuple(values)


@dataclass(frozen=True)
class PaperGrid:
    """The paper's full grid (science.md section 3), as a product of its axes.

    Widths {10, 30, 100, ..., 10^5}; m in the 1-2-3-6 sequence from 100 to 10^6 plus
    online; n in {50, 100, ..., 300}; k in {3, 4}; dense vs 2-hot sparse; 50 seeds:
    9 x 18 x 6 x 2 x 2 x 50 = 194,400 runs (the paper: ~2 x 10^5).
    ``steps_per_run`` is the worst case: no run stops before T = 10^5 (an upper bound,
    since successful runs stop early). ``eval_every``/``test_size`` as in sim.RunConfig.
    """

    widths: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000)
    samples: tuple[int | None, ...] = _one_two_three_six(100, 1_000_000) + (None,)
    n_values: tuple[int, ...] = (50, 100, 150, 200, 250, 300)
    k_values: tuple[int, ...] = (3, 4)
    inits: tuple[str, ...] = ("dense", "sparse")
    seeds: int = 50
    steps_per_run: int = 100_000
    eval_every: int = 100
    test_size: int = 10_000

    @property
    def runs_per_width(self) -> int:
        return len(self.samples) * len(self.n_values) * len(self.k_values) * len(self.inits) * self.seeds

    @property
    def total_runs(self) -> int:
        return len(self.widths) * self.runs_per_width


@dataclass(frozen=True)
class GridEstimate:
    """Device-hours for the whole grid from measured per-step costs (see estimate_grid_hours)."""

    hours: float
    train_hours: float
    eval_hours: float
    total_runs: int
    steps_per_run: int
    device: str
    label: str
    assumptions: str
    hours_by_width: dict[str, float]
    # With the engine's exact early exit (sim.engine.chance_exit_fraction): a run that is at chance
    # level (the plateau where failing runs spend their steps) counts ~2 x 10% of the test set.
    hours_with_early_exit: float = float("nan")
    early_exit_assumption: str = ""
    # Training alone, if every run-step moved only its compulsory bytes (bytes_per_run_step) at
    # the device-to-device copy bandwidth measured in the same process: no kernel of this
    # update rule in float32 does better (None without a copy measurement, i.e. on the CPU).
    train_bandwidth_floor_hours: float | None = None


def _interpolate_log(width: int, widths: Sequence[int], values: Sequence[float]) -> float:
    """Linear in log(width) between measured widths, constant beyond them."""
    if width <= widths[0]:
        return values[0]
    if width >= widths[-1]:
        return values[-1]
    logs = np.log(np.asarray(widths, dtype=float))
    return float(np.interp(math.log(width), logs, np.asarray(values, dtype=float)))


def estimate_grid_hours(result: Mapping[str, Any], grid: PaperGrid = PaperGrid(),
                        backends: Sequence[str] = OURS) -> GridEstimate:
    """Hours to run ``grid`` with the fastest of ``backends`` measured in ``result``.

    Per width r of the grid and each n: time per run = steps * F_train(r, n) / rate_train(r)
    + (steps / eval_every) * F_eval(r, n, test_size) / rate_eval(r), where F are the FLOP
    formulas of this module and the achieved FLOP rates are the measured ones at n = 50
    (best backend per measured width), interpolated linearly in log r and held constant
    outside the measured widths. Data generation and the host side of the sweep driver are
    not counted. On a CPU measurement the result is CPU-hours of this machine, labelled so.
    """
    device = result["machine"]["device"]
    widths, train_rates, eval_rates = [], [], []
    for row in sorted(result["widths"], key=lambda row: row["width"]):
        ours = [row["contenders"][b] for b in backends if b in row["contenders"]]
        if not ours:
            continue
        best = max(ours, key=lambda m: m["run_steps_per_s"])
        widths.append(row["width"])
        train_rates.append(best["gflops"] * 1e9)
        eval_seconds = best["eval_seconds_per_run"]
        samples = result["settings"]["eval_samples"]
        eval_rates.append(eval_flops(row["width"], N_INPUTS, samples) / eval_seconds)
    if not widths:
        raise ValueError(f"no measurement of backends {tuple(backends)} in the benchmark result")
    per_n_runs = grid.runs_per_width // len(grid.n_values)
    evals = math.ceil(grid.steps_per_run / grid.eval_every)
    train_s = eval_s = floor_s = 0.0
    copy_bw = result.get("copy_bytes_per_s")
    by_width = {}
    for r in grid.widths:
        train_rate = _interpolate_log(r, widths, train_rates)
        eval_rate = _interpolate_log(r, widths, eval_rates)
        width_s = 0.0
        for n in grid.n_values:
            t = per_n_runs * grid.steps_per_run * flops_per_run_step(r, n) / train_rate
            e = per_n_runs * evals * eval_flops(r, n, grid.test_size) / eval_rate
            train_s += t
            eval_s += e
            if copy_bw:
                floor_s += per_n_runs * grid.steps_per_run * bytes_per_run_step(r, n) / copy_bw
            width_s += t + e
        by_width[str(r)] = width_s / 3600
    exit_fraction = chance_exit_fraction(grid.test_size, 0.1)  # the paper's target error
    name = result["machine"].get("gpu") or result["machine"]["cpu_model"]
    kind = "GPU-hours" if device.startswith("cuda") else "CPU-hours (a CPU measurement, not GPU-hours)"
    return GridEstimate(
        hours=(train_s + eval_s) / 3600, train_hours=train_s / 3600, eval_hours=eval_s / 3600,
        total_runs=grid.total_runs, steps_per_run=grid.steps_per_run, device=device,
        label=f"{kind} on {name}, from backends {tuple(backends)} measured at widths {tuple(widths)}",
        assumptions=(
            f"{grid.total_runs} runs (widths {grid.widths}, {len(grid.samples)} m values incl. online, "
            f"n {grid.n_values}, k {grid.k_values}, {grid.inits}, {grid.seeds} seeds); worst case "
            f"{grid.steps_per_run} steps per run (no early success); test error on {grid.test_size} "
            f"samples every {grid.eval_every} steps; FLOPs scale with n by the formulas at the "
            "achieved rate measured at n=50; rates interpolated in log width, constant outside the "
            "measured widths; data generation not counted"
        ),
        hours_by_width=by_width,
        hours_with_early_exit=(train_s + eval_s * exit_fraction) / 3600,
        early_exit_assumption=(
            f"every evaluation of every run exits after {exit_fraction:.4g} of the test set, as one at "
            "chance level does (failing runs and runs on the plateau before learning); runs near "
            "the target error count more, successful runs stop early: an estimate, not a bound"
        ),
        train_bandwidth_floor_hours=floor_s / 3600 if copy_bw else None,
    )


# --------------------------------------------------------------------------- report


def format_table(result: Mapping[str, Any]) -> str:
    """The Markdown table of a benchmark result (as in the README's Performance section)."""
    m = result["machine"]
    lines = [
        f"device {m['device']} ({m.get('gpu') or m['cpu_model']}, {m['cpu_cores']} cores, torch threads "
        f"{m['torch_threads']}, numba threads {m['numba_threads']}); torch {m['torch']}, numba {m['numba']}",
        f"matmul peak ({result['settings']['matmul_size']}^2 float32): {result['matmul_gflops']:.1f} GFLOP/s"
        + ("" if result["copy_bytes_per_s"] is None
           else f"; device copy: {result['copy_bytes_per_s'] / 1e9:.1f} GB/s"),
        f"FLOPs per run-step = {FLOPS_FORMULA}; bytes per run-step = {BYTES_FORMULA} (B=32, n=50)",
        "",
        "| width | R | contender | threads | run-steps/s | GFLOP/s | % of matmul |"
        + ("" if result["copy_bytes_per_s"] is None else " GB/s | % of copy |")
        + " vs naive | vs ensemble |",
        "|---:|---:|---|---:|---:|---:|---:|" + ("" if result["copy_bytes_per_s"] is None else "---:|---:|")
        + "---:|---:|",
    ]
    for row in result["widths"]:
        for name, c in row["contenders"].items():
            runs = f"{row['runs']}" + (f" ({c['timed_runs']} timed)" if c["timed_runs"] != row["runs"] else "")
            vs = []
            for base in BASELINES:
                if name in BASELINES:
                    vs.append("")
                else:
                    ratio = row["speedups"].get(f"{name}_over_{base}")
                    vs.append("" if ratio is None else f"{ratio:.1f}x")
            bw = ""
            if result["copy_bytes_per_s"] is not None:
                bw = f" {c['bytes_per_s'] / 1e9:.2f} | {100 * c['fraction_of_copy']:.1f}% |"
            lines.append(
                f"| {row['width']} | {runs} | {name} | {c['threads']} | {c['run_steps_per_s']:.4g} | {c['gflops']:.3g} | "
                f"{100 * c['fraction_of_matmul']:.1f}% |{bw} {vs[0]} | {vs[1]} |"
            )
    est = result.get("grid_estimate")
    if est:
        lines += ["", f"Paper grid estimate: {est['hours']:.4g} {est['label']}",
                  f"(train {est['train_hours']:.4g} h + evaluation {est['eval_hours']:.4g} h; {est['assumptions']})",
                  f"With the exact early exit of evaluation: {est['hours_with_early_exit']:.4g} h "
                  f"({est['early_exit_assumption']})"]
        if est.get("train_bandwidth_floor_hours") is not None:
            lines.append(f"Training's floor at the measured copy bandwidth (compulsory bytes only): "
                         f"{est['train_bandwidth_floor_hours']:.4g} h")
    return "\n".join(lines)
