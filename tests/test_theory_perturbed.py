"""theory.perturbed (issue 27): the ones-plus-epsilon neuron with epsilon a symbol, against brute force
over {-1,1}^n at rational epsilon, the DP of theory.neuron, and Theorem 5's leading term."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.fourier import coefficient
from theory.neuron import neuron_gradient_signal
from theory.perturbed import COORDINATE_KINDS, epsilon_signal
from theory_oracles import brute_force_ltf

EPSILON = sympy.Symbol("epsilon", positive=True)


def kind_of(j: int, support: set[int], target: set[int]) -> str:
    if j in support:
        return "in_target_and_support" if j in target else "in_support_only"
    return "in_target_only" if j in target else "in_neither"


def brute_force_signals(n: int, support: list[int], target: list[int], bias: Fraction, epsilon: Fraction,
                        derivative: str) -> dict[str, set[Fraction]]:
    """E[chi_{S Δ {j}} act'(w . x + b)] by summing over all 2^n inputs, grouped by coordinate kind."""
    weights = [Fraction(1) if i in support else epsilon for i in range(n)]
    found: dict[str, set[Fraction]] = {}
    for j in range(n):
        subset = sorted(set(target) ^ {j})
        found.setdefault(kind_of(j, set(support), set(target)), set()).add(
            brute_force_ltf(weights, bias, subset, derivative))
    return found


@st.composite
def small_settings(draw: st.DrawFn) -> tuple[int, int, int, int, Fraction, str]:
    n = draw(st.integers(2, 9))
    k, s = draw(st.integers(1, n)), draw(st.integers(1, n))
    overlap = draw(st.integers(max(0, s + k - n), min(k, s)))
    bias = Fraction(draw(st.integers(-2 * s, 2 * s)), draw(st.sampled_from([1, 1, 2])))
    return n, k, s, overlap, bias, draw(st.sampled_from(["step", "sign", "relu"]))


@settings(max_examples=60, deadline=None)
@given(small_settings(), st.integers(2, 5))
def test_series_equals_brute_force_below_its_radius(setting: tuple, divisor: int) -> None:
    n, k, s, overlap, bias, derivative = setting
    signal = epsilon_signal(n, k, s, bias, overlap, derivative)
    epsilon = Fraction(1, 3) if signal.valid_below == sympy.oo else Fraction(str(signal.valid_below)) / divisor
    support, target = list(range(s)), list(range(s - overlap, s - overlap + k))
    values = signal.at(epsilon)
    for kind, found in brute_force_signals(n, support, target, bias, epsilon, derivative).items():
        assert found == {Fraction(str(values[kind]))}, (kind, found, values[kind])
    assert all(sympy.degree(signal.series(kind), EPSILON) <= 1 for kind in COORDINATE_KINDS)


@pytest.mark.parametrize(("n", "k", "s"), [(30, 4, 2), (50, 4, 2), (40, 6, 2), (40, 6, 4)])
def test_theorem5_leading_term_is_a_tie_times_a_majority_coefficient(n: int, k: int, s: int) -> None:
    """k, s even, b = 0, U ⊆ S: the missing target bits get, at order epsilon^0,
    2^-s K_{s/2}(s; s) stephat_{k-s-1}(n - s bits) = 2^-s (-1)^(s/2) C(s, s/2) stephat_{k-s-1}(n - s)."""
    import math

    signal = epsilon_signal(n, k, s)
    expected = sympy.Rational((-1) ** (s // 2) * math.comb(s, s // 2), 2**s) * coefficient(n - s, k - s - 1, 0, "step")
    assert signal.leading_term("in_target_only") == expected != 0
    assert signal.leading_order("in_target_only") == 0
    assert signal.valid_below >= sympy.Rational(1, n - s)
    # the same number from the exact DP of an actual ones-plus-epsilon neuron, epsilon = 1/(2(n - s))
    actual = neuron_gradient_signal(n, list(range(s)), [1] * s, 0, list(range(k)), off_support=Fraction(1, 2 * (n - s)))
    assert actual.signal[k - 1] == expected
    # and with epsilon = 0 the neuron ignores the missing bits: no signal at all
    assert neuron_gradient_signal(n, list(range(s)), [1] * s, 0, list(range(k))).signal[k - 1] == 0


def test_no_tie_level_no_signal_and_relu_is_first_order_in_epsilon() -> None:
    # s even, b odd: no level with s - 2a + b = 0, so every step signal is exactly 0 for small epsilon
    assert all(epsilon_signal(20, 4, 2, bias=1).series(kind) == 0 for kind in COORDINATE_KINDS)
    # relu: the neuron's own coefficient on S \ {j} with two bits off U grows like epsilon: only the
    # tie level (a = 1) reaches them, as epsilon relu(B), so the term is 2^-2 K_1(2; 2) epsilon reluhat_2(18 bits)
    relu = epsilon_signal(20, 5, 2, derivative="relu")
    assert relu.leading_term("in_target_only") == -EPSILON * coefficient(18, 2, 0, "relu") / 2 != 0


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: epsilon_signal(10, 4, 2, derivative="square"), "derivative"),
    (lambda: epsilon_signal(10, 4, 2, overlap=3), "overlap=3"),
    (lambda: epsilon_signal(10, 11, 2), "k=11"),
    (lambda: epsilon_signal(10, 4, 2, epsilon=sympy.Symbol("e", negative=True)), "epsilon"),
    (lambda: epsilon_signal(10, 4, 2).at(Fraction(1, 4)), "outside"),  # valid_below = 2/8: open interval
    (lambda: epsilon_signal(10, 4, 2).at(0), "outside"),
    (lambda: epsilon_signal(10, 4, 2).series("elsewhere"), "kind"),
])
def test_bad_input_raises_value_error_naming_it(call, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        call()
