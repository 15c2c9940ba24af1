"""Check theory against a results store: the registered checks, each PASS / FAIL / INCONCLUSIVE.

  frontier verify runs.sqlite [--json] [--level 0.99]
  frontier verify --quick            # CI validation run: its own small sweep, then the checks

The checks and their claims are listed by --help's --checks choices and in docs/verification.md
(see verify/checks.py for how each decides). Checks are gates (software correctness: they FAIL only
when the code is wrong) or findings (the paper's claims and the models: a FAIL is a result).
Exit status 1 when a gate FAILs (with --strict: when any check FAILs), else 0; 2 on bad input,
including a store with no usable (non-diverged) runs.
--json prints {"checks": [{"name", "status", "summary", "details", "statements"}, ...]}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from frontier.cli import CliError



def description() -> str:
    """The --help text: this docstring and every registered check with its claim."""
    import textwrap

    from verify.checks import CHECKS

    lines = []
    for name, check in CHECKS.items():
        lines += textwrap.wrap(check.claim, 96, initial_indent=f"  {name:<24} ", subsequent_indent=" " * 27)
    return f"{__doc__.strip()}\n\nchecks (--checks NAME ..., in report order):\n" + "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from frontier.cli import add_backend_arguments
    from verify.checks import CHECK_NAMES

    parser.add_argument("store", nargs="?", help="SQLite results store (from frontier sweep or frontier demo)")
    parser.add_argument("--quick", action="store_true",
                        help="run the CI validation sweep (n=20, k=3, a few hundred small runs: jobs/quick.py) "
                             "into a temporary store (or --keep-store FILE) and check it")
    parser.add_argument("--keep-store", metavar="FILE", default=None,
                        help="with --quick: write the validation runs to FILE (reused if present)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--level", type=float, default=0.99,
                        help="confidence level of every interval, in [0.5, 0.9999] (default: 0.99)")
    parser.add_argument("--checks", nargs="+", metavar="NAME", choices=CHECK_NAMES, default=None,
                        help="run only these checks (default: all): " + ", ".join(CHECK_NAMES))
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when any check FAILs, findings included (default: only a gate's FAIL, "
                             "a software defect, exits 1)")
    add_backend_arguments(parser, device=False, dtype=False)


def format_table(results, level: float) -> str:
    """Plain-text table: one line per check, then its summary indented."""
    from verify.registry import CHECKS

    lines = [f"{'check':<28} {'kind':<8} {'status':<13} numbers (level {level:g})"]
    for r in results:
        lines.append(f"{r.name:<28} {CHECKS[r.name].kind:<8} {r.status:<13} {r.summary}")
    return "\n".join(lines)


def exit_status(results, strict: bool = False) -> int:
    """1 when a gate FAILs (or, ``strict``, any check), else 0."""
    from verify.registry import CHECKS, FAIL

    return 1 if any(r.status == FAIL and (strict or CHECKS[r.name].gate) for r in results) else 0


def require_usable_runs(frame, store: str) -> None:
    """CliError unless the store has a run that did not diverge: a gate pointed at an empty (or the
    wrong) store must not pass green on the theory-only checks."""
    usable = int((~frame["diverged"]).sum()) if len(frame) else 0
    if usable == 0:
        held = "no runs" if frame.empty else f"{len(frame)} runs, all diverged"
        raise CliError(f"store {store!r} has no usable runs ({held}): nothing to check the theory against; "
                       "is it the right store?")


def run(args: argparse.Namespace) -> int:
    from verify.checks import CHECK_NAMES, FAIL, run_checks
    from verify.registry import check_cli_level

    check_cli_level(args.level)
    if args.quick and args.store:
        raise CliError("give either a store or --quick, not both")
    if not args.quick and not args.store:
        raise CliError("give a store (frontier verify runs.sqlite) or --quick")
    if args.keep_store and not args.quick:
        raise CliError("--keep-store only goes with --quick")

    log = (lambda message: None) if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    start = time.perf_counter()
    if args.quick:
        from jobs.quick import QUICK_REDUCTIONS, run_quick

        outcome = run_quick(args.keep_store, level=args.level, backend=args.backend, progress=not args.json, log=log,
                            names=args.checks)
        results = outcome["results"]
        header = (f"quick validation: {outcome['runs']} runs, sweep {outcome['sweep_seconds']:.0f} s, "
                  f"checks {outcome['check_seconds']:.0f} s; reduced: {QUICK_REDUCTIONS}")
    else:
        from sim.store import load

        frame = load(args.store)
        require_usable_runs(frame, args.store)
        names = list(args.checks or CHECK_NAMES)
        done = iter(range(1, len(names) + 1))
        log(f"{len(names)} checks on {len(frame)} runs; thresholds and model fits first (the longest part)...")
        results = run_checks(frame, level=args.level, backend=args.backend, names=args.checks,
                             progress=lambda name: log(f"check {next(done)}/{len(names)} {name} "
                                                       f"({time.perf_counter() - start:.0f} s)"))
        header = f"{args.store}: {len(frame)} runs"
    if args.json:
        print(json.dumps({"checks": [r.to_dict() for r in results]}, indent=2))
    else:
        print(header)
        print(format_table(results, args.level))
        print(f"({time.perf_counter() - start:.0f} s)")
    return exit_status(results, args.strict)
