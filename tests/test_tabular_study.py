"""Forest search, study summaries and the end-to-end `frontier tabular` command."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from frontier.cli import main
from tabular.forest import MAX_FEATURES_CHOICES, random_forest_search, sample_forest_params
from tabular.study import CSV_COLUMNS, best_mlp_by_fraction, median_interval, rows_to_frame, table2

REQUIRED_COLUMNS = ["dataset", "fraction", "model", "width", "depth", "init", "seed", "val_error",
                    "test_error", "fit_seconds"]


def test_forest_space_draws_follow_the_benchmark_probabilities():
    rng = np.random.default_rng(0)
    draws = [sample_forest_params(rng) for _ in range(4000)]

    def share(key, value):
        return np.mean([d[key] is value or d[key] == value for d in draws])

    # Binomial(4000, p): 4 standard deviations is a two-sided ~99.99% band per assertion.
    for key, value, p in [("max_depth", None, 0.7), ("min_samples_split", 2, 0.95), ("bootstrap", True, 0.5),
                          ("min_impurity_decrease", 0.0, 0.85), ("criterion", "gini", 0.5),
                          ("max_features", "sqrt", 2 / len(MAX_FEATURES_CHOICES))]:
        assert abs(share(key, value) - p) < 4 * math.sqrt(p * (1 - p) / 4000), key
    leaves = np.array([d["min_samples_leaf"] for d in draws])
    assert leaves.min() >= 2 and leaves.max() <= 50  # round(exp(U(log 1.5, log 50.5)))
    assert {d["max_depth"] for d in draws} == {None, 2, 3, 4}


def test_forest_search_picks_the_best_validation_candidate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(int)
    result = random_forest_search(X[:200], y[:200], X[200:], y[200:], n_iter=4, n_estimators=15, random_state=1)
    assert len(result.val_errors) == 4 and result.candidates[0] == {}  # default forest first
    assert result.best_val_error == min(result.val_errors)
    assert result.best_estimator.n_estimators == 15
    recomputed = float(np.mean(result.best_estimator.predict(X[200:]) != y[200:]))
    assert recomputed == result.best_val_error
    assert result.best_params == result.candidates[result.val_errors.index(min(result.val_errors))]


def test_median_interval_contains_the_median_and_degenerates_sensibly():
    median, low, high = median_interval(np.arange(21, dtype=float))
    assert median == 10 and low <= 10 <= high and 5 <= low and high <= 15
    assert median_interval(np.array([0.2, 0.2, 0.2])) == (0.2, 0.2, 0.2)
    value, low, high = median_interval(np.array([0.3]))
    assert value == 0.3 and math.isnan(low) and math.isnan(high)


def _synthetic_frame(mlp_test_shift: float, trials: int = 8) -> pd.DataFrame:
    """Two MLP configs and a forest at one fraction; config w=10 has the lower validation error."""
    rng = np.random.default_rng(0)
    rows = []
    for t in range(trials):
        rf_test = 0.2 + 0.01 * rng.normal()
        for width, val, test in [(10, 0.10, rf_test + mlp_test_shift), (20, 0.15, 0.0)]:
            rows.append(dict(dataset="toy", fraction=0.5, model="mlp", width=width, depth=1, init="dense", seed=t,
                             val_error=val, test_error=test, fit_seconds=0.0, trial=t, n_train=50, sparsity=0))
        rows.append(dict(dataset="toy", fraction=0.5, model="random_forest", width=None, depth=None, init="",
                         seed=t, val_error=0.12, test_error=rf_test, fit_seconds=0.0, trial=t, n_train=50))
    return rows_to_frame(rows)


@pytest.mark.parametrize("trials", [2, 3, 5])
def test_table2_names_no_winner_from_too_few_trials(trials):
    """Issue 13: a bootstrap of 2-5 values that all favour the MLP excluded 0 and named it the
    winner; no test at 95% can decide from fewer than 6 paired trials."""
    (row,) = table2(_synthetic_frame(mlp_test_shift=-0.05, trials=trials))
    assert row.trials == trials and row.diff_high < 0  # every trial favours the MLP ...
    assert row.winner == f"undecided ({trials} trials < 6)"  # ... and still no winner is named
    (row,) = table2(_synthetic_frame(mlp_test_shift=-0.05, trials=6))
    assert row.winner == "mlp"


def test_best_mlp_is_chosen_by_validation_not_test_error():
    frame = _synthetic_frame(mlp_test_shift=0.05)
    assert best_mlp_by_fraction(frame) == {0.5: (10, 1, "dense", 0)}  # w=20 has test error 0 but worse val


@pytest.mark.parametrize("shift, winner", [(-0.05, "mlp"), (0.05, "random_forest"), (0.0, "tie")])
def test_table2_winner_uses_the_paired_interval(shift, winner):
    (row,) = table2(_synthetic_frame(mlp_test_shift=shift))
    assert row.winner == winner and row.trials == 8 and row.best_mlp == "w=10 d=1 dense"
    assert row.diff_median == pytest.approx(shift, abs=1e-12)


def test_frontier_tabular_end_to_end_on_breast_cancer(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["tabular", "--dataset", "breast_cancer", "--fractions", "0.2", "1", "--trials", "2",
                   "--widths", "8", "32", "--inits", "dense", "sparse", "--sparsity", "2", "--rf-iter", "2",
                   "--rf-trees", "10", "--max-epochs", "8", "--seed", "1", "--out", str(out), "--no-progress"])
    assert status == 0
    frame = pd.read_csv(out / "tabular_breast_cancer_trials.csv")
    assert list(frame.columns[:10]) == REQUIRED_COLUMNS and list(frame.columns) == list(CSV_COLUMNS)
    # 2 fractions x 2 trials x (2 widths x 2 inits + 1 forest)
    assert len(frame) == 20
    assert set(frame["model"]) == {"mlp", "random_forest"} and set(frame["init"].dropna()) == {"dense", "sparse"}
    assert frame["val_error"].between(0, 1).all() and frame["test_error"].between(0, 1).all()
    # Pairing by trial: every trial seed has its forest and all its MLPs.
    assert (frame.groupby("seed")["model"].apply(lambda m: (m == "random_forest").sum()) == 1).all()
    assert frame.groupby("fraction")["n_train"].first().tolist() == [60, 297]
    for suffix in ("png", "pdf"):
        figure = out / f"tabular_breast_cancer_figure3.{suffix}"
        assert figure.stat().st_size > 5000
    assert (out / "tabular_breast_cancer_figure3.png").read_bytes()[:4] == b"\x89PNG"
    markdown = (out / "tabular_breast_cancer_table2.md").read_text()
    assert markdown.count("\n| 0.2 |") == 1 and markdown.count("\n| 1 |") == 1 and "bootstrap" in markdown
    assert len(pd.read_csv(out / "tabular_breast_cancer_table2.csv")) == 2
    assert "tabular_breast_cancer_trials.csv (20 rows)" in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [
    (["--depths", "4"], "depths must be 1, 2 or 3"),
    (["--fractions", "0"], "fractions must lie in (0, 1]"),
    (["--sparsity", "40"], "sparsity 40 exceeds the 30 features"),
])
def test_frontier_tabular_bad_input_is_one_line_exit_2(tmp_path, capsys, flags, message):
    status = main(["tabular", "--dataset", "breast_cancer", "--out", str(tmp_path), "--no-progress"] + flags)
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1
