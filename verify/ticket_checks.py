"""Causal and post-training checks of the lottery-ticket mechanism (docs/science.md 4.4, 5.5, 7).

The simulator can intervene on the initial weights of a run and leave everything else of its
seed as it was (``RunConfig.intervention``): knocking out every ticket, or planting one ticket
(and, as the control, the same values off the target). Each run is paired with the ``none``
run of its seed, width and m, so the tests are exact paired tests on discordant pairs.

Every rule below was fixed before the check saw data (docs/verification.md); ``level`` is the
confidence level of every test and interval (alpha = 1 - level).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from . import estimates as est
from .registry import CHECK_LEVEL, alpha_of, INCONCLUSIVE, CheckResult, conjunction, register, verdict

if TYPE_CHECKING:
    import pandas as pd

#: Cells whose success rate, pooled over the compared arms, lies in this window (the transition
#: between always-fail and always-succeed) carry the comparison; pooling both arms keeps the
#: selection blind to the direction of the effect.
WINDOW = (0.1, 0.9)
#: The equivalence margin: a change in success probability smaller than this counts as "no
#: effect". The "no effect" FAIL needs the upper confidence bound on the paired difference, seeds
#: the unit, below it (:func:`equivalence_bound`). Chosen with the operating characteristics
#: (docs/verification.md): at the demo's 32 seeds x 4 cells it is reachable with >= 80% power when
#: there is no effect; a margin of 0.05 (the old MIN_EFFECT) needed ~1000 seeds.
EQUIVALENCE_MARGIN = 0.15
#: Fewest seeds for the equivalence route (below it a t bound over seeds is not trusted).
MIN_EQUIVALENCE_SEEDS = 10
#: ticket_knockout uses widths >= KNOCKOUT_FACTOR r* (tickets are there to remove);
#: ticket_knockin widths <= r* / KNOCKIN_FACTOR (a network that usually has none).
KNOCKOUT_FACTOR = 2
KNOCKIN_FACTOR = 4
#: Each planted ticket and its control (the same values off S).
PLANT_PAIRS = {"plant_native_ticket": "plant_native_control", "plant_ticket": "plant_control"}


def _arms(frame: "pd.DataFrame") -> dict[tuple, "pd.DataFrame"]:
    """{(study key, init, sparsity, sparse_values, intervention): runs} of a normalized frame."""
    data = est.normalized(frame)
    keys = list(est.STUDY_FIELDS) + ["init", "sparsity", "sparse_values", "intervention"]
    split = len(est.STUDY_FIELDS)
    return {(tuple(key[:split]), *key[split:]): runs for key, runs in data.groupby(keys, sort=True, dropna=False)}


def _study_label(study: tuple) -> str:
    values = dict(zip(est.STUDY_FIELDS, study))
    return f"n={int(values['n'])} k={int(values['k'])}"


def _window(*arms: "pd.DataFrame") -> list["pd.DataFrame"]:
    """Each arm restricted to the cells (width, m) whose pooled success rate lies in WINDOW."""
    import pandas as pd

    cells = ["width", "samples"]
    pooled = pd.concat([arm[cells + ["success"]] for arm in arms]).fillna({"samples": -1.0})
    rate = pooled.groupby(cells)["success"].mean()
    inside = set(rate[(rate >= WINDOW[0]) & (rate <= WINDOW[1])].index)
    return [arm[[(w, m) in inside for w, m in zip(arm["width"], arm["samples"].fillna(-1.0))]] for arm in arms]


def _steps(pairs: est.PairedArms) -> dict[str, Any]:
    """Among pairs where both arms succeeded: how often arm a needed more steps, and the sign test
    over seeds (the unit) of each seed's net count."""
    both = ~np.isnan(pairs.steps_a) & ~np.isnan(pairs.steps_b)
    signs = est.seed_signs(pairs, "steps")
    median = lambda x: float(np.median(x)) if x.size else math.nan  # noqa: E731
    return {"both_succeeded": int(both.sum()), "a_slower": int(np.sum(pairs.steps_a[both] > pairs.steps_b[both])),
            "a_faster": int(np.sum(pairs.steps_a[both] < pairs.steps_b[both])), "seeds_a_slower": signs.a_seeds,
            "seeds_a_faster": signs.b_seeds, "p_a_slower": signs.p_a, "p_a_faster": signs.p_b,
            "median_steps_a": median(pairs.steps_a[both]), "median_steps_b": median(pairs.steps_b[both])}


