"""Empirical frontiers with confidence intervals, from a results store (docs/science.md 3, 5, 7).

Everything here works on the DataFrame of :func:`sim.store.load` (one row per run, one
column per :class:`sim.RunConfig` field plus the :class:`sim.RunResult` fields;
``samples`` is <NA> for online runs).

- A *setting* is every setting field of RunConfig's schema (all but ``width``, ``samples`` and
  ``seed``): runs that differ only in those are one experiment. For dense init the sparse-only
  fields are blanked (0 and "") so they never split a setting.
- A *cell* is a setting at one (width, samples): its runs are independent Bernoulli trials.
- A *study* is a setting without its arm fields (``init``, the sparse-only fields and
  ``intervention``): every run of one seed in a study shares S, the test set and the training
  data (nested across m), and its supports are nested across widths (docs/science.md 7). Runs
  of one seed are therefore *paired* across widths, sample sizes, inits and interventions.

Estimators
----------
:func:`success_table`
    success probability per cell with the exact Clopper-Pearson interval
    (``scipy.stats.binomtest(...).proportion_ci(level, "exact")``), and the median steps to
    success among the cell's successful runs with the distribution-free order-statistic
    interval of ``scipy.stats.quantile_test`` (the median *conditional on success*).
:func:`m50_estimates` / :func:`m50_table`
    the sample threshold m_50(width) of each setting: where the success probability crosses
    1/2 as a function of m (offline runs). Method (not a logistic fit: double descent and
    grokking bend the curve, docs/science.md 5.4):

    1. *Monotone fit in log m*: isotonic regression (``scipy.optimize.isotonic_regression``,
       weights = runs per cell) of the cell success fractions on the sorted m grid, then
       linear interpolation in log m where the fit first reaches 1/2. At or above 1/2 already
       at the smallest m: *below the grid* (``censored="below"``); never: *above the grid*.
    2. *Seed-cluster bootstrap*: each draw resamples the study's seeds with replacement and
       keeps every run of a drawn seed together (all widths, m, inits and interventions), then
       repeats step 1 on the reweighted cell counts. The interval is the equal-tailed
       percentile interval of the draws; a draw below (above) the grid counts as 0 (+inf).
    All estimates of one study share its resampling weights, so a ratio of two thresholds
    (:func:`ratio_interval`, e.g. m_50(dense) / m_50(sparse)) keeps the pairing of seeds; each
    study has its own random stream (:func:`estimate_rng`), independent of every other.
:func:`paired_arms`, :func:`mcnemar_exact`, :func:`sign_test`, :func:`bootstrap_difference`
    paired comparisons of two arms of a study (an intervention against ``none``, a wider
    network against a narrower one): discordant pairs by seed, exact one-sided tests, and the
    seed-cluster interval of a difference in success rates.

Same data and seed, same intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from sim.config import (FIELD_TYPES, MULTITASK_TARGETS, PLANTS, SETTING_FIELDS, SPARSE_ONLY_FIELDS,
                        TARGET_ONLY_FIELDS)

if TYPE_CHECKING:  # pandas is imported lazily: `frontier --help` must stay fast.
    import pandas as pd

CELL_FIELDS: tuple[str, ...] = SETTING_FIELDS + ("width", "samples")
#: The fields that tell the arms of one seed apart: runs equal in every other setting field
#: (a *study*) share the seed's target, data and test set, and are paired by seed.
ARM_FIELDS: tuple[str, ...] = ("init",) + SPARSE_ONLY_FIELDS + ("intervention",)
STUDY_FIELDS: tuple[str, ...] = tuple(name for name in SETTING_FIELDS if name not in ARM_FIELDS)
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
    planted = out["intervention"].isin(PLANTS)
    for name in SPARSE_ONLY_FIELDS:  # blank: 0 or "" by the field's type
        kind = FIELD_TYPES[name]
        out[name] = out[name].astype("int64" if kind is int else kind)
        # a neuron planted in a dense network has the run's sparsity
        out.loc[dense & ~(planted & (name == "sparsity")), name] = kind()
    out["samples"] = out["samples"].astype("Float64").astype(float)
    out["success"] = out["success"].astype(bool)
    return out


def target_label(setting: dict) -> str:
    """The target of a setting with the parameters it reads: ``parity``, ``noisy_parity(eta=0.1)``,
    ``multitask_parity(tasks=2)`` (a setting without the target fields is a parity's)."""
    target = setting.get("target", "parity")
    if target == "noisy_parity":
        return f"{target}(eta={float(setting['label_noise']):g})"
    if target == "multitask_parity":
        return f"{target}(tasks={int(setting['tasks'])})"
    return str(target)


def setting_label(setting: dict) -> str:
    """Short human label of a setting, e.g. ``n=20 k=3 sparse(s=2,uniform)``; a target other than
    the parity comes first: ``staircase n=20 k=3 dense``."""
    init = setting["init"]
    if init == "sparse":
        init = f"sparse(s={int(setting['sparsity'])},{setting['sparse_values']})"
    target = target_label(setting)
    return ("" if target == "parity" else target + " ") + f"n={int(setting['n'])} k={int(setting['k'])} {init}"


def clopper_pearson(successes: int, runs: int, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Exact two-sided binomial interval (scipy.stats.binomtest ... proportion_ci, 'exact')."""
    from scipy.stats import binomtest

    level = _check_level(level)
    if runs < 1:
        return (0.0, 1.0)
    ci = binomtest(int(successes), int(runs)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def median_interval(values: Sequence[float], level: float = INTERVAL_LEVEL) -> tuple[float, float, float]:
    """(median, low, high): sample median and the distribution-free order-statistic interval of
    the median (``scipy.stats.quantile_test(...).confidence_interval``); NaN bounds when there are
    too few values for that coverage."""
    from scipy.stats import quantile_test

    level = _check_level(level)
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    median = float(np.median(x))
    ci = quantile_test(x, q=median, p=0.5).confidence_interval(level)
    return (median, float(ci.low), float(ci.high))


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
    """Weighted least-squares non-decreasing fit (``scipy.optimize.isotonic_regression``)."""
    from scipy.optimize import isotonic_regression

    return np.asarray(isotonic_regression(np.asarray(values, dtype=float), weights=np.asarray(weights, dtype=float),
                                          increasing=True).x)


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
    """The sample threshold of one (setting, width) with its seed-cluster bootstrap interval.

    ``m50`` is the point estimate (see ``censored``); ``ci_low``/``ci_high`` the percentile
    interval at ``level`` (0 / inf: beyond the grid on that side); ``draws`` the bootstrap
    thresholds (0 = below the grid, inf = above), aligned with every other estimate of the same
    study (draw i of each uses the same resampled seeds)."""

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

    def confidence_interval(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)


def isotonic_increasing_rows(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted isotonic fit of every row of ``values`` (B, J) at once (weights (J,) or
    (B, J)), by the min-max formula  fit_i = max_{j <= i} min_{l >= i} mean_w(values[j..l])
    (O(B J^3); J, the m grid, is small). Tested against ``scipy.optimize.isotonic_regression``."""
    B, J = values.shape
    weights = np.broadcast_to(np.asarray(weights, dtype=float), (B, J))
    zeros = np.zeros((B, 1))
    cum_wv = np.concatenate([zeros, np.cumsum(values * weights, axis=1)], axis=1)
    cum_w = np.concatenate([zeros, np.cumsum(weights, axis=1)], axis=1)
    j, l = np.triu_indices(J)
    means = np.full((B, J, J), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        means[:, j, l] = (cum_wv[:, l + 1] - cum_wv[:, j]) / (cum_w[:, l + 1] - cum_w[:, j])
    fit = np.empty((B, J))
    for i in range(J):
        fit[:, i] = np.nanmax(np.nanmin(means[:, : i + 1, i:], axis=2), axis=1)
    return fit


def _crossing_draws(samples: np.ndarray, fits: np.ndarray) -> np.ndarray:
    """Crossing of 1/2 of every row of isotonic fits (B, J): 0 below the grid, inf above."""
    reached = fits >= 0.5
    first = np.argmax(reached, axis=1)
    log_m = np.log(samples)
    draws = np.empty(fits.shape[0])
    never = ~reached.any(axis=1)
    at_start = reached[:, 0]
    draws[never] = math.inf
    draws[at_start] = 0.0
    inner = ~never & ~at_start
    rows, j = np.nonzero(inner)[0], first[inner]
    p0, p1 = fits[rows, j - 1], fits[rows, j]
    draws[inner] = np.exp(log_m[j - 1] + (0.5 - p0) / (p1 - p0) * (log_m[j] - log_m[j - 1]))
    return draws


def percentile_interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    alpha = 1.0 - level
    return (float(np.quantile(draws, alpha / 2.0, method="lower")),
            float(np.quantile(draws, 1.0 - alpha / 2.0, method="higher")))


def m50_point(samples: Sequence[float], successes: Sequence[int], runs: Sequence[int]) -> tuple[float, str]:
    """(m_50, censored) from per-m counts: the isotonic fit in log m and its crossing of 1/2.

    ``samples`` must be distinct positive training-set sizes (any order)."""
    m = np.asarray(samples, dtype=float)
    s = np.asarray(successes, dtype=float)
    r = np.asarray(runs, dtype=float)
    if m.size == 0:
        raise ValueError("m_50 needs at least one training-set size")
    if np.any(~np.isfinite(m)) or np.any(m <= 0) or np.unique(m).size != m.size:
        raise ValueError(f"samples={list(m)} must be distinct positive finite sizes")
    if np.any(r < 1) or np.any(s < 0) or np.any(s > r):
        raise ValueError("need 0 <= successes <= runs and runs >= 1 in every cell")
    order = np.argsort(m)
    return crossing_point(m[order], isotonic_increasing(s[order] / r[order], r[order]))


# --------------------------------------------------------------------------- seed-cluster bootstrap


def estimate_rng(seed: int, key: Iterable[object]) -> np.random.Generator:
    """The random stream of one estimate (one study): a SeedSequence spawned from ``seed`` and a
    stable hash of ``key``, so distinct studies never share draws, and reruns repeat them."""
    import hashlib

    digest = hashlib.sha256(repr(tuple(key)).encode()).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=words))


def seed_weights(seeds: int, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """(n_bootstrap, seeds) multiplicities of a resample of the seeds with replacement."""
    drawn = rng.integers(0, seeds, size=(n_bootstrap, seeds))
    weights = np.zeros((n_bootstrap, seeds))
    np.add.at(weights, (np.repeat(np.arange(n_bootstrap), seeds), drawn.ravel()), 1.0)
    return weights


@dataclass(frozen=True)
class Study:
    """The runs of one study with their seed-cluster resampling weights (see the module doc)."""

    key: tuple
    runs: "pd.DataFrame"
    seeds: np.ndarray
    weights: np.ndarray  # (n_bootstrap, len(seeds))

    def seed_index(self, seeds: Sequence[int]) -> np.ndarray:
        return np.searchsorted(self.seeds, np.asarray(seeds))


def studies(frame: "pd.DataFrame", n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = 0) -> list[Study]:
    """Every study of a store frame, each with its own resampling weights (its own stream)."""
    data = normalized(frame)
    out = []
    for key, runs in data.groupby(list(STUDY_FIELDS), sort=True, dropna=False):
        seeds = np.unique(runs["seed"].to_numpy())
        out.append(Study(tuple(key), runs, seeds, seed_weights(len(seeds), n_bootstrap, estimate_rng(seed, key))))
    return out


def _m50_in_study(study: Study, setting: dict, width: int, group: "pd.DataFrame", level: float) -> M50Estimate:
    """m_50 of one (setting, width) of a study, bootstrapped with the study's weights."""
    grid = np.sort(group["samples"].unique())
    column = np.searchsorted(grid, group["samples"].to_numpy())
    row = study.seed_index(group["seed"].to_numpy())
    success = np.zeros((len(study.seeds), grid.size))
    present = np.zeros((len(study.seeds), grid.size))
    np.add.at(success, (row, column), group["success"].to_numpy(float))
    np.add.at(present, (row, column), 1.0)
    successes, runs = success.sum(axis=0), present.sum(axis=0)
    point, censored = m50_point(grid, successes, runs)
    drawn_runs = study.weights @ present
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(drawn_runs > 0, (study.weights @ success) / drawn_runs, 0.0)
    draws = _crossing_draws(grid, isotonic_increasing_rows(fractions, drawn_runs))
    low, high = percentile_interval(draws, level)
    return M50Estimate(setting=setting, width=int(width), m50=point, censored=censored, ci_low=low, ci_high=high,
                       level=level, grid=tuple(float(m) for m in grid), runs=int(runs.sum()), draws=draws)


def m50_estimates(frame: "pd.DataFrame", level: float = INTERVAL_LEVEL, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                  seed: int = 0) -> list[M50Estimate]:
    """m_50 with its seed-cluster interval for every (setting, width) with at least two offline
    m values (see the module docstring), sorted by setting and width."""
    level = _check_level(level)
    estimates = []
    for study in studies(frame, n_bootstrap, seed) if len(frame) else []:
        offline = study.runs[study.runs["samples"].notna()]
        for key, group in offline.groupby(list(SETTING_FIELDS) + ["width"], sort=True, dropna=False):
            if group["samples"].nunique() < 2:
                continue
            setting = dict(zip(SETTING_FIELDS, key[:-1]))
            estimates.append(_m50_in_study(study, setting, int(key[-1]), group, level))
    return sorted(estimates, key=lambda e: (tuple(str(e.setting[f]) for f in SETTING_FIELDS), e.width))


def m50_table(frame: "pd.DataFrame", level: float = INTERVAL_LEVEL, n_bootstrap: int = DEFAULT_BOOTSTRAP,
              seed: int = 0) -> "pd.DataFrame":
    """One row per (setting, width): setting fields, width, m50, censored, ci_low, ci_high, runs."""
    import pandas as pd

    rows = [dict(e.setting, width=e.width, m50=e.m50, censored=e.censored, ci_low=e.ci_low,
                 ci_high=e.ci_high, runs=e.runs) for e in m50_estimates(frame, level, n_bootstrap, seed)]
    return pd.DataFrame(rows, columns=list(SETTING_FIELDS) + ["width", "m50", "censored", "ci_low", "ci_high",
                                                              "runs"])


def task_error_matrix(frame: "pd.DataFrame") -> np.ndarray:
    """(runs, most tasks) float: each run's final test error per task (``task_test_errors``, a JSON
    list in the store), NaN where a run has no such task, no test samples of it, or diverged."""
    import json

    column = frame["task_test_errors"] if "task_test_errors" in frame else [None] * len(frame)
    lists = [json.loads(v) if isinstance(v, str) else [] for v in column]
    matrix = np.full((len(lists), max((len(v) for v in lists), default=0)), np.nan)
    for i, values in enumerate(lists):
        matrix[i, :len(values)] = [np.nan if v is None else v for v in values]
    return matrix


def task_runs(frame: "pd.DataFrame", task: int) -> "pd.DataFrame":
    """The runs that have a task ``task`` (a multitask target, docs/targets.md), with ``success``
    replaced by that task's: its final test error at most the run's ``target_error`` (a diverged
    run fails); ``steps_to_success`` is not known per task (NA). Feed it to :func:`m50_estimates`
    or :func:`success_table` for a per-task frontier."""
    import pandas as pd

    if isinstance(task, bool) or not isinstance(task, (int, np.integer)) or task < 0:
        raise ValueError(f"task={task!r} must be an integer >= 0")
    errors = task_error_matrix(frame)
    has_task = (frame["target"].isin(MULTITASK_TARGETS) & (frame["tasks"] > task)).to_numpy() \
        if "target" in frame else np.zeros(len(frame), dtype=bool)
    out = frame[has_task].copy()
    error = errors[has_task, task] if errors.shape[1] > task else np.full(len(out), np.nan)
    out["success"] = np.nan_to_num(error, nan=np.inf) <= out["target_error"].to_numpy(float)
    out["steps_to_success"] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out


def ratio_interval(numerator: M50Estimate, denominator: M50Estimate, level: float = INTERVAL_LEVEL
                   ) -> tuple[float, float, float]:
    """(point, low, high) of numerator.m50 / denominator.m50 from their bootstrap draws, draw by
    draw (paired when both come from one study: the same seeds were drawn).

    Draws beyond the grid make the ratio 0 or inf on that side. A draw where both lie beyond
    the grid on the same side (0/0, inf/inf) does not order them: it counts as 0 for the lower
    bound and as inf for the upper one, so undecided draws widen the interval, never narrow it."""
    level = _check_level(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = numerator.draws / denominator.draws
    return (numerator.m50 / denominator.m50, *undecided_widened_interval(ratios, level))


def undecided_widened_interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of draws where a NaN (an undecided draw) counts as 0 for the lower
    bound and as +inf for the upper bound."""
    undecided = np.isnan(draws)
    low = percentile_interval(np.where(undecided, 0.0, draws), level)[0]
    high = percentile_interval(np.where(undecided, math.inf, draws), level)[1]
    return low, high


# --------------------------------------------------------------------------- paired arms


@dataclass(frozen=True)
class PairedArms:
    """Two arms of one study matched run by run: the same seed, width and m.

    ``a``/``b`` (N,) success of each arm, ``steps_a``/``steps_b`` steps to success (NaN if
    failed), ``seeds`` the seed of each pair (pairs of one seed are resampled together)."""

    a: np.ndarray
    b: np.ndarray
    steps_a: np.ndarray
    steps_b: np.ndarray
    seeds: np.ndarray

    @property
    def pairs(self) -> int:
        return int(self.a.size)

    @property
    def discordant(self) -> tuple[int, int]:
        """(a succeeded and b failed, a failed and b succeeded)."""
        return int((self.a & ~self.b).sum()), int((~self.a & self.b).sum())


def paired_arms(runs_a: "pd.DataFrame", runs_b: "pd.DataFrame", on: Sequence[str] = ("seed", "width", "samples")
                ) -> PairedArms:
    """Match the runs of two arms on ``on`` (online runs match on samples = NaN)."""
    keys = list(on)
    left = runs_a[keys + ["success", "steps_to_success"]].copy()
    right = runs_b[keys + ["success", "steps_to_success"]].copy()
    for side in (left, right):
        if "samples" in keys:
            side["samples"] = side["samples"].astype("Float64").astype(float).fillna(-1.0)
    merged = left.merge(right, on=keys, suffixes=("_a", "_b"), how="inner")
    steps = {side: merged[f"steps_to_success_{side}"].astype("Float64").astype(float).to_numpy()
             for side in ("a", "b")}
    return PairedArms(merged["success_a"].to_numpy(bool), merged["success_b"].to_numpy(bool),
                      steps["a"], steps["b"], merged["seed"].to_numpy() if "seed" in keys else np.arange(len(merged)))


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """One-sided exact McNemar p-value that arm a succeeds more often than arm b: P(X >= a_only)
    for X ~ Binomial(a_only + b_only, 1/2) (1.0 when there are no discordant pairs)."""
    from scipy.stats import binomtest

    total = a_only + b_only
    return 1.0 if total == 0 else float(binomtest(a_only, total, 0.5, alternative="greater").pvalue)


def sign_test(greater: int, smaller: int) -> float:
    """One-sided sign test p-value that the first of a pair is greater (ties dropped beforehand)."""
    return mcnemar_exact(greater, smaller)


@dataclass(frozen=True)
class SeedSigns:
    """Paired arms summarised per seed, the unit of resampling: runs of one seed at several m
    and widths share its network and nested data, so their discordances are not independent.
    ``a_seeds``/``b_seeds``: seeds whose net discordance (a only - b only) is positive/negative;
    ``p_a``/``p_b``: one-sided exact sign tests over those seeds."""

    a_seeds: int
    b_seeds: int
    p_a: float
    p_b: float


def seed_signs(pairs: PairedArms, what: str = "success") -> SeedSigns:
    """Sign tests over seeds of the net per-seed difference: ``what="success"`` counts a-only
    minus b-only successes; ``"steps"`` counts, among pairs where both succeeded, pairs where a
    needed more steps minus pairs where it needed fewer."""
    seeds, index = np.unique(pairs.seeds, return_inverse=True)
    if what == "success":
        per_pair = (pairs.a & ~pairs.b).astype(int) - (~pairs.a & pairs.b).astype(int)
    else:
        both = ~np.isnan(pairs.steps_a) & ~np.isnan(pairs.steps_b)
        per_pair = np.where(both, np.sign(np.nan_to_num(pairs.steps_a - pairs.steps_b)), 0).astype(int)
    net = np.bincount(index, weights=per_pair, minlength=len(seeds))
    a_seeds, b_seeds = int((net > 0).sum()), int((net < 0).sum())
    return SeedSigns(a_seeds, b_seeds, sign_test(a_seeds, b_seeds), sign_test(b_seeds, a_seeds))


def equivalence_bound(pairs: PairedArms, level: float, margin: float, min_seeds: int = 10) -> tuple[float, float]:
    """(upper bound, p) for D = P(success | a) - P(success | b), seeds the unit: d_j is seed j's
    mean paired difference over its cells; the bound is mean(d) + t_{level, J-1} sd(d) / sqrt(J)
    (one-sided), p the one-sided t-test p-value of D >= ``margin`` against D < margin (an
    equivalence, or non-inferiority, test: p < alpha shows D below the margin). With fewer than
    ``min_seeds`` seeds: (1, 1), no verdict. Zero spread: the mean itself, p 0 or 1."""
    from scipy.stats import t as student_t

    seeds, index = np.unique(pairs.seeds, return_inverse=True)
    if len(seeds) < max(2, min_seeds):
        return 1.0, 1.0
    diff = pairs.a.astype(float) - pairs.b.astype(float)
    d = np.bincount(index, weights=diff) / np.bincount(index)
    mean, se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))
    if se == 0.0:
        return mean, 0.0 if mean < margin else 1.0
    bound = mean + float(student_t.ppf(level, len(d) - 1)) * se
    return bound, float(student_t.cdf((mean - margin) / se, len(d) - 1))


def smallest_decisive_count(alpha: float) -> int:
    """The fewest discordant units (seeds) for which an all-one-way split is significant at
    ``alpha`` (0.5^d < alpha): below it an exact sign test cannot reject, whatever the data."""
    return max(1, math.floor(math.log(alpha) / math.log(0.5)) + 1)


def bootstrap_difference(pairs: PairedArms, level: float = INTERVAL_LEVEL, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                         rng: np.random.Generator | None = None) -> tuple[float, float, float]:
    """(point, low, high) of P(success | a) - P(success | b) over matched pairs, with the
    seed-cluster bootstrap (pairs of one seed are resampled together)."""
    level = _check_level(level)
    if pairs.pairs == 0:
        return math.nan, -1.0, 1.0
    seeds, index = np.unique(pairs.seeds, return_inverse=True)
    per_seed = np.zeros((len(seeds), 3))
    np.add.at(per_seed, index, np.stack([pairs.a, pairs.b, np.ones(pairs.pairs)], axis=1))
    weights = seed_weights(len(seeds), n_bootstrap, rng or np.random.default_rng(0))
    drawn = weights @ per_seed
    differences = (drawn[:, 0] - drawn[:, 1]) / drawn[:, 2]
    point = float((pairs.a.sum() - pairs.b.sum()) / pairs.pairs)
    return (point, *percentile_interval(differences, level))


def settings_of(frame: "pd.DataFrame") -> list[dict]:
    """The distinct settings of a store frame, as dicts of SETTING_FIELDS."""
    data = normalized(frame)
    return [dict(zip(SETTING_FIELDS, key)) for key, _ in data.groupby(list(SETTING_FIELDS), sort=True)]


def settings_overview(frame: "pd.DataFrame") -> "pd.DataFrame":
    """One row per setting of a store frame: its SETTING_FIELDS, ``label`` (:func:`setting_label` plus
    every other setting field that is not the same in all settings), ``runs``, ``successes``,
    ``diverged``, ``cells`` (distinct (width, m)), ``seeds``, ``widths`` and ``samples`` (sorted
    lists; NaN = online). Reports and ``frontier info`` use it to describe every run a store holds."""
    import pandas as pd

    data = normalized(frame)
    if data.empty:
        return pd.DataFrame(columns=list(SETTING_FIELDS) + ["label", "runs", "successes", "diverged", "cells",
                                                            "seeds", "widths", "samples"])
    labelled = ("n", "k", "init", "target") + SPARSE_ONLY_FIELDS + TARGET_ONLY_FIELDS
    varying = [name for name in SETTING_FIELDS if name not in labelled and data[name].nunique(dropna=False) > 1]
    rows = []
    for key, group in data.groupby(list(SETTING_FIELDS), sort=True):
        setting = dict(zip(SETTING_FIELDS, key))
        extra = "".join(f" {name}={setting[name]}" for name in varying)
        samples = sorted(group["samples"].dropna().unique().tolist())
        rows.append({**setting, "label": setting_label(setting) + extra, "runs": len(group),
                     "successes": int(group["success"].sum()), "diverged": int(group["diverged"].sum()),
                     "cells": int(group.groupby(["width", "samples"], dropna=False).ngroups),
                     "seeds": int(group["seed"].nunique()), "widths": sorted(int(w) for w in group["width"].unique()),
                     "samples": [int(m) for m in samples] + ([math.nan] if group["samples"].isna().any() else [])})
    return pd.DataFrame(rows)


def format_samples(samples: Sequence[float]) -> str:
    """Training-set sizes of a :func:`settings_overview` row: ``100, 200, online``."""
    return ", ".join("online" if isinstance(m, float) and math.isnan(m) else str(int(m)) for m in samples)


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
