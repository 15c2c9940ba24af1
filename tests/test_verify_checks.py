"""Every check PASSes, FAILs and is INCONCLUSIVE on synthetic stores built for it (fixed seeds);
the registry; CLI exit codes and JSON.

Synthetic runs are paired as real ones are: each seed has a 'luck' u in [0, 1) shared by all its
runs (every width, m, init and intervention), and a run succeeds when u < p(arm, width, m). Two
arms with the same p then agree seed by seed, as real paired runs largely do.
"""

from __future__ import annotations

import dataclasses
import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import verify.theory_checks as theory_checks
from frontier.cli import main
from sim.config import CONFIG_FIELDS, RESULT_FIELDS, RunConfig, RunResult
from sim.store import Store, load
from verify import checks
from verify.checks import CHECKS, FAIL, INCONCLUSIVE, PASS

from test_verify_estimates import synthetic_frame


def paired_frame(p, arms, widths, samples, seeds=30, n=20, k=3, steps=lambda arm, width, m: 1000, rng_seed=0):
    """Runs of every arm (dict of RunConfig fields) x width x m x seed; success when the seed's
    luck is below p(arm, width, m)."""
    luck = np.random.default_rng(rng_seed).random(seeds)
    rows = []
    for arm in arms:
        for width in widths:
            for m in samples:
                for seed in range(seeds):
                    config = RunConfig(n=n, k=k, width=width, samples=m, seed=seed, max_steps=3000, **arm)
                    ok = bool(luck[seed] < p(arm, width, m))
                    step = int(steps(arm, width, m) * (1 + luck[seed])) // 100 * 100 if ok else None
                    rows.append({**config.to_dict(), "success": ok, "steps_to_success": step,
                                 "steps_run": step or 3000, "final_test_error": 0.05 if ok else 0.5,
                                 "final_train_error": 0.0, "diverged": False, "wall_seconds": 1.0})
    frame = pd.DataFrame(rows, columns=list(CONFIG_FIELDS) + list(RESULT_FIELDS))
    frame["samples"] = frame["samples"].astype("Int64")
    frame["steps_to_success"] = frame["steps_to_success"].astype("Int64")
    return frame


def logistic_in(m50):
    return lambda m: 1.0 / (1.0 + (m50 / m) ** 4)


SPARSE, DENSE = {"init": "sparse"}, {"init": "dense"}
GRID = (100, 150, 200, 300, 400, 600, 900)


def test_registry_lists_the_rebuilt_checks_in_order():
    assert list(CHECKS) == ["fourier_vs_bruteforce", "init_gradient", "ticket_frequency", "width_monotone",
                            "sparse_beats_dense", "ratio_across_critical_width", "ticket_knockout",
                            "ticket_knockin", "tickets_after_training", "frontier_prediction",
                            "parallel_search_slope"]
    assert all(c.claim.endswith(").") or c.claim.endswith(".") for c in CHECKS.values())


def test_docs_table_is_the_registry():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "verification.md").read_text()
    table = text.split("<!-- checks:begin -->")[1].split("<!-- checks:end -->")[0].strip()
    assert table == checks.registry_markdown()


# --------------------------------------------------------------------------- width_monotone


def test_width_monotone_pass_fail_inconclusive():
    grows = paired_frame(lambda a, w, m: 0.2 if w == 8 else 0.8, [SPARSE], (8, 64), (100, 200))
    assert CHECKS["width_monotone"].function(grows).status == PASS
    drops = paired_frame(lambda a, w, m: 0.8 if w == 8 else 0.3, [SPARSE], (8, 64), (100, 200))
    result = CHECKS["width_monotone"].function(drops)
    worst = result.details["settings"][0]["worst"]
    assert result.status == FAIL and worst["wide_seeds"] == 0 and worst["narrow_seeds"] >= 10
    few = paired_frame(lambda a, w, m: 0.5, [SPARSE], (8, 64), (100, 200), seeds=6)
    assert CHECKS["width_monotone"].function(few).status == INCONCLUSIVE  # too few seeds to bound a drop