def _comparison(a: "pd.DataFrame", b: "pd.DataFrame", level: float, rng_key: tuple, names: tuple[str, str],
                equivalence_level: float | None = None) -> dict[str, Any]:
    """Arm a against arm b, matched by seed, width and m: rates, discordant pairs, exact one-sided
    sign tests over seeds (a seed's runs at several m share its network: the seed is the unit)
    both ways, the seed-cluster interval of the difference, the equivalence bound on it
    (:func:`equivalence_bound` at ``equivalence_level``, default 1 - alpha/2) and its p-value,
    and the steps."""
    bound_level = equivalence_level if equivalence_level is not None else 1.0 - alpha_of(level) / 2
    pairs = est.paired_arms(a, b)
    a_only, b_only = pairs.discordant
    signs = est.seed_signs(pairs)
    difference = est.bootstrap_difference(pairs, level, rng=est.estimate_rng(0, rng_key))
    return {"arm_a": names[0], "arm_b": names[1], "pairs": pairs.pairs, "seeds": int(len(np.unique(pairs.seeds))),
            "rate_a": float(pairs.a.mean()) if pairs.pairs else math.nan,
            "rate_b": float(pairs.b.mean()) if pairs.pairs else math.nan, "a_only": a_only, "b_only": b_only,
            "seeds_a_better": signs.a_seeds, "seeds_b_better": signs.b_seeds,
            "p_a_higher": signs.p_a, "p_b_higher": signs.p_b,
            "difference": difference[0], "difference_ci": list(difference[1:]),
            **dict(zip(("difference_upper_bound", "equivalence_p"), equivalence_bound(pairs, bound_level))),
            "steps": _steps(pairs)}


def equivalence_bound(pairs: est.PairedArms, level: float, margin: float | None = None) -> tuple[float, float]:
    """:func:`verify.estimates.equivalence_bound` at EQUIVALENCE_MARGIN (by default) and
    MIN_EQUIVALENCE_SEEDS."""
    return est.equivalence_bound(pairs, level, EQUIVALENCE_MARGIN if margin is None else margin,
                                 MIN_EQUIVALENCE_SEEDS)


# --------------------------------------------------------------------------- ticket_knockout


def _describe_knockout(c: CheckResult) -> list[tuple[str, str]]:
    out = []
    for x in c.details.get("settings", []):
        if "comparison" not in x:
            out.append((INCONCLUSIVE, f"{x['setting']}: {x['reason']}"))
            continue
        cmp, steps = x["comparison"], x["comparison"]["steps"]
        text = (f"{x['setting']}: knocking out every ticket at widths {x['widths']} (>= {KNOCKOUT_FACTOR} r*) gave "
                f"success {cmp['rate_b']:.2f} against {cmp['rate_a']:.2f} for {cmp['arm_a']} ({cmp['seeds_a_better']} "
                f"seeds lost success, {cmp['seeds_b_better']} gained; one-sided sign test over seeds p = "
                f"{cmp['p_a_higher']:.2g}; the drop is at most {cmp['difference_upper_bound']:.2f}, equivalence "
                f"margin {EQUIVALENCE_MARGIN}), and successful runs needed a median "
                f"{steps['median_steps_b']:.0f} instead of {steps['median_steps_a']:.0f} steps")
        if "sham_vs_none" in x:
            sham = x["sham_vs_none"]
            text += f"; the sham itself gave {sham['rate_a']:.2f} against {sham['rate_b']:.2f} without intervention"
        out.append((x["status"], text))
    return out


