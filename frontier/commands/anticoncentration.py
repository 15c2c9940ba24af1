"""Anti-concentration of random dense neurons (docs/theory_for_proofs.md; the obstacle the paper
names to a theorem for dense init): an exact per-neuron census of |ghat(T)| for |T| = k - 1 and of
the best Fourier gap among r neurons, as n grows, with distribution-free bands.

Each drawn neuron is an exactly defined rational object (weights on a grid of --grid levels per
unit of 1/sqrt(n), the simulator's U(-1/sqrt(n), 1/sqrt(n)) law discretised; see
theory/anticoncentration.py), and its coefficients are computed exactly.

example: frontier anticoncentration --n 10 20 30 50 --k 3 --neurons 1000 --figure figs/
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, nargs="+", default=[10, 20, 30, 50], metavar="N",
                        help="input dimensions (default 10 20 30 50)")
    parser.add_argument("--k", type=int, default=3, help="parity degree (default 3)")
    parser.add_argument("--neurons", type=int, default=200, help="neurons drawn per n (default 200)")
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 10, 100], metavar="R",
                        help="r for the median best gap among r neurons (default 1 10 100)")
    parser.add_argument("--grid", type=int, default=8, help="weight grid levels (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="draw seed (default 0)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown", help="default: markdown")
    parser.add_argument("--out", default=None, metavar="FILE", help="write the table to FILE instead of stdout")
    parser.add_argument("--figure", default=None, metavar="DIR", help="also draw theory_anticoncentration in DIR")


def _cell(value) -> str:
    return "" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def render(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"rows": rows}, indent=2) + "\n"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from frontier.cli import CliError
    from theory.anticoncentration import anticoncentration_table

    if args.neurons < 10 or args.neurons > 100_000:
        raise CliError(f"--neurons {args.neurons} must lie in [10, 100000]")
    if min(args.n) <= args.k:
        raise CliError(f"every --n must exceed --k = {args.k}")
    out = Path(args.out) if args.out else None
    if out is not None:
        from sim.files import check_output_path

        check_output_path(out, "--out")  # a device, a FIFO, a missing folder: before the census
    if args.figure:
        from frontier.cli import check_matplotlib

        check_matplotlib()
    rows = anticoncentration_table(args.n, args.k, args.neurons, args.widths, args.grid, args.seed)
    text = render(rows, args.format)
    if out is None:
        print(text, end="")
    else:
        from sim.files import write_text

        write_text(out, text)
        print(f"wrote {len(rows)} rows to {out}")
    if args.figure:
        from paper_figs.theory_figs import render_anticoncentration

        for path in render_anticoncentration(rows, args.figure):
            print(path)
    return 0
