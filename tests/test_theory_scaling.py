"""theory.scaling: the two constants of gap(s) = Theta(s^{-(k-1)/2}) (docs/science.md 4.3)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.fourier import coefficient, gradient_signal
from theory.scaling import (
    gaussian_limit,
    majority_gap_closed_form,
    scaling_constants,
    symmetric_gap,
    threshold_bias,
)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300), st.fractions(min_value=0, max_value=9, max_denominator=7))
def test_threshold_bias_activates_the_levels_of_beta_sqrt_s(s: int, beta_squared: Fraction) -> None:
    b = threshold_bias(s, beta_squared)
    beta_sqrt_s = math.sqrt(beta_squared * s)
    for j in range(s + 1):
        margin = s - 2 * j + beta_sqrt_s
        if abs(margin) > 1e-9:  # away from float ties the two biases agree on every level
            assert (s - 2 * j + b > 0) == (margin > 0)
        assert s - 2 * j + b != 0  # no tie: the integer bias has the parity of s + 1


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5).flatmap(lambda k: st.tuples(st.just(k), st.integers(k, 60))), st.integers(-20, 20))
def test_symmetric_gap_is_the_gradient_signal_gap(ks: tuple[int, int], bias: int) -> None:
    k, s = ks
    assert symmetric_gap(s, k, bias) == gradient_signal(s + 5, k, s, bias).gap


@pytest.mark.parametrize(("k", "s_values"), [(3, range(6, 121)), (4, range(9, 121, 2)), (5, range(8, 80))])
def test_scaling_constants_are_min_and_max_of_the_exact_values(k: int, s_values: range) -> None:
    result = scaling_constants(k, s_values)
    beta2 = k % 2
    assert result.beta_squared == beta2
    values = []
    for s in s_values:
        b = threshold_bias(s, beta2)
        gap = abs(coefficient(s, k - 1, b, "step")) - abs(coefficient(s, k + 1, b, "step"))
        values.append(gap * sympy.sqrt(s) ** (k - 1))
    assert list(result.values) == values
    numeric = [float(v) for v in values]
    assert float(result.minimum) == min(numeric) and float(result.maximum) == max(numeric)
    assert result.values[list(s_values).index(result.argmin)] == result.minimum
    assert result.values[list(s_values).index(result.argmax)] == result.maximum


def test_constants_approach_the_gaussian_limit() -> None:
    # k = 3, beta = 1: limit e^{-1/2}/sqrt(2 pi); k = 4, b = 0: 1/sqrt(2 pi) (module docstring).
    assert gaussian_limit(3, 1) == sympy.exp(-sympy.Rational(1, 2)) / sympy.sqrt(2 * sympy.pi)
    assert gaussian_limit(4, 0) == 1 / sympy.sqrt(2 * sympy.pi)
    for k, s in ((3, 2001), (4, 2001)):
        value = scaling_constants(k, [s]).values[0]
        assert abs(float(value) - float(gaussian_limit(k, k % 2))) < 3 / math.sqrt(s)


def test_majority_closed_form_and_its_expansion() -> None:
    result = majority_gap_closed_form(4)
    assert result.valid_from == 9
    for s in range(result.valid_from, 120, 2):
        assert result.gap.subs(result.symbol, s) == symmetric_gap(s, 4, 0), s
    expansion = result.expansion
    assert sympy.simplify(expansion.terms[0] - gaussian_limit(4, 0)) == 0
    # the expansion is right within its stated order at large s, against exact values
    for s in (401, 1601):
        exact = scaling_constants(4, [s]).values[0]
        error = sympy.N(exact - expansion.leading.subs(result.symbol, s), 40)
        assert abs(error) <= 2 * abs(sympy.N(expansion.next_term.subs(result.symbol, s), 40))


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="odd"):
        majority_gap_closed_form(3)
    with pytest.raises(ValueError, match="s=2 < k=3"):
        symmetric_gap(2, 3, 0)
    with pytest.raises(ValueError, match="beta_squared"):
        threshold_bias(5, -1)
    with pytest.raises(ValueError, match="s_values"):
        scaling_constants(3, [])
