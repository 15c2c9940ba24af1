"""Atomic file output: every file the toolkit writes for a user goes through here.

A file is written to a temporary name in its own folder and renamed onto its final name
only when complete (``os.replace`` is atomic within a file system), so a crash, ``kill -9``
or a full disk leaves the previous file intact, never a truncated one.
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
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
