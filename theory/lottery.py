"""Lottery tickets: width as parallel search over random s-hot supports (docs/science.md 4.4).

Paper: Edelman et al. 2023 (arXiv 2309.03800), Section 3 ("width as parallel search") and
Theorems 4-5. A neuron's support U is a uniformly random s-subset of [n]; the target support
S has |S| = k. The overlap o = |U ∩ S| is hypergeometric. Two kinds of ticket are named here
(:data:`TICKET_KINDS`; every function takes ``kind``, default ``"inclusion"``):

* ``"inclusion"`` (the paper's ticket, docs/science.md 4.4): S ⊆ U when s >= k (over-sparse),
  U ⊆ S when s < k (under-sparse); p = C(n-k, s-k) / C(n, s) or C(k, s) / C(n, s).
* ``"first_order"``: the neuron's population gradient at initialisation can carry signal on a
  target coordinate, i.e. S Δ {j} ⊆ U for some j in S, i.e. o >= k - 1 (docs/science.md 4.3: the
  one missing bit of an overlap-(k-1) neuron gets stephat_{k-1}). This is
  :func:`theory.targets.first_order_ticket` for the parity. It contains every inclusion ticket
  with s >= k - 1 and equals it for s <= k - 1; for s < k - 1 no neuron is one (p = 0):
      p_1 = [C(n-k, s-k) + k C(n-k, s-k+1)] / C(n, s) = [ff(s, k) + k ff(s, k-1) (n - s)] / ff(n, k).
  At n = 30, k = 3 the critical widths are 4060 vs 50 (s = 3), 1015 vs 26 (s = 4), 73 vs 7 (s = 8).

With r independent neurons the chance of at least one ticket is 1 - (1 - p)^r and the expected
number is r * p. Which kind each check and model uses: docs/theory_for_proofs.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from typing import Union

import mpmath
import sympy

from theory._exact import (
    RationalLike,
    as_fraction,
    ceil_fraction,
    check_int,
    check_nks,
    check_symbolic_sizes,
    decided,
    is_symbolic,
    to_rational,
)
from theory.limits import check_exact_width, check_overlap

#: An argument that may be an int or a sympy symbol/expression (closed forms in n, s, k).
SizeLike = Union[int, sympy.Expr]

#: The two ticket notions (module docstring): S-inside-U / U-inside-S, and first-order signal.
TICKET_KINDS: tuple[str, ...] = ("inclusion", "first_order")


def _check_kind(kind: object) -> str:
    if kind not in TICKET_KINDS:
        raise ValueError(f"kind must be one of {TICKET_KINDS}, got {kind!r}")
    return kind  # type: ignore[return-value]


def _as_index_set(indices: object, name: str) -> frozenset[int]:
    if isinstance(indices, (str, bytes)) or not hasattr(indices, "__iter__"):
        raise ValueError(f"{name} must be a collection of coordinates, got {indices!r}")
    items = [check_int(i, f"{name} coordinate", 0) for i in indices]  # type: ignore[union-attr]
    if len(set(items)) != len(items):
        raise ValueError(f"{name} has repeated coordinates: {sorted(items)}")
    if not items:
        raise ValueError(f"{name} must not be empty")
    return frozenset(items)


def is_ticket(support: Iterable[int], target: Iterable[int], kind: str = "inclusion") -> bool:
    """Whether a neuron with support U is a lottery ticket for the parity on S (docs/science.md 4.4).

    ``kind="inclusion"`` (default; what sim's interventions and every check use):
        |U| >= |S| (over-sparse):  S ⊆ U;      |U| < |S| (under-sparse):  U ⊆ S.
    At |U| = |S| both read U = S.
    ``kind="first_order"``: |U ∩ S| >= |S| - 1, i.e. S Δ {j} ⊆ U for some j in S: the neuron's
    initial population gradient can carry signal on a target coordinate (module docstring).

    Raises:
        ValueError: an empty support or target, a repeated or negative coordinate, an unknown kind.
    """
    u = _as_index_set(support, "support")
    s = _as_index_set(target, "target")
    if _check_kind(kind) == "first_order":
        return len(u & s) >= len(s) - 1
    return s <= u if len(u) >= len(s) else u <= s


def _ticket_fraction(n: int, k: int, s: int, kind: str = "inclusion") -> Fraction:
    if kind == "first_order":
        total = math.comb(n, s)
        return sum((Fraction(math.comb(k, o) * math.comb(n - k, s - o), total)
                    for o in range(max(k - 1, 0), min(k, s) + 1)), Fraction(0))
    if s >= k:
        return Fraction(math.comb(n - k, s - k), math.comb(n, s))
    return Fraction(math.comb(k, s), math.comb(n, s))


def _symbolic_ticket_probability(n: object, k: object, s: object, kind: str) -> sympy.Expr:
    """p as a closed form: ff(s, k) / ff(n, k) if s >= k, ff(k, s) / ff(n, s) if s < k (inclusion);
    [ff(s, k) + k ff(s, k-1) (n - s)] / ff(n, k) if s >= k - 1, else 0 (first order).

    From C(n-k, s-k) / C(n, s) = s! (n-k)! / ((s-k)! n!) = ff(s, k) / ff(n, k) with ff the
    falling factorial (likewise C(k, s) / C(n, s) = ff(k, s) / ff(n, s), and
    C(n-k, s-k+1) / C(n, s) = ff(s, k-1) (n - s) / ff(n, k)).
    """
    n_e, k_e, s_e = check_symbolic_sizes(n, k, s)
    assert s_e is not None
    if kind == "first_order":
        if not decided(sympy.Ge(s_e, k_e - 1), "whether s >= k - 1"):
            return sympy.Integer(0)
        return sympy.factor((sympy.ff(s_e, k_e) + k_e * sympy.ff(s_e, k_e - 1) * (n_e - s_e)) / sympy.ff(n_e, k_e))
    over_sparse = decided(sympy.Ge(s_e, k_e), "whether s >= k")
    expression = sympy.ff(s_e, k_e) / sympy.ff(n_e, k_e) if over_sparse else sympy.ff(k_e, s_e) / sympy.ff(n_e, s_e)
    return sympy.factor(expression)


def ticket_probability(n: SizeLike, k: SizeLike, s: SizeLike, kind: str = "inclusion") -> sympy.Expr:
    """Probability p that a uniformly random s-subset U of [n] is a ticket for a fixed k-set S.

    ``kind="inclusion"`` (default, docs/science.md 4.4):
        s >= k:  p = P(S ⊆ U) = C(n-k, s-k) / C(n, s) = ff(s, k) / ff(n, k)
        s <  k:  p = P(U ⊆ S) = C(k, s) / C(n, s)     = ff(k, s) / ff(n, s)
    (both agree at s = k: p = 1 / C(n, k); ff(x, j) = x (x-1)...(x-j+1)).
    ``kind="first_order"`` (o = |U ∩ S| >= k - 1, module docstring):
        p_1 = sum_{o >= k-1} C(k, o) C(n-k, s-o) / C(n, s)
            = [ff(s, k) + k ff(s, k-1) (n - s)] / ff(n, k)   (s >= k - 1;  0 for s < k - 1).
    Integers give an exact ``sympy.Rational``. A sympy symbol for n (and for s or k, when
    sympy can decide s >= k, resp. s >= k - 1) gives the closed form, e.g. 6/(n(n-1)) for
    k = 3, s = 2. Symbols are read as integers with 1 <= k, s <= n: the closed form holds for
    integer n >= max(k, s) only (6/(n(n-1)) at n = 2 is 3, but no 3-parity lives on 2 bits);
    :func:`theory.symbolic.formula` returns it with that domain attached.

    Raises:
        ValueError: n, k or s below 1 or not an integer (also on the symbolic path, and for
            symbols whose assumptions say so), k > n or s > n; s >= k undecidable for symbols;
            an unknown kind.
    """
    kind = _check_kind(kind)
    if is_symbolic(n, k, s):
        return _symbolic_ticket_probability(n, k, s, kind)
    n_i, k_i, s_i = check_nks(n, k, s)
    assert s_i is not None
    return to_rational(_ticket_fraction(n_i, k_i, s_i, kind))


def overlap_distribution(n: SizeLike, k: int, s: int) -> dict[int, sympy.Expr]:
    """Exact law of the overlap |U ∩ S| (hypergeometric), as {o: P(|U ∩ S| = o)}.

        P(|U ∩ S| = o) = C(k, o) C(n-k, s-o) / C(n, s),   o = 0..min(k, s)
    (docs/science.md 4.4). Keys run over all of 0..min(k, s); impossible overlaps (o < s + k - n)
    have probability 0. The values sum to 1 exactly. n may be a sympy symbol (k and s must be
    integers, they index the keys): then each value is a rational function of n, e.g.
    (n-3)(n-4)/(n(n-1)) for o = 0, k = 3, s = 2.
    """
    check_overlap(k, s)  # size guard (theory.limits)
    if is_symbolic(n):
        k_i, s_i = check_int(k, "k", 1), check_int(s, "s", 1)
        n_e, _, _ = check_symbolic_sizes(n, k_i, s_i)
        # C(n-k, s-o) / C(n, s) = s! ff(n-k, s-o) / ((s-o)! ff(n, s))
        return {
            o: sympy.factor(
                math.comb(k_i, o) * math.factorial(s_i) * sympy.ff(n_e - k_i, s_i - o)
                / (math.factorial(s_i - o) * sympy.ff(n_e, s_i))
            )
            for o in range(min(k_i, s_i) + 1)
        }
    n_i, k_i, s_i = check_nks(n, k, s)
    assert s_i is not None
    total = math.comb(n_i, s_i)
    return {
        o: to_rational(Fraction(math.comb(k_i, o) * math.comb(n_i - k_i, s_i - o), total))
        for o in range(min(k_i, s_i) + 1)
    }


def _positive_fraction(n: object, k: object, s: object, kind: str) -> Fraction:
    """p of the kind, refusing p = 0 (no neuron is a first-order ticket when s < k - 1)."""
    n_i, k_i, s_i = check_nks(n, k, s)
    assert s_i is not None
    p = _ticket_fraction(n_i, k_i, s_i, _check_kind(kind))
    if p == 0:
        raise ValueError(f"no {s_i}-hot neuron is a first-order ticket of a {k_i}-parity (s={s_i} < k - 1 = {k_i - 1}: "
                         "every first-order signal is 0), so the critical width is infinite")
    return p


def critical_width(n: int, k: int, s: int, kind: str = "inclusion") -> int:
    """r* = ceil(1 / p): the width at which one ticket is expected (r * p >= 1), docs/science.md 4.4.

    ``kind`` as in :func:`ticket_probability`. At n = 30, k = 3, s = 3, 4, 8: 4060, 1015, 73
    (inclusion) against 50, 26, 7 (first order); at s = 2 both are 145.

    Raises:
        ValueError: bad sizes or kind; ``kind="first_order"`` with s < k - 1 (p = 0: infinite).
    """
    return ceil_fraction(1 / _positive_fraction(n, k, s, kind))


def critical_width_exact(n: SizeLike, k: SizeLike, s: SizeLike, kind: str = "inclusion") -> sympy.Expr:
    """1 / p before the ceiling of :func:`critical_width` (docs/science.md 4.4): the expected
    number of neurons per ticket. Exact rational for integers; a closed form for symbols,
    e.g. n (n-1) / 6 for k = 3, s = 2; ``sympy.oo`` where p = 0 (first order, s < k - 1)."""
    p = ticket_probability(n, k, s, kind)
    if p == 0:
        return sympy.oo
    return sympy.factor(1 / p) if is_symbolic(n, k, s) else 1 / p


# Exact powers (1 - p)^r are affordable up to about this many bits; beyond, compare logarithms
# at high precision (an exact tie there would need 1 - confidence to have a denominator of more
# than this many bits, which no human-typed confidence has).
_EXACT_POWER_BIT_LIMIT = 1 << 18


def _confidence_reached(miss: Fraction, width: int, allowed_miss: Fraction) -> bool:
    """Whether miss^width <= allowed_miss, i.e. 1 - (1-p)^r >= confidence."""
    if width * max(miss.denominator.bit_length(), 1) <= _EXACT_POWER_BIT_LIMIT:
        return miss**width <= allowed_miss
    digits = 60 + len(str(miss.denominator)) + len(str(allowed_miss.denominator))
    with mpmath.workdps(digits):
        lhs = width * mpmath.log(mpmath.mpf(miss.numerator) / miss.denominator)
        rhs = mpmath.log(mpmath.mpf(allowed_miss.numerator) / allowed_miss.denominator)
        return bool(lhs <= rhs)


def width_for_confidence(n: int, k: int, s: int, confidence: RationalLike, kind: str = "inclusion") -> int:
    """Smallest width r with  1 - (1 - p)^r >= confidence  (at least one ticket), docs/science.md 4.4.

    r = ceil( log(1 - confidence) / log(1 - p) ), decided exactly at the boundary (exact
    rational powers where affordable, 60+ digit logarithms otherwise). ``confidence`` is exact
    like a bias: int, Fraction, sympy.Rational, "99/100" or a float such as 0.99 (= 99/100).

    ``kind`` as in :func:`ticket_probability`.

    Raises:
        ValueError: bad sizes or kind, confidence outside the open interval (0, 1), or p = 0.
    """
    check_exact_width(n, k, s)  # size guard (theory.limits)
    c = as_fraction(confidence, "confidence")
    if not 0 < c < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {c}")
    p = _positive_fraction(n, k, s, kind)
    if p == 1:
        return 1
    miss, allowed_miss = 1 - p, 1 - c
    with mpmath.workdps(40 + len(str(p.denominator))):
        estimate = mpmath.log(mpmath.mpf(allowed_miss.numerator) / allowed_miss.denominator) / mpmath.log1p(
            -mpmath.mpf(p.numerator) / p.denominator
        )
        width = max(1, int(mpmath.ceil(estimate)))
    # The high-precision estimate is within one of the answer; settle the boundary exactly.
    while width > 1 and _confidence_reached(miss, width - 1, allowed_miss):
        width -= 1
    while not _confidence_reached(miss, width, allowed_miss):
        width += 1
    return width


def success_with_width(n: int, k: int, s: int, width: int, kind: str = "inclusion") -> sympy.Rational:
    """P(at least one ticket among r = width neurons) = 1 - (1 - p)^r, exact (docs/science.md 4.4);
    ``kind`` as in :func:`ticket_probability`."""
    n_i, k_i, s_i = check_nks(n, k, s)
    assert s_i is not None
    r = check_int(width, "width", 0)
    return to_rational(1 - (1 - _ticket_fraction(n_i, k_i, s_i, _check_kind(kind))) ** r)
