"""Exact neuron signals of stored runs (verify.neurons, through theory.neuron on sim.init's own
draws) against theory's closed form for the signal-carrying fraction of 2-hot tickets."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from sim import RunConfig
from sim.data import draw_support
from sim.init import sparse_supports
from theory.lottery import is_ticket
from theory.neuron import signal_carrying_fraction
from verify.neurons import neuron_signals, ticket_signal_census


@pytest.mark.parametrize("n", [20, 50])
def test_census_of_the_simulators_tickets_matches_the_closed_form(n):
    """The exact closed form sqrt(2/n) - 1/n lies in the 99.9% Clopper-Pearson interval of the
    fraction of the simulator's uniform-valued 2-hot tickets (k = 3) that carry signal."""
    carrying, tickets = ticket_signal_census(n, seeds=40 if n == 20 else 150)
    assert tickets > 300
    interval = binomtest(carrying, tickets).proportion_ci(0.999, method="exact")
    assert interval.low <= float(signal_carrying_fraction(n)) <= interval.high


def test_sign_values_make_every_ticket_carry_signal():
    carrying, tickets = ticket_signal_census(20, values="sign", seeds=5)
    assert tickets > 0 and carrying == tickets


def test_neuron_signals_of_a_stored_run():
    config = RunConfig(n=20, k=3, width=64, init="sparse", seed=3)
    signals = neuron_signals(config)
    target = draw_support(20, 3, 3)
    assert [s.is_ticket for s in signals] == [is_ticket(u, target) for u in sparse_supports(config).tolist()]
    assert all(s.relevant == 0 for s in signals if not set(s.support) & set(target))  # no overlap, no signal
    with pytest.raises(ValueError, match="sparse init"):
        neuron_signals(config.replace(init="dense"))
