"""verify.estimates on synthetic stores with known answers (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from sim.config import CONFIG_FIELDS, RESULT_FIELDS, RunConfig
from verify import estimates as est


def synthetic_frame(curve, widths=(64,), samples=(100, 200, 400, 800, 1600), seeds=40, init="sparse",
                    n=20, k=3, rng_seed=0, steps=None) -> pd.DataFrame:
    """A store-shaped frame whose success probability at (width, m) is curve(width, m)."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for width in widths:
        for m in samples:
            for seed in range(seeds):
                config = RunConfig(n=n, k=k, width=width, samples=None if m is None else m, init=init, seed=seed)
                success = bool(rng.random() < curve(width, m))
                step = int(steps(width, m, rng)) if (success and steps) else (1000 if success else None)
                rows.append({**config.to_dict(), "success": success, "steps_to_success": step,
                             "steps_run": step or 100_000, "final_test_error": 0.05 if success else 0.5,
                             "final_train_error": 0.0, "diverged": False, "wall_seconds": 1.0})
    frame = pd.DataFrame(rows, columns=list(CONFIG_FIELDS) + list(RESULT_FIELDS))
    frame["samples"] = frame["samples"].astype("Int64")
    frame["steps_to_success"] = frame["steps_to_success"].astype("Int64")
    return frame


def logistic(m50: float, slope: float = 4.0):
    return lambda width, m: 1.0 / (1.0 + math.exp(-slope * (math.log(m) - math.log(m50))))


def test_success_table_counts_and_clopper_pearson():
    frame = synthetic_frame(lambda w, m: 0.5, samples=(100, None), seeds=30)
    table = est.success_table(frame, level=0.9)
    assert len(table) == 2
    assert table["samples"].isna().sum() == 1  # the online cell
    for row in table.to_dict("records"):
        ci = binomtest(row["successes"], row["runs"]).proportion_ci(0.9, method="exact")
        assert row["runs"] == 30
        assert row["ci_low"] == pytest.approx(ci.low) and row["ci_high"] == pytest.approx(ci.high)


def test_dense_rows_do_not_split_on_sparse_only_fields():
    a = synthetic_frame(lambda w, m: 1.0, samples=(100,), seeds=3, init="dense")
    b = a.copy()
    b["sparsity"] = 7
    b["seed"] += 3
    table = est.success_table(pd.concat([a, b]))
    assert len(table) == 1 and table["runs"].iloc[0] == 6


def test_median_steps_interval_covers_true_median():
    # Steps ~ exponential with median 1000: the 95% order-statistic interval covers 1000.
    frame = synthetic_frame(lambda w, m: 1.0, samples=(100,), seeds=200,
                            steps=lambda w, m, rng: rng.exponential(1000 / math.log(2)))
    row = est.success_table(frame, level=0.95).iloc[0]
    assert row["median_steps_low"] <= 1000 <= row["median_steps_high"]
    assert row["median_steps_low"] < row["median_steps"] < row["median_steps_high"]


def test_isotonic_pools_violators():
    fitted = est.isotonic_increasing([0.0, 0.6, 0.4, 1.0], [1, 1, 1, 1])
    assert fitted.tolist() == pytest.approx([0.0, 0.5, 0.5, 1.0])


def test_crossing_point_interpolates_in_log_m_and_censors():
    m, censored = est.crossing_point([100, 400], [0.0, 1.0])
    assert m == pytest.approx(200.0) and censored == ""
    assert est.crossing_point([100, 400], [0.6, 1.0]) == (100.0, "below")
    assert est.crossing_point([100, 400], [0.1, 0.2]) == (400.0, "above")


def test_m50_recovers_known_threshold_and_interval_covers_it():
    """Known logistic curve with m_50 = 300 on a grid 100..1600: over 40 synthetic stores the
    95% bootstrap interval covers 300 at least 85% of the time (a loose bound on coverage,
    binomial slack for 40 trials) and the point estimate's median error is under 15%."""
    covered, errors = 0, []
    for rep in range(40):
        frame = synthetic_frame(logistic(300.0), seeds=24, rng_seed=rep)
        (estimate,) = est.m50_estimates(frame, level=0.95, n_bootstrap=300, seed=rep)
        covered += estimate.ci_low <= 300.0 <= estimate.ci_high
        errors.append(abs(math.log(estimate.m50 / 300.0)))
    assert covered >= 34
    assert np.median(errors) < math.log(1.15)


def test_m50_censoring_and_ratio():
    always = synthetic_frame(lambda w, m: 1.0, seeds=10)
    never = synthetic_frame(lambda w, m: 0.0, seeds=10)
    (low_est,) = est.m50_estimates(always, n_bootstrap=200)
    (high_est,) = est.m50_estimates(never, n_bootstrap=200)
    assert low_est.censored == "below" and low_est.m50 == 100.0 and low_est.ci_low == 0.0
    assert high_est.censored == "above" and high_est.m50 == 1600.0 and math.isinf(high_est.ci_high)
    point, lo, hi = est.ratio_interval(high_est, low_est)
    assert point == 16.0 and lo > 1.0