def test_width_monotone_with_realistic_discordance():
    """Runs of one seed correlated as in the demo store (verify.operating): flat success is shown
    to drop by less than the margin (PASS) at 40 seeds and is undecided at 12; a drop of 0.35 FAILs."""
    part = {"n": 20, "k": 3, "init": "sparse", "width": [8, 64], "samples": [150, 200, 250, 300], "seeds": 40}
    flat = realistic_frame([part], lambda r: 0.5)
    assert CHECKS["width_monotone"].function(flat).status == PASS
    undecided = realistic_frame([dict(part, seeds=12)], lambda r: 0.5)
    assert CHECKS["width_monotone"].function(undecided).status == INCONCLUSIVE
    drop = realistic_frame([part], lambda r: 0.7 if r["width"] == 8 else 0.35)
    assert CHECKS["width_monotone"].function(drop).status == FAIL


def test_width_monotone_sees_a_real_drop_it_used_to_miss():
    """4/16 -> 0/16 is 4 seeds that do better at the narrow width: no exact test at 1% can reject
    on 4 seeds, and a drop of 0.25 is not below the margin: INCONCLUSIVE (the first rule, two
    disjoint intervals, said PASS); the same drop over three m values is still 4 seeds (the unit:
    one network, nested data); 8/16 -> 0/16 is 8 seeds and FAILs."""
    luck = np.sort(np.random.default_rng(3).random(16))

    def dropping(seeds_better: int, ms) -> pd.DataFrame:
        share = (luck[seeds_better - 1] + luck[seeds_better]) / 2  # exactly that many seeds succeed
        return paired_frame(lambda a, w, m: share if w == 8 else 0.0, [SPARSE], (8, 64), ms, seeds=16, rng_seed=3)

    one_m = dropping(4, (200,))
    assert sum(one_m[one_m["width"] == 8]["success"]) == 4
    assert CHECKS["width_monotone"].function(one_m).status == INCONCLUSIVE
    assert CHECKS["width_monotone"].function(dropping(4, (100, 200, 300))).status == INCONCLUSIVE
    assert CHECKS["width_monotone"].function(dropping(8, (200,))).status == FAIL


def test_width_monotone_decides_every_setting():
    """A PASS never hides a setting that could not have shown a drop."""
    decided = paired_frame(lambda a, w, m: 0.2 if w == 8 else 0.8, [SPARSE], (8, 64), (100, 200))
    undecided = paired_frame(lambda a, w, m: 0.5, [SPARSE], (8, 64), (100, 200), seeds=6)
    undecided["n"] = 21
    result = CHECKS["width_monotone"].function(pd.concat([decided, undecided]))
    assert [x["status"] for x in result.details["settings"]] == [PASS, INCONCLUSIVE]
    assert result.status == INCONCLUSIVE


# --------------------------------------------------------------------------- sparse_beats_dense


def _inits(dense_m50, sparse_m50, widths=(256,), seeds=30):
    curve = {"dense": logistic_in(dense_m50), "sparse": logistic_in(sparse_m50)}
    return paired_frame(lambda a, w, m: curve[a["init"]](m), [DENSE, SPARSE], widths, GRID, seeds=seeds)


def test_sparse_beats_dense_pass_fail_inconclusive():
    passed = CHECKS["sparse_beats_dense"].function(_inits(600, 200), n_bootstrap=400)
    assert passed.status == PASS and passed.details["comparisons"][0]["paper_magnitude"] == "reaches"
    assert CHECKS["sparse_beats_dense"].function(_inits(200, 600), n_bootstrap=400).status == FAIL
    same = CHECKS["sparse_beats_dense"].function(_inits(300, 300), n_bootstrap=400)
    assert same.status == INCONCLUSIVE and same.details["comparisons"][0]["ratio_ci"] == [1.0, 1.0]
    only_sparse = paired_frame(lambda a, w, m: 0.5, [SPARSE], (256,), GRID)
    assert CHECKS["sparse_beats_dense"].function(only_sparse).status == INCONCLUSIVE


def test_thresholds_below_the_grid_do_not_make_a_pass():
    """Both inits at or above 1/2 at the smallest m: most draws order nothing (0/0), and they
    widen the interval to [0, inf] instead of being dropped (which once gave PASS [inf, inf])."""
    frame = paired_frame(lambda a, w, m: 0.56 if a["init"] == "dense" else 0.95, [DENSE, SPARSE], (256,), GRID,
                         seeds=16)
    result = CHECKS["sparse_beats_dense"].function(frame, n_bootstrap=400)
    assert result.status == INCONCLUSIVE and result.details["comparisons"][0]["ratio_ci"][0] == 0.0