@register("ticket_knockout",
          claim=("Knocking out every ticket (supports redrawn from the non-ticket law, values kept) at widths "
                 ">= 2 r* lowers success in the transition window more than redrawing as many non-ticket "
                 "neurons (the sham), and does not speed successful runs up (docs/science.md 7)."),
          describe=_describe_knockout, design="knockout",
          effect="success drops by 0.3 (PASS); no effect (FAIL, equivalence margin 0.15)")
def check_ticket_knockout(frame: "pd.DataFrame", level: float = CHECK_LEVEL) -> CheckResult:
    """Rule (rebuilt, issue 23; CHANGELOG.md): for every sparse arm of a study with ``none`` and a
    knock-out arm (``knock_out_redrawn``, else the original ``knock_out_tickets``), at widths >=
    KNOCKOUT_FACTOR * r* (theory.lottery.critical_width), in the cells whose success pooled over
    the arms lies in WINDOW, runs paired by seed, width and m, the seed the unit of every test.
    The comparator is the sham arm ``knock_out_sham`` (as many non-ticket neurons redrawn) when
    the store has it, else ``none``. a = comparator, b = knock-out.
    PASS: knock-out lowers success (one-sided exact sign test over seeds, p < alpha) and
    successful runs are not significantly faster (sign test over seeds on steps, p >= alpha).
    FAIL (alpha split over its two routes): knock-out raises success (p < alpha/2), or "no
    effect": the one-sided upper bound at 1 - alpha/2 on P(a) - P(b) lies below
    EQUIVALENCE_MARGIN (:func:`equivalence_bound`, needs MIN_EQUIVALENCE_SEEDS seeds).
    INCONCLUSIVE: otherwise, or no such runs. The sham against ``none`` is reported (the
    redrawing itself should do nothing). Overall: FAIL if one setting FAILs, PASS only if all PASS."""
    from theory.lottery import critical_width

    alpha = alpha_of(level)
    arms = _arms(frame) if len(frame) else {}
    settings = []
    for (study, init, s, values, intervention), knocked in arms.items():
        if intervention not in ("knock_out_redrawn", "knock_out_tickets"):
            continue
        if intervention == "knock_out_tickets" and (study, init, s, values, "knock_out_redrawn") in arms:
            continue  # the rebuilt arm decides when both are there
        label = f"{_study_label(study)} sparse(s={s},{values}) {intervention}"
        none = arms.get((study, init, s, values, "none"))
        sham = arms.get((study, init, s, values, "knock_out_sham"))
        fields = dict(zip(est.STUDY_FIELDS, study))
        r_star = critical_width(int(fields["n"]), int(fields["k"]), int(s))
        if none is None:
            settings.append({"setting": label, "status": INCONCLUSIVE, "reason": "no 'none' runs to pair with"})
            continue
        present = [runs for runs in (none, knocked, sham) if runs is not None]
        windowed = _window(*(runs[runs["width"] >= KNOCKOUT_FACTOR * r_star] for runs in present))
        a_none, b = windowed[0], windowed[1]
        a_sham = windowed[2] if sham is not None else None
        if b.empty:
            settings.append({"setting": label, "status": INCONCLUSIVE, "critical_width": r_star,
                             "reason": f"no cell at width >= {KNOCKOUT_FACTOR} r* = {KNOCKOUT_FACTOR * r_star} in the "
                                       f"transition window {WINDOW}"})
            continue
        comparator = "knock_out_sham" if a_sham is not None else "none"
        cmp = _comparison(a_sham if a_sham is not None else a_none, b, level, (label, "knockout"),
                          (comparator, intervention))
        entry = {"setting": label, "critical_width": r_star, "widths": sorted(set(b["width"].tolist())),
                 "comparator": comparator, "comparison": cmp}
        if a_sham is not None:
            entry["none_vs_knockout"] = _comparison(a_none, b, level, (label, "none-knockout"),
                                                    ("none", intervention))
            entry["sham_vs_none"] = _comparison(a_sham, a_none, level, (label, "sham-none"),
                                                ("knock_out_sham", "none"))
        passed = cmp["p_a_higher"] < alpha and cmp["steps"]["p_a_slower"] >= alpha  # knock-out not faster
        failed = cmp["p_b_higher"] < alpha / 2 or cmp["equivalence_p"] < alpha / 2
        settings.append(entry | {"status": verdict(passed, failed)})
    return _ticket_result("ticket_knockout", settings, level, "no knock-out runs in the store")


