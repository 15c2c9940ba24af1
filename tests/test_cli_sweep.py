"""`frontier sweep`, `frontier export`, `frontier train`: output, resume message, and bad
input as one `error:` line with exit status 2 that leaves an existing store unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.config import RunConfig
from sim.store import load, run_id
from sim.training import train

BACKEND = "numpy"
TINY = """
n = 8
k = 2
width = [8, 16]
samples = [64, "online"]
seeds = 2
max_steps = 200
eval_every = 50
test_size = 200
"""
TINY_RUNS = 8




@pytest.fixture
def finished_store(tmp_path, cli):
    grid = tmp_path / "tiny.toml"
    grid.write_text(TINY)
    store = tmp_path / "runs.sqlite"
    status, out, err = cli("sweep", grid, "--store", store, "--backend", BACKEND, "--workers", "1")
    assert status == 0, err
    assert out.startswith(f"ran {TINY_RUNS} runs") and f"{TINY_RUNS}/{TINY_RUNS}" in out
    assert f"{TINY_RUNS}/{TINY_RUNS}" in err and "run/s" in err  # the progress bar
    return grid, store


def test_rerun_after_finish_does_nothing_and_says_so(finished_store, cli):
    grid, store = finished_store
    before = store.read_bytes()
    status, out, _ = cli("sweep", grid, "--store", store, "--backend", BACKEND)
    assert status == 0
    assert out.strip() == f"nothing to do: all {TINY_RUNS} runs of {grid} are in {store}"
    assert store.read_bytes() == before
    status, out, _ = cli("sweep", grid, "--store", store, "--backend", BACKEND, "--dry-run")
    assert status == 0 and f"{TINY_RUNS} runs, {TINY_RUNS} in" in out and "0 to run" in out


BAD_GRIDS = {
    "bad_toml": ("n = 8\nk = [2\n", ["not valid TOML"]),
    "unknown_key": (TINY + "momentum = 0.9\n", ["unknown key", "'momentum'"]),
    "wrong_type": (TINY.replace("width = [8, 16]", 'width = [8, "wide"]'), ["width", "'wide'"]),
    "k_above_n": (TINY.replace("k = 2", "k = [2, 9]"), ["k=9", "n=8"]),
}


@pytest.mark.parametrize("case", sorted(BAD_GRIDS))
def test_bad_grid_is_one_error_line_and_the_store_is_untouched(case, finished_store, cli, tmp_path):
    _, store = finished_store
    before = store.read_bytes()
    grid = tmp_path / f"{case}.toml"
    text, fragments = BAD_GRIDS[case]
    grid.write_text(text)
    status, out, err = cli("sweep", grid, "--store", store, "--backend", BACKEND)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err
    assert store.read_bytes() == before


def test_bad_store_paths_and_options(finished_store, cli, tmp_path):
    grid, store = finished_store
    before = store.read_bytes()
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    cases = [
        (["--store", tmp_path / "missing" / "runs.sqlite"], "does not exist"),
        (["--store", notes], "not an SQLite database"),
        (["--store", store, "--workers", "0"], "--workers 0"),
        (["--store", store, "--batch-runs", "0"], "--batch-runs 0"),
        (["--store", store, "--backend", "jax"], "invalid choice"),
        (["--store", store, "--scheduler", "tcp://127.0.0.1:9"], "cannot reach Dask scheduler"),
    ]
    for extra, fragment in cases:
        args = ["sweep", grid, *extra]
        if "--backend" not in extra:
            args += ["--backend", BACKEND]
        status, out, err = cli(*args)
        assert status == 2 and out == "", (extra, err)
        assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, (extra, err)
    status, _, err = cli("sweep", tmp_path / "nope.toml", "--store", store, "--backend", BACKEND)
    assert status == 2 and "nope.toml" in err and err.count("\n") == 1
    assert not (tmp_path / "missing").exists()
    assert notes.read_text() == "not a database\n"
    assert store.read_bytes() == before


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_round_trips(fmt, finished_store, cli, tmp_path):
    _, store = finished_store
    out_file = tmp_path / f"runs.{fmt}"
    status, out, err = cli("export", store, "--format", fmt, "--out", out_file)
    assert status == 0, err
    assert f"wrote {TINY_RUNS} runs" in out
    exported = pd.read_csv(out_file) if fmt == "csv" else pd.read_parquet(out_file)
    stored = load(store)
    assert list(exported.columns) == list(stored.columns)
    assert list(exported["run_id"]) == list(stored["run_id"])
    assert list(exported["success"]) == list(stored["success"])
    assert exported["final_test_error"].tolist() == pytest.approx(stored["final_test_error"].tolist())


def test_export_errors(finished_store, cli, tmp_path):
    _, store = finished_store
    for args, fragment in [
        ([store, "--out", tmp_path / "runs.xlsx"], "--format"),
        ([store, "--out", tmp_path / "missing" / "runs.csv"], "does not exist"),
        ([tmp_path / "nope.sqlite", "--out", tmp_path / "runs.csv"], "nope.sqlite"),
    ]:
        status, _, err = cli("export", *args)
        assert status == 2 and err.startswith("error: ") and fragment in err and err.count("\n") == 1


def test_train_prints_a_table_and_shares_run_ids_with_sweep(cli, tmp_path):
    options = ["--n", 8, "--k", 2, "--width", 16, "--samples", 64, "--seeds", 3, "--max-steps", 200,
               "--eval-every", 50, "--test-size", 200, "--backend", BACKEND, "--quiet"]
    status, out, err = cli("train", *options)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("n=8 k=2 width=16 samples=64 init=dense")
    assert lines[1].split() == ["seed", "success", "steps_to_success", "steps_run", "test_error",
                                "train_error", "diverged", "wall_s"]
    configs = [RunConfig(n=8, k=2, width=16, samples=64, max_steps=200, eval_every=50, test_size=200, seed=s)
               for s in range(3)]
    results = train(configs, backend=BACKEND)
    for line, config, result in zip(lines[2:5], configs, results):
        cells = line.split()
        assert int(cells[0]) == config.seed
        assert cells[1] == ("yes" if result.success else "no")
        assert int(cells[3]) == result.steps_run
        assert float(cells[4]) == pytest.approx(result.final_test_error, abs=5e-5)
    wins = sum(r.success for r in results)
    assert lines[5].startswith(f"success {wins}/3 = ") and "95% Clopper-Pearson CI" in lines[5]

    store = tmp_path / "train.sqlite"
    status, out, _ = cli("train", *options, "--store", store)
    assert status == 0 and out.rstrip().endswith(f"written to {store}")
    assert sorted(load(store)["run_id"]) == sorted(map(run_id, configs))
    grid = tmp_path / "same.toml"
    grid.write_text("n = 8\nk = 2\nwidth = 16\nsamples = 64\nseeds = 3\nmax_steps = 200\n"
                    "eval_every = 50\ntest_size = 200\n")
    status, out, _ = cli("sweep", grid, "--store", store, "--backend", BACKEND)
    assert status == 0 and out.startswith("nothing to do: all 3 runs")


def test_train_bad_input(cli):
    status, _, err = cli("train", "--n", 8, "--k", 2, "--width", 16, "--samples", "lots")
    assert status == 2 and "'lots'" in err and err.count("\n") == 1
    status, _, err = cli("train", "--n", 3, "--k", 5, "--width", 16, "--backend", BACKEND)
    assert status == 2 and err.startswith("error: ") and "--k 5" in err  # the flag, not RunConfig.k=5 (issue 25)