def test_sparse_beats_dense_is_a_conjunction_and_reports_a_small_ratio_as_below_the_paper():
    small = _inits(330, 300, seeds=60)  # a real but small advantage
    other = _inits(300, 300)
    other["n"] = 21  # a second setting where the inits cannot be told apart
    result = CHECKS["sparse_beats_dense"].function(pd.concat([small, other]), n_bootstrap=400)
    statuses = sorted(c["status"] for c in result.details["comparisons"])
    assert statuses == [INCONCLUSIVE, PASS] and result.status == INCONCLUSIVE
    passed = [c for c in result.details["comparisons"] if c["status"] == PASS][0]
    assert passed["paper_magnitude"] == "below"


# --------------------------------------------------------------------------- ratio_across_critical_width


def _across(dense_wide, sparse_wide, dense_narrow, sparse_narrow, widths=(8, 256)):
    """n = 20, k = 3, s = 2: r* = 64, so 8 <= r*/4 and 256 >= 4 r*."""
    curves = {("dense", 256): dense_wide, ("sparse", 256): sparse_wide, ("dense", 8): dense_narrow,
              ("sparse", 8): sparse_narrow}
    return paired_frame(lambda a, w, m: logistic_in(curves[(a["init"], w)])(m), [DENSE, SPARSE], widths, GRID)


def test_ratio_across_critical_width_pass_fail_inconclusive():
    passed = CHECKS["ratio_across_critical_width"].function(_across(400, 150, 600, 600), n_bootstrap=400)
    assert passed.status == PASS and passed.details["settings"][0]["change"] > 2
    failed = CHECKS["ratio_across_critical_width"].function(_across(400, 400, 600, 200), n_bootstrap=400)
    assert failed.status == FAIL
    flat = CHECKS["ratio_across_critical_width"].function(_across(400, 400, 600, 600), n_bootstrap=400)
    assert flat.status == INCONCLUSIVE
    unspanned = _across(400, 150, 600, 600)
    unspanned["width"] = unspanned["width"].replace({8: 32})  # no width <= r*/4 = 16
    result = CHECKS["ratio_across_critical_width"].function(unspanned, n_bootstrap=200)
    assert result.status == INCONCLUSIVE and "no width" in result.summary


# --------------------------------------------------------------------------- ticket_knockout


def realistic_frame(parts, probability, seed=0):
    """A synthetic store at ``parts`` (grid parts) whose runs of one seed are correlated as the
    demo store's are (verify.operating's latent model at tests/test_verify_operating.py's
    correlations: two arms of one init at one cell 0.85, so discordant pairs go both ways)."""
    from test_verify_operating import demo_like_model
    from verify import operating as oc

    t = oc.template(parts, demo_like_model(), probability)
    return oc.simulate(t, np.random.default_rng(seed), median_steps=2000)


KNOCKOUT_PART = {"n": 30, "k": 3, "init": "sparse", "width": 580, "samples": [320, 340, 360, 380],
                 "intervention": ["none", "knock_out_redrawn", "knock_out_sham"], "seeds": 32}


def _knockout(drop, seeds=32, part=KNOCKOUT_PART, seed=0):
    return realistic_frame([dict(part, seeds=seeds)],
                           lambda r: 0.6 - (drop if r["intervention"].startswith("knock_out_") and
                                            r["intervention"] != "knock_out_sham" else 0.0), seed)


def test_ticket_knockout_pass_fail_inconclusive_with_realistic_discordance():
    """n = 30, k = 3, s = 2: r* = 145, widths >= 290 count; arms correlated at 0.85."""
    result = CHECKS["ticket_knockout"].function(_knockout(0.3))
    assert result.status == PASS, result.summary
    cmp = result.details["settings"][0]["comparison"]
    assert cmp["arm_a"] == "knock_out_sham" and cmp["b_only"] > 0 and cmp["a_only"] > cmp["b_only"]
    # No effect: the equivalence bound lies below the margin (FAIL), with pairs discordant both ways.
    nothing = CHECKS["ticket_knockout"].function(_knockout(0.0))
    assert nothing.status == FAIL, nothing.summary
    cmp = nothing.details["settings"][0]["comparison"]
    assert cmp["a_only"] > 0 and cmp["b_only"] > 0 and cmp["difference_upper_bound"] < 0.15
    few = CHECKS["ticket_knockout"].function(_knockout(0.0, seeds=8))
    assert few.status == INCONCLUSIVE, few.summary  # under MIN_EQUIVALENCE_SEEDS: no "no effect" verdict
    narrow = CHECKS["ticket_knockout"].function(_knockout(0.3, part=dict(KNOCKOUT_PART, width=64)))
    assert narrow.status == INCONCLUSIVE  # no width >= 2 r*


