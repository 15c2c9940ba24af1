"""theory.neuron (the gradient signal of actual neurons) and theory.lottery.is_ticket, against
enumeration over {-1,1}^n, the equal-weight theory and Monte-Carlo draws of simulator-like
2-hot tickets (docs/science.md 4.3, 7)."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from strategies import parity_sizes_with_overlap, rational_biases
from theory.fourier import gradient_signal, ltf_coefficient, signal_carrying_fraction
from theory.lottery import is_ticket
from theory.neuron import carries_degree2_signal, degree2_coefficient_of_2hot, neuron_gradient_signal
from theory_oracles import brute_force_ltf

small_rationals = st.fractions(min_value=-2, max_value=2, max_denominator=4)


def enumerated_signal(n: int, weights: list[Fraction], bias: Fraction, target: set[int]) -> list[Fraction]:
    """E[chi_{S Δ {j}}(x) step(w . x + b)] for every j, by brute force over all 2^n inputs."""
    return [brute_force_ltf(weights, bias, sorted(target ^ {j}), "step") for j in range(n)]


@st.composite
def neurons(draw: st.DrawFn, max_n: int = 7) -> dict:
    n = draw(st.integers(1, max_n))
    support = draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=n))
    target = draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=n))
    values = draw(st.lists(small_rationals, min_size=len(support), max_size=len(support)))
    off = draw(st.one_of(st.just(Fraction(0)), st.fractions(min_value=-1, max_value=1, max_denominator=8)))
    return {"n": n, "support": support, "values": values, "target": target, "off_support": off}


@settings(max_examples=80, deadline=None)
@given(neurons(), rational_biases(max_abs=3, max_denominator=4))
def test_neuron_signal_equals_enumeration(neuron: dict, bias: Fraction) -> None:
    n, support, target = neuron["n"], neuron["support"], set(neuron["target"])
    weights = [neuron["off_support"]] * n
    for c, v in zip(support, neuron["values"]):
        weights[c] = v
    exact = enumerated_signal(n, weights, bias, target)
    result = neuron_gradient_signal(n, support, neuron["values"], bias, neuron["target"], neuron["off_support"])
    assert [Fraction(int(v.p), int(v.q)) for v in result.signal] == exact
    relevant = max((abs(exact[j]) for j in target), default=0)
    irrelevant = max((abs(exact[j]) for j in range(n) if j not in target), default=0)
    assert abs(result.relevant) == relevant and abs(result.irrelevant) == irrelevant
    assert result.gap == relevant - irrelevant
    if result.relevant_coordinate is not None:
        assert result.signal[result.relevant_coordinate] == result.relevant and result.relevant_coordinate in target
    assert result.carries_signal == (relevant != 0)
    assert result.is_ticket == (target <= set(support) if len(support) >= len(target) else set(support) <= target)


@settings(max_examples=60, deadline=None)
@given(parity_sizes_with_overlap(max_n=30), rational_biases(max_abs=8, max_denominator=4), st.randoms(use_true_random=False))
def test_equal_weights_reproduce_the_theory_gradient_signal(sizes: tuple[int, int, int, int], bias: Fraction, rnd) -> None:
    n, k, s, overlap = sizes
    order = rnd.sample(range(n), n)
    target = order[:k]
    support = order[:overlap] + order[k:k + s - overlap]
    theory = gradient_signal(n, k, s, bias, overlap=overlap)
    actual = neuron_gradient_signal(n, support, [1] * s, bias, target)
    assert (actual.relevant, actual.irrelevant, actual.gap) == (theory.relevant, theory.irrelevant, theory.gap)
    assert actual.is_ticket == theory.is_ticket


@settings(max_examples=200, deadline=None)
@given(small_rationals, small_rationals, rational_biases(max_abs=4, max_denominator=4))
def test_degree2_condition_equals_the_dp_and_brute_force(w_a: Fraction, w_b: Fraction, bias: Fraction) -> None:
    # Small denominators put b on the boundaries |w_a| +- |w_b| often: step(0) = 0 decides there.
    closed = degree2_coefficient_of_2hot(w_a, w_b, bias)
    assert closed == ltf_coefficient([w_a, w_b], bias, [0, 1], "step")
    assert closed == brute_force_ltf([w_a, w_b], bias, [0, 1], "step")
    generic = abs(abs(w_a) - abs(w_b)) < abs(bias) < abs(w_a) + abs(w_b)
    on_boundary = abs(bias) in (abs(abs(w_a) - abs(w_b)), abs(w_a) + abs(w_b))
    assert on_boundary or carries_degree2_signal(w_a, w_b, bias) == generic


def draw_uniform_ticket_signals(n: int, draws: int, seed: int) -> int:
    """Tickets U ⊆ S drawn like sim.init ('uniform' values, k = 3, s = 2), each evaluated
    exactly (floats at their binary value) by the DP; returns how many carry signal."""
    rng = random.Random(seed)
    carrying = 0
    for _ in range(draws):
        values = [rng.uniform(-1 / math.sqrt(2), 1 / math.sqrt(2)) for _ in range(2)]
        bias = rng.uniform(-1 / math.sqrt(n), 1 / math.sqrt(n))
        result = neuron_gradient_signal(n, [0, 1], values, bias, [0, 1, 2])
        assert result.is_ticket and result.relevant_coordinate in (None, 2)
        assert result.carries_signal == carries_degree2_signal(values[0], values[1], bias)
        carrying += result.carries_signal
    return carrying


@pytest.mark.parametrize("n", [20, 50])
def test_signal_carrying_fraction_matches_monte_carlo(n: int) -> None:
    # 99.9% Clopper-Pearson interval (scipy.stats.binomtest) of 6000 exact per-neuron verdicts
    # must contain the closed form sqrt(2/n) - 1/n.
    draws = 6000
    carrying = draw_uniform_ticket_signals(n, draws, seed=2309 + n)
    expected = float(signal_carrying_fraction(n))
    interval = binomtest(carrying, draws).proportion_ci(confidence_level=0.999)
    assert interval.low <= expected <= interval.high


def test_signal_carrying_fraction_values_and_symbolic_form() -> None:
    n = sympy.Symbol("n", integer=True, positive=True)
    closed = signal_carrying_fraction(n)
    assert sympy.simplify(closed - (sympy.sqrt(2 / n) - 1 / n)) == 0
    for value in range(3, 200):
        assert sympy.simplify(closed.subs(n, value) - signal_carrying_fraction(value)) == 0
    assert signal_carrying_fraction(50) == sympy.Rational(9, 50)  # sqrt(2/50) = 1/5
    assert signal_carrying_fraction(20) == sympy.sqrt(10) / 10 - sympy.Rational(1, 20)
    assert signal_carrying_fraction(30, values="sign") == 1
    assert signal_carrying_fraction(30, k=4) == 0
    # ones everywhere (sign values): every ticket carries signal, by the DP too
    rng = random.Random(1)
    for _ in range(50):
        signs = [rng.choice((-1, 1)) / math.sqrt(2) for _ in range(2)]
        assert carries_degree2_signal(signs[0], signs[1], rng.uniform(-1 / math.sqrt(30), 1 / math.sqrt(30)))


def test_k4_two_hot_tickets_carry_no_first_order_signal() -> None:
    rng = random.Random(7)
    for _ in range(20):
        values = [rng.uniform(-1, 1) for _ in range(2)]
        result = neuron_gradient_signal(12, [3, 8], values, rng.uniform(-0.3, 0.3), [3, 8, 1, 10])
        assert result.is_ticket and set(result.signal) == {0}


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n), st.integers(1, n))),
       st.randoms(use_true_random=False))
def test_is_ticket_follows_the_definition(sizes: tuple[int, int, int], rnd) -> None:
    n, k, s = sizes
    target = set(rnd.sample(range(n), k))
    tickets = sum(is_ticket(u, target) for u in itertools.combinations(range(n), s))
    expected = math.comb(n - k, s - k) if s >= k else math.comb(k, s)  # docs/science.md 4.4
    assert tickets == expected


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: is_ticket([1, 1], [1]), "support"),
        (lambda: is_ticket([], [1]), "support"),
        (lambda: is_ticket([0], [-1]), "target"),
        (lambda: is_ticket("ab", [1]), "support"),
        (lambda: neuron_gradient_signal(5, [0, 7], [1, 1], 0, [0]), "support coordinate 7"),
        (lambda: neuron_gradient_signal(5, [0, 1], [1], 0, [0]), "values"),
        (lambda: neuron_gradient_signal(5, [0, 1], [1, 1], 0, [0, 0]), "target"),
        (lambda: neuron_gradient_signal(5, [0, 1], [1, "w"], 0, [0]), r"values\[1\]"),
        (lambda: neuron_gradient_signal(5, [0, 1], [1, 1], 0, [0], off_support=math.nan), "off_support"),
        (lambda: signal_carrying_fraction(30, k=3, s=3), "s = 2"),
        (lambda: signal_carrying_fraction(30, values="ones-eps"), "values"),
        (lambda: signal_carrying_fraction(2), "n=2"),
    ],
)
def test_bad_input_raises_value_error_naming_it(call, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        call()
