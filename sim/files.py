"""Atomic file output: every file the toolkit writes for a user goes through here.

A file is written to a temporary name in its own folder, flushed to the disk, and renamed onto
its final name only when complete (``os.replace`` is atomic within a file system), so a crash,
``kill -9`` or a full disk leaves the previous file intact, never a truncated one. A process
killed mid-write can leave its hidden temporary file (``.NAME.PID.tmp``) behind; it is never
read, and the next successful write of the same name by the same process id replaces it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed onto ``path`` once the block succeeds and
    removed if it fails. Write the file to the yielded path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        _flush_to_disk(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _flush_to_disk(path: Path) -> None:
    # Without fsync a power cut after the rename can leave the new name pointing at an empty
    # file on some file systems: the data must reach the disk before the name does.
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
