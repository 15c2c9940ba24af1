"""The operating-characteristic harness (verify.operating): its generative model reproduces the
correlations it is given, its scenarios are what they say, every check has scenarios, and, on
realistic synthetic stores (seeds correlated as in the demo store), every verdict of every
finding is reachable and the FAIL rate with the claim true stays at most alpha.

Statistical assertions: fixed seeds; tolerances stated per test (binomial standard errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from verify import operating as oc
from verify.checks import CHECKS, FAIL, INCONCLUSIVE, PASS
from verify.designs import DEMO_PARTS

SPARSE, DENSE = "sparse(s=2,uniform)", "dense"
#: Seed correlations like the demo store's (measured: docs/verification.md).
CORRELATIONS = oc.Correlations(between_inits=0.15, between_interventions=0.85, within_arm=0.45)


def demo_like_model() -> oc.LatentModel:
    """Curves like the demo's: dense m_50 ~ 1.3x sparse, thresholds falling with width."""
    curves = {}
    for part in DEMO_PARTS["frontier"] + DEMO_PARTS["knockout"] + DEMO_PARTS["knockin"]:
        n = part["n"]
        widths = part["width"] if isinstance(part["width"], list) else [part["width"]]
        base = {20: 230.0, 30: 520.0, 40: 900.0}[n]
        for w in widths:
            shrink = (w / widths[0]) ** -0.12 if len(widths) > 1 else 1.0
            curves[(n, DENSE, w)] = oc.Curve(math.log(base * 1.3 * shrink), 0.35)
            curves[(n, SPARSE, w)] = oc.Curve(math.log(base * shrink), 0.35)
    curves[(30, SPARSE, 580)] = oc.Curve(math.log(350.0), 0.3)   # knock-out cells in transition
    curves[(30, SPARSE, 18)] = oc.Curve(math.log(560.0), 0.4)    # knock-in cells in transition
    return oc.LatentModel(curves, CORRELATIONS, median_steps=2500.0)


def test_the_simulation_reproduces_the_latent_correlations_it_is_given():
    """Tetrachoric estimates from 400 simulated seeds recover the three correlations within 0.1
    (fixed seed; their standard errors at this size are about 0.03-0.05)."""
    model = demo_like_model()
    parts = [{"n": 30, "k": 3, "init": ["dense", "sparse"], "width": 18, "samples": [400, 520, 700], "seeds": 400},
             {"n": 30, "k": 3, "init": "sparse", "width": 18, "samples": [400, 520, 700],
              "intervention": "plant_native_control", "seeds": 400}]
    t = oc.template(parts, model, probability=lambda row: 0.5)
    frame = oc.simulate(t, np.random.default_rng(0))
    measured = oc.measure_correlations(frame)
    assert abs(measured.between_inits - 0.15) < 0.1, measured
    assert abs(measured.within_arm - 0.45) < 0.1, measured
    assert abs(measured.between_interventions - 0.85) < 0.1, measured


def test_tetrachoric_of_independent_and_identical_pairs():
    rng = np.random.default_rng(1)
    a = rng.random(4000) < 0.5
    b = rng.random(4000) < 0.5
    assert oc.tetrachoric(oc._tables(a, b, np.zeros(4000))) < 0.08
    assert oc.tetrachoric(oc._tables(a, a.copy(), np.zeros(4000))) > 0.95
    assert math.isnan(oc.tetrachoric([(5, 0, 0, 0)]))  # no information


def test_fit_curve_recovers_a_probit():
    rng = np.random.default_rng(2)
    m = np.repeat([200, 300, 450, 700, 1000], 400)
    truth = oc.Curve(math.log(400), 0.4)
    success = rng.random(m.size) < np.array([truth.p(x) for x in m])
    fitted = oc.fit_curve(m, success)
    assert abs(fitted.mu - math.log(400)) < 0.05 and abs(fitted.sigma - 0.4) < 0.05


def test_every_check_has_scenarios_with_a_size_or_a_power():
    model = demo_like_model()
    assert set(oc.SCENARIOS) == set(CHECKS)
    for name in CHECKS:
        if name == "frontier_prediction":
            continue  # needs a real store (oc.SOURCE_FRAME); exercised by the calibrate command
        scenarios = oc.SCENARIOS[name](name, model)
        assert scenarios and any(s.bounded for s in scenarios) and any(s.power_of for s in scenarios), name


