"""Atomic file output: every file the toolkit writes for a user goes through here.

A file is written to a temporary name in its own folder, flushed to the disk, and renamed onto
its final name only when complete (``os.replace`` is atomic within a file system), so a crash,
``kill -9`` or a full disk leaves the previous file intact, never a truncated one. A process
killed mid-write leaves its hidden temporary file (``.NAME.PID.tmp``) behind; it is never read,
and the next successful write of the same name removes the temporary files of processes that
are no longer running.
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
        _remove_orphans(path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_orphans(path: Path) -> None:
    """Delete ``.NAME.PID.tmp`` siblings whose process is gone (left by a killed writer)."""
    for orphan in path.parent.glob(f".{path.name}.*.tmp"):
        pid = orphan.name[len(path.name) + 2:-len(".tmp")]
        if pid.isdigit() and not _alive(int(pid)):
            orphan.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


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