def test_ticket_knockout_without_a_sham_compares_with_none_and_old_stores_still_decide():
    frame = _knockout(0.3)
    frame = frame[frame["intervention"] != "knock_out_sham"]
    result = CHECKS["ticket_knockout"].function(frame)
    assert result.status == PASS and result.details["settings"][0]["comparator"] == "none"
    old = realistic_frame([dict(KNOCKOUT_PART, intervention=["none", "knock_out_tickets"])],
                          lambda r: 0.6 - (0.3 if r["intervention"] == "knock_out_tickets" else 0.0))
    assert CHECKS["ticket_knockout"].function(old).status == PASS


KNOCKIN_PART = {"n": 30, "k": 3, "init": "sparse", "width": 18, "samples": [450, 575, 700],
                "intervention": ["none", "plant_native_ticket", "plant_native_control"], "seeds": 48}


def _knockin(gain, control_gain=0.0, seeds=48, seed=0):
    def p(r):
        return 0.4 + {"plant_native_ticket": gain, "plant_native_control": control_gain}.get(r["intervention"], 0.0)
    return realistic_frame([dict(KNOCKIN_PART, seeds=seeds)], p, seed)


def test_ticket_knockin_pass_fail_inconclusive_with_realistic_discordance():
    """n = 30, k = 3, s = 2: r* = 145, widths <= 36 count."""
    result = CHECKS["ticket_knockin"].function(_knockin(0.35))
    assert result.status == PASS, result.summary
    assert CHECKS["ticket_knockin"].function(_knockin(0.35, control_gain=0.35)).status == FAIL  # generic, not S
    assert CHECKS["ticket_knockin"].function(_knockin(0.0)).status == FAIL  # no effect: equivalence
    assert CHECKS["ticket_knockin"].function(_knockin(0.35, seeds=5)).status == INCONCLUSIVE
    no_control = _knockin(0.35)
    no_control = no_control[no_control["intervention"] != "plant_native_control"]
    assert CHECKS["ticket_knockin"].function(no_control).status == INCONCLUSIVE


def test_ticket_knockin_pairs_a_dense_plant_with_the_dense_runs():
    rates = {"none": 0.3, "plant_ticket": 0.9, "plant_control": 0.3}
    arms = [DENSE, {"init": "dense", "intervention": "plant_ticket"}, {"init": "dense", "intervention": "plant_control"}]
    frame = paired_frame(lambda a, w, m: rates[a.get("intervention", "none")], arms, (32,), (300,), n=30)
    result = CHECKS["ticket_knockin"].function(frame)
    assert result.status == PASS and "dense" in result.details["settings"][0]["setting"]


def test_checks_read_only_their_design():
    """Borrowed runs: sparse-only cells (the knock-out part's none arm) do not enter
    sparse_beats_dense, and intervention runs enter no frontier check."""
    from verify.designs import FRONTIER

    frontier = paired_frame(lambda a, w, m: logistic_in(300 if a["init"] == "dense" else 200)(m), [SPARSE, DENSE],
                            (256,), (150, 200, 300, 400), seeds=12)
    extra = paired_frame(lambda a, w, m: 1.0, [SPARSE], (256,), (120,), seeds=12)  # sparse-only cell
    planted = paired_frame(lambda a, w, m: 1.0, [{"init": "sparse", "intervention": "plant_ticket"}], (256,),
                           (150, 200), seeds=12)
    store = pd.concat([frontier, extra, planted], ignore_index=True)
    selected = FRONTIER.select(store)
    assert len(selected) == len(frontier) and set(selected.index) == set(range(len(frontier)))
    with_extra = CHECKS["sparse_beats_dense"].function(store)
    alone = CHECKS["sparse_beats_dense"].function(frontier)
    assert with_extra.summary == alone.summary


# --------------------------------------------------------------------------- tickets_after_training


