"""paper_figs: every figure script renders from a small store; estimates; `frontier figs` on bad stores."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pytest
from scipy.stats import beta

from frontier.cli import main as frontier_main
from paper_figs import common, fig1, fig2, fig4, theory_figs
from sim.config import RunConfig, RunResult
from sim.store import Store

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _success_probability(k: int, width: int, samples: int | None, init: str) -> float:
    """A made-up frontier: m_50 falls with width, sparse init halves it at large width."""
    if samples is None:
        return 0.9
    m50 = 60 * k * (1 + 16 / width) * (0.5 if init == "sparse" and width >= 32 else 1.0)
    return 1 / (1 + math.exp(-3 * (math.log(samples) - math.log(m50))))


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory) -> str:
    """A store with synthetic results (deterministic) over a 2 k x 2 init x 2 width x 4 m grid."""
    path = tmp_path_factory.mktemp("store") / "runs.sqlite"
    rng = np.random.default_rng(0)
    with Store(path) as store:
        for k in (2, 3):
            for init in ("dense", "sparse"):
                for width in (8, 32):
                    for samples in (50, 150, 400, None):
                        for seed in range(4):
                            config = RunConfig(n=12, k=k, width=width, samples=samples, init=init, max_steps=2000,
                                               eval_every=100, test_size=500, seed=seed)
                            ok = bool(rng.random() < _success_probability(k, width, samples, init))
                            steps = int(rng.integers(2, 20)) * 100 if ok else None
                            result = RunResult(ok, steps, steps or 2000, 0.05 if ok else 0.4,
                                               None if samples is None else 0.0, False, 0.1)
                            store.write(config, result, "synthetic", "cpu", "float32")
    return str(path)


def _check_outputs(paths, stems):
    names = {p.name for p in paths}
    for stem in stems:
        assert f"{stem}.png" in names and f"{stem}.pdf" in names, (stem, names)
    for path in paths:
        data = path.read_bytes()
        assert len(data) > 2000, path
        assert data.startswith(PNG_MAGIC if path.suffix == ".png" else b"%PDF"), path


def test_fig1_fig2_fig4_render(synthetic_store, tmp_path):
    _check_outputs(fig1.render(synthetic_store, tmp_path), ["fig1_n12_k2", "fig1_n12_k3"])
    _check_outputs(fig2.render(synthetic_store, tmp_path), ["fig2_n12", "fig2_steps_n12"])
    _check_outputs(fig4.render(synthetic_store, tmp_path), ["fig4"])


def test_theory_figures_render_with_store_overlay(synthetic_store, tmp_path):
    paths = theory_figs.render(synthetic_store, tmp_path)
    _check_outputs(paths, ["theory_fourier", "theory_tickets", "theory_sq_n12_k2", "theory_sq_n12_k3"])


def test_figure_entry_point_writes_files(synthetic_store, tmp_path, capsys):
    assert fig1.main(["--store", synthetic_store, "--out", str(tmp_path), ]) == 0
    assert (tmp_path / "fig1_n12_k2.png").stat().st_size > 0
    assert fig1.main(["--store", str(tmp_path / "missing.sqlite"), "--out", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err


def test_settings_that_differ_are_drawn_separately(tmp_path):
    path = tmp_path / "two_lr.sqlite"
    with Store(path) as store:
        for lr in (0.1, 0.05):
            for seed in range(2):
                config = RunConfig(n=10, k=2, width=8, samples=100, lr=lr, seed=seed)
                store.write(config, RunResult(True, 100, 100, 0.0, 0.0, False, 0.1), "synthetic", "cpu", "float32")
    names = {p.name for p in fig1.render(path, tmp_path)}
    assert {"fig1_n10_k2_lr_0.05.png", "fig1_n10_k2_lr_0.1.png"} <= names


def test_success_cells_are_clopper_pearson(synthetic_store):
    runs = common.load_runs(synthetic_store)
    cells = common.success_cells(runs, ["k", "init", "width", "samples"], level=0.95)
    assert len(cells) == 2 * 2 * 2 * 4 and (cells["trials"] == 4).all()
    for row in cells.itertuples():
        x, trials = row.successes, row.trials
        low = 0.0 if x == 0 else beta.ppf(0.025, x, trials - x + 1)
        high = 1.0 if x == trials else beta.ppf(0.975, x + 1, trials - x)
        assert row.ci_low == pytest.approx(low, abs=1e-9) and row.ci_high == pytest.approx(high, abs=1e-9)
    online = cells[cells["samples"].isna()]
    assert len(online) == 8  # online runs are their own cell, never pooled with offline ones


def test_m50_interpolates_the_monotone_fit_in_log_m():
    import pandas as pd

    cells = pd.DataFrame({
        "width": [10] * 4 + [20] * 3 + [30] * 2 + [40] * 3,
        "samples": [100, 200, 400, 800, 100, 200, np.nan, 100, 200, 100, 200, 400],
        "successes": [0, 1, 3, 4, 3, 4, 4, 0, 1, 1, 0, 4],
        "trials": [4] * 12,
    })
    m50 = common.m50_by_width(cells)
    assert m50[10] == pytest.approx(10 ** ((math.log10(200) + math.log10(400)) / 2))
    assert m50[20] == 100.0  # already above 1/2 at the smallest m
    assert 30 not in m50  # never reaches 1/2 offline
    # 1/4 then 0/4 is not monotone: pooled to 1/8 at both, so the crossing is between 200 and 400
    assert m50[40] == pytest.approx(10 ** (math.log10(200) + (0.5 - 0.125) / (1 - 0.125) * math.log10(2)))


def test_frontier_figs_on_empty_store_says_what_is_missing(tmp_path, capsys):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    out = tmp_path / "figs"
    assert frontier_main(["figs", str(empty), "--out", str(out), "--only", "fig1", "fig2", "fig4", "fig5"]) == 0
    err = capsys.readouterr().err
    for name in ("fig1", "fig2", "fig4", "fig5"):
        assert f"skipped {name}:" in err
    assert "needs runs in the store" in err and "lottery-ticket results" in err
    assert not list(out.glob("*.png"))


def test_frontier_figs_bad_store_paths_exit_2_without_creating_files(tmp_path, capsys):
    missing = tmp_path / "missing.sqlite"
    assert frontier_main(["figs", str(missing), "--out", str(tmp_path / "f")]) == 2
    assert not missing.exists()
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database, but long enough to have a header that is not SQLite's" * 3)
    assert frontier_main(["figs", str(not_sqlite), "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 2 and "Traceback" not in err


def test_sign_valued_sparse_runs_share_one_figure_with_dense(tmp_path):
    """A grid with sparse_values = "sign" gives one Figure 1 with a dense and a sparse panel, not a
    dense-only and a sparse-only figure (the sparse-only fields are part of the panel's label)."""
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        for init in ("dense", "sparse"):
            for samples in (50, 400):
                config = RunConfig(n=12, k=2, width=8, samples=samples, init=init, sparse_values="sign",
                                   max_steps=200, eval_every=100, test_size=100)
                store.write(config, RunResult(samples > 100, 100 if samples > 100 else None, 200, 0.05, 0.0,
                                              False, 0.1), "synthetic", "cpu", "float32")
    runs = common.load_runs(path)
    parts = common.split_settings(runs)
    assert len(parts) == 1 and parts[0][0] == ""
    assert common.init_order(runs["init_label"]) == ["dense", "2-hot sparse (sign)"]
    _check_outputs(fig1.render(path, tmp_path), ["fig1_n12_k2"])


def test_figures_leave_the_users_matplotlib_settings_alone(synthetic_store, tmp_path):
    import matplotlib

    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    fig1.render(synthetic_store, tmp_path)
    assert matplotlib.get_backend() == backend
    assert {k: v for k, v in matplotlib.rcParams.items() if before.get(k) != v} == {}


def test_targets_figure_and_one_figure1_per_target(tmp_path):
    """Issue 18: a store of three targets gives one Figure 1 per target (the settings split by the
    target fields through the schema) and one targets figure with a panel per target."""
    from paper_figs import targets
    from verify.estimates import m50_estimates

    path = tmp_path / "targets.sqlite"
    rng = np.random.default_rng(1)
    kinds = [{"target": "parity"}, {"target": "sparse_majority"}, {"target": "multitask_parity", "tasks": 2}]
    with Store(path) as store:
        for kind in kinds:
            for init in ("dense", "sparse"):
                for width in (8, 32):
                    for samples in (50, 150, 400):
                        for seed in range(4):
                            config = RunConfig(n=12, k=3, width=width, samples=samples, init=init, max_steps=2000,
                                               eval_every=100, test_size=500, seed=seed, **kind)
                            ok = bool(rng.random() < _success_probability(3, width, samples, init))
                            tasks = (0.02 if ok else 0.3, 0.05 if ok else 0.5) if "tasks" in kind else None
                            result = RunResult(ok, 100 if ok else None, 2000, 0.05 if ok else 0.4, 0.0, False, 0.1,
                                               tasks)
                            store.write(config, result, "synthetic", "cpu", "float32")
    names = {p.name for p in fig1.render(path, tmp_path)}
    assert {f"fig1_n12_k3_target_{name}.png" for name in ("parity", "sparse_majority")} <= names
    assert "fig1_n12_k3_target_multitask_parity_tasks_2.png" in names
    runs = common.load_runs(path)
    panels = targets.target_panels(runs, n_bootstrap=100)
    figure = targets.targets_figure(panels, "synthetic")
    assert [ax.get_title() for ax in figure.axes] == ["parity", "sparse_majority", "multitask_parity(tasks=2)"]
    assert len(m50_estimates(runs, n_bootstrap=100)) == 3 * 2 * 2
    assert [p.critical_width for p in panels] == [22, None, 11]  # 1/p: 66/3 and 66/6 (theory), none for majority
    effects = targets.width_effects(panels)
    assert len(effects) == 2 * (3 + 2) and set(effects["narrow"]) == {8} and set(effects["wide"]) == {32}
    summary = targets.m50_summary(panels)
    assert len(summary) == 2 * (3 + 2) and set(summary["width"]) == {8, 32}  # 3 targets and 2 tasks, 2 widths
    paths = targets.render(path, tmp_path, n_bootstrap=100)
    _check_outputs([p for p in paths if p.suffix != ".csv"], ["targets_n12_k3"])
    assert (tmp_path / "targets_n12_k3.csv").read_text().startswith("target,width,critical_width,dense_m50")
    assert (tmp_path / "targets_n12_k3_width.csv").read_text().startswith("target,init,narrow,wide,ratio")
    with pytest.raises(common.MissingData, match="two or more targets"):
        targets.render(fig1_store_of_one_target(tmp_path), tmp_path)


def fig1_store_of_one_target(tmp_path):
    path = tmp_path / "parity.sqlite"
    with Store(path) as store:
        for samples in (50, 400):
            config = RunConfig(n=10, k=2, width=8, samples=samples)
            store.write(config, RunResult(True, 100, 100, 0.0, 0.0, False, 0.1), "synthetic", "cpu", "float32")
    return path
