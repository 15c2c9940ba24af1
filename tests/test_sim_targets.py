"""Targets beyond parity in the simulator (issue 18): the RunConfig fields and their rules, run ids,
per-task test errors against the final weights, the store's new columns (and the upgrade of an
older store), grids, `frontier train` options and the per-task estimates of verify."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

import sim
import sim.data
from sim import RunConfig
from sim.grid import parse_grid
from sim.store import Store, hashed_fields, load, run_id
from verify.estimates import m50_estimates, setting_label, task_runs

BASE = RunConfig(n=20, k=3, width=16, samples=200)


@pytest.mark.parametrize("changes, bad", [
    ({"target": "noisy_parity"}, "label_noise=0.0"),
    ({"target": "noisy_parity", "label_noise": 0.5}, "label_noise=0.5"),
    ({"target": "multitask_parity"}, "tasks=1"),
    ({"target": "staircase", "k": 4}, "k=4"),
    ({"target": "sparse_majority", "k": 2}, "k=2"),
    ({"target": "multitask_parity", "tasks": 3, "k": 7}, "needs |S| = 23"),
    ({"target": "staircase", "init": "sparse", "intervention": "plant_ticket"}, "intervention='plant_ticket'"),
    ({"target": "xor"}, "target='xor'"),
    ({"tasks": 0}, "tasks=0"),
])
def test_config_rules_name_the_bad_value(changes, bad):
    with pytest.raises(ValueError, match=bad.replace("|", r"\|")):
        BASE.replace(**changes)


def test_parameters_a_target_does_not_read_are_normalised_and_parity_ids_are_unchanged():
    assert BASE.replace(label_noise=0.2, tasks=4) == BASE  # the parity reads neither: one run, one id
    assert set(hashed_fields(BASE)).isdisjoint({"target", "label_noise", "tasks"})
    noisy = BASE.replace(target="noisy_parity", label_noise=0.1, tasks=3)
    assert noisy.tasks == 1 and hashed_fields(noisy)["label_noise"] == 0.1
    ids = {run_id(BASE), run_id(noisy), run_id(noisy.replace(label_noise=0.2)),
           run_id(BASE.replace(target="staircase")), run_id(BASE.replace(target="multitask_parity", tasks=2))}
    assert len(ids) == 5
    assert run_id(RunConfig(n=20, k=3, width=64, samples=250, init="sparse", seed=3)) == \
        "baa53c75eefd74013854675d0a647c8f"  # pinned before issue 18 (tests/test_store.py)


def test_per_task_test_errors_are_those_of_the_final_weights():
    config = RunConfig(n=12, k=2, width=32, samples=300, target="multitask_parity", tasks=3, max_steps=600,
                       test_size=900, seed=4)
    history = sim.train_history(config, backend="numba", dtype="float64")
    W, b, u = history.final_weights
    X, y = sim.data.test_set(config)
    f = np.maximum(X @ W.T + b, 0.0) @ u
    wrong = y * f <= 0  # sign(f) != y, f = 0 an error
    task = sim.data.task_of(config, X)
    expected = tuple(float(wrong[task == t].mean()) for t in range(3))
    assert history.result.task_test_errors == expected
    assert np.isclose(sum(e * (task == t).sum() for t, e in enumerate(expected)) / len(y),
                      history.result.final_test_error)
    assert len(set(expected)) > 1  # the tasks were not learnt alike (frequencies 1/2, 1/4, 1/4)
    assert sim.train(BASE.replace(max_steps=100), backend="numba")[0].task_test_errors is None


def write_store(path, configs):
    with Store(path) as store:
        for config, result in zip(configs, sim.train(configs, backend="numba")):
            store.write(config, result, "numba", "cpu", "float32")


def test_store_columns_per_task_estimates_and_the_upgrade_of_an_older_store(tmp_path):
    path = tmp_path / "runs.sqlite"
    parity = [BASE.replace(max_steps=300, test_size=400, seed=s) for s in range(2)]
    write_store(path, parity)
    db = sqlite3.connect(path)  # the layout before issue 18: version 2, no target columns
    for column in ("target", "label_noise", "tasks", "task_test_errors"):
        db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    db.commit()
    db.close()
    old = load(path)  # read-only: the defaults
    assert list(old["target"]) == ["parity"] * 2 and old["task_test_errors"].isna().all()
    multitask = [BASE.replace(target="multitask_parity", tasks=2, samples=m, max_steps=400, test_size=400, seed=s)
                 for m in (50, 400) for s in range(3)]
    write_store(path, parity + multitask)  # upgraded on opening; the parity runs keep their ids (not written twice)
    frame = load(path)
    assert len(frame) == 8 and set(frame["run_id"]) >= {run_id(c) for c in parity}
    stored = [json.loads(v) for v in frame.loc[frame["target"] == "multitask_parity", "task_test_errors"]]
    assert all(len(v) == 2 and all(0 <= e <= 1 for e in v) for v in stored)
    for task in (0, 1):
        per_task = task_runs(frame, task)
        assert len(per_task) == 6 and per_task["steps_to_success"].isna().all()
        errors = np.array([v[task] for v in stored])
        assert list(per_task["success"]) == list(errors <= 0.1)
        assert [e.width for e in m50_estimates(per_task, n_bootstrap=50)] == [16]
    assert setting_label(dict(frame.iloc[-1])).startswith("multitask_parity(tasks=2) n=20 k=3 dense")


def test_grids_and_the_train_command_take_the_target_fields(tmp_path, capsys):
    configs = parse_grid('n = 20\nk = 3\nwidth = 8\ntarget = ["parity", "noisy_parity", "multitask_parity"]\n'
                         'label_noise = [0.05, 0.1]\ntasks = 2\nseeds = 2\n')
    assert len(configs) == (1 + 2 + 1) * 2
    with pytest.raises(ValueError, match="impossible grid point.*label_noise=0.0 must be > 0"):
        parse_grid('n = 20\nk = 3\nwidth = 8\ntarget = "noisy_parity"\n')
    from frontier.cli import main

    assert main(["train", "--n", "10", "--k", "1", "--width", "8", "--samples", "64", "--target", "multitask_parity",
                 "--tasks", "2", "--max-steps", "200", "--test-size", "200", "--backend", "numpy", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "target=multitask_parity(tasks=2)" in out and out.splitlines()[1].endswith("task_errors")
    assert main(["train", "--n", "10", "--k", "2", "--width", "8", "--target", "staircase"]) == 2
    assert capsys.readouterr().err.strip() == \
        "error: --k 2 must be odd for target='staircase' (the sign of a sum of k ±1 terms)"


def test_a_value_no_run_reads_is_refused_not_dropped(capsys):
    """A grid or a train command asking for a target parameter (or a sparse-only field) that no
    run reads would silently train something else: it is refused, naming who reads the field."""
    with pytest.raises(ValueError, match=r"label_noise = 0.1 is read by no run of the grid \(only target "
                                         r"noisy_parity reads label_noise\)"):
        parse_grid('n = 20\nk = 3\nwidth = 8\nlabel_noise = [0.0, 0.1]\n')
    with pytest.raises(ValueError, match="sparse_values = 'ones-eps' is read by no run"):
        parse_grid('n = 20\nk = 3\nwidth = 8\ninit = "dense"\nsparse_values = ["uniform", "ones-eps"]\n')
    # read by some run of the grid: accepted, and the others normalise it
    assert len(parse_grid('n = 20\nk = 3\nwidth = 8\ninit = ["dense", "sparse"]\nsparsity = [2, 3]\n')) == 3
    from frontier.cli import main

    assert main(["train", "--n", "20", "--k", "3", "--width", "8", "--samples", "64", "--label-noise", "0.1"]) == 2
    assert capsys.readouterr().err.strip() == ("error: --label-noise 0.1 is read by no run of these options "
                                               "(only target noisy_parity reads label_noise)")
    assert main(["train", "--n", "20", "--k", "3", "--width", "8", "--samples", "64", "--sparsity", "3"]) == 2
    assert "only sparse init and planted neurons read sparsity" in capsys.readouterr().err