def _fake_history(score):
    """A history_fn whose final weights rank neurons by score(ticket, partial)."""
    from sim.data import draw_support
    from sim.init import is_ticket_row, sparse_supports

    def history(config):
        target = np.array(draw_support(config.n, config.k, config.seed))
        supports = sparse_supports(config)
        ticket = is_ticket_row(supports, target)
        partial = (np.isin(supports, target).sum(axis=1) > 0) & ~ticket
        norms = np.array([score(t, p) for t, p in zip(ticket, partial)]) + 1e-3 * np.arange(len(ticket)) / len(ticket)
        W = np.zeros((config.width, config.n))
        W[:, 0] = norms
        return SimpleNamespace(final_weights=(W, None, None), result=SimpleNamespace(success=True))
    return history


def test_tickets_after_training_pass_fail_inconclusive():
    frame = paired_frame(lambda a, w, m: 1.0, [SPARSE], (512,), (400,), seeds=4, n=30)
    tickets_first = _fake_history(lambda t, p: 3.0 if t else 2.0 if p else 1.0)
    result = CHECKS["tickets_after_training"].function(frame, history_fn=tickets_first)
    assert result.status == PASS, result.summary
    partial_first = _fake_history(lambda t, p: 2.0 if t else 3.0 if p else 1.0)
    assert CHECKS["tickets_after_training"].function(frame, history_fn=partial_first).status == FAIL
    no_tickets = paired_frame(lambda a, w, m: 1.0, [SPARSE], (4,), (400,), seeds=2, n=30)
    assert CHECKS["tickets_after_training"].function(no_tickets, history_fn=tickets_first).status == INCONCLUSIVE
    noise = np.random.default_rng(0)
    shuffled = _fake_history(lambda t, p: 1.0 + noise.random())  # norms unrelated to the init
    assert CHECKS["tickets_after_training"].function(frame, history_fn=shuffled).status == INCONCLUSIVE


def test_stratified_rank_test_matches_enumeration():
    """Oracle: the permutation p-values agree with full enumeration of the tickets' positions
    within 4 Monte Carlo standard errors."""
    from itertools import combinations

    from verify.ticket_checks import stratified_rank_test

    strata = [(np.array([0.8, 0.2, 0.0, 0.4, 0.6, 1.0]), 2), (np.array([0.75, 0.0, 0.25, 0.5, 1.0]), 1)]
    observed = sum(values[:k].sum() for values, k in strata)
    totals = [a + b for a in [sum(c) for c in combinations(strata[0][0], 2)] for b in strata[1][0]]
    exact_upper = np.mean([t >= observed - 1e-12 for t in totals])
    exact_lower = np.mean([t <= observed + 1e-12 for t in totals])
    mean_rank, upper, lower = stratified_rank_test(strata, permutations=20_000, seed=1)
    assert mean_rank == pytest.approx(observed / 3)
    for mc, exact in ((upper, exact_upper), (lower, exact_lower)):
        assert abs(mc - exact) <= 4 * math.sqrt(exact * (1 - exact) / 20_000) + 1e-4, (mc, exact)


# --------------------------------------------------------------------------- theory checks


def test_fourier_check_detects_a_wrong_coefficient(monkeypatch):
    fourier = CHECKS["fourier_vs_bruteforce"].function
    assert fourier(max_s=3).status == PASS
    assert fourier(max_s=0).status == INCONCLUSIVE  # nothing compared
    real = theory_checks.bruteforce_coefficient
    monkeypatch.setattr(theory_checks, "bruteforce_coefficient",
                        lambda s, d, b, a: real(s, d, b, a) + (1 if (s, d) == (2, 1) else 0))
    assert fourier(max_s=3).status == FAIL


