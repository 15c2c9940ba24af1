"""Atomic file output: every file the toolkit writes for a user goes through here.

A file is written to a temporary name in its own folder, flushed to the disk, and renamed onto
its final name only when complete (``os.replace`` is atomic within a file system), so a crash,
``kill -9`` or a full disk leaves the previous file intact, never a truncated one. A process
killed mid-write leaves its hidden temporary file (``.NAME.PID.tmp``) behind; it is never read,
and the next successful write of the same name removes the temporary files of processes that
are no longer running.

Only a regular file or a new name is ever replaced (:func:`check_output_path`): a device, a FIFO,
a socket, a folder, a symlink that does not end at a regular file (dangling, a loop, or at a
device), and the ``-wal``, ``-shm`` and ``-journal`` files of an SQLite database beside it are
refused with a ValueError naming the path, before anything is written. A symlink to a regular
file is followed: the file it points to is replaced, the link stays.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Iterator

#: Files SQLite keeps beside a database ``X``: ``X-wal``, ``X-shm``, ``X-journal``. Replacing one
#: of them under a running writer loses its committed transactions.
SQLITE_COMPANION_SUFFIXES: tuple[str, ...] = ("-wal", "-shm", "-journal")
_SQLITE_MAGIC = b"SQLite format 3\x00"


def describe_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in words ("a FIFO (named pipe)", "a directory", ...)."""
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a regular file")):
        if test(mode):
            return words
    return "not a regular file"


def path_kind(path: str | Path) -> str:
    """What ``path`` is, in words, following symlinks: "missing", "a regular file", "a directory",
    "a FIFO (named pipe)", "a character device", "a symlink loop", ... (for errors that say what a
    path given as a file is, instead of "does not exist")."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return "missing"
    except RuntimeError:  # Python < 3.13: a symlink loop
        return "a symlink loop"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        if exc.errno == errno.ENOTDIR:
            return "missing"
        return f"unreadable ({exc.strerror or exc})"
    return describe_kind(mode)


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def sqlite_companion_of(path: str | Path) -> Path | None:
    """The SQLite database whose ``-wal``/``-shm``/``-journal`` file ``path`` would be, if that
    database exists (a regular file with SQLite's header); else None."""
    path = Path(path)
    for suffix in SQLITE_COMPANION_SUFFIXES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            database = path.with_name(path.name[: -len(suffix)])
            if database.is_file() and _is_sqlite(database):
                return database
    return None


def check_output_path(path: str | Path, option: str = "output") -> Path:
    """The file an atomic write of ``path`` replaces: ``path`` itself (absent, or a regular file)
    or, for a symlink to a regular file, the file it points to. ValueError naming ``path`` for a
    path that is not safe to replace (module docstring); ``option`` names it (``--out``)."""
    path = Path(path)
    shown = f"{option} {str(path)!r}"
    try:
        link = path.lstat()
    except FileNotFoundError:
        link = None
    except OSError as exc:  # a loop in a folder of the path, a name too long, ...
        raise ValueError(f"{shown}: {exc.strerror or exc}") from None
    target = path
    if link is not None and stat.S_ISLNK(link.st_mode):
        try:
            target = path.resolve(strict=True)
        except RuntimeError:  # Python < 3.13 reports a loop this way
            raise ValueError(f"{shown} is a symlink loop: give a file name") from None
        except FileNotFoundError:
            raise ValueError(f"{shown} is a symlink to {os.readlink(path)!r}, which does not exist: give a file "
                             "name (the link is not followed to create a file)") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ValueError(f"{shown} is a symlink loop: give a file name") from None
            raise ValueError(f"{shown}: {exc.strerror or exc}") from None
    if not target.parent.is_dir():
        raise ValueError(f"{shown}: folder {str(target.parent)!r} does not exist")
    try:
        mode = target.stat().st_mode if target.exists() else None
    except OSError as exc:
        raise ValueError(f"{shown}: {exc.strerror or exc}") from None
    if mode is not None and not stat.S_ISREG(mode):
        via = f" (the symlink points to {str(target)!r})" if target != path else ""
        raise ValueError(f"{shown} is {describe_kind(mode)}{via}, not a regular file: refusing to replace it; "
                         "give a file name")
    database = sqlite_companion_of(target)
    if database is not None:
        raise ValueError(f"{shown} is the {target.name[len(database.name):]} file of the SQLite database "
                         f"{str(database)!r}: replacing it would lose that store's latest runs; give another file name")
    return target


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed onto ``path`` once the block succeeds and
    removed if it fails. Write the file to the yielded path. ``path`` is checked first
    (:func:`check_output_path`: ValueError before anything is written), and again just before the
    rename, so a device or FIFO put there meanwhile is not replaced either."""
    path = check_output_path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        _flush_to_disk(tmp)
        check_output_path(path)
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
