"""Export a results store (one row per run) to CSV or Parquet, for pandas, R or a
spreadsheet. The Python API is sim.store.load(path) -> pandas.DataFrame.

The file is written atomically (a temporary file renamed into place), so an interrupted export
leaves the previous file as it was. --out may not be the store itself (or any SQLite database),
and its suffix must agree with --format.

--where keeps only the runs a selector picks (the `frontier fit` selector language: clauses
FIELD OP VALUE joined by "and").

example: frontier export runs.sqlite --format parquet --out runs.parquet
         frontier export runs.sqlite --out sparse.csv --where "init == sparse and width >= 32"
"""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_SQLITE_MAGIC = b"SQLite format 3\x00"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="SQLite results store written by `frontier sweep`")
    parser.add_argument("--format", choices=["csv", "parquet"], default=None,
                        help="output format (default: from the --out suffix)")
    parser.add_argument("--out", required=True, help="output file (.csv, .parquet or .pq)")
    parser.add_argument("--where", default=None, metavar="SELECTOR",
                        help="export only the runs this selector picks, e.g. \"n == 30 and samples == online\" "
                             "(clauses FIELD OP VALUE joined by 'and', as for frontier fit)")


def output_format(out: Path, requested: str | None) -> str:
    """The format to write: ``requested`` or the suffix's; ValueError when they disagree or neither says."""
    from_suffix = FORMATS.get(out.suffix.lower())
    if requested is None:
        if from_suffix is None:
            raise ValueError(f"--out {str(out)!r}: cannot tell the format from the suffix; give --format csv|parquet")
        return from_suffix
    if from_suffix is not None and from_suffix != requested:
        raise ValueError(f"--out {str(out)!r} has a {from_suffix} suffix but --format is {requested}: "
                         f"name the file {out.with_suffix('.' + requested).name} or drop --format")
    return requested


def check_output_path(out: Path, store: Path) -> None:
    """Refuse an --out that would destroy data: the store itself (by any name), another database,
    or anything :func:`sim.files.check_output_path` refuses (a device, a FIFO, a symlink that
    does not end at a regular file, a database's -wal/-shm/-journal file)."""
    from sim.files import check_output_path as check_file

    check_file(out, "--out")
    store_files = [Path(f"{store}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]
    if out.exists() and any(f.exists() and out.samefile(f) for f in store_files) \
            or out.resolve() in {f.resolve() for f in store_files}:
        raise ValueError(f"--out {str(out)!r} is the store being exported: give another file name")
    if out.is_file():
        with open(out, "rb") as handle:
            if handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC:
                raise ValueError(f"--out {str(out)!r} is an SQLite database: refusing to overwrite it with an export")


def run(args: argparse.Namespace) -> int:
    from sim.files import atomic_path
    from sim.store import check_existing_store, load

    out, store = Path(args.out), Path(args.store)
    fmt = output_format(out, args.format)
    check_existing_store(store)
    check_output_path(out, store)
    select = None
    if args.where:
        from verify.prediction import parse_selector

        select = parse_selector(args.where)  # a bad selector fails before the store is read
    frame = load(store)
    if select is not None:
        frame = frame[select(frame)].reset_index(drop=True)
    try:
        with atomic_path(out) as tmp:
            if fmt == "csv":
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False)
    except OSError as exc:  # a full disk, a folder we may not write: say which file, and that nothing changed
        raise OSError(exc.errno, f"cannot write --out {str(out)!r}: {exc.strerror or exc}; "
                                 f"{'the old file is unchanged' if out.exists() else 'nothing was written'}") from None
    print(f"wrote {len(frame)} runs x {frame.shape[1]} columns to {out} ({fmt})")
    return 0