def _ticket_result(name: str, settings: list[dict], level: float, empty: str) -> CheckResult:
    if not settings:
        return CheckResult(name, INCONCLUSIVE, empty, {})
    parts = []
    for x in settings:
        if "comparison" not in x:
            parts.append(f"{x['setting']}: {x['reason']}")
            continue
        c = x["comparison"]
        parts.append(f"{x['setting']}: success {c['arm_a']} {c['rate_a']:.2f} vs {c['arm_b']} {c['rate_b']:.2f} over "
                     f"{c['pairs']} pairs of {c['seeds']} seeds ({c['a_only']}:{c['b_only']} discordant pairs, seeds "
                     f"{c['seeds_a_better']}:{c['seeds_b_better']}, one-sided sign test p = {c['p_a_higher']:.2g}, "
                     f"difference {c['difference']:+.2f} [{c['difference_ci'][0]:+.2f}, {c['difference_ci'][1]:+.2f}])"
                     + (f", {x['control']['arm_b']} {x['control']['rate_b']:.2f}" if "control" in x else "")
                     + f" {x['status']}")
    return CheckResult(name, conjunction([x["status"] for x in settings]), "; ".join(parts),
                       {"settings": settings, "window": list(WINDOW), "equivalence_margin": EQUIVALENCE_MARGIN,
                        "level": level})


# --------------------------------------------------------------------------- ticket_knockin


def _describe_knockin(c: CheckResult) -> list[tuple[str, str]]:
    out = []
    for x in c.details.get("settings", []):
        if "comparison" not in x:
            out.append((INCONCLUSIVE, f"{x['setting']}: {x['reason']}"))
            continue
        cmp, control, steps = x["comparison"], x["control"], x["comparison"]["steps"]
        out.append((x["status"], f"{x['setting']}: planting one ticket at widths {x['widths']} (<= r*/{KNOCKIN_FACTOR}) "
                                 f"changed success from {cmp['rate_b']:.2f} to {cmp['rate_a']:.2f} (one-sided sign test "
                                 f"over seeds p = {cmp['p_a_higher']:.2g}) and the median steps of runs that succeeded "
                                 f"either way from {steps['median_steps_b']:.0f} to {steps['median_steps_a']:.0f}; the "
                                 f"same values planted off S gave {control['rate_b']:.2f} (ticket vs control p = "
                                 f"{control['p_a_higher']:.2g}, the gain over the control at most "
                                 f"{control['difference_upper_bound']:.2f}; control vs none "
                                 f"{x['control_vs_none']['rate_a']:.2f} vs {x['control_vs_none']['rate_b']:.2f})"))
    return out


@register("ticket_knockin",
          claim=("Planting one ticket (values drawn like the init's own) at widths <= r*/4 raises success "
                 "against no intervention and against the same values planted off S (the control), and does "
                 "not slow successful runs (docs/science.md 7)."),
          describe=_describe_knockin, design="knockin",
          effect="success rises by 0.3 (PASS); no effect (FAIL, equivalence margin 0.15)")
