"""Issue 13, stores: a `runs` table of another schema is one error line (it was a KeyError
traceback in verify/export/figs); stores carry a schema version with an upgrade path; a sweep
never writes into someone else's SQLite file; a store on read-only media can be read; `verify`
cannot pass on a store without usable runs, nor at a level that makes every interval a point;
`frontier info` summarises a store."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cli_contract import one_error_line
import sim.store
from sim.grid import parse_grid
from sim.store import Store, load, read_table, run_id, table_names
from sim.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = """
n = 8
k = 2
width = [8, 16]
samples = [64, "online"]
init = ["dense", "sparse"]
seeds = 2
max_steps = 100
eval_every = 50
test_size = 100
"""
TINY_RUNS = 16




@pytest.fixture
def store(tmp_path):
    path = tmp_path / "runs.sqlite"
    sweep(parse_grid(TINY), path, backend="numpy", workers=1, progress=False)
    return path




def make_sqlite(path: Path, *statements: str) -> Path:
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize("command", [["verify"], ["export", "--out", "{tmp}/x.csv"], ["figs", "--out", "{tmp}/f"],
                                     ["info"]])
def test_a_runs_table_of_another_schema_is_one_error_line(command, cli, tmp_path):
    foreign = make_sqlite(tmp_path / "foreign.sqlite",
                          "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT, score REAL)",
                          "INSERT INTO runs VALUES (1, 'alice', 0.5)")
    before = foreign.read_bytes()
    args = [command[0], foreign] + [a.format(tmp=tmp_path) for a in command[1:]]
    status, _, err = cli(*args)
    assert one_error_line(status, err, "lacks columns"), err
    assert foreign.read_bytes() == before


def test_a_sweep_never_writes_into_someone_elses_database(cli, tmp_path):
    grid = tmp_path / "tiny.toml"
    grid.write_text(TINY)
    other = make_sqlite(tmp_path / "notes.sqlite", "CREATE TABLE notes (body TEXT)",
                        "INSERT INTO notes VALUES ('keep me')")
    before = other.read_bytes()
    for extra in ([], ["--dry-run"]):
        status, _, err = cli("sweep", grid, "--store", other, "--backend", "numpy", "--workers", 1, *extra)
        assert one_error_line(status, err, "without a runs table"), err
    assert other.read_bytes() == before
    # A new file, an empty file and a store holding only lottery-ticket tables are all fine.
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    tickets = make_sqlite(tmp_path / "tickets.sqlite", "CREATE TABLE ticket_experiments (experiment_id TEXT)")
    for path in (tmp_path / "new.sqlite", empty, tickets):
        status, _, err = cli("sweep", grid, "--store", path, "--backend", "numpy", "--workers", 1, "--quiet")
        assert status == 0, err
        assert len(load(path)) == TINY_RUNS


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_stores_carry_a_schema_version_and_old_ones_are_upgraded(store):
    from sim.store import STORE_SCHEMA_VERSION

    assert STORE_SCHEMA_VERSION == 2
    assert user_version(store) == STORE_SCHEMA_VERSION
    # Make it a store as the first version wrote it: no version, no intervention column.
    make_sqlite(store, "ALTER TABLE runs DROP COLUMN intervention", "PRAGMA user_version = 0")
    assert list(load(store)["intervention"].unique()) == ["none"]  # readable as it is
    assert user_version(store) == 0  # and reading did not upgrade it
    config = parse_grid(TINY)[0]
    with Store(store) as writable:
        assert run_id(config) in writable.finished_ids()  # the same ids: resumable
    assert user_version(store) == STORE_SCHEMA_VERSION
    assert "intervention" in {row[1] for row in sqlite3.connect(store).execute("PRAGMA table_info(runs)")}


def test_a_store_of_a_newer_version_is_read_but_not_written(store):
    from sim.store import STORE_SCHEMA_VERSION

    make_sqlite(store, f"PRAGMA user_version = {STORE_SCHEMA_VERSION + 1}")
    before = store.read_bytes()
    assert len(load(store)) == TINY_RUNS
    with pytest.raises(ValueError, match="newer parity-frontier"):
        Store(store)
    assert store.read_bytes() == before


def test_verify_refuses_a_store_without_usable_runs(store, cli, tmp_path):
    empty = tmp_path / "empty.sqlite"
    Store(empty).close()
    status, _, err = cli("verify", empty)
    assert one_error_line(status, err, "no usable runs (no runs)"), err
    make_sqlite(store, "UPDATE runs SET diverged = 1, success = 0")
    status, _, err = cli("verify", store)
    assert one_error_line(status, err, f"{TINY_RUNS} runs, all diverged"), err


@pytest.mark.parametrize("level", ["1e-12", "0.3", "0.99999", "1", "nan"])
def test_verify_and_demo_refuse_a_level_outside_the_sensible_range(level, store, cli, tmp_path):
    status, _, err = cli("verify", store, "--level", level)
    assert one_error_line(status, err, "[0.5, 0.9999]"), err
    status, _, err = cli("demo", "--out", tmp_path / "demo", "--tiny", "--level", level)
    assert one_error_line(status, err, "[0.5, 0.9999]"), err
    assert not (tmp_path / "demo").exists()


def test_info_summarises_a_store(store, cli):
    from sim.store import STORE_SCHEMA_VERSION

    status, out, err = cli("info", store)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"store: {store}") and f"schema version {STORE_SCHEMA_VERSION}" in lines[0]
    assert lines[1] == f"tables: runs ({TINY_RUNS} rows)"
    assert lines[2].startswith(f"runs: {TINY_RUNS} (") and "in 8 cells of 2 setting(s)" in lines[2]
    assert "backends: numpy/cpu/float32 16" in out
    dense = next(line for line in lines if "n=8 k=2 dense" in line)
    assert "8 runs" in dense and "widths 8, 16" in dense and "m 64, online" in dense and "2 seeds" in dense


# --------------------------------------------------------------------------- read-only media

def test_a_store_is_read_when_sqlite_may_not_create_its_shm_file(store, monkeypatch):
    """Read-only media as SQLite sees them: every open that needs the -shm file fails with the
    error it gives there. (Tests may run as root, for whom chmod does not stop writes; the
    next test does the real thing where it can.)"""
    real_connect = sqlite3.connect
    tried = []

    def read_only_media(target, *args, **kwargs):
        tried.append(str(target))
        if "immutable=1" not in str(target):
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real_connect(target, *args, **kwargs)

    expected = load(store)
    monkeypatch.setattr(sim.store.sqlite3, "connect", read_only_media)
    frame = load(store)
    assert frame.equals(expected)
    assert tried[-1].startswith("file:") and "mode=ro" in tried[-1] and "immutable=1" in tried[-1]
    assert table_names(store) == {"runs"}
    assert len(read_table(store, "runs")) == TINY_RUNS


def _unprivileged_prefix() -> list[str] | None:
    """How to run a command as a user who may not write a root-owned folder, or None."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(prefix + [sys.executable, "-c", "import sim.store, pandas"], cwd=ROOT,
                           capture_output=True, timeout=120)
    return prefix if probe.returncode == 0 else None


READER = """
import sys
from pathlib import Path
from sim.store import load
folder = Path(sys.argv[1])
try:
    (folder / "probe").write_text("x")
    sys.exit("the folder is writable: this test would prove nothing")
except PermissionError:
    pass
print(len(load(folder / "runs.sqlite")))
"""


def test_a_store_in_a_read_only_folder_is_readable(store):
    prefix = _unprivileged_prefix()
    if prefix is None:
        pytest.skip("cannot run as a user without write access here (root without setpriv, or this checkout "
                    "is not readable by nobody); the emulated test above covers the fallback")
    folder = Path(tempfile.mkdtemp(prefix="frontier-readonly-"))
    try:
        shutil.copy(store, folder / "runs.sqlite")
        os.chmod(folder / "runs.sqlite", 0o444)
        os.chmod(folder, 0o555)
        process = subprocess.run(prefix + [sys.executable, "-c", READER, str(folder)], cwd=ROOT,
                                 capture_output=True, text=True, timeout=120)
        assert process.returncode == 0, process.stderr
        assert process.stdout.strip() == str(TINY_RUNS)
        assert sorted(os.listdir(folder)) == ["runs.sqlite"]
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)
