"""The constants hidden in "gap = Theta(s^{-(k-1)/2})" (docs/science.md 4.3), made numbers.

The over-sparse ticket of the theory is the symmetric threshold neuron step(x_1 + ... + x_s + b)
on its support U ⊇ S. Its Fourier gap (docs/science.md 4.3) is

    gap(s) = |stephat_{k-1}| - |stephat_{k+1}|

and the paper's claim is gap(s) = Theta(s^{-(k-1)/2}) for majority-like thresholds. Here the
two constants of that Theta are computed exactly on a range of s: the min and max of
gap(s) * s^{(k-1)/2}, with the limit as s -> oo.

Bias choice (documented, and a parameter): b = beta * sqrt(s), a threshold beta standard
deviations below the mean of x_1 + ... + x_s.

* k even: beta = 0, the majority function (odd s; even s adds a tie at 0 and is allowed too).
  The closed form of O'Donnell's Theorem 5.19 applies and :func:`majority_gap_closed_form`
  returns it with its asymptotic series.
* k odd: beta = 0 makes stephat_{k-1} vanish for odd s (docs/science.md 4.3) and a constant
  bias only gives Theta(s^{-k/2}); the Theta(s^{-(k-1)/2}) claim needs b ~ sqrt(s). Default
  beta = 1, which maximises the limit beta * phi(beta) for k = 3.

b = beta sqrt(s) is irrational, but step(x_1 + ... + x_s + b) only depends on which levels
j (number of -1 entries) are active: j is active iff 2j - s < beta sqrt(s), decided exactly
in integers as  2j - s < 0  or  (2j - s)^2 < beta^2 s. :func:`threshold_bias` returns the
integer bias 2J - s - 1 with the same J active levels (and no tie), so every value is exact.

The limit: by the central limit theorem stephat_d ~ s^{-d/2} E[1[Z > -beta] He_d(Z)] =
s^{-d/2} phi(beta) He_{d-1}(-beta) (He the probabilists' Hermite polynomials), so
gap(s) s^{(k-1)/2} -> |phi(beta) He_{k-2}(-beta)|: 1/sqrt(2 pi) for k = 4, beta = 0 and
e^{-1/2}/sqrt(2 pi) for k = 3, beta = 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import sympy

from theory._exact import RationalLike, as_fraction, check_int, to_rational
from theory.fourier import _coefficient_fraction
from theory.limits import check_scaling
from theory.symbolic import Asymptotic, asymptotic, coefficient_closed_form


def threshold_bias(s: int, beta_squared: RationalLike) -> int:
    """The integer bias with the same active levels as b = beta sqrt(s), beta = sqrt(beta_squared) >= 0.

    Level j (j entries -1, pre-activation s - 2j + b) is active iff 2j - s < beta sqrt(s);
    with J active levels, 2J - s - 1 activates exactly j < J and never ties at 0.
    """
    s_i = check_int(s, "s", 1)
    beta2 = as_fraction(beta_squared, "beta_squared")
    if beta2 < 0:
        raise ValueError(f"beta_squared must be >= 0, got {beta2}")
    active = sum(1 for j in range(s_i + 1) if 2 * j - s_i < 0 or (2 * j - s_i) ** 2 < beta2 * s_i)
    return 2 * active - s_i - 1


def symmetric_gap(s: int, k: int, bias: RationalLike) -> sympy.Rational:
    """|stephat_{k-1}| - |stephat_{k+1}| of step(x_1 + ... + x_s + b): the Fourier gap of an
    equal-weight over-sparse ticket (S ⊆ U, docs/science.md 4.3; stephat_{k+1} = 0 if s = k)."""
    s_i, k_i = check_int(s, "s", 1), check_int(k, "k", 1)
    if s_i < k_i:
        raise ValueError(f"s={s_i} < k={k_i}: an over-sparse ticket needs s >= k")
    b = as_fraction(bias, "bias")
    relevant = _coefficient_fraction(s_i, k_i - 1, b, "step")
    irrelevant = _coefficient_fraction(s_i, k_i + 1, b, "step") if k_i + 1 <= s_i else Fraction(0)
    return to_rational(abs(relevant) - abs(irrelevant))


def gaussian_limit(k: int, beta_squared: RationalLike) -> sympy.Expr:
    """lim_{s -> oo} gap(s) s^{(k-1)/2} = |phi(beta) He_{k-2}(-beta)| (module docstring)."""
    beta = sympy.sqrt(to_rational(as_fraction(beta_squared, "beta_squared")))
    phi = sympy.exp(-beta**2 / 2) / sympy.sqrt(2 * sympy.pi)
    return sympy.Abs(sympy.simplify(phi * sympy.hermite_prob(check_int(k, "k", 2) - 2, -beta)))


@dataclass(frozen=True)
class ScalingConstants:
    """gap(s) * s^{(k-1)/2} over a range of s, exactly: the two constants of the Theta.

    ``values[i]`` belongs to ``s_values[i]`` (bias ``biases[i]`` = :func:`threshold_bias`);
    ``minimum``/``maximum`` are attained at ``argmin``/``argmax``; ``limit`` is the s -> oo
    limit (:func:`gaussian_limit`).
    """

    k: int
    beta_squared: sympy.Rational
    s_values: tuple[int, ...]
    biases: tuple[int, ...]
    values: tuple[sympy.Expr, ...]
    minimum: sympy.Expr
    argmin: int
    maximum: sympy.Expr
    argmax: int
    limit: sympy.Expr


def scaling_constants(k: int, s_values: Iterable[int], beta_squared: RationalLike | None = None) -> ScalingConstants:
    """Exact min and max of gap(s) * s^{(k-1)/2} over ``s_values`` (docs/science.md 4.3).

    Args:
        k: the parity degree, >= 2.
        s_values: support sizes s >= k (e.g. ``range(5, 401, 2)``).
        beta_squared: the bias is b = beta sqrt(s); default 0 for even k (majority) and 1 for
            odd k (module docstring says why).

    Cost: one pair of Krawtchouk coefficients per s, O(s^2) bit work each; s up to a few
    thousand takes seconds.
    """
    k_i = check_int(k, "k", 2)
    beta2 = as_fraction((k_i % 2) if beta_squared is None else beta_squared, "beta_squared")
    sizes = tuple(check_int(s, "s", 1) for s in s_values)
    check_scaling(sizes)
    if not sizes:
        raise ValueError("s_values must not be empty")
    biases = tuple(threshold_bias(s, beta2) for s in sizes)
    gaps = [symmetric_gap(s, k_i, b) for s, b in zip(sizes, biases)]
    # gap * s^{(k-1)/2} may be irrational (even k); compare the rational sign * gap^2 * s^{k-1}.
    keys = [(1 if g >= 0 else -1) * g**2 * s ** (k_i - 1) for g, s in zip(gaps, sizes)]
    values = tuple(g * sympy.sqrt(sympy.Integer(s) ** (k_i - 1)) for g, s in zip(gaps, sizes))
    low = min(range(len(sizes)), key=lambda i: (keys[i], sizes[i]))
    high = max(range(len(sizes)), key=lambda i: (keys[i], -sizes[i]))
    return ScalingConstants(
        k=k_i,
        beta_squared=to_rational(beta2),
        s_values=sizes,
        biases=biases,
        values=values,
        minimum=values[low],
        argmin=sizes[low],
        maximum=values[high],
        argmax=sizes[high],
        limit=gaussian_limit(k_i, beta2),
    )


@dataclass(frozen=True)
class MajorityGap:
    """gap(s) s^{(k-1)/2} of the majority ticket (even k, b = 0, odd s >= valid_from) in closed
    form, with its expansion as s -> oo."""

    k: int
    gap: sympy.Expr
    scaled: sympy.Expr
    symbol: sympy.Symbol
    valid_from: int
    expansion: Asymptotic


def majority_gap_closed_form(k: int, terms: int = 3) -> MajorityGap:
    """Closed form of gap(s) = |stephat_{k-1}| - |stephat_{k+1}| for step(x_1 + ... + x_s), s odd.

    step = (1 + Maj_s) / 2 for odd s, and O'Donnell's Theorem 5.19 gives the sign of Maj's
    level-d coefficient as (-1)^{(d-1)/2}; so with sigma = (-1)^{(k-2)/2},
    gap = sigma (stephat_{k-1} + stephat_{k+1}), each a closed form of
    :func:`theory.symbolic.coefficient_closed_form`. ``expansion`` = :func:`asymptotic` of
    gap(s) s^{(k-1)/2} with ``terms`` terms; its leading term is the Gaussian limit.

    Raises:
        ValueError: k odd (with b = 0 the relevant coefficient vanishes for odd s).
    """
    k_i = check_int(k, "k", 2)
    if k_i % 2:
        raise ValueError(f"k={k_i} is odd: with b = 0 stephat_{{k-1}} vanishes for odd s; use scaling_constants")
    relevant = coefficient_closed_form(k_i - 1, 0, "step", parity=1)
    irrelevant = coefficient_closed_form(k_i + 1, 0, "step", parity=1)
    sigma = (-1) ** ((k_i - 2) // 2)
    s = relevant.symbol
    gap = sigma * (relevant.expression + irrelevant.expression)  # a sum of products: asymptotic expands each
    scaled = gap * s ** sympy.Rational(k_i - 1, 2)
    return MajorityGap(k_i, gap, scaled, s, max(relevant.valid_from, irrelevant.valid_from),
                       asymptotic(scaled, s, terms))
