"""Checks of the measured frontier: width never hurts, sparse init needs fewer samples, and the
sparse advantage is larger above the critical width than below it (docs/science.md 4.4, 5.2-5.3).

Every rule below was fixed before the check saw data (docs/verification.md). Runs of one seed
are paired across widths, sample sizes and inits (verify.estimates): widths are compared with
paired McNemar tests, thresholds with the seed-cluster bootstrap. ``level`` is the confidence
level of every test and interval (alpha = 1 - level).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import estimates as est
from .registry import CHECK_LEVEL, alpha_of, FAIL, INCONCLUSIVE, PASS, CheckResult, conjunction, register, verdict

if TYPE_CHECKING:
    import pandas as pd

#: The paper's claim for the sparse advantage at large width ("well over 1.5x"): reported
#: beside the measured ratio, never used to turn a smaller ratio into agreement.
PAPER_RATIO = 1.5
#: ratio_across_critical_width compares a width >= WIDE_FACTOR r* with one <= r* / WIDE_FACTOR.
WIDE_FACTOR = 4


def _plain_settings(frame: "pd.DataFrame") -> list[dict]:
    return [s for s in est.settings_of(frame) if s["intervention"] == "none"] if len(frame) else []


# --------------------------------------------------------------------------- width_monotone


#: width_monotone's margin: a drop in success probability from the narrower to the wider width
#: smaller than this counts as "no drop" (the PASS route is an equivalence test against it).
WIDTH_MARGIN = 0.15


def _describe_width_monotone(c: CheckResult) -> list[tuple[str, str]]:
    out = []
    for x in c.details.get("settings", []):
        worst = x["worst"]
        if x["status"] == FAIL:
            text = (f"success dropped significantly with width ({x['setting']}, r={worst['narrow']}->{worst['wide']}: "
                    f"{worst['narrow_seeds']} seeds did better at the narrow width, {worst['wide_seeds']} at the wide "
                    f"one, one-sided sign test p = {worst['p_value']:.2g})")
        else:
            loosest = x["loosest"]
            text = (f"{x['setting']}: success never dropped significantly with width ({x['pairs']} adjacent width "
                    f"pairs; seeds better at the narrower / wider width {x['narrow_seeds']} / {x['wide_seeds']}); "
                    f"a drop is at most {loosest['drop_bound']:.2f} at every pair (largest at r={loosest['narrow']}->"
                    f"{loosest['wide']})" + ("" if x["status"] == PASS else
                                             f", not shown below the margin {WIDTH_MARGIN}"))
        out.append((x["status"], text))
    return out


def _width_pairs(runs: "pd.DataFrame", level: float) -> list[dict[str, Any]]:
    """Adjacent widths of one setting, paired by seed and m, tested over seeds."""
    out = []
    for narrow, wide in est.iter_pairs(runs["width"]):
        pairs = est.paired_arms(runs[runs["width"] == narrow], runs[runs["width"] == wide], on=("seed", "samples"))
        signs = est.seed_signs(pairs)
        bound, p_equivalent = est.equivalence_bound(pairs, level, WIDTH_MARGIN)
        out.append({"narrow": int(narrow), "wide": int(wide), "pairs": pairs.pairs,
                    "narrow_seeds": signs.a_seeds, "wide_seeds": signs.b_seeds, "p_value": signs.p_a,
                    "drop_bound": bound, "p_no_drop": p_equivalent})
    return out


@register("width_monotone",
          claim="Success never drops with width at fixed m by WIDTH_MARGIN or more, seeds paired (docs/science.md 5.2).",
          describe=_describe_width_monotone,
          effect="a drop: every m_50 at the wider width 1.5x the narrower's")
def check_width_monotone(frame: "pd.DataFrame", level: float = CHECK_LEVEL) -> CheckResult:
    """Rule (revised before the rebuilt demo, issue 23; CHANGELOG.md): for every setting without an
    intervention and every pair of adjacent widths r1 < r2, match the runs of one seed and one m
    at both widths (the same data; the wider network contains the narrower one's initial
    neurons). A seed is the unit (its runs at several m share the network and nested data).
    FAIL when some pair's one-sided exact sign test over seeds that the narrower width does better
    (each seed's net discordance) has p < alpha / (all pairs of all settings) (Bonferroni: a union
    of claims). PASS when no pair FAILs and at every pair the one-sided t bound at 1 - alpha on the
    drop D = P(success at r1) - P(success at r2), seeds the unit
    (:func:`verify.estimates.equivalence_bound`), lies below WIDTH_MARGIN (an intersection-union
    test: every pair must show it, so no correction is needed). Else INCONCLUSIVE. Overall: FAIL if
    one setting FAILs, PASS only if all PASS."""
    per_setting = [(setting, _width_pairs(est.rows_of_setting(frame, setting), level))
                   for setting in _plain_settings(frame)]
    per_setting = [(setting, pairs) for setting, pairs in per_setting if pairs]
    total = sum(len(pairs) for _, pairs in per_setting)
    if not total:
        return CheckResult("width_monotone", INCONCLUSIVE, "fewer than two widths in every setting", {})
    alpha = alpha_of(level) / total
    settings = []
    for setting, pairs in per_setting:
        worst = min(pairs, key=lambda x: x["p_value"])
        loosest = max(pairs, key=lambda x: x["drop_bound"])
        no_drop = all(x["p_no_drop"] < alpha_of(level) for x in pairs)
        settings.append({"setting": est.setting_label(setting), "pairs": len(pairs), "comparisons": pairs,
                         "narrow_seeds": sum(x["narrow_seeds"] for x in pairs),
                         "wide_seeds": sum(x["wide_seeds"] for x in pairs), "worst": worst, "loosest": loosest,
                         "status": verdict(no_drop, worst["p_value"] < alpha)})
    status = conjunction([x["status"] for x in settings])
    worst = min((x["worst"] | {"setting": x["setting"]} for x in settings), key=lambda x: x["p_value"])
    loosest = max((x["loosest"] | {"setting": x["setting"]} for x in settings), key=lambda x: x["drop_bound"])
    summary = (f"{total} adjacent width pairs in {len(settings)} settings, seeds the unit: seeds better at the "
               f"narrower / wider width {sum(x['narrow_seeds'] for x in settings)} / "
               f"{sum(x['wide_seeds'] for x in settings)}; smallest one-sided sign-test p = {worst['p_value']:.3g} "
               f"({worst['setting']} r={worst['narrow']}->{worst['wide']}) vs Bonferroni alpha {alpha:.3g}; largest "
               f"bound on a drop {loosest['drop_bound']:.2f} ({loosest['setting']} r={loosest['narrow']}->"
               f"{loosest['wide']}) vs margin {WIDTH_MARGIN}; {sum(x['status'] == PASS for x in settings)} of "
               f"{len(settings)} settings PASS")
    return CheckResult("width_monotone", status, summary,
                       {"settings": settings, "alpha_per_comparison": alpha, "margin": WIDTH_MARGIN, "level": level})


# --------------------------------------------------------------------------- thresholds per arm


def _m50_by_arm(estimates: list[est.M50Estimate]) -> dict[tuple, dict[str, dict[int, est.M50Estimate]]]:
    """{study key: {"dense" or sparse label: {width: estimate}}} for estimates without an intervention."""
    out: dict[tuple, dict[str, dict[int, est.M50Estimate]]] = {}
    for e in estimates:
        if e.setting["intervention"] != "none":
            continue
        study = tuple(e.setting[f] for f in est.STUDY_FIELDS)
        out.setdefault(study, {}).setdefault(est.setting_label(e.setting), {})[e.width] = e
    return out


def _dense_sparse_pairs(estimates: list[est.M50Estimate]):
    """(study, dense label, dense estimates, sparse label, sparse estimates) for each sparse arm
    of a study that also has a dense arm."""
    for study, arms in sorted(_m50_by_arm(estimates).items(), key=lambda item: str(item[0])):
        dense = [label for label in arms if " dense" in label]
        for label, sparse in sorted(arms.items()):
            if " sparse(" in label and dense:
                yield study, dense[0], arms[dense[0]], label, sparse


def _magnitude(low: float, high: float) -> str:
    if low > PAPER_RATIO:
        return "reaches"
    return "below" if high < PAPER_RATIO else "undecided"


# --------------------------------------------------------------------------- sparse_beats_dense


def _describe_sparse_beats_dense(c: CheckResult) -> list[tuple[str, str]]:
    out = []
    for x in c.details.get("comparisons", []):
        lo, hi = x["ratio_ci"]
        verdict_text = {PASS: "needed fewer samples than", FAIL: "needed more samples than",
                        INCONCLUSIVE: "could not be told apart from"}[x["status"]]
        paper = {"reaches": f"at or above the paper's {PAPER_RATIO}x",
                 "below": f"significantly below the paper's 'well over {PAPER_RATIO}x' (its scale is n = 100)",
                 "undecided": f"not decided against the paper's {PAPER_RATIO}x"}[x["paper_magnitude"]]
        dense_c, sparse_c = x.get("censored", ["", ""])
        out.append((x["status"], f"at width {x['width']}, {x['sparse']} {verdict_text} dense init: m_50 "
                                 f"{est.format_estimate(x['m50_sparse'], sparse_c)} vs "
                                 f"{est.format_estimate(x['m50_dense'], dense_c)}, a factor "
                                 f"{x['ratio']:.2f} (interval {lo:.2f} to {hi:.2f}), {paper}"))
    return out


@register("sparse_beats_dense",
          claim=("At the largest width both inits share, sparse init needs fewer samples: "
                 "m_50(dense) / m_50(sparse) > 1, per setting (docs/science.md 5.3)."),
          describe=_describe_sparse_beats_dense, effect="R = 1.5, the paper's claim (PASS), or 1/1.5 (FAIL)")
def check_sparse_beats_dense(frame: "pd.DataFrame", level: float = CHECK_LEVEL,
                             n_bootstrap: int = est.DEFAULT_BOOTSTRAP, seed: int = 0,
                             m50: list[est.M50Estimate] | None = None) -> CheckResult:
    """Rule (fixed before data): for every sparse arm of a study (no intervention) that has a dense
    arm, at the largest width where both have m_50 estimates, the seed-cluster bootstrap interval
    (paired draws; a draw with both thresholds beyond the grid on one side counts against both
    ends) of R = m_50(dense) / m_50(sparse) at ``level``: PASS when it lies above 1, FAIL below 1,
    INCONCLUSIVE when it contains 1. Overall: FAIL if one FAILs, PASS only if all PASS.
    The paper's magnitude (well over 1.5x) is reported beside it (reaches / below / undecided),
    never as agreement when the ratio is smaller."""
    estimates = m50 if m50 is not None else (est.m50_estimates(frame, level, n_bootstrap, seed) if len(frame) else [])
    comparisons = []
    for _study, _dense_label, dense, sparse_label, sparse in _dense_sparse_pairs(estimates):
        shared = sorted(set(dense) & set(sparse))
        if not shared:
            continue
        width = shared[-1]
        point, low, high = est.ratio_interval(dense[width], sparse[width], level)
        comparisons.append({"sparse": sparse_label, "width": width, "m50_dense": dense[width].m50,
                            "m50_sparse": sparse[width].m50, "censored": [dense[width].censored,
                                                                         sparse[width].censored],
                            "ratio": point, "ratio_ci": [low, high],
                            "paper_magnitude": _magnitude(low, high),
                            "status": verdict(low > 1.0, high < 1.0)})
    if not comparisons:
        return CheckResult("sparse_beats_dense", INCONCLUSIVE,
                           "no width with m_50 estimates for both dense and sparse init", {})
    summary = "; ".join(f"{x['sparse']} r={x['width']}: ratio {x['ratio']:.2f} [{x['ratio_ci'][0]:.2f}, "
                        f"{x['ratio_ci'][1]:.2f}] {x['status']} (paper's {PAPER_RATIO}x: {x['paper_magnitude']})"
                        for x in comparisons)
    return CheckResult("sparse_beats_dense", conjunction([x["status"] for x in comparisons]), summary,
                       {"comparisons": comparisons, "level": level, "paper_ratio": PAPER_RATIO})


# --------------------------------------------------------------------------- ratio_across_critical_width


def _describe_ratio_across(c: CheckResult) -> list[tuple[str, str]]:
    out = []
    for x in c.details.get("settings", []):
        if "change" not in x:
            out.append((INCONCLUSIVE, f"{x['sparse']}: {x['reason']}"))
            continue
        lo, hi = x["change_ci"]
        out.append((x["status"], f"{x['sparse']}: the dense/sparse sample ratio was {x['ratio_wide']:.2f} at width "
                                 f"{x['wide']} (>= {WIDE_FACTOR} r*, r* = {x['critical_width']}) and "
                                 f"{x['ratio_narrow']:.2f} at width {x['narrow']} (<= r*/{WIDE_FACTOR}), a change by a "
                                 f"factor {x['change']:.2f} (interval {lo:.2f} to {hi:.2f}); the ticket picture "
                                 "predicts a factor above 1"))
    return out


def _ratio_draws(dense: est.M50Estimate, sparse: est.M50Estimate) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return dense.draws / sparse.draws


@register("ratio_across_critical_width",
          claim=("The sparse advantage R(r) = m_50(dense) / m_50(sparse) is larger at r >= 4 r* than at "
                 "r <= r*/4 (docs/science.md 4.4 and 7)."),
          describe=_describe_ratio_across, effect="Q = R(wide) / R(narrow) = 1.5 (PASS) or 1/1.5 (FAIL)")
def check_ratio_across_critical_width(frame: "pd.DataFrame", level: float = CHECK_LEVEL,
                                      n_bootstrap: int = est.DEFAULT_BOOTSTRAP, seed: int = 0,
                                      m50: list[est.M50Estimate] | None = None) -> CheckResult:
    """Rule (fixed before data): for every sparse arm of a study (no intervention) with a dense
    arm, r* = theory.lottery.critical_width(n, k, s); wide = the largest width >= 4 r* and narrow
    = the smallest width <= r*/4 at which both inits have m_50 estimates. Q = R(wide) / R(narrow)
    with its seed-cluster bootstrap interval at ``level`` (every draw uses the same resampled
    seeds for all four thresholds; a draw that orders nothing, such as 0/0 beyond the grid, counts
    against both ends). PASS: interval above 1. FAIL: below 1. INCONCLUSIVE: it contains 1, or the
    grid has no such widths. Overall: FAIL if one FAILs, PASS only if all PASS."""
    from theory.lottery import critical_width

    estimates = m50 if m50 is not None else (est.m50_estimates(frame, level, n_bootstrap, seed) if len(frame) else [])
    settings: list[dict[str, Any]] = []
    for _study, _dense_label, dense, sparse_label, sparse in _dense_sparse_pairs(estimates):
        any_sparse = next(iter(sparse.values())).setting
        n, k, s = int(any_sparse["n"]), int(any_sparse["k"]), int(any_sparse["sparsity"])
        r_star = critical_width(n, k, s)
        shared = sorted(set(dense) & set(sparse))
        wide = [w for w in shared if w >= WIDE_FACTOR * r_star]
        narrow = [w for w in shared if w * WIDE_FACTOR <= r_star]
        entry: dict[str, Any] = {"sparse": sparse_label, "critical_width": r_star, "widths": shared}
        if not wide or not narrow:
            entry.update(status=INCONCLUSIVE, reason=f"the grid has no width >= {WIDE_FACTOR} r* and <= "
                                                      f"r*/{WIDE_FACTOR} with both inits (r* = {r_star})")
            settings.append(entry)
            continue
        w_wide, w_narrow = wide[-1], narrow[0]
        ratio_wide = dense[w_wide].m50 / sparse[w_wide].m50
        ratio_narrow = dense[w_narrow].m50 / sparse[w_narrow].m50
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = _ratio_draws(dense[w_wide], sparse[w_wide]) / _ratio_draws(dense[w_narrow], sparse[w_narrow])
        low, high = est.undecided_widened_interval(draws, level)  # a draw that orders nothing widens it
        entry.update(wide=w_wide, narrow=w_narrow, ratio_wide=ratio_wide, ratio_narrow=ratio_narrow,
                     change=ratio_wide / ratio_narrow, change_ci=[low, high], status=verdict(low > 1.0, high < 1.0))
        settings.append(entry)
    if not settings:
        return CheckResult("ratio_across_critical_width", INCONCLUSIVE,
                           "no study with m_50 estimates for both dense and sparse init", {})
    summary = "; ".join(
        f"{x['sparse']}: R {x['ratio_narrow']:.2f} at r={x['narrow']} -> {x['ratio_wide']:.2f} at r={x['wide']} "
        f"(r* = {x['critical_width']}), change x{x['change']:.2f} [{x['change_ci'][0]:.2f}, {x['change_ci'][1]:.2f}] "
        f"{x['status']}" if "change" in x else f"{x['sparse']}: {x['reason']}" for x in settings)
    return CheckResult("ratio_across_critical_width", conjunction([x["status"] for x in settings]), summary,
                       {"settings": settings, "wide_factor": WIDE_FACTOR, "level": level})
