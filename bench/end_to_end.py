"""Sweeps at the kernel's speed (issue 19): run-steps/s through ``sim.train`` against the training
kernel alone, and the share of evaluation in a run's time at the paper's evaluation settings.

    python -m bench.end_to_end [--widths 10,100,1000] [--repeats 3] [--quick]

prints one JSON object. Reusable: :func:`end_to_end_rates` and :func:`evaluation_share` return
the same dicts (``frontier bench`` may call them).

End to end: ``sim.train`` on R runs (n = 50, k = 3, batch 32, dense init, seeds 0..R-1), offline
(m = 1000) or online, a fixed number of steps, one evaluation at the end on a 200-sample test set
(so it measures everything a sweep does per step: minibatch streams, the kernel, the driver; plus
the set-up of each run and its final evaluation). Kernel alone: the training kernel of the same
backend on the same R, timed as ``frontier bench`` times it (bench.workload ``make_workload`` /
``kernel_for``: pre-generated online blocks of 50 steps, ``kernel.train`` per block), just before
and just after every ``sim.train``; the ratio of a round is the end-to-end rate over the mean of
its two kernel rates. Rates and ratios are medians over ``repeats`` rounds (absolute rates on a
shared machine are noise, the ratio of neighbours in time much less so).

Evaluation share: ``sim.train`` on runs that fail (k = 6: no run reaches 10% test error within
the steps) with the paper's evaluation, a 10^4-sample test set every 100 steps; the time spent
evaluating (test sets with the early exit, the weight checks of every evaluation, the final train
errors) over the whole ``sim.train`` time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

N_INPUTS = 50
BATCH = 32
OFFLINE_SAMPLES = 1000
TEST_SIZE = 200
DEFAULT_RUNS = {10: 256, 100: 256, 1000: 32}
DEFAULT_STEPS = {10: 2000, 100: 1000, 1000: 300}
MODES = ("offline", "online")


def _configs(width: int, runs: int, steps: int, samples: int | None, *, k: int = 3, eval_every: int | None = None,
             test_size: int = TEST_SIZE, first_seed: int = 0) -> list:
    from sim import RunConfig

    return [RunConfig(n=N_INPUTS, k=k, width=width, samples=samples, batch_size=BATCH, max_steps=steps,
                      eval_every=eval_every or steps, test_size=test_size, seed=first_seed + s)
            for s in range(runs)]


def _kernel_timer(width: int, runs: int, backend: str):
    """A function of min_seconds: run-steps/s of the training kernel alone, as ``frontier bench``
    drives it. The workload is built once; the kernel afresh from the initial weights for every
    measurement, as in one ``frontier bench`` run: above width 256 the numba kernel skips samples
    whose hinge margin is met, so a kernel trained on through many measurements of the same
    pool of batches would speed up on data it has memorised (measured: 2x at width 1000)."""
    import numpy as np

    from bench.harness import time_calls
    from bench.workload import kernel_for, make_workload, pool_steps_for

    block_steps = 50
    work = make_workload(width, runs, block_steps, pool_steps_for(runs, block_steps))
    all_runs = np.arange(runs)

    def rate(min_seconds: float) -> float:
        kernel = kernel_for(backend, work, "cpu")
        clock = [0]

        def call() -> None:
            X, y = work.blocks[clock[0] % len(work.blocks)]
            clock[0] += 1
            kernel.train(all_runs, X, y)

        calls, seconds = time_calls(call, lambda: None, min_seconds, 1)
        return runs * block_steps * calls / seconds

    return rate


def _train_seconds(configs: list, backend: str) -> float:
    import sim

    start = time.perf_counter()
    sim.train(configs, backend=backend)
    return time.perf_counter() - start


def end_to_end_rates(widths: Sequence[int] = (10, 100, 1000), runs: Mapping[int, int] | None = None,
                     steps: Mapping[int, int] | None = None, modes: Sequence[str] = MODES,
                     repeats: int = 3, backend: str = "numba", min_seconds: float = 1.0) -> dict[str, Any]:
    """Median run-steps/s end to end (``sim.train``) and of the kernel alone, per width and mode.

    Returns {"rows": [{width, mode, runs, steps, end_to_end, kernel, ratio, ratios, ratio_of_best}]}
    where ``ratio`` is the median over rounds of end_to_end / kernel measured side by side."""
    runs = {**DEFAULT_RUNS, **(runs or {})}
    steps = {**DEFAULT_STEPS, **(steps or {})}
    rows = []
    for width in widths:
        R, S = runs.get(width, max(1, 32_000 // width)), steps.get(width, 300)
        plans = {mode: _configs(width, R, S, None if mode == "online" else OFFLINE_SAMPLES) for mode in modes}
        for mode in modes:  # warm-up: compilation, caches, page faults
            _train_seconds(_configs(width, min(R, 8), 20, plans[mode][0].samples, first_seed=10**6), backend)
        kernel_rate = _kernel_timer(width, R, backend)
        kernel_rates, e2e_rates, ratios = [], {mode: [] for mode in modes}, {mode: [] for mode in modes}
        for _ in range(repeats):
            for mode in modes:  # the kernel timed just before and just after each sim.train
                before = kernel_rate(min_seconds / 2)
                e2e = R * S / _train_seconds(plans[mode], backend)
                after = kernel_rate(min_seconds / 2)
                kernel_rates += [before, after]
                e2e_rates[mode].append(e2e)
                ratios[mode].append(e2e / ((before + after) / 2))
        for mode in modes:
            rows.append({
                "width": width, "mode": mode, "runs": R, "steps": S,
                "end_to_end": statistics.median(e2e_rates[mode]), "kernel": statistics.median(kernel_rates),
                "ratio": statistics.median(ratios[mode]), "ratios": ratios[mode],
                # On a loaded machine the best of each approximates its unloaded rate.
                "ratio_of_best": max(e2e_rates[mode]) / max(kernel_rates),
            })
    return {"backend": backend, "n": N_INPUTS, "batch": BATCH, "offline_samples": OFFLINE_SAMPLES,
            "test_size": TEST_SIZE, "repeats": repeats, "rows": rows}


class _Stopwatch:
    """Seconds spent in the wrapped callables (not re-entrant: they do not call each other)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def evaluation_share(width: int = 1000, runs: int = 32, steps: int = 1000, modes: Sequence[str] = MODES,
                     eval_every: int = 100, test_size: int = 10_000, repeats: int = 3,
                     backend: str = "numba") -> dict[str, Any]:
    """Median share of ``sim.train`` time spent evaluating, for runs that fail (k = 6): the test
    sets (:func:`sim.engine.screened_test_metrics`), the weight checks every evaluation
    (``kernel.finite``, ``kernel.output_bound``) and the final train errors (``kernel.evaluate``)."""
    import importlib

    import sim.engine as engine

    train_module = importlib.import_module("sim.training")

    watch = _Stopwatch()
    patched = {"screened_test_metrics": engine.screened_test_metrics}
    factory = train_module.kernel_factory

    def timed_factory(*args, **kwargs):
        make = factory(*args, **kwargs)

        def make_kernel(*a, **k):
            kernel = make(*a, **k)
            # evaluate: the final train errors (sim.train records no History)
            for name in ("finite", "output_bound", "evaluate"):
                if hasattr(kernel, name):
                    setattr(kernel, name, watch.wrap(getattr(kernel, name)))
            return kernel
        return make_kernel

    rows = []
    for name, function in patched.items():
        setattr(engine, name, watch.wrap(function))
    train_module.kernel_factory = timed_factory
    try:
        for mode in modes:
            samples = None if mode == "online" else OFFLINE_SAMPLES
            configs = _configs(width, runs, steps, samples, k=6, eval_every=eval_every, test_size=test_size)
            _train_seconds(_configs(width, min(runs, 4), 2 * eval_every, samples, k=6, eval_every=eval_every,
                                    test_size=test_size, first_seed=10**6), backend)
            shares, totals = [], []
            for _ in range(repeats):
                watch.seconds = 0.0
                total = _train_seconds(configs, backend)
                shares.append(watch.seconds / total)
                totals.append(total)
            rows.append({"mode": mode, "share": statistics.median(shares), "shares": shares,
                         "seconds": statistics.median(totals)})
    finally:
        for name, function in patched.items():
            setattr(engine, name, function)
        train_module.kernel_factory = factory
    return {"width": width, "runs": runs, "steps": steps, "k": 6, "eval_every": eval_every,
            "test_size": test_size, "backend": backend, "rows": rows}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", default="10,100,1000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", default="numba")
    parser.add_argument("--quick", action="store_true", help="tiny runs and steps: a smoke test")
    parser.add_argument("--no-eval-share", action="store_true")
    args = parser.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",")]
    quick = dict(runs={w: 8 for w in widths}, steps={w: 60 for w in widths}, min_seconds=0.0) if args.quick else {}
    from bench.harness import machine_info

    result: dict[str, Any] = {"machine": machine_info("cpu"), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    result["rates"] = end_to_end_rates(widths, repeats=args.repeats, backend=args.backend, **quick)
    if not args.no_eval_share:
        share = dict(runs=4, steps=200, test_size=1000) if args.quick else {}
        result["evaluation"] = evaluation_share(repeats=args.repeats, backend=args.backend, **share)
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout's code
    main()
