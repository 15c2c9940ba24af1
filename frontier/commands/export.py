"""Export a results store (one row per run) to CSV or Parquet, for pandas, R or a
spreadsheet. The Python API is sim.store.load(path) -> pandas.DataFrame.

example: frontier export runs.sqlite --format parquet --out runs.parquet
"""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="SQLite results store written by `frontier sweep`")
    parser.add_argument("--format", choices=["csv", "parquet"], default=None,
                        help="output format (default: from the --out suffix)")
    parser.add_argument("--out", required=True, help="output file")


def run(args: argparse.Namespace) -> int:
    from sim.store import load

    out = Path(args.out)
    fmt = args.format or FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"--out {args.out!r}: cannot tell the format from the suffix; give --format csv|parquet")
    if not out.parent.is_dir():
        raise ValueError(f"--out {args.out!r}: directory {str(out.parent)!r} does not exist")
    frame = load(args.store)
    if fmt == "csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    print(f"wrote {len(frame)} runs x {frame.shape[1]} columns to {out} ({fmt})")
    return 0
