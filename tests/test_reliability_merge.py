"""Issue 25: `frontier merge OUT IN...` (one store per cluster job into one; runs de-duplicated by
run id, conflicting outcomes refused, inputs untouched, the store checks of every reader) and
`frontier export --where`. Neither existed at 98c3d10."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3

import pandas as pd
import pytest

from cli_contract import one_error_line
from sim.grid import parse_grid
from sim.store import load, run_id
from sim.sweep import sweep

GRID = """
n = 8
k = 2
width = [8, 16]
samples = [64, "online"]
init = ["dense", "sparse"]
seeds = 3
max_steps = 100
eval_every = 50
test_size = 100
"""
VOLATILE = ["wall_seconds", "finished_at", "host"]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Two overlapping partial stores of one grid, and the uninterrupted sweep of all of it."""
    folder = tmp_path_factory.mktemp("merge")
    configs = parse_grid(GRID)
    assert len(configs) == 24
    paths = {name: folder / f"{name}.sqlite" for name in ("a", "b", "whole")}
    sweep(configs[:10], paths["a"], backend="numpy", workers=1, progress=False)
    sweep(configs[6:], paths["b"], backend="numpy", workers=1, progress=False)
    sweep(configs, paths["whole"], backend="numpy", workers=1, progress=False)
    return paths


@pytest.fixture
def inputs(stores, tmp_path):
    copies = []
    for name in ("a", "b"):
        shutil.copy(stores[name], tmp_path / f"{name}.sqlite")
        copies.append(tmp_path / f"{name}.sqlite")
    return copies


def fingerprint(folder):
    return {p.name: (hashlib.md5(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def outcomes(path):
    return load(path).drop(columns=VOLATILE).sort_values("run_id").reset_index(drop=True)


def test_merging_two_partial_stores_gives_the_uninterrupted_sweep(cli, stores, inputs, tmp_path):
    before = fingerprint(tmp_path)
    out = tmp_path / "merged.sqlite"
    status, stdout, err = cli("merge", out, *inputs)
    assert status == 0, err
    assert stdout.startswith("wrote 24 runs to") and "(10 + 18 runs read; 4 duplicates, 0 with different" in stdout
    after = fingerprint(tmp_path)
    assert {name: after[name] for name in before} == before  # inputs untouched, nothing created beside them
    assert set(after) - set(before) == {"merged.sqlite"}
    pd.testing.assert_frame_equal(outcomes(out), outcomes(stores["whole"]))
    status, stdout, _ = cli("sweep", _grid(tmp_path), "--store", out, "--dry-run")
    assert "24 in" in stdout and "0 to run" in stdout


def _grid(folder):
    path = folder / "grid.toml"
    path.write_text(GRID)
    return path


def test_conflicting_outcomes_are_refused_unless_told(cli, inputs, tmp_path):
    a, b = inputs
    shared = sorted(set(load(a)["run_id"]) & set(load(b)["run_id"]))[0]
    with sqlite3.connect(b) as db:
        db.execute("UPDATE runs SET final_test_error = 0.4321 WHERE run_id = ?", (shared,))
    out = tmp_path / "merged.sqlite"
    status, _, err = cli("merge", out, a, b)
    assert one_error_line(status, err, f"run {shared}: final_test_error = ")
    assert "0.4321" in err and "nothing written" in err
    assert not out.exists()
    status, stdout, err = cli("merge", out, a, b, "--on-conflict", "first")
    assert status == 0 and "1 with different outcomes" in stdout
    assert "conflict, first input's row kept" in err
    merged = load(out).set_index("run_id")
    assert merged.loc[shared, "final_test_error"] == load(a).set_index("run_id").loc[shared, "final_test_error"]


def test_a_row_edited_by_hand_or_a_damaged_input_is_refused(cli, inputs, tmp_path):
    a, b = inputs
    with sqlite3.connect(b) as db:  # a valid value, but no longer the run the id names
        db.execute("UPDATE runs SET width = 9 WHERE rowid = 1")
    status, _, err = cli("merge", tmp_path / "m.sqlite", a, b)
    assert one_error_line(status, err, "does not have the id of its configuration")
    with sqlite3.connect(b) as db:
        db.execute("UPDATE runs SET success = 3 WHERE rowid = 2")
    status, _, err = cli("merge", tmp_path / "m.sqlite", a, b)
    assert one_error_line(status, err, "success = 3")
    assert not (tmp_path / "m.sqlite").exists()


def test_bad_outputs_and_selectors_are_one_line_and_write_nothing(cli, inputs, tmp_path):
    a, b = inputs
    for args, words in (([a, b], "exists"), ([tmp_path / "new.sqlite", a, "--where", "n <= 30 or True"], "'and' only"),
                        ([tmp_path / "new.sqlite", a, "--where", "init < 5"], "init is text"),
                        ([tmp_path / "new.sqlite", tmp_path / "missing.sqlite"], "does not exist"),
                        ([tmp_path / "a.sqlite-wal", b], "-wal file")):
        status, _, err = cli("merge", *args)
        assert one_error_line(status, err, words), (args, err)
    assert not (tmp_path / "new.sqlite").exists()


def test_where_keeps_the_selected_runs_in_merge_and_export(cli, stores, inputs, tmp_path):
    out = tmp_path / "sparse.sqlite"
    status, stdout, err = cli("merge", out, *inputs, "--where", "init == sparse and width >= 16")
    assert status == 0, err
    merged = load(out)
    whole = load(stores["whole"])
    expected = whole[(whole["init"] == "sparse") & (whole["width"] >= 16)]
    assert sorted(merged["run_id"]) == sorted(expected["run_id"]) and len(merged) == 6
    csv = tmp_path / "online.csv"
    status, stdout, err = cli("export", stores["whole"], "--out", csv, "--where", "samples == online and k == 2")
    assert status == 0 and stdout.startswith("wrote 12 runs"), err
    assert pd.read_csv(csv)["samples"].isna().all()
    status, _, err = cli("export", stores["whole"], "--out", tmp_path / "x.csv", "--where", "width in 8")
    assert one_error_line(status, err, "'in' takes a list")
    assert not (tmp_path / "x.csv").exists()


def test_the_api_merges_with_a_filter_function(stores, tmp_path):
    from sim.store import merge_stores

    summary = merge_stores(tmp_path / "m.sqlite", [stores["a"], stores["b"]],
                           keep=lambda frame: (frame["width"] == 8).to_numpy())
    assert summary.written == 12  # the width-8 half of the 24 runs
    assert summary.written + summary.duplicates + summary.filtered_out == 10 + 18
    assert all(run_id(c) in set(load(tmp_path / "m.sqlite")["run_id"])
               for c in parse_grid(GRID) if c.width == 8)
    assert not any(name.endswith(("-wal", "-shm")) for name in os.listdir(tmp_path))
