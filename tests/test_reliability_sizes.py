"""Issue 13, size guards: a grid's size is counted from its axes before any run is built, and a
run's memory is estimated before anything is allocated. Oversized grids and runs are refused in
well under a second with the count or the estimate (they used to hang, or allocate until the
kernel killed the process)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

import frontier.cli
import scipy.stats  # noqa: F401  (imported here so the timed commands below time the guard, not imports)
import sim.training  # noqa: F401
from jobs.demo import DEMO_GRID, DEMO_SCALARS, TINY_GRID, TINY_SCALARS
from jobs.quick import QUICK_GRID, QUICK_SCALARS
from sim.config import RunConfig
from sim.grid import grid_configs, load_grid, parse_grid
from sim.training import plan_groups, train

ROOT = Path(__file__).resolve().parents[1]
HUGE_GRID = """
n = 30
k = 3
width = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
samples = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
seeds = 10000000
"""


@pytest.fixture
def cli(capsys):
    def invoke(*args: object) -> tuple[int, str, str, float]:
        started = time.perf_counter()
        try:
            status = frontier.cli.main([str(a) for a in args])
        except SystemExit as exc:
            status = exc.code
        elapsed = time.perf_counter() - started
        captured = capsys.readouterr()
        return status, captured.out, captured.err, elapsed

    return invoke


def test_a_grid_of_a_billion_runs_is_refused_with_its_count_in_under_a_second(tmp_path, cli):
    grid = tmp_path / "huge.toml"
    grid.write_text(HUGE_GRID)
    for extra in (["--dry-run"], []):
        status, _, err, elapsed = cli("sweep", grid, "--store", tmp_path / "s.sqlite", "--backend", "numpy", *extra)
        assert status == 2 and err.count("\n") == 1 and "1,000,000,000 runs" in err and "--max-runs" in err, err
        assert elapsed < 1.0
    assert not (tmp_path / "s.sqlite").exists()
    started = time.perf_counter()
    with pytest.raises(ValueError, match="1,000,000,000,000 runs"):
        parse_grid("n = 30\nk = 3\nwidth = 10\nseeds = 1000000000000\n")
    assert time.perf_counter() - started < 1.0


def test_the_limit_can_be_raised(tmp_path, cli):
    grid = tmp_path / "g.toml"
    grid.write_text("n = 8\nk = 2\nwidth = [8, 16]\nseeds = 10\nmax_steps = 50\ntest_size = 50\n")
    status, _, err, _ = cli("sweep", grid, "--store", tmp_path / "s.sqlite", "--dry-run", "--max-runs", 19)
    assert status == 2 and "20 runs, above the limit of 19" in err
    status, out, err, _ = cli("sweep", grid, "--store", tmp_path / "s.sqlite", "--dry-run", "--max-runs", 20)
    assert status == 0 and "20 runs" in out, err


def test_train_refuses_a_billion_seeds_in_under_a_second(cli):
    status, _, err, elapsed = cli("train", "--n", 30, "--k", 3, "--width", 10, "--seeds", 10**9)
    assert status == 2 and err.count("\n") == 1 and "1,000,000,000 runs" in err, err
    assert elapsed < 1.0


@pytest.mark.parametrize("options", [["--n", 10**6, "--width", 100], ["--n", 30, "--width", 10**9],
                                     ["--n", 30, "--width", 100, "--test-size", 10**10]])
def test_a_run_too_large_for_the_machine_is_refused_before_allocation(options, cli, tmp_path):
    store = tmp_path / "s.sqlite"
    status, _, err, elapsed = cli("train", "--k", 3, *options, "--store", store)
    assert status == 2 and err.count("\n") == 1, err
    assert "needs about" in err and "iB of memory" in err and "available" in err
    assert elapsed < 1.0
    assert not store.exists()


def test_a_sweep_with_an_oversized_run_is_refused_before_the_store_is_touched(tmp_path):
    from sim.resources import RunTooLargeError, check_memory
    from sim.sweep import sweep

    configs = [RunConfig(n=30, k=3, width=10**9)]
    with pytest.raises(MemoryError, match="needs about"):
        sweep(configs, tmp_path / "s.sqlite", backend="numpy", workers=1, progress=False)
    assert not (tmp_path / "s.sqlite").exists()
    with pytest.raises(RunTooLargeError, match=r"1\.0 KiB available"):
        check_memory(configs, available=1024)


def grid_parts():
    parts = [({**scalars, **part}, f"{name}[{i}]") for name, grid, scalars in
             (("demo", DEMO_GRID, DEMO_SCALARS), ("tiny", TINY_GRID, TINY_SCALARS),
              ("quick", QUICK_GRID, QUICK_SCALARS))
             for i, part in enumerate(grid)]
    # Dense runs collapse sparse-only axes, except a planted neuron's sparsity.
    parts.append(({"n": 20, "k": 3, "width": [8, 16], "init": ["dense", "sparse"], "sparsity": [2, 3, 4],
                   "sparse_values": ["uniform", "sign"], "intervention": ["none", "plant_ticket"], "seeds": 3},
                  "collapsing"))
    return parts


@pytest.mark.parametrize("table, label", grid_parts(), ids=[label for _, label in grid_parts()])
def test_the_counted_size_is_the_number_of_runs_built(table, label):
    from sim.grid import _axis, _seeds, grid_size, AXIS_KEYS

    axes = {key: _axis(label, key, table[key]) for key in AXIS_KEYS if key in table}
    assert grid_size(axes, _seeds(label, table.get("seeds", 1))) == len(grid_configs(table, label))


def test_shipped_grid_files_count_exactly():
    from sim.grid import _axis, _seeds, grid_size, AXIS_KEYS
    import tomllib

    for path in list((ROOT / "examples").glob("*.toml")) + list((ROOT / "paper_figs" / "grids").glob("*.toml")):
        table = tomllib.loads(path.read_text())
        axes = {key: _axis(path.name, key, table[key]) for key in AXIS_KEYS if key in table}
        assert grid_size(axes, _seeds(path.name, table.get("seeds", 1))) == len(load_grid(path)), path.name


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("config", [
    RunConfig(n=50, k=3, width=1000, samples=3000, test_size=10000, max_steps=100, eval_every=100),
    RunConfig(n=200, k=3, width=100, samples=None, test_size=50000, max_steps=100, eval_every=100),
], ids=["wide-offline", "long-test-set"])
def test_the_memory_estimate_is_not_below_what_a_run_allocates(backend, config):
    from sim.resources import BLOCK_BYTES, run_memory

    if backend == "numba":
        train([config.replace(max_steps=1, eval_every=1)], backend=backend)  # compile outside the measurement
    tracemalloc.start()
    try:
        train([config], backend=backend)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= run_memory(config, backend) + BLOCK_BYTES
    assert peak <= 1.5 * run_memory(config, backend)  # the run's own terms, without the block allowance


def test_groups_are_cut_to_fit_the_memory():
    from sim.resources import BLOCK_BYTES, run_memory

    configs = [RunConfig(n=30, k=3, width=1000, samples=1000, test_size=10000, seed=s) for s in range(40)]
    per_run = run_memory(configs[0])
    assert [len(g) for g in plan_groups(configs)] == [40]
    roomy = plan_groups(configs, available=int(2 * (BLOCK_BYTES + 10 * per_run)))
    assert [len(g) for g in roomy] == [10, 10, 10, 10]
    assert sorted(i for g in roomy for i in g) == list(range(40))
