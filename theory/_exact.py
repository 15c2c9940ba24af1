"""Input checking and exact-number conversion shared by the theory modules.

Everything in ``theory`` computes with Python integers and ``fractions.Fraction``
internally (fast, exact) and converts to ``sympy.Rational`` only at the boundary.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Union

import sympy

#: What a user may pass where the theory expects an exact rational number.
RationalLike = Union[int, Fraction, sympy.Rational, str, float]


def as_fraction(value: RationalLike, name: str) -> Fraction:
    """Convert ``value`` to an exact ``Fraction`` or raise ``ValueError`` naming ``name``.

    Accepts int, ``fractions.Fraction``, ``sympy.Rational`` (incl. ``sympy.Integer``),
    strings such as ``"1/2"``, ``"-3"`` or ``"0.25"``, and finite floats. A float is read by
    its shortest decimal representation (``0.99`` means 99/100, not the binary double
    nearest to it), which is what a person typing the number means.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got the boolean {value!r}")
    if isinstance(value, sympy.Basic):
        if isinstance(value, sympy.Rational):
            return Fraction(int(value.p), int(value.q))
        raise ValueError(f"{name} must be rational, got the sympy expression {value!r}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{name} must be a rational number like 1/2 or 0.25, got {value!r}") from None
    if isinstance(value, numbers.Real):  # e.g. numpy.float64
        return as_fraction(float(value), name)
    raise ValueError(f"{name} must be a rational number, got {value!r} of type {type(value).__name__}")


def to_rational(value: Fraction | int) -> sympy.Rational:
    """Exact ``sympy.Rational`` from an int or Fraction."""
    if isinstance(value, int):
        return sympy.Integer(value)
    return sympy.Rational(value.numerator, value.denominator)


def check_int(value: object, name: str, minimum: int | None = None) -> int:
    """Return ``value`` as an int; ``ValueError`` naming it if not integral or below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, sympy.Integer):
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_nks(n: object, k: object, s: object | None = None) -> tuple[int, int, int | None]:
    """Validate the sizes of an (n,k)-parity and, optionally, a support size s (1 <= k, s <= n)."""
    n_i = check_int(n, "n", 1)
    k_i = check_int(k, "k", 1)
    if k_i > n_i:
        raise ValueError(f"k={k_i} exceeds n={n_i}: a parity on k of n bits needs k <= n")
    if s is None:
        return n_i, k_i, None
    s_i = check_int(s, "s", 1)
    if s_i > n_i:
        raise ValueError(f"s={s_i} exceeds n={n_i}: a support is an s-subset of the n inputs")
    return n_i, k_i, s_i


def ceil_fraction(value: Fraction) -> int:
    """Exact ceiling of a Fraction."""
    return -((-value.numerator) // value.denominator)


def is_symbolic(*values: object) -> bool:
    """Whether any value is a sympy expression with free symbols (n, s, k as Symbols).

    Plain ints and sympy numbers are not symbolic: they keep the exact numeric code path.
    """
    return any(isinstance(v, sympy.Basic) and bool(v.free_symbols) for v in values)


def as_expression(value: object, name: str) -> sympy.Expr:
    """A sympy expression for a symbolic-path argument: symbols as given, numbers exact."""
    if isinstance(value, sympy.Basic):
        return value  # type: ignore[return-value]
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number or a sympy expression, got the boolean {value!r}")
    return to_rational(as_fraction(value, name))


def decided(relation: sympy.Basic, what: str) -> bool:
    """The truth value of a sympy relation, or ValueError when sympy cannot decide it.

    Used where a formula has cases (s >= k, k even): a symbol without assumptions cannot pick one.
    """
    if relation in (sympy.true, True):
        return True
    if relation in (sympy.false, False):
        return False
    raise ValueError(
        f"cannot decide {what} for symbolic input ({relation}); use integers there, or symbols with "
        "assumptions that decide it (e.g. s = k + t with t = Symbol('t', nonnegative=True), "
        "k = Symbol('k', even=True))"
    )


def binomial_expression(n: sympy.Expr, k: sympy.Expr) -> sympy.Expr:
    """C(n, k) as a polynomial in n when k is an integer (n (n-1) ... (n-k+1) / k!), else binomial(n, k)."""
    if isinstance(k, sympy.Integer):
        return sympy.ff(n, int(k)) / sympy.factorial(int(k))
    return sympy.binomial(n, k)