def check_ticket_knockin(frame: "pd.DataFrame", level: float = CHECK_LEVEL) -> CheckResult:
    """Rule (rebuilt, issue 23; CHANGELOG.md): for every init arm of a study with ``none`` and a
    plant pair (``plant_native_ticket`` with ``plant_native_control``; or the sign-valued
    ``plant_ticket`` with ``plant_control``, each pair decided on its own), at widths <= r* /
    KNOCKIN_FACTOR (r* of the planted neuron's s), in the cells whose success pooled over the three
    arms lies in WINDOW, runs paired by seed, width and m, the seed the unit of every test.
    PASS: the ticket arm succeeds more often than ``none`` and than the control (one-sided exact
    sign tests over seeds, each p < alpha), and its successful runs are not significantly slower
    than ``none``'s (sign test over seeds on steps). FAIL (alpha split over its three routes): the
    ticket arm is worse than ``none`` or than the control (p < alpha/3), or "no effect": the
    one-sided upper bound at 1 - alpha/3 on P(ticket) - P(control) lies below EQUIVALENCE_MARGIN
    (:func:`equivalence_bound`). INCONCLUSIVE: otherwise, or no such runs. The control against
    ``none`` is reported, not decided on. Overall: FAIL if one FAILs, PASS only if all PASS."""
    from theory.lottery import critical_width

    alpha = alpha_of(level)
    arms = _arms(frame) if len(frame) else {}
    settings = []
    for (study, init, s, values, intervention), ticket in arms.items():
        if intervention not in PLANT_PAIRS:
            continue
        control_name = PLANT_PAIRS[intervention]
        fields = dict(zip(est.STUDY_FIELDS, study))
        planted_s = int(s)
        base_key = (study, init, 0 if init == "dense" else s, values, "none")
        label = (f"{_study_label(study)} {init}" + (f"(s={s},{values})" if init == "sparse" else f" + 1 ticket(s={s})")
                 + f" {intervention}")
        none, control = arms.get(base_key), arms.get((study, init, s, values, control_name))
        if none is None or control is None:
            settings.append({"setting": label, "status": INCONCLUSIVE,
                             "reason": f"needs 'none' and '{control_name}' runs of the same seeds"})
            continue
        r_star = critical_width(int(fields["n"]), int(fields["k"]), planted_s)
        t, n0, c0 = _window(*(runs[runs["width"] * KNOCKIN_FACTOR <= r_star] for runs in (ticket, none, control)))
        if t.empty:
            settings.append({"setting": label, "status": INCONCLUSIVE, "critical_width": r_star,
                             "reason": f"no cell at width <= r*/{KNOCKIN_FACTOR} (r* = {r_star}) in the transition "
                                       f"window {WINDOW}"})
            continue
        cmp = _comparison(t, n0, level, (label, "knockin"), (intervention, "none"))
        vs_control = _comparison(t, c0, level, (label, "control"), (intervention, control_name),
                                 equivalence_level=1.0 - alpha / 3)
        control_vs_none = _comparison(c0, n0, level, (label, "control-none"), (control_name, "none"))
        passed = (cmp["p_a_higher"] < alpha and vs_control["p_a_higher"] < alpha
                  and cmp["steps"]["p_a_slower"] >= alpha)
        failed = (cmp["p_b_higher"] < alpha / 3 or vs_control["p_b_higher"] < alpha / 3
                  or vs_control["equivalence_p"] < alpha / 3)
        settings.append({"setting": label, "critical_width": r_star, "widths": sorted(set(t["width"].tolist())),
                         "comparison": cmp, "control": vs_control, "control_vs_none": control_vs_none,
                         "status": verdict(passed, failed)})
    return _ticket_result("ticket_knockin", settings, level, "no plant runs in the store")


# --------------------------------------------------------------------------- tickets_after_training


