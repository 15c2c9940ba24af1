"""Measure the checks' operating characteristics by simulation (docs/verification.md).

  frontier calibrate out/runs.sqlite [--stores 100] [--checks NAME ...] [--json] [--markdown FILE]

Fits the generative model of verify.operating to the store (a probit curve per n, arm and width;
the latent seed correlations, measured and printed), simulates synthetic stores at each check's
design (the demo's cells and seeds) with the claim at its boundary, without an effect and with
the check's stated effect, runs the check on each, and prints per check and scenario the PASS /
FAIL / INCONCLUSIVE rates, the number of stores and the Monte-Carlo error, and whether the
FAIL (or PASS) rate that must stay at most alpha does. Slow checks (init_gradient, retraining-free
but exact; frontier_prediction, a refit per store) get fewer stores (verify.operating.SLOW_STORES).
Exit status 1 when a size requirement is exceeded, else 0.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from verify.checks import CHECK_NAMES
    from verify.operating import DEFAULT_STORES

    parser.add_argument("store", help="SQLite results store to fit the generative model to (e.g. out/runs.sqlite)")
    parser.add_argument("--stores", type=int, default=DEFAULT_STORES,
                        help=f"synthetic stores per scenario (default {DEFAULT_STORES}; slow checks use fewer)")
    parser.add_argument("--checks", nargs="+", metavar="NAME", choices=CHECK_NAMES, default=None,
                        help="only these checks (default: all): " + ", ".join(CHECK_NAMES))
    parser.add_argument("--level", type=float, default=0.99, help="the checks' level (default 0.99)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the simulation (default 0)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--markdown", metavar="FILE", default=None, help="also write the table to FILE (Markdown)")


def run(args: argparse.Namespace) -> int:
    from frontier.cli import CliError
    from sim.files import write_text
    from sim.store import load
    from verify.operating import format_correlations, format_table, operating_characteristics
    from verify.registry import check_cli_level

    check_cli_level(args.level)
    if args.stores < 1:
        raise CliError(f"--stores {args.stores} must be at least 1")
    frame = load(args.store)
    if frame.empty:
        raise CliError(f"store {args.store!r} has no runs: nothing to fit the generative model to")
    say = (lambda message: None) if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    model, rows = operating_characteristics(frame, args.checks, args.stores, args.seed, args.level, progress=say)
    table = format_table(rows)
    checks = " ".join(args.checks) if args.checks else "all"
    text = (f"`frontier calibrate {args.store} --stores {args.stores} --seed {args.seed} --level {args.level:g}` "
            f"(checks: {checks}; {len(frame)} runs in the store)\n\n" + format_correlations(model) + "\n\n" + table)
    if args.markdown:
        write_text(args.markdown, text + "\n")
    if args.json:
        print(json.dumps({"correlations": model.correlations.__dict__, "rows": [r.to_dict() for r in rows]},
                         indent=2))
    else:
        print(text)
    return 0 if all(r.size_ok() for r in rows) else 1
