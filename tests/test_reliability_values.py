"""Issue 25, stored values: a store is checked (SQLite's quick_check, the run_id primary key, every
value's type and range) before anything reads or writes it, and refused whole with the run and
column named. At 98c3d10 a NULL success loaded as True, success = 2 and steps_to_success = -5
passed, a runs table without its primary key was counted twice and a sweep into it trained runs
it could not write, a sweep appended to a store with a damaged page, a text width was an
`unexpected TypeError` in verify and fit; and a seed near 2**63 trained and then lost its run."""

from __future__ import annotations

import sqlite3

import pytest

from cli_contract import one_error_line
from sim.config import RunConfig
from sim.store import Store, load, stored_run_ids

TINY = """
n = 8
k = 2
width = [8, 16]
samples = [64, "online"]
seeds = 2
max_steps = 100
eval_every = 50
test_size = 100
"""
MORE = TINY.replace("seeds = 2", "seeds = 3")


def execute(path, *statements):
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def rows(path):
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    finally:
        db.close()


READERS = [["info", "{store}"], ["verify", "{store}"], ["export", "{store}", "--out", "{tmp}/x.csv"],
           ["fit", "{store}", "--no-figures", "--out", "{tmp}/fit"], ["figs", "{store}", "--out", "{tmp}/figs"]]


@pytest.mark.parametrize("change, column", [
    ("UPDATE runs SET success = NULL WHERE success = 0", "success = NULL"),
    ("UPDATE runs SET success = 2 WHERE rowid = 1", "success = 2"),
    ("UPDATE runs SET steps_to_success = -5 WHERE rowid = 2", "steps_to_success = -5"),
    ("UPDATE runs SET width = 'wide' WHERE rowid = 3", "width = 'wide'"),
    ("UPDATE runs SET init = 'dens' WHERE rowid = 3", "init = 'dens'"),
    ("UPDATE runs SET final_test_error = 7.5 WHERE rowid = 4", "final_test_error = 7.5"),
])
def test_a_value_no_sweep_writes_is_refused_by_every_reader_and_the_sweep(cli, store, tmp_path, change, column):
    execute(store, change)
    for command in READERS:
        status, out, err = cli(*[a.format(store=store, tmp=tmp_path) for a in command])
        assert one_error_line(status, err, column), (command, out, err)
        assert "run '" in err and "unexpected" not in err
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(ValueError, match=column):
        load(store)
    grid = tmp_path / "more.toml"
    grid.write_text(MORE)
    status, _, err = cli("sweep", grid, "--store", store, "--workers", "1", "--quiet")
    assert one_error_line(status, err, column)
    assert rows(store) == 8  # nothing trained, nothing appended


def test_a_runs_table_without_its_primary_key_is_refused_before_training(cli, store, tmp_path):
    execute(store, "CREATE TABLE copy AS SELECT * FROM runs", "INSERT INTO copy SELECT * FROM runs",
            "DROP TABLE runs", "ALTER TABLE copy RENAME TO runs")
    status, _, err = cli("info", store)
    assert one_error_line(status, err, "no primary key on run_id")  # was: 16 runs, each counted twice
    grid = tmp_path / "more.toml"
    grid.write_text(MORE)
    status, _, err = cli("sweep", grid, "--store", store, "--workers", "1", "--quiet")
    assert one_error_line(status, err, "no primary key")  # was: trained, could not write, "rerun to resume"
    assert "rerun" not in err
    with pytest.raises(ValueError, match="appears 2 times"):
        stored_run_ids(store)


def test_a_damaged_page_is_refused_by_the_sweep_as_by_the_readers(cli, store, tmp_path):
    """The sweep used to append to such a store and exit 0 while every reader refused it."""
    columns = ", ".join(["hex(randomblob(16))"] + [c for c in cols(store) if c != "run_id"])
    execute(store, *[f"INSERT INTO runs SELECT {columns} FROM runs" for _ in range(4)])  # 128 rows: several pages
    execute(store, "PRAGMA wal_checkpoint(TRUNCATE)")
    db = sqlite3.connect(store)
    first_leaf, last_leaf = db.execute("SELECT min(pageno), max(pageno) FROM dbstat WHERE name = 'runs' "
                                       "AND pagetype = 'leaf'").fetchone()
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    assert first_leaf < last_leaf  # the damage goes in a page the sweep's own queries skip
    with open(store, "r+b") as handle:
        handle.seek(first_leaf * page_size - 600)  # record bytes at the end of the first leaf
        handle.write(b"\xff" * 400)
    grid = tmp_path / "more.toml"
    grid.write_text(MORE)
    status, _, err = cli("sweep", grid, "--store", store, "--workers", "1", "--quiet")
    assert one_error_line(status, err, "integrity check"), err
    status, _, err = cli("info", store)
    assert one_error_line(status, err, "is damaged")


def cols(path):
    db = sqlite3.connect(path)
    try:
        return [row[1] for row in db.execute("PRAGMA table_info(runs)")]
    finally:
        db.close()


def test_an_intact_store_still_loads_and_resumes(store, tmp_path):
    assert len(load(store)) == 8
    with Store(store) as writable:
        assert len(writable) == 8


# ----------------------------------------------------------------------------- integer range


def test_seeds_are_validated_to_the_stores_integer_range(cli, tmp_path):
    RunConfig(n=8, k=2, width=8, seed=2**63 - 1)  # the largest storable seed is fine
    with pytest.raises(ValueError, match=r"seed=9223372036854775808 must be at most 2\*\*63 - 1"):
        RunConfig(n=8, k=2, width=8, seed=2**63)
    store = tmp_path / "s.sqlite"
    status, out, err = cli("train", "--n", "8", "--k", "2", "--width", "8", "--max-steps", "50", "--test-size", "100",
                           "--seeds", "2", "--first-seed", str(2**63 - 1), "--store", store, "--quiet")
    assert one_error_line(status, err, "--first-seed"), err  # was: trained both, stored one, `unexpected OverflowError`
    assert not store.exists()
    grid = tmp_path / "g.toml"
    grid.write_text(TINY.replace("seeds = 2", f"seeds = {{start = {2**63 - 1}, count = 2}}"))
    status, _, err = cli("sweep", grid, "--store", store, "--dry-run")
    assert one_error_line(status, err, "seeds"), err