def _describe_after_training(c: CheckResult) -> list[tuple[str, str]]:
    d = c.details
    if "runs" not in d:
        return []
    return [(c.status, f"after training, the {d['tickets']} tickets among the {d['aligned']} neurons aligned with S in "
                       f"{d['informative_runs']} successful sparse runs sat at mean rank {d['mean_rank']:.2f} by final "
                       f"weight norm (1 = largest of the run's aligned neurons, 0 = smallest; 0.5 if growth did not "
                       f"favour tickets over partial overlaps; p = {d['p_value']:.2g} for higher, "
                       f"{d['p_lower']:.2g} for lower); the top {d['top']} held {d['tickets_in_top']} tickets and "
                       f"{d['partial_in_top']} partial overlaps")]


#: Permutations behind tickets_after_training's p-values (Monte Carlo, fixed seed).
RANK_PERMUTATIONS = 20_000


def stratified_rank_test(ranks: list[tuple[np.ndarray, int]], permutations: int = RANK_PERMUTATIONS,
                         seed: int = 0) -> tuple[float, float, float]:
    """(mean normalised rank, upper p, lower p) of marked items among each stratum's items.

    ``ranks``: per stratum, the normalised ranks (0 = smallest, 1 = largest) of its N items and the
    number K of marked items, which come first. Null: the marked items of each stratum are a random
    K-subset of its N (a permutation test, stratified; p = (1 + #{as extreme}) / (1 + permutations))."""
    rng = np.random.default_rng(seed)
    observed = 0.0
    simulated = np.zeros(permutations)
    total = 0
    for values, marked in ranks:
        if marked == 0:
            continue
        observed += values[:marked].sum()
        keys = rng.random((permutations, values.size))
        chosen = np.argpartition(keys, marked - 1, axis=1)[:, :marked]
        simulated += values[chosen].sum(axis=1)
        total += marked
    if total == 0:
        return math.nan, 1.0, 1.0
    tolerance = 1e-9 * total
    upper = (1 + np.sum(simulated >= observed - tolerance)) / (1 + permutations)
    lower = (1 + np.sum(simulated <= observed + tolerance)) / (1 + permutations)
    return observed / total, float(upper), float(lower)


@register("tickets_after_training",
          claim=("After training, the neurons that started as tickets have larger weight norms than the "
                 "partial-overlap neurons (overlap with S below a ticket's) that also align with S "
                 "(docs/science.md 5.5, 7)."),
          describe=_describe_after_training, design="natural_sparse",
          effect="tickets' mean rank 0.7 (PASS) or 0.3 (FAIL)")