@pytest.mark.parametrize("values", ["uniform", "ones-eps"])
def test_init_gradient_pass_fail_inconclusive(values, monkeypatch):
    frame = synthetic_frame(lambda w, m: 0.5, widths=(128,), samples=(100,), seeds=2, n=12)
    frame["sparse_values"] = values
    kwargs = dict(neurons_per_kind=3, batches=24, batch_size=512)
    result = CHECKS["init_gradient"].function(frame, 0.99, **kwargs)
    assert result.status == PASS, result.summary
    assert result.details["parts"]["sign_values_vs_theory"]["detected"] > 0
    assert CHECKS["init_gradient"].function(frame, 0.99, neurons_per_kind=3, batches=6, batch_size=16).status \
        == INCONCLUSIVE  # too few samples to detect any signal
    import theory.fourier

    real = theory.fourier.gradient_signal

    def wrong(*args, **kw):  # theory's own signal 50% off on the missing target coordinate
        signal = real(*args, **kw)
        return dataclasses.replace(signal, in_target_only=signal.in_target_only * 3 / 2)

    monkeypatch.setattr(theory.fourier, "gradient_signal", wrong)
    assert CHECKS["init_gradient"].function(frame, 0.99, **kwargs).status == FAIL
    assert CHECKS["init_gradient"].function(frame.iloc[0:0], 0.99).status == INCONCLUSIVE


def test_ticket_frequency_pass_fail_inconclusive(monkeypatch):
    frame = synthetic_frame(lambda w, m: 0.5, widths=(64,), samples=(100,), seeds=2)
    assert CHECKS["ticket_frequency"].function(frame, min_neurons=50_000).status == PASS
    dense = synthetic_frame(lambda w, m: 0.5, widths=(64,), samples=(100,), seeds=2, init="dense")
    assert CHECKS["ticket_frequency"].function(dense).status == INCONCLUSIVE
    import theory.lottery

    monkeypatch.setattr(theory.lottery, "ticket_probability", lambda n, k, s: 2 * 3 / 190)
    assert CHECKS["ticket_frequency"].function(frame, min_neurons=50_000).status == FAIL


# --------------------------------------------------------------------------- the command line


def write_store(path, curve, widths, inits=("sparse",), samples=(100, 200, 400, 800, 1600), seeds=30, n=20, k=3):
    """A real SQLite store whose success at (init, width, m) is the seed's luck < curve(init, width, m)."""
    luck = np.random.default_rng(0).random(seeds)
    with Store(path) as store:
        for init in inits:
            for width in widths:
                for m in samples:
                    for seed in range(seeds):
                        config = RunConfig(n=n, k=k, width=width, samples=m, init=init, seed=seed)
                        ok = bool(luck[seed] < curve(init, width, m))
                        store.write(config, RunResult(ok, 500 if ok else None, 500 if ok else 100_000,
                                                      0.05 if ok else 0.5, 0.0, False, 1.0), "numpy", "cpu", "float64")
    return path


def test_cli_verify_exits_1_only_on_a_gate_unless_strict(tmp_path, capsys, monkeypatch):
    """A finding's FAIL is a result (exit 0, 1 with --strict); a gate's FAIL is a defect (exit 1)."""
    bad = write_store(tmp_path / "bad.sqlite", lambda i, w, m: 0.95 if w == 8 else 0.05, widths=(8, 256),
                      samples=(100, 200))
    names = ["--checks", "width_monotone", "ticket_frequency"]
    assert main(["verify", str(bad), *names]) == 0
    assert "FAIL" in capsys.readouterr().out
    assert main(["verify", str(bad), "--strict", *names]) == 1
    from verify.operating import PLANTED_DEFECTS

    with PLANTED_DEFECTS["ticket_frequency"]():
        assert main(["verify", str(bad), "--checks", "ticket_frequency"]) == 1


def test_cli_verify_exit_codes_and_json(tmp_path, capsys):
    good = write_store(tmp_path / "good.sqlite", lambda i, w, m: 0.1 if w == 8 else 0.9, widths=(8, 256),
                       samples=(100, 200))
    bad = write_store(tmp_path / "bad.sqlite", lambda i, w, m: 0.95 if w == 8 else 0.05, widths=(8, 256),
                      samples=(100, 200))
    assert len(load(good)) == 120
    names = ["--checks", "width_monotone", "ticket_frequency"]
    assert main(["verify", str(good), "--json", *names]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in payload["checks"]] == ["width_monotone", "ticket_frequency"]
    assert {"name", "status", "details", "statements"} <= set(payload["checks"][0])
    assert payload["checks"][0]["status"] == PASS
    assert main(["verify", str(bad), "--strict", *names]) == 1
    out = capsys.readouterr().out
    assert "width_monotone" in out and "FAIL" in out
    assert main(["verify", str(good), "--level", "1.5"]) == 2
    assert main(["verify", str(tmp_path / "missing.sqlite")]) == 2
    assert main(["verify"]) == 2
    assert "error:" in capsys.readouterr().err
