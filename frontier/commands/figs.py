"""Render every figure a results store has data for, as PNG and PDF, and say which figures
were skipped and why. The figures (paper_figs.STORE_FIGURES) are listed below; the theory
figures need no runs, so they are always drawn.

Exit status: 0 when every figure with data was drawn (a skipped figure is reported on stderr
but is not an error: an empty store gives the theory figures and a list of what is missing);
2 for a store path that does not exist or is not SQLite, or an unknown figure name.

example: frontier figs runs.sqlite --out figs/
"""

from __future__ import annotations

import argparse
import sys


def description() -> str:
    """The --help text: this docstring and one line per figure of the registry (its module's title)."""
    import importlib

    from paper_figs import STORE_FIGURES

    lines = []
    for name, render in STORE_FIGURES.items():
        title = (importlib.import_module(render.__module__).__doc__ or "").strip().splitlines()
        lines.append(f"  {name:<8} {title[0] if title else ''}")
    return f"{__doc__.strip()}\n\nfigures (--only NAME ...):\n" + "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from paper_figs import STORE_FIGURES

    parser.add_argument("store", help="results store (SQLite): runs and/or lottery-ticket tables")
    parser.add_argument("--out", default="figs", help="output directory (default: figs)")
    parser.add_argument("--only", nargs="+", choices=tuple(STORE_FIGURES), default=None, metavar="FIG",
                        help=f"render only these figures ({', '.join(STORE_FIGURES)})")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from paper_figs import STORE_FIGURES
    from paper_figs.common import MissingData
    from sim.store import table_names

    from frontier.cli import check_matplotlib

    table_names(args.store)  # FileNotFoundError / ValueError: exit 2 before drawing anything
    check_matplotlib()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    rendered, skipped = 0, []
    for name in args.only or STORE_FIGURES:
        try:
            paths = STORE_FIGURES[name](args.store, args.out)
        except MissingData as exc:
            skipped.append((name, str(exc)))
            continue
        rendered += len(paths)
        for path in paths:
            print(path)
    for name, reason in skipped:
        sys.stderr.write(f"skipped {name}: {reason}\n")
    print(f"{rendered} files written to {args.out}, {len(skipped)} figure(s) skipped", file=sys.stderr)
    return 0
