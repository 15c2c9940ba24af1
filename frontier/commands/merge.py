"""Merge results stores (one per cluster job, say) into one new store: each run id once.

Every input is opened read-only and never changed; each is checked as every reader checks a store
(SQLite's integrity check, the runs table's columns and values) and each run's id must be the hash
of its configuration. A run found in several inputs is written once. If two inputs hold one run
with different outcomes (success, steps, errors, divergence: the same run trained twice gives the
same outcome on the same backend), the merge lists the conflicts and writes nothing, unless
--on-conflict first keeps the row of the first input that has it. --where keeps only the runs a
selector picks (the `frontier fit` selector language), which is also how runs are dropped.
OUT must not exist: it is written under a temporary name beside it and renamed into place when
complete, so an interrupted merge leaves nothing half-written. Only the runs table is merged
(ticket_* tables of `frontier tickets` are not).

example: frontier merge all.sqlite job1.sqlite job2.sqlite job3.sqlite
         frontier merge small.sqlite all.sqlite --where "width <= 64 and init == sparse"
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help="the merged store to write (a new file)")
    parser.add_argument("inputs", nargs="+", metavar="IN", help="stores to merge, read-only")
    parser.add_argument("--where", default=None, metavar="SELECTOR",
                        help="keep only the runs this selector picks, e.g. \"n <= 30 and init == sparse\" "
                             "(clauses FIELD OP VALUE joined by 'and', as for frontier fit)")
    parser.add_argument("--on-conflict", choices=("refuse", "first"), default="refuse",
                        help="a run id with different outcomes in two inputs: refuse to merge (default) or keep "
                             "the first input's row")


def run(args: argparse.Namespace) -> int:
    import sys

    from sim.store import merge_stores
    from verify.prediction import parse_selector

    keep = parse_selector(args.where) if args.where else None  # a bad selector fails before any store is read
    summary = merge_stores(args.out, args.inputs, keep=keep, on_conflict=args.on_conflict)
    for conflict in summary.conflicts:
        print(f"conflict, first input's row kept: {conflict.describe()}", file=sys.stderr)
    read = " + ".join(str(count) for _, count in summary.inputs)
    dropped = f", {summary.filtered_out} left out by --where" if args.where else ""
    print(f"wrote {summary.written} runs to {args.out} from {len(summary.inputs)} stores ({read} runs read; "
          f"{summary.duplicates} duplicates, {len(summary.conflicts)} with different outcomes{dropped})")
    return 0
