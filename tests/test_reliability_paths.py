"""Issue 25, paths: an output is written atomically only onto a regular file or a new name (a
device, a FIFO, a symlink that does not end at a regular file, a database's -wal/-shm/-journal
file are refused and left as they were); a store is opened only if it is a regular file (a
FIFO used to hang sweep/train/tickets, a device got a -journal file created beside it, and a
directory, FIFO or device was reported as "does not exist")."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import threading

import pytest

from cli_contract import one_error_line
from sim.files import atomic_path, write_text
from sim.store import Store, check_store_path, load

TINY = """
n = 8
k = 2
width = 8
samples = [64, "online"]
seeds = 2
max_steps = 100
eval_every = 50
test_size = 100
"""
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")


def null_device(folder):
    """A character device (major 1, minor 3: what /dev/null is) in our own folder."""
    path = folder / "nulldev"
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return path


# ----------------------------------------------------------------------------- outputs


@ROOT_ONLY
def test_export_onto_a_device_is_refused_and_the_device_stays(cli, store, tmp_path):
    device = null_device(tmp_path)
    status, _, err = cli("export", store, "--out", device, "--format", "csv")
    assert one_error_line(status, err, "character device")
    assert stat.S_ISCHR(os.lstat(device).st_mode)  # it used to become a 7 KB regular file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nulldev", "runs.sqlite"]


def test_export_onto_a_fifo_is_refused_and_the_fifo_stays(cli, store, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    status, _, err = cli("export", store, "--out", fifo, "--format", "csv")
    assert one_error_line(status, err, "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@ROOT_ONLY
def test_a_symlink_to_a_device_is_refused_and_kept(cli, store, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(null_device(tmp_path))
    status, _, err = cli("export", store, "--out", link, "--format", "csv")
    assert one_error_line(status, err, "character device")
    assert link.is_symlink()


def test_a_symlink_loop_or_dangling_symlink_is_one_error_line(cli, store, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere" / "x.csv")
    for target, words in ((loop, "symlink loop"), (dangling, "does not exist")):
        status, _, err = cli("export", store, "--out", target, "--format", "csv")
        assert one_error_line(status, err, words), err  # the loop was `unexpected RuntimeError`
        assert target.is_symlink()
    status, _, err = cli("bounds", "--n", "20", "--k", "3", "--s", "2", "--out", loop)
    assert one_error_line(status, err, "symlink loop")  # it replaced the link with a file
    assert loop.is_symlink()


def test_a_symlink_to_a_regular_file_replaces_the_file_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_the_wal_of_a_store_is_refused_as_an_output(cli, store, tmp_path):
    """The exported store was protected; another store's -wal was not: replacing the -wal of a
    running sweep lost all its committed runs at the next crash."""
    other = tmp_path / "other.sqlite"
    shutil.copy(store, other)
    for suffix in ("-wal", "-shm", "-journal"):
        out = tmp_path / f"other.sqlite{suffix}"
        status, _, err = cli("export", store, "--out", out, "--format", "csv")
        assert one_error_line(status, err, f"{suffix} file of the SQLite database"), err
        assert not out.exists()
    with pytest.raises(ValueError, match="-wal file"):
        with atomic_path(tmp_path / "other.sqlite-wal"):
            pass
    # A name that merely ends like one, with no database beside it, is an ordinary file.
    from sim.files import check_output_path

    assert check_output_path(tmp_path / "notes-wal") == tmp_path / "notes-wal"


def test_atomic_path_rechecks_before_the_rename(tmp_path):
    """A FIFO put at the name while the file was being written is not replaced either."""
    out = tmp_path / "table.txt"
    with pytest.raises(ValueError, match="FIFO"):
        with atomic_path(out) as tmp:
            tmp.write_text("x")
            os.mkfifo(out)
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["table.txt"]


# ----------------------------------------------------------------------------- stores


def _run_with_deadline(function, seconds=20.0):
    """Run ``function`` in a thread; fail (instead of hanging the suite) if it does not return."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "hung (the old behaviour on a FIFO)"
    return outcome


@pytest.mark.parametrize("command", [
    ["sweep", "{grid}", "--store", "{fifo}", "--workers", "1", "--quiet"],
    ["train", "--n", "8", "--k", "2", "--width", "8", "--max-steps", "50", "--store", "{fifo}", "--quiet"],
    ["tickets", "--n", "10", "--k", "2", "--width", "10", "--max-steps", "50", "--store", "{fifo}", "--out", "{tmp}"],
])
def test_a_fifo_as_store_is_refused_at_once(cli, tmp_path, command):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    grid = tmp_path / "grid.toml"
    grid.write_text(TINY)
    args = [a.format(grid=grid, fifo=fifo, tmp=tmp_path / "out") for a in command]
    outcome = _run_with_deadline(lambda: cli(*args))
    status, _, err = outcome["value"]
    assert one_error_line(status, err, "is a FIFO (named pipe)")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@ROOT_ONLY
def test_a_device_as_store_is_refused_and_nothing_is_created_beside_it(cli, tmp_path):
    device = null_device(tmp_path)
    grid = tmp_path / "grid.toml"
    grid.write_text(TINY)
    status, _, err = cli("sweep", grid, "--store", device, "--workers", "1", "--quiet")
    assert one_error_line(status, err, "character device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.toml", "nulldev"]  # no nulldev-journal


def test_readers_say_what_a_non_file_store_or_grid_is(cli, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for path, words in ((folder, "is a directory"), (fifo, "is a FIFO"), (loop, "is a symlink loop")):
        for command in (["info", path], ["verify", path], ["export", path, "--out", tmp_path / "x.csv"],
                        ["sweep", path, "--store", tmp_path / "s.sqlite"]):
            status, _, err = cli(*command)
            assert one_error_line(status, err, words), (command, err)  # was "does not exist"
    with pytest.raises(ValueError, match="symlink loop"):
        load(loop)
    with pytest.raises(ValueError, match="directory"):
        check_store_path(folder)


def test_the_wal_of_a_store_is_not_a_store(store, tmp_path):
    with pytest.raises(ValueError, match="-journal file of the SQLite database"):
        Store(tmp_path / "runs.sqlite-journal")
    assert not (tmp_path / "runs.sqlite-journal").exists()
    with sqlite3.connect(store) as db:  # the store itself is fine
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 4