def check_tickets_after_training(frame: "pd.DataFrame", level: float = CHECK_LEVEL, backend: str = "numba",
                                 max_runs: int = 4, top: int = 5, history_fn: Callable | None = None) -> CheckResult:
    """Rule (fixed before data; revised once, CHANGELOG.md): re-run up to ``max_runs`` successful
    offline sparse runs without an intervention (widest width, fewest steps, one run per seed) with
    sim.train_history.
    Any neuron aligned with S grows once S is learned, so the control is the partial-overlap neurons
    (0 < |U ∩ S|, not a ticket). In each run, rank its aligned neurons by final ||w_i||_2
    (normalised to [0, 1], 1 = largest); statistic: the mean rank of the tickets; null: each run's
    tickets are a random subset of its aligned neurons (stratified permutation test). PASS: upper p
    < alpha (tickets grow larger). FAIL: lower p < alpha (partial overlaps grow larger).
    INCONCLUSIVE: otherwise, or no run with both tickets and partial overlaps. The top-``top``
    counts are reported, not tested."""
    data = est.normalized(frame) if len(frame) else None
    if data is None:
        return CheckResult("tickets_after_training", INCONCLUSIVE, "no runs in the store", {})
    mask = ((data["init"] == "sparse") & (data["intervention"] == "none") & data["success"]
            & data["samples"].notna()).to_numpy()
    candidates = frame[mask]
    if candidates.empty:
        return CheckResult("tickets_after_training", INCONCLUSIVE, "no successful offline sparse runs", {})
    widest = int(candidates["width"].max())
    # One run per seed: a seed's runs at several m share its network, so a second run of one seed
    # would count the same neurons again.
    chosen = (candidates[candidates["width"] == widest].sort_values(["steps_to_success", "seed", "samples"])
              .drop_duplicates("seed").head(max_runs))
    ranked = [_rank_neurons(config, top, history_fn, backend) for config in _configs(chosen)]
    runs = [r for r, _ in ranked]
    informative = [(r, stratum) for r, stratum in ranked if 0 < r["tickets_in_network"] < r["aligned"]]
    strata = [stratum for _, stratum in informative]
    mean_rank, p_value, p_lower = stratified_rank_test(strata)
    details = {"runs": runs, "informative_runs": len(strata), "top": top,
               "tickets": sum(r["tickets_in_network"] for r, _ in informative),
               "aligned": sum(r["aligned"] for r, _ in informative),
               "mean_rank": mean_rank, "p_value": p_value, "p_lower": p_lower,
               "tickets_in_top": sum(r["tickets_in_top"] for r in runs),
               "partial_in_top": sum(r["partial_in_top"] for r in runs), "level": level,
               "rank": "final ||w_i||_2 among aligned neurons", "permutations": RANK_PERMUTATIONS}
    if not strata:
        return CheckResult("tickets_after_training", INCONCLUSIVE,
                           f"{len(runs)} runs (width {widest}), none with both tickets and partial overlaps", details)
    summary = (f"{len(strata)} runs (width {widest}): {details['tickets']} tickets among {details['aligned']} aligned "
               f"neurons, mean rank by final norm {mean_rank:.2f} (0.5 under the null); p = {p_value:.2g} "
               f"(tickets larger), {p_lower:.2g} (smaller); top {top}: {details['tickets_in_top']} tickets, "
               f"{details['partial_in_top']} partial")
    status = verdict(p_value < alpha_of(level), p_lower < alpha_of(level))
    return CheckResult("tickets_after_training", status, summary, details)


def _configs(rows: "pd.DataFrame") -> list:
    from sim.store import configs_of

    return configs_of(rows)


def _rank_neurons(config, top: int, history_fn: Callable | None,
                  backend: str) -> tuple[dict[str, Any], tuple[np.ndarray, int]]:
    """Train one run again and sort its neurons by final input-weight norm: tickets and partial
    overlaps among the ``top`` largest and in the whole network, and the stratum of
    :func:`stratified_rank_test` (aligned neurons' normalised ranks, tickets first)."""
    from scipy.stats import rankdata

    import sim
    from sim.data import draw_support
    from sim.init import sparse_supports
    from theory.lottery import is_ticket

    history = (history_fn or (lambda c: sim.train_history(c, backend=backend)))(config)
    target = np.array(draw_support(config.n, config.k, config.seed))
    supports = sparse_supports(config)
    ticket = np.array([is_ticket(row, target) for row in supports.tolist()])
    overlap = np.isin(supports, target).sum(axis=1)
    partial = (overlap > 0) & ~ticket
    norms = np.linalg.norm(history.final_weights[0], axis=1)
    order = np.argsort(-norms, kind="stable")[:min(top, config.width)]
    aligned = ticket | partial
    ranks = (rankdata(norms[aligned]) - 1) / max(int(aligned.sum()) - 1, 1)
    stratum = (np.concatenate([ranks[ticket[aligned]], ranks[~ticket[aligned]]]), int(ticket.sum()))
    return {"seed": config.seed, "width": config.width, "samples": config.samples,
            "reproduced_success": bool(history.result.success), "tickets_in_network": int(ticket.sum()),
            "aligned": int(aligned.sum()), "tickets_in_top": int(ticket[order].sum()),
            "partial_in_top": int(partial[order].sum()), "top_overlaps": overlap[order].tolist()}, stratum
