"""Checks of predicted curves (docs/science.md 7.1): does the parallel-search model (Model A) predict
runs its fit never saw, and does success grow with width as independent search says?

Every rule below was fixed before the check saw data (see CHANGELOG.md for what was run before
they were committed); ``level`` is the confidence level of every test and interval (alpha = 1 - level).
A FAIL of Model A is a finding about the science, reported in plain words, not a defect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import estimates as est
from .registry import CHECK_LEVEL, FAIL, INCONCLUSIVE, PASS, CheckResult, conjunction, register, verdict

if TYPE_CHECKING:
    import pandas as pd

#: Fewest runs on either side of the split for frontier_prediction to decide.
MIN_SPLIT_RUNS = 100
#: parallel_search_slope PASSes only when its interval lies inside this band around 1.
SLOPE_BAND = (2 / 3, 3 / 2)


def _largest_ks(frame: "pd.DataFrame") -> "pd.DataFrame":
    """The offline runs of the (k, sparsity) with the most runs (models fit one (k, s) at a time)."""
    data = est.normalized(frame)
    data = data[data["samples"].notna()]
    if data.empty:
        return frame.iloc[0:0]
    sparsity = data["sparsity"].where(data["sparsity"] > 0, 2)
    key = data["k"].astype(str) + "/" + sparsity.astype(str)
    return frame.loc[data.index[key == key.value_counts().index[0]]]


# --------------------------------------------------------------------------- frontier_prediction


def _describe_prediction(c: CheckResult) -> list[tuple[str, str]]:
    d = c.details
    if "models" not in d:
        return [(c.status, f"no frontier model could be tested: {c.summary}")] if c.status == INCONCLUSIVE else []
    a = d["models"]["A"]["held_out"]
    best = min(d["models"], key=lambda name: d["models"][name]["aic"])
    lo, hi = a["calibration_interval"]
    verb = "predicted" if c.status == PASS else "did not predict" if c.status == FAIL else "could not be judged on"
    return [(c.status, f"fitted on {d['fit']} ({d['fit_runs']} runs), the independent parallel-search model (A) "
                       f"{verb} the {d['predict_runs']} held-out runs ({d['predict']}): deviance p = "
                       f"{a['p_value']:.2g}, calibration slope {a['calibration_slope']:.2f} ({lo:.2f} to {hi:.2f}; 1 is "
                       f"calibrated), success {a['observed_rate']:.2f} observed vs {a['predicted_rate']:.2f} predicted; "
                       f"by AIC the data favour model {best}")]


def pre_registered_prediction(frame: "pd.DataFrame", level: float = CHECK_LEVEL, seed: int = 0,
                              n_bootstrap: int = 200):
    """(the FrontierPrediction frontier_prediction decides on, or None; why not) for a store frame:
    the runs of its most common (k, s), split by :func:`verify.prediction.default_split`."""
    from .prediction import default_split, predict_frontier

    data = _largest_ks(frame) if len(frame) else frame
    fit, predict = default_split(data) if len(data) else ("", "")
    if not fit:
        return None, "one n and one width: nothing to hold out"
    try:
        return predict_frontier(data, fit, predict, level=level, n_bootstrap=n_bootstrap, seed=seed), ""
    except ValueError as exc:
        return None, str(exc)


@register("frontier_prediction",
          claim=("Model A (independent parallel search, theory-fixed n-exponents) fitted on the smaller sizes "
                 "predicts the held-out largest n (or width): deviance p >= alpha and calibration slope "
                 "interval containing 1 (docs/science.md 7.1)."),
          describe=_describe_prediction)
def check_frontier_prediction(frame: "pd.DataFrame", level: float = CHECK_LEVEL, seed: int = 0,
                              model_bootstrap: int = 200, prediction=None) -> CheckResult:
    """Rule (fixed before data): the offline runs of the store's most common (k, s); split =
    :func:`verify.prediction.default_split` (hold out the largest n if there are two or more,
    else the largest width). Fit Models A, A-free and B on the rest; score A on the held-out
    runs. PASS: held-out deviance p-value >= alpha (parametric bootstrap under the fit) and the
    calibration slope's seed-cluster interval at ``level`` contains 1. FAIL: p < alpha, or the
    interval excludes 1. INCONCLUSIVE: fewer than MIN_SPLIT_RUNS runs on a side, or the fit of A
    did not converge. B and A-free are fitted and reported (AIC, BIC, scores), never deciding.
    ``prediction``: that fit, when the caller has it already (run_checks shares it)."""
    result, reason = (prediction, "") if prediction is not None else pre_registered_prediction(
        frame, level, seed, model_bootstrap)
    if result is None:
        return CheckResult("frontier_prediction", INCONCLUSIVE, reason, {})
    fit, predict = result.fit_selector, result.predict_selector
    details = result.to_dict()
    a, score = result.fits["A"], result.scores["A"]
    summary = (f"fit {fit} ({result.fit_data.runs} runs), predict {predict} ({result.predict_data.runs} runs): "
               f"model A deviance {score.deviance:.1f} over {score.cells} cells, p = {score.p_value:.3g}; calibration "
               f"slope {score.calibration_slope:.2f} [{score.calibration_interval[0]:.2f}, "
               f"{score.calibration_interval[1]:.2f}]; AIC A {a.aic:.0f}, A-free {result.fits['A-free'].aic:.0f}, "
               f"B {result.fits['B'].aic:.0f}")
    if min(result.fit_data.runs, result.predict_data.runs) < MIN_SPLIT_RUNS or not a.converged:
        return CheckResult("frontier_prediction", INCONCLUSIVE, summary + " (too few runs or no convergence)", details)
    low, high = score.calibration_interval
    calibrated = low <= 1.0 <= high
    status = verdict(score.p_value >= 1.0 - level and calibrated, score.p_value < 1.0 - level or not calibrated)
    return CheckResult("frontier_prediction", status, summary, details)


# --------------------------------------------------------------------------- parallel_search_slope


def _describe_slope(c: CheckResult) -> list[tuple[str, str]]:
    out = []
    for x in c.details.get("arms", []):
        lo, hi = x["interval"]
        meaning = ("as independent parallel search predicts" if x["status"] == PASS else
                   "so width helps less than independent search would" if hi < 1 else
                   "so width helps more than independent search would" if lo > 1 else "not decided")
        out.append((x["status"], f"with {x['arm']} init, cloglog success rose with ln(width) at slope {x['slope']:.2f} "
                                 f"({lo:.2f} to {hi:.2f}; Model A says exactly 1), {meaning}"))
    return out


@register("parallel_search_slope",
          claim=("At fixed m, cloglog P(success) rises with ln(width) at slope 1, as independent parallel "
                 "search predicts (Model A; docs/science.md 7.1)."),
          describe=_describe_slope)
def check_parallel_search_slope(frame: "pd.DataFrame", level: float = CHECK_LEVEL, seed: int = 0) -> CheckResult:
    """Rule (fixed before data): for each init arm (dense; each sparse s and values) of runs
    without an intervention, the pooled slope of cloglog P(success) in ln r over the offline
    (setting, m) groups with two or more widths and mixed outcomes (one intercept per group),
    with its seed-cluster bootstrap interval at ``level``. PASS: the interval contains 1 and lies
    inside SLOPE_BAND. FAIL: it excludes 1. INCONCLUSIVE: otherwise, or no usable group.
    Overall: FAIL if one arm FAILs, PASS only if all PASS."""
    from .prediction import cloglog_slope, init_arms

    arms = []
    for arm in init_arms(frame) if len(frame) else []:
        slope = cloglog_slope(frame, arm, level=level, seed=seed)
        if slope is None:
            continue
        low, high = slope.interval
        status = verdict(low <= 1.0 <= high and SLOPE_BAND[0] <= low and high <= SLOPE_BAND[1], high < 1 or low > 1)
        arms.append({"arm": slope.arm, "slope": slope.slope, "interval": [low, high], "groups": slope.groups,
                     "runs": slope.runs, "status": status})
    if not arms:
        return CheckResult("parallel_search_slope", INCONCLUSIVE,
                           "no (setting, m) with two widths and mixed outcomes", {})
    summary = "; ".join(f"{x['arm']}: slope {x['slope']:.2f} [{x['interval'][0]:.2f}, {x['interval'][1]:.2f}] over "
                        f"{x['groups']} (setting, m) groups {x['status']}" for x in arms)
    return CheckResult("parallel_search_slope", conjunction([x["status"] for x in arms]), summary,
                       {"arms": arms, "band": list(SLOPE_BAND), "level": level})
