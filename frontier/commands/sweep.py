"""Run every run of a grid (a TOML file, see sim/grid.py and examples/) that is not yet in
the results store, writing each finished run at once. Rerunning after a kill resumes;
rerunning after it finished does nothing. Without --scheduler, runs go to a local process
pool; with --scheduler tcp://HOST:PORT, batches go to a Dask distributed cluster and only
this process writes the store.

example: frontier sweep examples/ci_tiny.toml --store runs.sqlite --workers 2
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from frontier.cli import add_backend_arguments

    parser.add_argument("grid", help="grid file (TOML)")
    parser.add_argument("--store", required=True, help="SQLite results store (created if missing)")
    add_backend_arguments(parser)
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: all cores; 1 with --device cuda)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: local pool)")
    parser.add_argument("--batch-runs", type=int, default=None, metavar="N",
                        help="runs per task, trained together (default: automatic)")
    parser.add_argument("--dry-run", action="store_true", help="only print how many runs are pending")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_limit_arguments(parser)


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """--max-runs, --lock-timeout, --lock-wait and --connect-timeout (docs/cli.md, "Limits")."""
    from sim.grid import MAX_GRID_RUNS
    from sim.store import DEFAULT_LOCK_TIMEOUT
    from sim.sweep import DEFAULT_CONNECT_TIMEOUT, DEFAULT_LOCK_WAIT

    parser.add_argument("--max-runs", type=int, default=MAX_GRID_RUNS, metavar="N",
                        help="refuse a grid of more than N runs, counted before any is built "
                             f"(default: {MAX_GRID_RUNS:,})")
    parser.add_argument("--lock-timeout", type=float, default=DEFAULT_LOCK_TIMEOUT, metavar="S",
                        help="seconds one write waits for another process's lock on the store before the run is "
                             f"kept in memory and retried (default: {DEFAULT_LOCK_TIMEOUT:g})")
    parser.add_argument("--lock-wait", type=float, default=DEFAULT_LOCK_WAIT, metavar="S",
                        help="after training, seconds to keep retrying a locked store before giving up "
                             f"(default: {DEFAULT_LOCK_WAIT:g})")
    parser.add_argument("--connect-timeout", type=float, default=DEFAULT_CONNECT_TIMEOUT, metavar="S",
                        help=f"seconds a Dask scheduler has to answer (default: {DEFAULT_CONNECT_TIMEOUT:g})")


def run(args: argparse.Namespace) -> int:
    from sim.grid import load_grid
    from sim.store import check_store_path, run_id, stored_run_ids
    from sim.backends import check_backend
    from sim.sweep import sweep

    if args.max_runs < 1:
        raise ValueError(f"--max-runs {args.max_runs} must be >= 1")
    configs = load_grid(args.grid, max_runs=args.max_runs)
    check_store_path(args.store)
    check_backend(args.backend, args.device, args.dtype, local=args.scheduler is None)
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers} must be >= 1")
    if args.batch_runs is not None and args.batch_runs < 1:
        raise ValueError(f"--batch-runs {args.batch_runs} must be >= 1")
    ids = {run_id(c) for c in configs}
    total = len(ids)

    if args.dry_run:
        stored = stored_run_ids(args.store)  # read-only: a dry run never creates or changes the store
        pending = len(ids - stored)
        print(f"{args.grid}: {total} runs, {total - pending} in {args.store}, {pending} to run")
        return 0

    summary = sweep(
        configs, args.store, backend=args.backend, device=args.device, dtype=args.dtype,
        workers=args.workers, scheduler=args.scheduler, batch_runs=args.batch_runs,
        progress=not args.quiet, description=args.grid, lock_timeout=args.lock_timeout, lock_wait=args.lock_wait,
        connect_timeout=args.connect_timeout,
    )
    if summary.ran == 0:
        print(f"nothing to do: all {summary.total} runs of {args.grid} are in {args.store}")
        return 0
    rate = summary.ran / summary.seconds if summary.seconds > 0 else float("inf")
    print(
        f"ran {summary.ran} runs ({summary.succeeded} succeeded) in {summary.seconds:.1f} s "
        f"({rate:.2f} runs/s); {summary.already} were already in {args.store}; "
        f"{summary.already + summary.ran}/{summary.total} of {args.grid} done"
    )
    sys.stdout.flush()
    return 0
