"""sim.store: run ids, the SQLite schema, crash-safe single-row writes, load()."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sqlite3

import pandas as pd
import pytest

from sim.config import CONFIG_FIELDS, FIELD_SPECS, RESULT_FIELDS, RunConfig, RunResult
from sim.store import COLUMNS, Store, configs_of, hashed_fields, load, run_id

BASE = RunConfig(n=30, k=3, width=1000, samples=2000, init="sparse", seed=5)
RESULT = RunResult(success=True, steps_to_success=300, steps_run=300, final_test_error=0.05,
                   final_train_error=0.0, diverged=False, wall_seconds=1.5)


def test_run_id_is_pinned_so_old_stores_keep_resuming():
    # A change here re-keys every stored run: bump RUN_ID_SCHEME deliberately, never by accident.
    assert run_id(BASE) == run_id(RunConfig(**BASE.to_dict()))
    config = RunConfig(n=30, k=3, width=1000)
    v1_fields = {name: value for name, value in config.to_dict().items() if FIELD_SPECS[name].since == 1}
    documented = json.dumps(["parity-frontier/RunConfig/v1", v1_fields], sort_keys=True, separators=(",", ":"))
    assert run_id(config) == hashlib.sha256(documented.encode()).hexdigest()[:32]
    assert run_id(config) == "14e51af54c01899ee6beecc2750bafd2"


# Ids written by the code before the RunConfig schema redesign (commit db48bee): stores
# written then must resume unchanged.
PINNED_IDS = {
    RunConfig(n=20, k=3, width=64, samples=250, init="sparse", seed=3): "baa53c75eefd74013854675d0a647c8f",
    RunConfig(n=30, k=3, width=512, init="dense", max_steps=10000, test_size=2000): "89e2455f140da3835a729f0e8a6a5e3d",
    RunConfig(n=50, k=4, width=10, samples=1000, init="sparse", sparsity=4, sparse_values="sign", loss="square",
              lr=0.05, seed=11): "3be0c0e59fa5851f3fc493825d3eb233",
}


def test_run_ids_of_existing_stores_are_unchanged():
    assert {config: run_id(config) for config in PINNED_IDS} == PINNED_IDS


def test_a_field_added_later_is_hashed_only_away_from_its_default():
    """The rule at RUN_ID_SCHEME: ``intervention`` (added after v1) at its default "none" leaves
    every id as it was; any other value gives a new id."""
    for config, pinned in PINNED_IDS.items():
        assert config.intervention == "none" and run_id(config) == pinned
        assert "intervention" not in hashed_fields(config)
        moved = config.replace(intervention="plant_control")
        assert hashed_fields(moved)["intervention"] == "plant_control" and run_id(moved) != pinned


def test_a_store_from_before_a_field_existed_is_upgraded_and_resumes(tmp_path):
    path = tmp_path / "old.sqlite"
    config = next(iter(PINNED_IDS))
    with Store(path) as store:
        store.write(config, RESULT, "numpy", "cpu", "float64")
    db = sqlite3.connect(path)  # make it the pre-intervention format
    db.execute("ALTER TABLE runs DROP COLUMN intervention")
    db.commit()
    db.close()
    frame = load(path)  # read-only: the missing column is its default
    assert list(frame["intervention"]) == ["none"] and list(frame.columns) == list(COLUMNS)
    with Store(path) as store:
        assert store.finished_ids() == {PINNED_IDS[config]}
        assert not store.write(config, RESULT, "numpy", "cpu", "float64")  # same id: already stored
        assert store.write(config.replace(intervention="plant_ticket"), RESULT, "numpy", "cpu", "float64")
    assert sorted(load(path)["intervention"]) == ["none", "plant_ticket"]


def test_a_dense_run_has_one_id_whatever_sparse_only_fields_it_was_given():
    from sim.grid import grid_configs

    planted = RunConfig(n=20, k=3, width=64, samples=250, init="dense", sparsity=4, sparse_values="sign", seed=2)
    from_grid = grid_configs({"n": 20, "k": 3, "width": 64, "samples": 250, "init": ["dense", "sparse"],
                              "sparsity": 4, "sparse_values": "sign", "seeds": [2]})
    dense = [c for c in from_grid if c.init == "dense"]
    assert len(dense) == 1 and run_id(planted) == run_id(dense[0])
    assert (planted.sparsity, planted.sparse_values) == (2, "uniform")


def test_run_id_changes_with_every_field():
    changed = {
        "n": 31, "k": 4, "width": 999, "samples": None, "init": "dense", "sparsity": 3,
        "sparse_values": "sign", "loss": "square", "lr": 0.2, "weight_decay": 0.0, "batch_size": 16,
        "max_steps": 10, "eval_every": 10, "test_size": 100, "target_error": 0.2, "seed": 6,
        "intervention": "plant_ticket", "target": "sparse_majority",
    }
    # a target parameter is read only with its target: changed together with it (two distinct ids)
    together = {"label_noise": {"target": "noisy_parity", "label_noise": 0.1},
                "tasks": {"target": "multitask_parity", "tasks": 2}}
    assert set(changed) | set(together) == set(CONFIG_FIELDS)
    ids = {run_id(BASE)} | {run_id(BASE.replace(**{name: value})) for name, value in changed.items()}
    ids |= {run_id(BASE.replace(**changes)) for changes in together.values()}
    assert len(ids) == len(CONFIG_FIELDS) + 1


def test_schema_wal_and_round_trip(tmp_path):
    path = tmp_path / "runs.sqlite"
    online = BASE.replace(samples=None, seed=1)
    diverged = RunResult(success=False, steps_to_success=None, steps_run=100, final_test_error=math.nan,
                         final_train_error=None, diverged=True, wall_seconds=0.1)
    with Store(path) as store:
        assert store.write(BASE, RESULT, "numpy", "cpu", "float64")
        assert store.write(online, diverged, "numpy", "cpu", "float64")
        assert not store.write(BASE, dataclasses.replace(RESULT, steps_run=7), "torch", "cuda", "float32")
        assert len(store) == 2
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [row[1] for row in db.execute("PRAGMA table_info(runs)")] == list(COLUMNS)
    assert [row[1] for row in db.execute("PRAGMA table_info(runs)") if row[5]] == ["run_id"]  # primary key
    db.close()

    frame = load(path).set_index("run_id")
    first = frame.loc[run_id(BASE)]
    assert {name: first[name] for name in CONFIG_FIELDS} == BASE.to_dict()
    assert {name: first[name] for name in RESULT_FIELDS} == RESULT.to_dict()  # first write kept
    assert (first["backend"], first["device"], first["dtype"]) == ("numpy", "cpu", "float64")
    assert first["version"] and first["finished_at"].endswith("+00:00")
    second = frame.loc[run_id(online)]
    assert second["samples"] is pd.NA and second["steps_to_success"] is pd.NA
    assert math.isnan(second["final_test_error"]) and math.isnan(second["final_train_error"])
    assert bool(second["diverged"]) is True and bool(second["success"]) is False
    assert sorted(run_id(c) for c in configs_of(load(path))) == sorted(frame.index)


def test_load_never_changes_the_store(tmp_path):
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        store.write(BASE, RESULT, "numpy", "cpu", "float32")
    before = path.read_bytes()
    assert len(load(path)) == 1
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.sqlite"]  # no -wal/-shm left behind


def test_bad_store_paths_are_named_and_untouched(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Store(tmp_path / "missing" / "runs.sqlite")
    assert not (tmp_path / "missing").exists()
    text = tmp_path / "notes.sqlite"
    text.write_text("my precious notes\n")
    with pytest.raises(ValueError, match="not an SQLite database"):
        Store(text)
    assert text.read_text() == "my precious notes\n"
    with pytest.raises(ValueError, match="is a directory"):
        Store(tmp_path)
    with pytest.raises(FileNotFoundError, match="nope.sqlite"):
        load(tmp_path / "nope.sqlite")


def test_incompatible_table_is_refused_not_altered(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, n INTEGER)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(ValueError, match="lacks columns"):
        Store(path)
    assert path.read_bytes() == before
