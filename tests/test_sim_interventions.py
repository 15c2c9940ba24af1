"""Interventions on the initial weights (sim.init, RunConfig.intervention): each changes exactly
what it names and nothing else of the seed's run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import RunConfig
from sim.data import draw_support, training_set
from sim.data import test_set as make_test_set  # (not named test_*: pytest would collect it)
from sim.grid import grid_configs
from sim.init import initialize, is_ticket_row, planted_support, sparse_supports

CASES = [  # (n, k, s, values): under-sparse (s < k) and over-sparse (s >= k) tickets
    (20, 3, 2, "uniform"), (20, 3, 2, "sign"), (12, 2, 3, "uniform"), (16, 3, 4, "ones-eps"),
]


def _pair(intervention: str, n: int, k: int, s: int, values: str, init: str = "sparse", seed: int = 4,
          width: int = 200) -> tuple[RunConfig, RunConfig]:
    make = dict(n=n, k=k, width=width, samples=64, init=init, sparsity=s, sparse_values=values, seed=seed)
    return RunConfig(**make), RunConfig(**make, intervention=intervention)  # (a dense base forgets s)


@pytest.mark.parametrize("n, k, s, values", CASES)
def test_knock_out_moves_every_ticket_off_s_and_nothing_else(n, k, s, values):
    base, knocked = _pair("knock_out_tickets", n, k, s, values)
    target = np.array(draw_support(n, k, base.seed))
    before, after = sparse_supports(base), sparse_supports(knocked)
    tickets = is_ticket_row(before, target)
    assert tickets.any()
    assert not np.isin(after[tickets], target).any()  # moved entirely outside S
    assert np.array_equal(after[~tickets], before[~tickets])
    (W0, b0, u0), (W1, b1, u1) = initialize(base), initialize(knocked)
    assert np.array_equal(b0, b1) and np.array_equal(u0, u1) and np.array_equal(W0[~tickets], W1[~tickets])
    for i in np.flatnonzero(tickets):  # values kept, in order, on the new support
        assert np.array_equal(W0[i, before[i]], W1[i, after[i]])
        assert np.array_equal(np.delete(W1[i], after[i]), np.delete(W0[i], before[i]))  # ones-eps fill kept


@pytest.mark.parametrize("init", ["sparse", "dense"])
@pytest.mark.parametrize("n, k, s, values", CASES)
def test_plants_change_neuron_zero_only_and_share_their_values(init, n, k, s, values):
    base, ticket = _pair("plant_ticket", n, k, s, values, init=init)
    control = ticket.replace(intervention="plant_control")
    target = set(draw_support(n, k, base.seed))
    W0, b0, u0 = initialize(base)
    weights = {}
    for config in (ticket, control):
        W, b, u = initialize(config)
        assert np.array_equal(W[1:], W0[1:]) and np.array_equal(b, b0) and np.array_equal(u, u0)
        support = planted_support(config)
        assert len(support) == s and list(support) == sorted(support)
        on_support = W[0, list(support)]
        assert np.allclose(np.abs(on_support), 1 / math.sqrt(s))
        if init == "dense":
            assert np.count_nonzero(W[0]) == s
        weights[config.intervention] = on_support
    assert is_ticket_row(np.array([planted_support(ticket)]), np.array(sorted(target)))[0]
    assert not set(planted_support(control)) & target
    assert np.array_equal(weights["plant_ticket"], weights["plant_control"])


def test_data_and_target_do_not_depend_on_the_intervention():
    base = RunConfig(n=20, k=3, width=16, samples=50, init="sparse", seed=9)
    for intervention in ("knock_out_tickets", "plant_ticket", "plant_control"):
        other = base.replace(intervention=intervention)
        assert draw_support(20, 3, 9) == draw_support(other.n, other.k, other.seed)
        for a, b in zip(training_set(base) + make_test_set(base), training_set(other) + make_test_set(other)):
            assert np.array_equal(a, b)


def test_interventions_are_deterministic_and_differ_across_seeds():
    config = RunConfig(n=30, k=3, width=64, init="sparse", intervention="plant_ticket", seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(initialize(config), initialize(config)))
    assert planted_support(config) != planted_support(config.replace(seed=3)) or \
        not np.array_equal(initialize(config)[0][0], initialize(config.replace(seed=3))[0][0])


def test_impossible_interventions_are_one_clear_error():
    with pytest.raises(ValueError, match="knock_out_tickets.*needs init='sparse'"):
        RunConfig(n=20, k=3, width=8, intervention="knock_out_tickets")
    with pytest.raises(ValueError, match="coordinates outside S"):
        RunConfig(n=4, k=3, width=8, init="sparse", sparsity=2, intervention="plant_control")
    with pytest.raises(ValueError, match="intervention='bogus' must be one of"):
        RunConfig(n=20, k=3, width=8, intervention="bogus")


def test_a_dense_plant_keeps_its_sparsity_and_grids_take_the_axis():
    planted = RunConfig(n=20, k=3, width=8, init="dense", sparsity=4, sparse_values="sign", intervention="plant_ticket")
    assert (planted.sparsity, planted.sparse_values) == (4, "uniform")
    configs = grid_configs({"n": 20, "k": 3, "width": 8, "init": "sparse", "seeds": 2,
                            "intervention": ["none", "knock_out_tickets", "plant_ticket", "plant_control"]})
    assert len(configs) == 8 and {c.intervention for c in configs} == {"none", "knock_out_tickets", "plant_ticket",
                                                                        "plant_control"}


def test_the_simulators_ticket_rule_is_the_theorys():
    """sim.init.is_ticket_row (vectorised; sim may not import theory) against theory.lottery.is_ticket."""
    from theory.lottery import is_ticket

    rng = np.random.default_rng(0)
    for s, k in ((1, 3), (2, 3), (3, 3), (4, 3), (2, 2)):
        supports = np.sort(np.argsort(rng.random((300, 8)), axis=1)[:, :s], axis=1)
        target = np.sort(rng.choice(8, size=k, replace=False))
        assert is_ticket_row(supports, target).tolist() == [is_ticket(row, target) for row in supports.tolist()]


# --------------------------------------------------------------------------- the rebuilt arms (issue 23)


@pytest.mark.parametrize("n, k, s, values", CASES)
def test_redrawn_knock_out_leaves_no_ticket_and_draws_replacements_from_the_non_ticket_law(n, k, s, values):
    base, knocked = _pair("knock_out_redrawn", n, k, s, values, width=400)
    target = np.array(draw_support(n, k, base.seed))
    before, after = sparse_supports(base), sparse_supports(knocked)
    tickets = is_ticket_row(before, target)
    assert tickets.any() and not is_ticket_row(after, target).any()
    assert np.array_equal(after[~tickets], before[~tickets])
    (W0, b0, u0), (W1, b1, u1) = initialize(base), initialize(knocked)
    assert np.array_equal(b0, b1) and np.array_equal(u0, u1)
    for i in np.flatnonzero(tickets):
        assert np.array_equal(W0[i, before[i]], W1[i, after[i]])


def test_redrawn_replacements_can_overlap_s_as_the_networks_own_neurons_do():
    """Unlike knock_out_tickets (overlap 0 forced), the redrawn supports keep partial overlaps at
    the rate of the non-ticket law: at n = 20, k = 3, s = 2 a non-ticket support has overlap 1
    with probability C(3,1) C(17,1) / (C(20,2) - 3) = 51/187. Over 400 seeds' tickets the observed
    fraction lies within 4 binomial standard errors of it (fixed seeds)."""
    overlaps = []
    for seed in range(400):
        base = RunConfig(n=20, k=3, width=64, samples=64, init="sparse", seed=seed)
        knocked = base.replace(intervention="knock_out_redrawn")
        target = np.array(draw_support(20, 3, seed))
        tickets = is_ticket_row(sparse_supports(base), target)
        overlaps += np.isin(sparse_supports(knocked)[tickets], target).sum(axis=1).tolist()
    overlaps = np.array(overlaps)
    expected = 51 / 187
    assert len(overlaps) > 300 and set(overlaps.tolist()) <= {0, 1}
    assert abs(np.mean(overlaps == 1) - expected) < 4 * math.sqrt(expected * (1 - expected) / len(overlaps))


@pytest.mark.parametrize("n, k, s, values", CASES)
def test_sham_knock_out_redraws_as_many_non_tickets_and_keeps_every_overlap(n, k, s, values):
    base, sham = _pair("knock_out_sham", n, k, s, values, width=400)
    target = np.array(draw_support(n, k, base.seed))
    before, after = sparse_supports(base), sparse_supports(sham)
    tickets = is_ticket_row(before, target)
    changed = np.any(before != after, axis=1)
    assert np.array_equal(is_ticket_row(after, target), tickets)  # tickets kept, none made
    assert not changed[tickets].any()
    assert 0 < changed.sum() <= tickets.sum()  # as many redrawn (a redraw may repeat a support)
    assert np.array_equal(np.isin(after, target).sum(axis=1), np.isin(before, target).sum(axis=1))


@pytest.mark.parametrize("init", ["sparse", "dense"])
@pytest.mark.parametrize("n, k, s, values", CASES)
def test_native_plants_draw_values_like_the_init_and_share_them(init, n, k, s, values):
    base, ticket = _pair("plant_native_ticket", n, k, s, values, init=init)
    control = ticket.replace(intervention="plant_native_control")
    target = np.array(sorted(draw_support(n, k, base.seed)))
    W0, b0, u0 = initialize(base)
    planted = {}
    for config in (ticket, control):
        W, b, u = initialize(config)
        assert np.array_equal(W[1:], W0[1:]) and np.array_equal(b, b0) and np.array_equal(u, u0)
        planted[config.intervention] = W[0, list(planted_support(config))]
    assert is_ticket_row(np.array([planted_support(ticket)]), target)[0]
    assert not set(planted_support(control)) & set(target.tolist())
    assert np.array_equal(planted["plant_native_ticket"], planted["plant_native_control"])
    values_law = ticket.sparse_values
    if values_law == "uniform":  # drawn, not +-1/sqrt(s)
        assert np.all(np.abs(planted["plant_native_ticket"]) <= 1 / math.sqrt(s))
        assert not np.allclose(np.abs(planted["plant_native_ticket"]), 1 / math.sqrt(s))
    elif values_law == "sign":
        assert np.allclose(np.abs(planted["plant_native_ticket"]), 1 / math.sqrt(s))
