"""Empirical frontiers with confidence intervals, from a results store (docs/science.md 3 and 5).

Everything here works on the DataFrame of :func:`sim.store.load` (one row per run, one
column per :class:`sim.RunConfig` field plus the :class:`sim.RunResult` fields;
``samples`` is <NA> for online runs).

- A *setting* is every config field except ``width``, ``samples`` and ``seed``: runs that
  differ only in those are one experiment. For dense init the sparse-only fields
  (``sparsity``, ``sparse_values``) are blanked (0 and "") so they never split a setting.
- A *cell* is a setting at one (width, samples): its runs are independent Bernoulli trials.

Estimators
----------
:func:`success_table`
    success probability per cell, ``successes / runs``, with the exact Clopper-Pearson
    interval ``scipy.stats.binomtest(successes, runs).proportion_ci(level, "exact")``; and the
    median steps to success among the cell's successful runs with a distribution-free
    interval from binomial order statistics (the median *conditional on success*: runs that
    never succeed have no step count).
:func:`m50_table`
    the sample threshold m_50(width) of each setting: where the success probability crosses
    1/2 as a function of the training-set size m (offline runs only). Method (chosen over a
    logistic fit because the success curve need not be logistic: double descent and grokking
    bend it, docs/science.md 5.4):

    1. *Monotone fit in log m.* Weighted isotonic regression (pool adjacent violators,
       weights = runs per cell) of the cell success fractions on the sorted m grid, then
       linear interpolation in log m between the last grid point below 1/2 and the first at
       or above it. If the fit is >= 1/2 already at the smallest m, m_50 is *below the grid*
       (reported as that m, ``censored="below"``); if it never reaches 1/2, *above the grid*
       (reported as the largest m, ``censored="above"``).
    2. *Bootstrap over runs.* Each draw replaces every cell's success probability by a draw
       from its Jeffreys posterior Beta(s + 1/2, n - s + 1/2) (a smoothed parametric bootstrap
       of the cell's runs: unlike resampling the runs themselves it still varies a 0/n or n/n
       cell) and repeats step 1. The interval is the equal-tailed percentile interval of the
       draws; a draw below (above) the grid counts as 0 (+inf), so an interval bound of 0 or
       inf means "beyond the grid on that side".
    The draws are kept (``M50Estimate.draws``) so ratios of two thresholds get their own
    bootstrap interval (:func:`ratio_interval`).

The random draws use ``numpy.random.default_rng(seed)``: same data and seed, same interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from sim.config import FIELD_TYPES, SETTING_FIELDS, SPARSE_ONLY_FIELDS

if TYPE_CHECKING:  # pandas is imported lazily: `frontier --help` must stay fast.
    import pandas as pd

CELL_FIELDS: tuple[str, ...] = SETTING_FIELDS + ("width", "samples")
INTERVAL_LEVEL = 0.95
DEFAULT_BOOTSTRAP = 2000


def _check_level(level: float) -> float:
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level={level!r} must lie strictly between 0 and 1")
    return float(level)


def normalized(frame: "pd.DataFrame") -> "pd.DataFrame":
    """A copy with dense runs' sparse-only fields blanked and ``samples`` as float (NaN = online).

    Raises ValueError naming a missing column when the frame is not a store frame."""
    missing = [c for c in CELL_FIELDS + ("seed", "success", "steps_to_success") if c not in frame.columns]
    if missing:
        raise ValueError(f"runs table lacks column {missing[0]!r} (not a sim.store.load frame?)")
    out = frame.copy()
    dense = out["init"] == "dense"
    for name in SPARSE_ONLY_FIELDS:  # blank: 0 or "" by the field's type
        kind = FIELD_TYPES[name]
        out[name] = out[name].astype("int64" if kind is int else kind)
        out.loc[dense, name] = kind()
    out["samples"] = out["samples"].astype("Float64").astype(float)
    out["success"] = out["success"].astype(bool)
    return out


def setting_label(setting: dict) -> str:
    """Short human label of a setting, e.g. ``n=20 k=3 sparse(s=2,uniform)``."""
    init = setting["init"]
    if init == "sparse":
        init = f"sparse(s={int(setting['sparsity'])},{setting['sparse_values']})"
    return f"n={int(setting['n'])} k={int(setting['k'])} {init}"


def clopper_pearson(successes: int, runs: int, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Exact two-sided binomial interval (scipy.stats.binomtest ... proportion_ci, 'exact')."""
    from scipy.stats import binomtest

    level = _check_level(level)
    if runs < 1:
        return (0.0, 1.0)
    ci = binomtest(int(successes), int(runs)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def median_interval(values: Sequence[float], level: float = INTERVAL_LEVEL) -> tuple[float, float, float]:
    """(median, low, high): sample median and a distribution-free interval for the median.

    The interval [x_(j), x_(l)] of order statistics with binomial(N, 1/2) coverage >= level
    (equal tails); NaN bounds when N is too small for that coverage."""
    from scipy.stats import binom

    level = _check_level(level)
    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    median = float(np.median(x))
    alpha = 1.0 - level
    # Largest j with P(Bin(n, 1/2) < j) <= alpha/2: then x_(j) (1-based) is a lower bound.
    j = int(binom.ppf(alpha / 2.0, n, 0.5))
    while j > 0 and binom.cdf(j - 1, n, 0.5) > alpha / 2.0:
        j -= 1
    if j < 1:
        return (median, math.nan, math.nan)
    return (median, float(x[j - 1]), float(x[n - j]))


def success_table(frame: "pd.DataFrame", level: float = INTERVAL_LEVEL) -> "pd.DataFrame":
    """One row per cell: setting fields, width, samples (NaN = online), runs, successes,
    success_rate, ci_low, ci_high (Clopper-Pearson at ``level``), diverged, and
    median_steps, median_steps_low, median_steps_high (successful runs only)."""
    import pandas as pd

    level = _check_level(level)
    data = normalized(frame)
    rows = []
    for key, cell in data.groupby(list(CELL_FIELDS), dropna=False, sort=True):
        row = dict(zip(CELL_FIELDS, key))
        runs = int(len(cell))
        successes = int(cell["success"].sum())
        low, high = clopper_pearson(successes, runs, level)
        steps = cell.loc[cell["success"], "steps_to_success"].astype(float).dropna().to_numpy()
        median, m_low, m_high = median_interval(steps, level)
        diverged = int(cell["diverged"].astype(bool).sum()) if "diverged" in cell else 0
        row.update(runs=runs, successes=successes, success_rate=successes / runs, ci_low=low, ci_high=high,
                   diverged=diverged, median_steps=median, median_steps_low=m_low, median_steps_high=m_high)
        rows.append(row)
    columns = list(CELL_FIELDS) + ["runs", "successes", "success_rate", "ci_low", "ci_high", "diverged",
                                   "median_steps", "median_steps_low", "median_steps_high"]
    return pd.DataFrame(rows, columns=columns)


def isotonic_increasing(values: Sequence[float], weights: Sequence[float]) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    levels: list[float] = []
    masses: list[float] = []
    counts: list[int] = []
    for value, weight in zip(values, weights):
        levels.append(float(value))
        masses.append(float(weight))
        counts.append(1)
        while len(levels) > 1 and levels[-2] > levels[-1]:
            mass = masses[-2] + masses[-1]
            level = (levels[-2] * masses[-2] + levels[-1] * masses[-1]) / mass
            count = counts[-2] + counts[-1]
            del levels[-1], masses[-1], counts[-1]
            levels[-1], masses[-1], counts[-1] = level, mass, count
    return np.repeat(levels, counts)


def crossing_point(samples: Sequence[float], fitted: Sequence[float], target: float = 0.5) -> tuple[float, str]:
    """(m, censored): where a non-decreasing fit first reaches ``target``, interpolated in log m.

    ``censored`` is "below" (m is the smallest grid point: the crossing lies at or below it),
    "above" (m is the largest: the fit never reaches the target) or ""."""
    m = np.asarray(samples, dtype=float)
    p = np.asarray(fitted, dtype=float)
    reached = np.nonzero(p >= target)[0]
    if reached.size == 0:
        return float(m[-1]), "above"
    j = int(reached[0])
    if j == 0:
        return float(m[0]), "below"
    p0, p1 = p[j - 1], p[j]
    fraction = (target - p0) / (p1 - p0)
    log_m = math.log(m[j - 1]) + fraction * (math.log(m[j]) - math.log(m[j - 1]))
    return float(math.exp(log_m)), ""


@dataclass(frozen=True)
class M50Estimate:
    """The sample threshold of one (setting, width) with its bootstrap interval.

    ``m50`` is the point estimate (see ``censored``); ``ci_low``/``ci_high`` the percentile
    interval at ``level`` (0 / inf: beyond the grid on that side); ``draws`` the bootstrap
    thresholds (0 = below the grid, inf = above)."""

    setting: dict
    width: int
    m50: float
    censored: str
    ci_low: float
    ci_high: float
    level: float
    grid: tuple[float, ...]
    runs: int
    draws: np.ndarray = field(repr=False, compare=False)


def isotonic_increasing_rows(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`isotonic_increasing` of every row of ``values`` (B, J) at once, by the min-max
    formula  fit_i = max_{j <= i} min_{l >= i} mean_w(values[j..l])  (O(B J^3), J is small)."""
    B, J = values.shape
    cum_wv = np.concatenate([np.zeros((B, 1)), np.cumsum(values * weights, axis=1)], axis=1)
    cum_w = np.concatenate([[0.0], np.cumsum(weights)])
    j, l = np.triu_indices(J)
    means = np.full((B, J, J), np.nan)
    means[:, j, l] = (cum_wv[:, l + 1] - cum_wv[:, j]) / (cum_w[l + 1] - cum_w[j])
    fit = np.empty((B, J))
    for i in range(J):
        fit[:, i] = np.max(np.min(means[:, : i + 1, i:], axis=2), axis=1)
    return fit


def _threshold_draws(samples: np.ndarray, successes: np.ndarray, runs: np.ndarray,
                     n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    probabilities = rng.beta(successes + 0.5, runs - successes + 0.5, size=(n_bootstrap, samples.size))
    fits = isotonic_increasing_rows(probabilities, runs)
    reached = fits >= 0.5
    first = np.argmax(reached, axis=1)
    log_m = np.log(samples)
    draws = np.empty(n_bootstrap)
    never = ~reached.any(axis=1)
    at_start = reached[:, 0]
    draws[never] = math.inf
    draws[at_start] = 0.0
    inner = ~never & ~at_start
    rows, j = np.nonzero(inner)[0], first[inner]
    p0, p1 = fits[rows, j - 1], fits[rows, j]
    draws[inner] = np.exp(log_m[j - 1] + (0.5 - p0) / (p1 - p0) * (log_m[j] - log_m[j - 1]))
    return draws


def m50_estimate(samples: Sequence[float], successes: Sequence[int], runs: Sequence[int],
                 level: float = INTERVAL_LEVEL, n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = 0,
                 setting: dict | None = None, width: int = 0) -> M50Estimate:
    """m_50 from per-m counts (see the module docstring for the method).

    ``samples`` must be distinct positive training-set sizes (any order)."""
    level = _check_level(level)
    m = np.asarray(samples, dtype=float)
    s = np.asarray(successes, dtype=float)
    r = np.asarray(runs, dtype=float)
    if m.size == 0:
        raise ValueError("m50_estimate needs at least one training-set size")
    if np.any(~np.isfinite(m)) or np.any(m <= 0) or np.unique(m).size != m.size:
        raise ValueError(f"samples={list(m)} must be distinct positive finite sizes")
    if np.any(r < 1) or np.any(s < 0) or np.any(s > r):
        raise ValueError("need 0 <= successes <= runs and runs >= 1 in every cell")
    order = np.argsort(m)
    m, s, r = m[order], s[order], r[order]
    point, censored = crossing_point(m, isotonic_increasing(s / r, r))
    draws = _threshold_draws(m, s, r, n_bootstrap, np.random.default_rng(seed))
    alpha = 1.0 - level
    low = float(np.quantile(draws, alpha / 2.0, method="lower"))
    high = float(np.quantile(draws, 1.0 - alpha / 2.0, method="higher"))
    return M50Estimate(setting=dict(setting or {}), width=int(width), m50=point, censored=censored,
                       ci_low=low, ci_high=high, level=level, grid=tuple(m.tolist()), runs=int(r.sum()),
                       draws=draws)


def m50_estimates(frame: "pd.DataFrame", level: float = INTERVAL_LEVEL, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                  seed: int = 0) -> list[M50Estimate]:
    """:func:`m50_estimate` for every (setting, width) with at least two offline m values."""
    cells = success_table(frame, level)
    offline = cells[cells["samples"].notna()]
    estimates = []
    for key, group in offline.groupby(list(SETTING_FIELDS) + ["width"], sort=True):
        if len(group) < 2:
            continue
        setting = dict(zip(SETTING_FIELDS, key[:-1]))
        estimates.append(m50_estimate(group["samples"].to_numpy(), group["successes"].to_numpy(),
                                      group["runs"].to_numpy(), level=level, n_bootstrap=n_bootstrap,
                                      seed=seed, setting=setting, width=int(key[-1])))
    return estimates


def m50_table(frame: "pd.DataFrame", level: float = INTERVAL_LEVEL, n_bootstrap: int = DEFAULT_BOOTSTRAP,
              seed: int = 0) -> "pd.DataFrame":
    """One row per (setting, width): setting fields, width, m50, censored, ci_low, ci_high, runs."""
    import pandas as pd

    rows = [dict(e.setting, width=e.width, m50=e.m50, censored=e.censored, ci_low=e.ci_low,
                 ci_high=e.ci_high, runs=e.runs) for e in m50_estimates(frame, level, n_bootstrap, seed)]
    return pd.DataFrame(rows, columns=list(SETTING_FIELDS) + ["width", "m50", "censored", "ci_low", "ci_high",
                                                              "runs"])


def ratio_interval(numerator: M50Estimate, denominator: M50Estimate, level: float = INTERVAL_LEVEL
                   ) -> tuple[float, float, float]:
    """(point, low, high) of numerator.m50 / denominator.m50 from the paired bootstrap draws.

    Draws beyond the grid make the ratio 0 or inf on that side (0/0 and inf/inf count as NaN
    and are dropped, which widens nothing: they carry no ordering information)."""
    level = _check_level(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = numerator.draws / denominator.draws
    ratios = ratios[~np.isnan(ratios)]
    point = numerator.m50 / denominator.m50
    if ratios.size == 0:
        return point, 0.0, math.inf
    alpha = 1.0 - level
    return (point, float(np.quantile(ratios, alpha / 2.0, method="lower")),
            float(np.quantile(ratios, 1.0 - alpha / 2.0, method="higher")))


def settings_of(frame: "pd.DataFrame") -> list[dict]:
    """The distinct settings of a store frame, as dicts of SETTING_FIELDS."""
    data = normalized(frame)
    return [dict(zip(SETTING_FIELDS, key)) for key, _ in data.groupby(list(SETTING_FIELDS), sort=True)]


def rows_of_setting(frame: "pd.DataFrame", setting: dict) -> "pd.DataFrame":
    """Rows of a (normalized) frame belonging to one setting."""
    data = normalized(frame)
    mask = np.ones(len(data), dtype=bool)
    for name in SETTING_FIELDS:
        mask &= (data[name] == setting[name]).to_numpy()
    return data[mask]


def format_m(value: float) -> str:
    """A threshold for tables: '<=100', '>3000', or a rounded number."""
    if value == 0.0:
        return "below grid"
    if math.isinf(value):
        return "above grid"
    return f"{value:.0f}"


def format_estimate(m50: float, censored: str) -> str:
    """A point estimate of m_50 with its censoring: '<=100', '>600' or '231'."""
    return f"<={m50:.0f}" if censored == "below" else f">{m50:.0f}" if censored == "above" else f"{m50:.0f}"


def iter_pairs(values: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive pairs of the sorted distinct values."""
    ordered = sorted(set(values))
    return list(zip(ordered[:-1], ordered[1:]))
