"""Bound tables: lottery-ticket odds, Fourier gaps and the SQ frontier, one row per (n, k, s).

Exact theory from `theory/` (docs/science.md 4.1-4.4; the columns are described in
theory/tables.py and docs/cli.md). For every combination of --n, --k and --s one row.
With b = 0 and odd k the relevant coefficient of an odd-s ticket is exactly 0: try --bias 1.

With --symbolic the table is closed forms in n (each row says for which n they hold); it uses
--steps (T, a symbol when left out) and --success-probability, and refuses --n, --bias and
--confidence, which its columns do not depend on.

example: frontier bounds --n 50 100 --k 3 4 --s 2 4 8 --bias 1 --format latex --out bounds.tex
         frontier bounds --symbolic --k 3 4 --s 2 [--steps 100000] [--format latex]
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

def description() -> str:
    """The --help text: this module's docstring and every column of the table."""
    from theory.tables import COLUMN_HELP

    return f"{__doc__.strip()}\n\ncolumns:\n{COLUMN_HELP}"


def _exact_argument(text: str, option: str) -> Fraction:
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{option} must be a number like 0.99 or 99/100, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from theory.tables import FORMATS

    parser.add_argument("--n", type=int, nargs="+", default=None, metavar="N",
                        help="input sizes n (one or more; not with --symbolic, where n is a symbol)")
    parser.add_argument("--k", type=int, nargs="+", required=True, metavar="K", help="parity degrees k (one or more)")
    parser.add_argument("--s", type=int, nargs="+", required=True, metavar="S",
                        help="support sizes s of the s-hot neurons (one or more)")
    # None marks "not given": --symbolic refuses --bias and --confidence rather than ignore them.
    parser.add_argument("--bias", default=None, metavar="B",
                        help="neuron bias b, exact: 0, 1, 1/2, 0.25 (default: 0; see the note on odd k above)")
    parser.add_argument("--confidence", default=None, metavar="C",
                        help="target probability of at least one ticket, in (0,1), for width_for_confidence "
                             "(default: 0.99)")
    parser.add_argument("--steps", type=int, default=None, metavar="T",
                        help="SGD steps T for sq_min_samples (default: 100000, the paper's budget; with --symbolic "
                             "a symbol T)")
    parser.add_argument("--success-probability", default="1/2", metavar="Q",
                        help="success probability q for sq_min_samples, in (0,1] (default: 1/2)")
    parser.add_argument("--format", choices=FORMATS, default="markdown",
                        help="output table format (default: markdown); json is {\"rows\": [...]}")
    parser.add_argument("--out", metavar="FILE", default=None, help="write the table to FILE instead of stdout")
    parser.add_argument("--symbolic", action="store_true",
                        help="closed forms in n instead of numbers: p(n), r*(n) and its leading term, the SQ "
                             "budget and the SQ samples at r* (plain text, or LaTeX with --format latex)")


def run(args: argparse.Namespace) -> int:
    from theory import tables

    success_probability = _exact_argument(args.success_probability, "--success-probability")
    if not 0 < success_probability <= 1:
        raise ValueError(f"--success-probability must lie in (0, 1], got {success_probability}")
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    out = Path(args.out) if args.out else None
    if out is not None:
        from sim.files import check_output_path

        check_output_path(out, "--out")  # a device, a FIFO, a symlink loop, a missing folder: refused first
    # Everything is computed before anything is written, so bad input never truncates --out.
    if args.symbolic:
        from theory.symbolic import symbolic_table

        if args.n is not None:
            raise ValueError("--symbolic takes n as a symbol: leave out --n")
        if args.bias is not None:
            raise ValueError("--symbolic has no column that depends on the bias (the gap does not depend on n): "
                             "leave out --bias, or drop --symbolic for the numeric table")
        if args.confidence is not None:
            raise ValueError("--symbolic has no width_for_confidence column: leave out --confidence, or drop "
                             "--symbolic for the numeric table")
        if args.format not in ("markdown", "latex"):
            raise ValueError(f"--symbolic prints plain text or LaTeX, not --format {args.format}")
        rows = [None] * (len(args.k) * len(args.s))
        text = symbolic_table(args.k, args.s, fmt="latex" if args.format == "latex" else "plain",
                              steps=args.steps, success_probability=success_probability)
    else:
        if args.n is None:
            raise ValueError("give --n (or --symbolic for closed forms in n)")
        confidence = _exact_argument("0.99" if args.confidence is None else args.confidence, "--confidence")
        steps = 10**5 if args.steps is None else args.steps
        rows = tables.bound_rows(args.n, args.k, args.s, "0" if args.bias is None else args.bias, confidence, steps,
                                 success_probability)
        settings = (f"(confidence c = {confidence}; SQ: T = {steps} steps, success probability q = "
                    f"{success_probability}, params P = critical_width*(n+2))")
        text = tables.render(rows, args.format, settings)
    if out is None:
        print(text, end="")
    else:
        from sim.files import write_text

        write_text(out, text)
        print(f"wrote {len(rows)} rows to {out} ({args.format})")
    return 0
