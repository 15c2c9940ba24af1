"""Render every figure a results store has data for, as PNG and PDF, and say which figures
were skipped and why.

Figures: fig1 (success heatmap over m and width, dense vs sparse, with the 50% frontier),
fig2 (success fraction and steps to convergence vs m, per width), fig4 (every (n, k, init)
cell as a small heatmap), fig5 (lottery tickets, from the tables `frontier tickets --store`
writes), theory (Fourier levels, ticket odds, SQ frontier with the store's m_50 overlaid).
The theory figures need no runs, so they are always drawn.

Exit status: 0 when every figure with data was drawn (a skipped figure is reported on stderr
but is not an error: an empty store gives the theory figures and a list of what is missing);
2 for a store path that does not exist or is not SQLite, or an unknown figure name.

example: frontier figs runs.sqlite --out figs/
"""

from __future__ import annotations

import argparse
import sys


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

    table_names(args.store)  # FileNotFoundError / ValueError: exit 2 before drawing anything
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
