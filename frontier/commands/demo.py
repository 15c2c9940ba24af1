"""The main job (what `make run` runs): bound table, a CPU-scale frontier sweep, all checks,
the frontier figures and a report.

  frontier demo --out out/

Writes out/runs.sqlite (the sweep of jobs/demo.py's DEMO_GRID, listed below), out/bounds.md,
out/checks.json, out/success.csv, out/m50.csv, out/figs/ and out/report.md.
Rerunning continues from the store: finished runs are not trained again.
Exit status 0 once the report is written, whatever the checks say (a FAIL is listed on stderr
and in the report); use `frontier verify out/runs.sqlite` for an exit status that gates on the checks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from frontier.cli import CliError


def _values(values) -> str:
    values = values if isinstance(values, list) else [values]
    return ", ".join(str(v) for v in values)


def description() -> str:
    """The --help text: this docstring and the demo's grid, part by part, from jobs.demo."""
    from jobs.demo import DEMO_GRID, DEMO_SCALARS
    from sim.grid import grid_configs

    lines, total = [], 0
    for part in DEMO_GRID:
        runs = len(grid_configs({**DEMO_SCALARS, **part}, source="DEMO_GRID"))
        total += runs
        shown = "; ".join(f"{key} {_values(value)}" for key, value in part.items())
        lines.append(f"  {shown} ({runs} runs)")
    scalars = ", ".join(f"{key} {value}" for key, value in DEMO_SCALARS.items())
    return (f"{__doc__.strip()}\n\nthe sweep ({total} runs; {scalars}):\n" + "\n".join(lines)
            + "\n--tiny replaces it by jobs.demo.TINY_GRID (n = 12, seconds).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from frontier.cli import add_backend_arguments

    parser.add_argument("--out", default="out", help="output directory (default: out)")
    parser.add_argument("--level", type=float, default=0.99,
                        help="confidence level of every interval, in [0.5, 0.9999] (default 0.99)")
    add_backend_arguments(parser, device=False, dtype=False)
    parser.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    parser.add_argument("--tiny", action="store_true",
                        help="a seconds-long toy sweep (n=12, jobs.demo.TINY_GRID) instead of the real one: for "
                             "tests of the pipeline")


def run(args: argparse.Namespace) -> int:
    from verify.checks import FAIL
    from verify.registry import check_cli_level
    from jobs.demo import run_demo

    check_cli_level(args.level)
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers {args.workers} must be >= 1")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {args.out!r} exists and is not a directory")
    if not out.parent.is_dir():
        raise CliError(f"--out {args.out!r}: directory {str(out.parent)!r} does not exist")
    from frontier.cli import check_matplotlib

    check_matplotlib()
    outcome = run_demo(out, level=args.level, backend=args.backend, workers=args.workers, tiny=args.tiny,
                       log=lambda message: print(message, file=sys.stderr, flush=True))
    for r in outcome["results"]:
        print(f"{r.name:<24} {r.status:<13} {r.summary}")
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in outcome["timings"].items())
    print(f"report: {outcome['report']} ({outcome['runs']} runs; {timings})")
    failed = [r.name for r in outcome["results"] if r.status == FAIL]
    if failed:
        # A FAIL is a finding of the job, not an error of it: the report says what disagreed.
        # `frontier verify STORE` is the command whose exit status gates on the checks.
        print(f"note: {len(failed)} check(s) FAILed ({', '.join(failed)}): see {outcome['report']}", file=sys.stderr)
    return 0
