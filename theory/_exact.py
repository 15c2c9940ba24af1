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


# ----------------------------------------------------------------------------- the symbolic path's checks
def _contradicted(relation: sympy.Basic) -> bool:
    """Whether sympy can show ``relation`` false (from the symbols' assumptions); undecided is not."""
    return relation in (sympy.false, False)


def check_size_expression(value: object, name: str, minimum: int = 1) -> sympy.Expr:
    """A size (n, k, s, a width, T, ...) on the symbolic path, as a sympy expression.

    A number must be an integer >= ``minimum``, exactly as :func:`check_int` demands on the numeric
    path (``s = 2.5``, ``k = 0`` are refused). A sympy expression with free symbols is read as such
    an integer: it is refused when its assumptions contradict that (``Symbol("k", negative=True)``,
    ``Symbol("s", integer=False)``) and accepted when they do not decide it (a plain
    ``Symbol("n")``); the closed form then holds on the integers >= ``minimum`` only.

    Raises:
        ValueError: naming ``name`` and the value.
    """
    if isinstance(value, sympy.Basic) and value.free_symbols:
        if value.is_integer is False:
            raise ValueError(f"{name} must be an integer, got {value}, which its assumptions make a non-integer")
        if _contradicted(sympy.Ge(value, minimum)):
            raise ValueError(f"{name} must be >= {minimum}, got {value}, which its assumptions make smaller")
        return value  # type: ignore[return-value]
    return sympy.Integer(check_int(value, name, minimum))


def check_symbolic_sizes(n: object, k: object, s: object | None = None
                         ) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr | None]:
    """:func:`check_nks` for the symbolic path: 1 <= k, s <= n as integers, each check made where
    the numbers or the symbols' assumptions decide it (``k = 3`` with ``n = 2`` is refused, ``k = 3``
    with a symbol n is read as n >= 3: the closed form's domain)."""
    n_e = check_size_expression(n, "n")
    k_e = check_size_expression(k, "k")
    if _contradicted(sympy.Le(k_e, n_e)):
        raise ValueError(f"k={k_e} exceeds n={n_e}: a parity on k of n bits needs k <= n")
    if s is None:
        return n_e, k_e, None
    s_e = check_size_expression(s, "s")
    if _contradicted(sympy.Le(s_e, n_e)):
        raise ValueError(f"s={s_e} exceeds n={n_e}: a support is an s-subset of the n inputs")
    return n_e, k_e, s_e


def check_probability_expression(value: object, name: str, allow_zero: bool = False) -> sympy.Expr:
    """A probability on the symbolic path: a number must lie in (0, 1] ([0, 1] with ``allow_zero``),
    as on the numeric path; a symbol is refused when its assumptions put it outside."""
    if isinstance(value, sympy.Basic) and value.free_symbols:
        low = sympy.Ge(value, 0) if allow_zero else sympy.Gt(value, 0)
        if value.is_real is False or _contradicted(low) or _contradicted(sympy.Le(value, 1)):
            raise ValueError(f"{name} must lie in {'[0, 1]' if allow_zero else '(0, 1]'}, got {value}, "
                             "which its assumptions put outside")
        return value  # type: ignore[return-value]
    q = as_fraction(value, name)  # type: ignore[arg-type]
    if not (0 <= q <= 1 if allow_zero else 0 < q <= 1):
        raise ValueError(f"{name} must lie in {'[0, 1]' if allow_zero else '(0, 1]'}, got {q}")
    return to_rational(q)


def check_positive_expression(value: object, name: str) -> sympy.Expr:
    """A positive real on the symbolic path (a tolerance tau, an epsilon): a number must be a finite
    rational > 0; a symbol is refused when its assumptions make it non-positive or non-real."""
    if isinstance(value, sympy.Basic) and value.free_symbols:
        if value.is_real is False or _contradicted(sympy.Gt(value, 0)):
            raise ValueError(f"{name} must be positive, got {value}, which its assumptions make non-positive")
        return value  # type: ignore[return-value]
    if isinstance(value, sympy.Basic) and value.is_number and not isinstance(value, sympy.Rational):
        if not (value.is_real and value.is_positive):  # e.g. 1/sqrt(m) at a number m: exact, positive
            raise ValueError(f"{name} must be positive, got {value}")
        return value  # type: ignore[return-value]
    q = as_fraction(value, name)  # type: ignore[arg-type]
    if not q > 0:
        raise ValueError(f"{name} must be positive, got {q}")
    return to_rational(q)
