"""Summarise a results store: its schema version and tables, how many runs (succeeded, diverged),
which settings they cover (one line per setting: its widths, training-set sizes, seeds and
cells; a store does not record which grid file its runs came from), which backends, package
versions and hosts wrote them, and when. Read-only: works on read-only media.

example: frontier info out/runs.sqlite
"""

from __future__ import annotations

import argparse
from collections import Counter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="SQLite results store")


def _counts(values) -> str:
    """``a 12, b 3``: each distinct value with how many runs have it, most common first."""
    return ", ".join(f"{value} {count}" for value, count in Counter(values).most_common())


def describe_store(path: str) -> list[str]:
    """The lines ``frontier info`` prints."""
    import contextlib
    from pathlib import Path

    from sim.store import connect_read_only, load, schema_version, table_names
    from verify.estimates import format_samples, settings_overview

    tables = sorted(table_names(path))
    size = Path(path).stat().st_size
    lines = [f"store: {path} ({size / 2**20:.2f} MiB, schema version {schema_version(path)})"]
    with contextlib.closing(connect_read_only(path)) as db:
        sizes = {name: db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in tables}
    lines.append("tables: " + (", ".join(f"{name} ({rows} rows)" for name, rows in sizes.items()) or "none"))
    if "runs" not in tables:
        return lines + ["runs: none (no runs table)"]
    frame = load(path)
    overview = settings_overview(frame)
    lines.append(f"runs: {len(frame)} ({int(frame['success'].sum())} succeeded, {int(frame['diverged'].sum())} "
                 f"diverged) in {int(overview['cells'].sum()) if len(overview) else 0} cells of {len(overview)} "
                 "setting(s)")
    if frame.empty:
        return lines
    lines.append(f"finished: {frame['finished_at'].min()} .. {frame['finished_at'].max()} (UTC)")
    lines.append("backends: " + _counts(frame["backend"] + "/" + frame["device"] + "/" + frame["dtype"]))
    lines.append("versions: " + _counts(frame["version"]))
    lines.append("hosts: " + _counts(frame["host"]))
    lines.append("settings:")
    for row in overview.to_dict("records"):
        lines.append(f"  {row['label']}: {row['runs']} runs ({row['successes']} succeeded, "
                     f"{row['diverged']} diverged), "
                     f"max_steps {row['max_steps']}, test_size {row['test_size']}; widths "
                     f"{', '.join(map(str, row['widths']))}; m {format_samples(row['samples'])}; "
                     f"{row['seeds']} seeds; {row['cells']} cells")
    return lines


def run(args: argparse.Namespace) -> int:
    print("\n".join(describe_store(args.store)))
    return 0
