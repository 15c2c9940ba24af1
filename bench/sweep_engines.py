"""How much a local sweep engine costs per task on this machine: our spawn process pool
(``sim.sweep``'s) against loky's reusable executor and Dask's LocalCluster (issue 13 chose by
this measurement; docs/performance.md records it).

Each engine trains the same tiny runs (n = 12, widths 16 and 32, 300 steps, numba) with one run
per task, so the engine's own cost per task is as large a share of the time as it can be. Every
measurement is a fresh process (an engine's start-up is part of a sweep's cost), best of
``--repeats`` interleaved across engines; two task counts give the start-up (intercept) and the
cost per extra task (slope).
The in-process time of the same runs is the baseline.

    python -m bench.sweep_engines [--repeats 5] [--counts 64 256]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = """
n = 12
k = 3
width = [16, 32]
samples = [100, "online"]
seeds = {seeds}
max_steps = 300
eval_every = 100
test_size = 300
target_error = 0.0
"""
ENGINES = ("in_process", "pool", "loky", "dask")


def _configs(runs: int):
    from sim.grid import parse_grid

    return parse_grid(GRID.format(seeds=runs // 4))


def time_engine(engine: str, runs: int, workers: int = 2) -> float:
    """Seconds for ``engine`` to train ``runs`` runs, one run per task, from a cold start, writing
    each result to a store as a sweep does (so every engine pays the same SQLite commits)."""
    from sim.store import Store
    from sim.sweep import make_batches, run_batch, sweep

    configs = _configs(runs)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.sqlite"
        start = time.perf_counter()
        if engine in ("in_process", "pool"):
            sweep(configs, path, backend="numba", workers=1 if engine == "in_process" else workers, batch_runs=1,
                  progress=False)
            return time.perf_counter() - start
        with Store(path) as store:
            for config, result in _remote_results(engine, make_batches(configs, 1), workers, run_batch):
                store.write(config, result, "numba", "cpu", "float32")
        return time.perf_counter() - start


def _remote_results(engine: str, batches, workers: int, run_batch):
    """(config, result) pairs of every batch, as each finishes, from loky or a Dask LocalCluster."""
    if engine == "loky":
        from concurrent.futures import as_completed

        from joblib.externals.loky import get_reusable_executor

        executor = get_reusable_executor(max_workers=workers)
        futures = [executor.submit(run_batch, batch, "numba", "cpu", "float32", 1) for batch in batches]
        for future in as_completed(futures):
            yield from future.result()
        executor.shutdown(wait=True)
    elif engine == "dask":
        from distributed import Client, LocalCluster, as_completed

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1") as cluster, Client(cluster) as client:
            futures = [client.submit(run_batch, batch, "numba", "cpu", "float32", 1, pure=False) for batch in batches]
            for future in as_completed(futures):
                yield from future.result()
    else:
        raise ValueError(f"unknown engine {engine!r}; one of {ENGINES}")


def measure(repeats: int, counts: tuple[int, int]) -> dict:
    """{engine: {count: best seconds}} plus the fitted start-up and cost per task."""
    best: dict[str, dict[int, float]] = {engine: {count: float("inf") for count in counts} for engine in ENGINES}
    for _ in range(repeats):  # interleaved, so a change in the machine's load hits every engine alike
        for engine in ENGINES:
            for count in counts:
                out = subprocess.run([sys.executable, "-m", "bench.sweep_engines", "--one", engine, str(count)],
                                     capture_output=True, text=True, check=True)
                best[engine][count] = min(best[engine][count], float(out.stdout.strip().splitlines()[-1]))
    low, high = counts
    fits = {engine: {"startup_s": t[low] - (t[high] - t[low]) / (high - low) * low,
                     "per_task_ms": 1000 * (t[high] - t[low]) / (high - low)} for engine, t in best.items()}
    return {"best_seconds": best, "fit": fits}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--counts", type=int, nargs=2, default=(64, 256))
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(time_engine(args.one[0], int(args.one[1])))
        return 0
    result = measure(args.repeats, tuple(args.counts))
    print(json.dumps(result, indent=2))
    for engine, fit in result["fit"].items():
        print(f"{engine:>10}: start-up {fit['startup_s']:.2f} s, {fit['per_task_ms']:.1f} ms per extra task "
              f"({', '.join(f'{c} runs {t:.2f} s' for c, t in result['best_seconds'][engine].items())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