@pytest.mark.parametrize("check", ["ticket_knockout", "ticket_knockin"])
def test_interventions_reach_every_verdict_with_realistic_discordance(check):
    """The arms correlate at 0.85 (none vs control in the demo store: discordant pairs both ways).
    Each verdict is reached on some of 30 synthetic stores of its scenario (fixed seed), and a
    FAIL with the claim at its boundary is rarer than 1 in 10."""
    model = demo_like_model()
    scenarios = {s.name: s for s in oc.SCENARIOS[check](check, model)}
    rows = {name: oc.run_scenario(check, scenarios[name], 30, seed=3) for name in scenarios}
    assert rows["effect"].rates[PASS] >= 0.5, rows["effect"].rates
    assert rows["no effect"].rates[FAIL] >= 0.5, rows["no effect"].rates
    assert rows["no effect"].rates[PASS] <= 0.1
    assert rows["boundary"].rates[FAIL] <= 0.1, rows["boundary"].rates
    reached = {v for row in rows.values() for v, r in row.rates.items() if r > 0}
    assert reached == {PASS, FAIL, INCONCLUSIVE}
    some = oc.simulate(oc.template(DEMO_PARTS["knockout"], model, lambda r: 0.6), np.random.default_rng(0))
    a = some[some["intervention"] == "none"].sort_values(["seed", "samples"])["success"].to_numpy()
    b = some[some["intervention"] == "knock_out_sham"].sort_values(["seed", "samples"])["success"].to_numpy()
    assert 0 < np.sum(a & ~b) and 0 < np.sum(~a & b)  # discordant both ways, as real arms are


def test_sparse_beats_dense_size_and_power_at_the_demo_design():
    """40 stores per scenario (fixed seed): with R = 1 neither PASS nor FAIL happens more than
    4 times (a smoke bound: alpha is 0.01, and `frontier calibrate` measured a FAIL rate of 0.05
    on the demo store's model, docs/operating_characteristics.md); R = 1.5 PASSes in some stores
    (these toy curves give it 25% of 20) and 1/1.5 FAILs in most."""
    model = demo_like_model()
    scenarios = {s.name: s for s in oc.SCENARIOS["sparse_beats_dense"]("sparse_beats_dense", model)}
    boundary = oc.run_scenario("sparse_beats_dense", scenarios["boundary"], 40, n_bootstrap=300)
    assert boundary.rates[PASS] <= 0.1 and boundary.rates[FAIL] <= 0.1, boundary.rates
    plus = oc.run_scenario("sparse_beats_dense", scenarios["effect +"], 20, n_bootstrap=300)
    minus = oc.run_scenario("sparse_beats_dense", scenarios["effect -"], 20, n_bootstrap=300)
    assert plus.rates[PASS] > 0 and plus.rates[FAIL] == 0 and minus.rates[FAIL] >= 0.5, (plus.rates, minus.rates)


def test_the_table_flags_an_exceeded_size():
    row = oc.OperatingRow("x", "finding", "boundary", "t", 100, {PASS: 0.0, FAIL: 0.2, INCONCLUSIVE: 0.8},
                          FAIL, None, 0.01, 1.0)
    assert not row.size_ok() and "EXCEEDED" in oc.format_table([row])
    fine = oc.OperatingRow("x", "finding", "boundary", "t", 100, {PASS: 0.0, FAIL: 0.01, INCONCLUSIVE: 0.99},
                           FAIL, None, 0.01, 1.0)
    assert fine.size_ok() and "ok" in oc.format_table([fine])


def test_cli_calibrate_prints_the_table_and_refuses_bad_input(tmp_path, capsys):
    from frontier.cli import main
    from test_verify_checks import write_store

    store = write_store(tmp_path / "s.sqlite", lambda i, w, m: 0.2 if w == 8 else 0.8, widths=(8, 256),
                        inits=("dense", "sparse"), samples=(100, 200), seeds=12)
    out_md = tmp_path / "oc.md"
    assert main(["calibrate", str(store), "--checks", "ticket_frequency", "--stores", "2",
                 "--markdown", str(out_md)]) == 0
    text = capsys.readouterr().out
    assert "| `ticket_frequency` | gate | correct code |" in text and "planted defect" in text
    assert "latent seed correlations" in text and out_md.read_text().startswith("`frontier calibrate")
    assert main(["calibrate", str(store), "--stores", "0"]) == 2
    assert main(["calibrate", str(tmp_path / "missing.sqlite")]) == 2
    assert "error:" in capsys.readouterr().err