def test_m50_input_errors():
    with pytest.raises(ValueError, match="samples"):
        est.m50_point([100, 100], [1, 2], [4, 4])
    with pytest.raises(ValueError, match="successes"):
        est.m50_point([100, 200], [5, 2], [4, 4])
    with pytest.raises(ValueError, match="level"):
        est.success_table(synthetic_frame(lambda w, m: 0.5, seeds=2), level=1.5)
    with pytest.raises(ValueError, match="column"):
        est.success_table(pd.DataFrame({"n": [1]}))


def test_vectorised_isotonic_matches_scipy():
    """The fast path (min-max formula, all bootstrap rows at once) against
    scipy.optimize.isotonic_regression row by row, with shared and with per-row weights."""
    from scipy.optimize import isotonic_regression

    rng = np.random.default_rng(3)
    values = rng.random((200, 6))
    for weights in (rng.integers(1, 10, size=6).astype(float), rng.integers(1, 10, size=(200, 6)).astype(float)):
        fits = est.isotonic_increasing_rows(values, weights)
        for i, (row, fit) in enumerate(zip(values, fits)):
            w = weights if weights.ndim == 1 else weights[i]
            assert fit == pytest.approx(isotonic_regression(row, weights=w).x)


def _paired_frame(per_seed_success, samples=(100, 200, 400, 800), seeds=24, rng_seed=0) -> pd.DataFrame:
    """Dense and sparse runs of the same seeds whose outcomes share a per-seed 'luck' u_seed:
    success(init, m) = u_seed < p(init, m), the strongest pairing a seed can give."""
    rng = np.random.default_rng(rng_seed)
    luck = rng.random(seeds)
    rows = []
    for init in ("dense", "sparse"):
        for m in samples:
            for seed in range(seeds):
                config = RunConfig(n=20, k=3, width=64, samples=m, init=init, seed=seed)
                ok = bool(luck[seed] < per_seed_success(init, m))
                rows.append({**config.to_dict(), "success": ok, "steps_to_success": 500 if ok else None,
                             "steps_run": 500 if ok else 3000, "final_test_error": 0.05 if ok else 0.5,
                             "final_train_error": 0.0, "diverged": False, "wall_seconds": 1.0})
    frame = pd.DataFrame(rows, columns=list(CONFIG_FIELDS) + list(RESULT_FIELDS))
    frame["samples"] = frame["samples"].astype("Int64")
    frame["steps_to_success"] = frame["steps_to_success"].astype("Int64")
    return frame


def test_seed_cluster_bootstrap_keeps_the_pairing_of_arms():
    """Dense and sparse of one seed share the seed's luck: the paired ratio interval is far
    narrower than the one from independent resamples of each arm, and identical outcomes give
    exactly 1 in every draw (a perfectly paired comparison has no spread)."""
    p = {"dense": lambda m: 1 / (1 + (400 / m) ** 3), "sparse": lambda m: 1 / (1 + (300 / m) ** 3)}
    frame = _paired_frame(lambda init, m: p[init](m))
    dense, sparse = sorted(est.m50_estimates(frame, n_bootstrap=1000), key=lambda e: e.setting["init"])
    point, low, high = est.ratio_interval(dense, sparse)
    shuffled = sparse.draws.copy()
    np.random.default_rng(1).shuffle(shuffled)  # breaks the draw-by-draw pairing
    with np.errstate(divide="ignore"):  # a draw below the grid is 0; its ratio is inf, as in ratio_interval
        unpaired = np.quantile(dense.draws / shuffled, [0.025, 0.975])
    assert 1.0 < point and high - low < 0.6 * (unpaired[1] - unpaired[0])
    same = _paired_frame(lambda init, m: p["dense"](m))
    a, b = est.m50_estimates(same, n_bootstrap=300)
    assert est.ratio_interval(a, b)[1:] == (1.0, 1.0)


def test_each_study_has_its_own_random_stream():
    first = synthetic_frame(logistic(300.0), seeds=16, rng_seed=5)
    second = first.copy()
    second["n"] = 21  # another study with the very same counts
    a, b = est.m50_estimates(pd.concat([first, second]), n_bootstrap=300)
    assert a.m50 == b.m50 and not np.array_equal(a.draws, b.draws)
    again = est.m50_estimates(pd.concat([first, second]), n_bootstrap=300)
    assert np.array_equal(again[0].draws, a.draws)  # same data and seed: same draws


def test_paired_tests_against_binomial_and_a_known_difference():
    from scipy.stats import binom

    assert est.mcnemar_exact(9, 1) == pytest.approx(binom.sf(8, 10, 0.5))
    assert est.mcnemar_exact(0, 0) == 1.0 and est.sign_test(3, 0) == pytest.approx(1 / 8)
    assert est.smallest_decisive_count(0.01) == 7 and 0.5 ** 7 < 0.01 <= 0.5 ** 6
    a = np.array([True] * 30 + [False] * 10)
    b = np.array([True] * 10 + [False] * 30)
    pairs = est.PairedArms(a, b, np.zeros(40), np.zeros(40), np.arange(40) // 2)
    point, low, high = est.bootstrap_difference(pairs, level=0.95)
    assert point == pytest.approx(0.5) and 0.25 < low < 0.5 < high < 0.75
    assert pairs.discordant == (20, 0)
