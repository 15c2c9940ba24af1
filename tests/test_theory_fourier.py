"""theory.fourier.coefficient / spectrum against independent oracles.

Oracles: a brute-force Walsh-Hadamard transform over all 2^s inputs (s <= 12), the direct
Krawtchouk sum with math.comb (larger s), Parseval, the closed form of the majority function
(O'Donnell, Analysis of Boolean Functions, Theorem 5.19) and parity symmetries at bias 0.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.discrete.transforms import fwht

from strategies import activations, bias_spellings, rational_biases, support_and_degree
from theory.fourier import coefficient, spectrum


def act_scaled(z_scaled: np.ndarray | int, activation: str) -> np.ndarray | int:
    """act(z) * q given z * q (q > 0), straight from the definitions in the issue."""
    if activation == "relu":
        return np.maximum(z_scaled, 0)
    if activation == "step":
        return (np.asarray(z_scaled) > 0).astype(np.int64)
    return np.sign(z_scaled).astype(np.int64)


def brute_force_levels(s: int, bias: Fraction, activation: str) -> dict[int, set[Fraction]]:
    """Every Fourier coefficient of act(x_1+...+x_s+b), grouped by |T|, by a fast WHT over 2^s points."""
    q = bias.denominator if activation == "relu" else 1
    index = np.arange(2**s)
    bits = (index[:, None] >> np.arange(s)) & 1
    x = 1 - 2 * bits  # x_t = (-1)^{bit t}, so chi_T(x) = (-1)^{popcount(T & x)}
    values = np.asarray(act_scaled(x.sum(axis=1) * bias.denominator + bias.numerator, activation), dtype=np.int64)
    transform = values.copy()
    h = 1
    while h < len(transform):
        blocks = transform.reshape(-1, 2 * h)
        left, right = blocks[:, :h].copy(), blocks[:, h:].copy()
        blocks[:, :h], blocks[:, h:] = left + right, left - right
        transform = blocks.reshape(-1)
        h *= 2
    degrees = bits.sum(axis=1)
    levels: dict[int, set[Fraction]] = {}
    for t in range(2**s):
        levels.setdefault(int(degrees[t]), set()).add(Fraction(int(transform[t]), q * 2**s))
    return levels


def krawtchouk(j: int, d: int, s: int) -> int:
    """K_j(d; s) = sum_i (-1)^i C(d, i) C(s-d, j-i), the direct sum of docs/science.md 4.2."""
    return sum((-1) ** i * math.comb(d, i) * math.comb(s - d, j - i) for i in range(0, min(d, j) + 1))


def activation_fraction(z: Fraction, activation: str) -> Fraction:
    if activation == "relu":
        return max(z, Fraction(0))
    if activation == "step":
        return Fraction(1 if z > 0 else 0)
    return Fraction((z > 0) - (z < 0))


def test_our_wht_oracle_matches_sympy_fwht() -> None:
    # The oracle itself checked against sympy's transform on small supports.
    for s in range(1, 6):
        for bias in (Fraction(0), Fraction(1, 2), Fraction(-3, 2)):
            for activation in ("relu", "step", "sign"):
                points = [
                    activation_fraction(sum(1 - 2 * ((t >> i) & 1) for i in range(s)) + bias, activation)
                    for t in range(2**s)
                ]
                reference = [sympy.Rational(v.numerator, v.denominator) / 2**s for v in points]
                sympy_hat = fwht(reference)
                ours = brute_force_levels(s, bias, activation)
                for t, value in enumerate(sympy_hat):
                    degree = bin(t).count("1")
                    assert ours[degree] == {Fraction(int(value.p), int(value.q))}


@settings(max_examples=120, deadline=None)
@given(support_and_degree(max_s=12), activations(), rational_biases(max_abs=8, max_denominator=6))
def test_coefficient_equals_brute_force_walsh_hadamard(sd: tuple[int, int], activation: str, bias: Fraction) -> None:
    s, degree = sd
    levels = brute_force_levels(s, bias, activation)
    assert len(levels[degree]) == 1  # symmetric function: one value per level
    (expected,) = levels[degree]
    assert coefficient(s, degree, bias, activation) == sympy.Rational(expected.numerator, expected.denominator)


@settings(max_examples=40, deadline=None)
@given(support_and_degree(max_s=80), activations(), rational_biases(max_abs=90, max_denominator=4))
def test_coefficient_equals_direct_krawtchouk_sum(sd: tuple[int, int], activation: str, bias: Fraction) -> None:
    s, degree = sd
    total = sum(activation_fraction(s - 2 * j + bias, activation) * krawtchouk(j, degree, s) for j in range(s + 1))
    expected = total / 2**s
    assert coefficient(s, degree, bias, activation) == sympy.Rational(expected.numerator, expected.denominator)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 200), activations(), rational_biases(max_abs=200, max_denominator=5))
def test_parseval(s: int, activation: str, bias: Fraction) -> None:
    coefficients = spectrum(s, bias, activation)
    assert len(coefficients) == s + 1
    energy = sum(math.comb(s, d) * c**2 for d, c in enumerate(coefficients))
    mean_square = sum(math.comb(s, j) * activation_fraction(s - 2 * j + bias, activation) ** 2 for j in range(s + 1)) / Fraction(2**s)
    assert energy == sympy.Rational(mean_square.numerator, mean_square.denominator)


def majority_coefficient(s: int, degree: int) -> sympy.Rational:
    """O'Donnell Thm 5.19: for odd s, Maj_s-hat(T) = 0 for |T| even and, for |T| = d odd,
    (-1)^{(d-1)/2} C((s-1)/2, (d-1)/2) / C(s-1, d-1) * 2^{1-s} C(s-1, (s-1)/2)."""
    if degree % 2 == 0:
        return sympy.Integer(0)
    half, dh = (s - 1) // 2, (degree - 1) // 2
    return (
        (-1) ** dh
        * sympy.Rational(math.comb(half, dh), math.comb(s - 1, degree - 1))
        * sympy.Rational(2 * math.comb(s - 1, half), 2**s)
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 200).map(lambda h: 2 * h + 1).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s))),
       st.fractions(min_value=-1, max_value=1, max_denominator=9).filter(lambda b: abs(b) < 1))
def test_majority_closed_form_for_odd_s(sd: tuple[int, int], bias: Fraction) -> None:
    # For odd s the sum x_1+...+x_s is odd, so any |b| < 1 leaves sign(sum + b) = Maj_s.
    s, degree = sd
    maj = majority_coefficient(s, degree)
    assert coefficient(s, degree, bias, "sign") == maj
    # step = (1 + sign) / 2 when the pre-activation is never 0.
    assert coefficient(s, degree, bias, "step") == (maj + (1 if degree == 0 else 0)) / 2


def test_majority_closed_form_at_large_s() -> None:
    s = 1999
    for degree in (1, 2, 3, 5, 999, 1000, 1999):
        assert coefficient(s, degree, 0, "sign") == majority_coefficient(s, degree)


@settings(max_examples=40, deadline=None)
@given(support_and_degree(max_s=120))
def test_bias_zero_symmetries(sd: tuple[int, int]) -> None:
    """Which coefficients vanish at bias 0, precisely.

    sign(z) is odd, so every even-degree sign coefficient (degree 0 included) vanishes for all s.
    step(z) = (1 + sign(z))/2 - 1[z = 0]/2. For odd s, z is never 0: step's even-degree
    coefficients vanish for degree >= 2 while degree 0 is 1/2. For even s the tie term makes
    the even-degree step coefficients equal -(1/2) 2^{-s} K_{s/2}(d; s), generally nonzero.
    relu(z) = z/2 + |z|/2 with |z| even: relu's odd-degree coefficients vanish from degree 3 on.
    """
    s, degree = sd
    if degree % 2 == 0:
        assert coefficient(s, degree, 0, "sign") == 0
        if s % 2 == 1:
            assert coefficient(s, degree, 0, "step") == (sympy.Rational(1, 2) if degree == 0 else 0)
        elif degree >= 2:
            tie = sympy.Rational(krawtchouk(s // 2, degree, s), 2**s)
            assert coefficient(s, degree, 0, "step") == -tie / 2
            assert tie != 0
    elif degree >= 3:
        assert coefficient(s, degree, 0, "relu") == 0
    else:  # degree 1: relu's linear part is z/2, plus |z|/2 contributes nothing at odd degree
        assert coefficient(s, 1, 0, "relu") == sympy.Rational(1, 2)


@settings(max_examples=30, deadline=None)
@given(support_and_degree(max_s=30), activations(), rational_biases(max_abs=30, max_denominator=7))
def test_every_bias_spelling_gives_the_same_exact_rational(sd: tuple[int, int], activation: str, bias: Fraction) -> None:
    s, degree = sd
    values = {coefficient(s, degree, spelled, activation) for spelled in bias_spellings(bias)}
    assert len(values) == 1
    assert isinstance(values.pop(), sympy.Rational)


def test_float_bias_is_read_as_its_decimal() -> None:
    assert coefficient(9, 2, 0.1, "relu") == coefficient(9, 2, "1/10", "relu")
    assert coefficient(9, 2, 0.5, "step") == coefficient(9, 2, sympy.Rational(1, 2), "step")


def test_known_small_values() -> None:
    # step(x1 + x2) = 1[x1 = x2 = 1] = (1 + x1)(1 + x2) / 4
    assert spectrum(2, 0, "step") == [sympy.Rational(1, 4)] * 3
    # relu(x1 + x2 + 1/2) takes 5/2, 1/2, 1/2, 0
    assert spectrum(2, "1/2", "relu") == [sympy.Rational(7, 8), sympy.Rational(5, 8), sympy.Rational(3, 8)]
    assert spectrum(3, 0, "sign") == [0, sympy.Rational(1, 2), 0, sympy.Rational(-1, 2)]


def test_large_support_is_exact_and_consistent() -> None:
    # s = 2000: exact rational with a power-of-two denominator; degree 0 is the mean.
    value = coefficient(2000, 3, "1/3", "relu")
    assert isinstance(value, sympy.Rational) and value != 0
    mean = sum(math.comb(2000, j) * max(Fraction(0), 2000 - 2 * j + Fraction(1, 3)) for j in range(2001)) / Fraction(2**2000)
    assert coefficient(2000, 0, "1/3", "relu") == sympy.Rational(mean.numerator, mean.denominator)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((0, 0), "s"),
        ((-3, 0), "s"),
        ((2.5, 0), "s"),
        ((4, 5), "degree"),
        ((4, -1), "degree"),
        ((4, 1, 0, "tanh"), "activation"),
        ((4, 1, "abc"), "bias"),
        ((4, 1, True), "bias"),
        ((4, 1, float("nan")), "bias"),
        ((4, 1, "1/0"), "bias"),
    ],
)
def test_bad_input_raises_value_error_naming_it(args: tuple, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        coefficient(*args)


def test_spectrum_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="activation"):
        spectrum(3, 0, "elu")
    with pytest.raises(ValueError, match="s"):
        spectrum(0)
