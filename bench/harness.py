"""The benchmark run: settings, timing, interleaved measurement of every contender, the
JSON-ready result and its Markdown table (see :mod:`bench` for the method)."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence
import math

import numpy as np

from bench.baselines import ensemble_step_fn, jax_step_fn, naive_step_fn
from bench.costs import (
    BYTES_FORMULA, EVAL_FLOPS_FORMULA, FLOPS_FORMULA, bytes_per_run_step, estimate_grid_hours, flops_per_run_step,
)
from bench.workload import BATCH, K_PARITY, LR, N_INPUTS, WEIGHT_DECAY, WIDTHS, Workload, kernel_for, make_workload
from sim.backends import BACKENDS

#: Public baselines; "jax" (a vmap(jit(lax.scan)) ensemble) only when jax is installed ([bench] extra).
BASELINES = ("naive", "ensemble", "jax")
#: Our contenders: every registered backend except the numpy reference (a test oracle, not a speed).
OURS = tuple(name for name, backend in BACKENDS.items() if backend.benchmarked)
SMOKE_TEST_NOTE = ("SMOKE TEST (--quick): tiny R, 2 steps, one repetition. These numbers show that every code path "
                   "runs, not how fast it is; no paper-grid estimate is made from them. Run `frontier bench` to "
                   "measure.")
CONTENDERS = BASELINES + OURS


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
    #: ``--quick``: a run that exercises every code path; its numbers measure nothing, so the
    #: table says so and no paper-grid estimate is made from them.
    smoke_test: bool = False

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
        matmul_size=256, contenders=contenders, smoke_test=True,
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
    if contender == "jax":
        return Prepared(contender, jax_step_fn(work, device), work.runs, work.steps, None)
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
    """``wanted`` less numba off the CPU (numba kernels are CPU only), triton on the CPU (its CPU
    interpreter is a test tool, not a speed) or where triton is not installed, and jax where jax
    is not installed (an optional baseline)."""
    import importlib.util

    on_cpu = device == "cpu"
    has = {name: importlib.util.find_spec(name) is not None for name in ("triton", "jax")}
    return tuple(c for c in wanted
                 if not (c == "numba" and not on_cpu) and not (c == "triton" and (on_cpu or not has["triton"]))
                 and not (c == "jax" and not has["jax"]))


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
    result["smoke_test"] = settings.smoke_test
    if settings.device == "cpu" and "numba" in contenders:
        result["end_to_end"] = end_to_end(settings, say)
    ours = [c for c in OURS if c in contenders]
    if ours and not settings.smoke_test:
        result["grid_estimate"] = asdict(estimate_grid_hours(result, backends=ours))
    return result


#: Widths at which the end-to-end contender runs (its workload sizes are defined there).
END_TO_END_WIDTHS = (10, 100, 1000)


def end_to_end(settings: BenchSettings, say: Callable[[str], None]) -> dict[str, Any]:
    """The end-to-end contender: ``sim.train`` on the bench's workload (numba, offline and
    online) against the kernel alone, timed side by side (:mod:`bench.end_to_end`), so the
    gap between the engine and what a sweep gets stays visible."""
    from bench.end_to_end import end_to_end_rates

    widths = [w for w in settings.widths if w in END_TO_END_WIDTHS]
    if settings.smoke_test:
        rates = end_to_end_rates(widths, runs={w: 4 for w in widths}, steps={w: 20 for w in widths}, repeats=1,
                                 min_seconds=0.0)
    else:
        rates = end_to_end_rates(widths, repeats=settings.repeats, min_seconds=settings.min_seconds)
    for row in rates["rows"]:
        say(f"width {row['width']:>6} R {row['runs']:>4} end-to-end {row['mode']:>7}: {row['end_to_end']:12.4g} "
            f"run-steps/s, {100 * row['ratio']:.0f}% of the kernel alone")
    return rates


def speedups(measured: Mapping[str, Measurement]) -> dict[str, float]:
    """run-steps/s of each of our backends over each baseline, e.g. ``numba_over_naive``."""
    out = {}
    for ours in OURS:
        for base in BASELINES:
            if ours in measured and base in measured:
                out[f"{ours}_over_{base}"] = measured[ours].run_steps_per_s / measured[base].run_steps_per_s
    return out


# --------------------------------------------------------------------------- report


def format_table(result: Mapping[str, Any]) -> str:
    """The Markdown table of a benchmark result (as in the README's Performance section)."""
    m = result["machine"]
    lines = [SMOKE_TEST_NOTE] if result.get("smoke_test") else []
    measured = {name for row in result["widths"] for name in row["contenders"]}
    baselines = [base for base in BASELINES if base in measured]
    lines += [
        f"device {m['device']} ({m.get('gpu') or m['cpu_model']}, {m['cpu_cores']} cores, torch threads "
        f"{m['torch_threads']}, numba threads {m['numba_threads']}); torch {m['torch']}, numba {m['numba']}",
        f"matmul peak ({result['settings']['matmul_size']}^2 float32): {result['matmul_gflops']:.1f} GFLOP/s"
        + ("" if result["copy_bytes_per_s"] is None
           else f"; device copy: {result['copy_bytes_per_s'] / 1e9:.1f} GB/s"),
        f"FLOPs per run-step = {FLOPS_FORMULA}; bytes per run-step = {BYTES_FORMULA} (B=32, n=50)",
        "",
        "| width | R | contender | threads | run-steps/s | GFLOP/s | % of matmul |"
        + ("" if result["copy_bytes_per_s"] is None else " GB/s | % of copy |")
        + "".join(f" vs {base} |" for base in baselines),
        "|---:|---:|---|---:|---:|---:|---:|" + ("" if result["copy_bytes_per_s"] is None else "---:|---:|")
        + "---:|" * len(baselines),
    ]
    for row in result["widths"]:
        for name, c in row["contenders"].items():
            runs = f"{row['runs']}" + (f" ({c['timed_runs']} timed)" if c["timed_runs"] != row["runs"] else "")
            vs = []
            for base in baselines:
                ratio = None if name in BASELINES else row["speedups"].get(f"{name}_over_{base}")
                vs.append("" if ratio is None else f"{ratio:.1f}x")
            bw = ""
            if result["copy_bytes_per_s"] is not None:
                bw = f" {c['bytes_per_s'] / 1e9:.2f} | {100 * c['fraction_of_copy']:.1f}% |"
            lines.append(
                f"| {row['width']} | {runs} | {name} | {c['threads']} | {c['run_steps_per_s']:.4g} | {c['gflops']:.3g} | "
                f"{100 * c['fraction_of_matmul']:.1f}% |{bw}" + "".join(f" {v} |" for v in vs)
            )
    if result.get("end_to_end"):
        lines += ["", "End to end (`sim.train`: streams, kernel, evaluation, set-up) against the numba kernel alone, "
                      "timed side by side (medians):", "",
                  "| width | R | mode | end-to-end run-steps/s | kernel run-steps/s | ratio |",
                  "|---:|---:|---|---:|---:|---:|"]
        lines += [f"| {r['width']} | {r['runs']} | {r['mode']} | {r['end_to_end']:.4g} | {r['kernel']:.4g} | "
                  f"{r['ratio']:.2f} |" for r in result["end_to_end"]["rows"]]
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
