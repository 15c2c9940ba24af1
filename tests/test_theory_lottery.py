"""theory.lottery against exhaustive subset enumeration (n <= 12) and Monte-Carlo (docs/science.md 4.4)."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from strategies import parity_sizes, probabilities
from theory.lottery import (
    critical_width,
    critical_width_exact,
    is_ticket,
    overlap_distribution,
    success_with_width,
    ticket_probability,
    width_for_confidence,
)


def enumerate_overlaps(n: int, target: frozenset[int], s: int) -> tuple[dict[int, int], int, int]:
    """Counts of |U ∩ S| over all s-subsets U of [n], the number of tickets, and C(n, s)."""
    counts: dict[int, int] = {}
    tickets = total = 0
    for support in itertools.combinations(range(n), s):
        u = frozenset(support)
        counts[len(u & target)] = counts.get(len(u & target), 0) + 1
        tickets += (target <= u) if s >= len(target) else (u <= target)
        total += 1
    return counts, tickets, total


@settings(max_examples=60, deadline=None)
@given(parity_sizes(max_n=12), st.randoms(use_true_random=False))
def test_ticket_probability_and_overlap_equal_subset_enumeration(sizes: tuple[int, int, int], rnd) -> None:
    n, k, s = sizes
    target = frozenset(rnd.sample(range(n), k))
    counts, tickets, total = enumerate_overlaps(n, target, s)
    assert ticket_probability(n, k, s) == sympy.Rational(tickets, total)
    law = overlap_distribution(n, k, s)
    assert sorted(law) == list(range(min(k, s) + 1))
    for o, probability in law.items():
        assert probability == sympy.Rational(counts.get(o, 0), total)
    assert sum(law.values()) == 1
    assert critical_width(n, k, s) == -(-total // tickets)


def random_supports(n: int, s: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """draws uniform s-subsets of [n] as a boolean (draws, n) membership matrix."""
    chosen = np.argsort(rng.random((draws, n)), axis=1)[:, :s]
    member = np.zeros((draws, n), dtype=bool)
    np.put_along_axis(member, chosen, True, axis=1)
    return member


@pytest.mark.parametrize(("n", "k", "s"), [(40, 3, 8), (30, 4, 2), (60, 2, 2)])
def test_ticket_probability_and_overlap_match_monte_carlo(n: int, k: int, s: int) -> None:
    # 99.9% Clopper-Pearson intervals (scipy.stats.binomtest) must contain the exact values.
    draws = 100_000
    rng = np.random.default_rng(1234 + n + k + s)
    target = rng.choice(n, size=k, replace=False)
    member = random_supports(n, s, draws, rng)
    overlap = member[:, target].sum(axis=1)
    tickets = int((overlap == min(k, s)).sum())
    p = float(ticket_probability(n, k, s))
    interval = binomtest(tickets, draws, p).proportion_ci(confidence_level=0.999)
    assert interval.low <= p <= interval.high
    for o, probability in overlap_distribution(n, k, s).items():
        observed = int((overlap == o).sum())
        interval = binomtest(observed, draws, float(probability)).proportion_ci(confidence_level=0.999)
        assert interval.low <= float(probability) <= interval.high, o


@settings(max_examples=60, deadline=None)
@given(parity_sizes(max_n=14), probabilities(max_denominator=1000))
def test_width_for_confidence_is_the_smallest_width_reaching_it(sizes: tuple[int, int, int], confidence: Fraction) -> None:
    n, k, s = sizes
    p = Fraction(int(ticket_probability(n, k, s).p), int(ticket_probability(n, k, s).q))
    r = width_for_confidence(n, k, s, confidence)
    assert r >= 1
    assert 1 - (1 - p) ** r >= confidence
    assert r == 1 or 1 - (1 - p) ** (r - 1) < confidence
    assert success_with_width(n, k, s, r) == sympy.Rational(1 - (1 - p) ** r)


def test_width_for_confidence_exact_tie() -> None:
    # n=2, k=1, s=1: p = 1/2; (1/2)^2 = 1 - 3/4 exactly, so r = 2, not 3.
    assert ticket_probability(2, 1, 1) == sympy.Rational(1, 2)
    assert width_for_confidence(2, 1, 1, "3/4") == 2
    assert width_for_confidence(2, 1, 1, 0.75) == 2
    # p = 1 (s = n): one neuron always suffices
    assert width_for_confidence(5, 2, 5, "0.999") == 1


def test_width_for_confidence_at_large_n() -> None:
    # n = 10^4, k = 10, s = 20: p = C(9990, 10)/C(10^4, 20), r ~ 10^29. Check the defining
    # inequalities at 100 digits, independently of the implementation's route.
    n, k, s = 10**4, 10, 20
    r = width_for_confidence(n, k, s, "99/100")
    p = Fraction(math.comb(n - k, s - k), math.comb(n, s))
    with mpmath.workdps(100):
        def reached(width: int) -> bool:
            return width * mpmath.log1p(-mpmath.mpf(p.numerator) / p.denominator) <= mpmath.log(mpmath.mpf(1) / 100)
        assert reached(r) and not reached(r - 1)
    assert 10**28 < r < 10**31


def test_critical_width_values() -> None:
    assert critical_width(50, 3, 2) == 409  # p = 3/1225
    assert ticket_probability(50, 3, 2) == sympy.Rational(3, 1225)
    assert ticket_probability(50, 3, 3) == sympy.Rational(1, math.comb(50, 3))
    assert ticket_probability(50, 3, 10) == sympy.Rational(math.comb(47, 7), math.comb(50, 10))
    assert critical_width(10, 10, 10) == 1


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: ticket_probability(5, 6, 2), "k=6"),
        (lambda: ticket_probability(5, 2, 6), "s=6"),
        (lambda: ticket_probability(5, 2, 0), "s"),
        (lambda: ticket_probability(-5, 2, 1), "n"),
        (lambda: overlap_distribution(5, 0, 2), "k"),
        (lambda: critical_width(5, 2, 9), "s=9"),
        (lambda: width_for_confidence(10, 2, 3, 1), "confidence"),
        (lambda: width_for_confidence(10, 2, 3, 0), "confidence"),
        (lambda: width_for_confidence(10, 2, 3, "1.5"), "confidence"),
        (lambda: width_for_confidence(10, 2, 3, "high"), "confidence"),
        (lambda: success_with_width(10, 2, 3, -1), "width"),
    ],
)
def test_bad_input_raises_value_error_naming_it(call, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        call()


# --------------------------------------------------------------------------- issue 27: two ticket kinds
def enumerate_kinds(n: int, k: int, s: int) -> tuple[Fraction, Fraction]:
    """(inclusion, first-order) ticket frequencies over all s-subsets U of [n], S = {0..k-1}, by the
    definitions themselves: inclusion S ⊆ U or U ⊆ S; first order: S Δ {j} ⊆ U for some j in S."""
    target = frozenset(range(k))
    inclusion = first_order = total = 0
    for support in itertools.combinations(range(n), s):
        u = frozenset(support)
        inclusion += (target <= u) if s >= k else (u <= target)
        first_order += any((target ^ {j}) <= u for j in target)
        total += 1
    return Fraction(inclusion, total), Fraction(first_order, total)


@settings(max_examples=60, deadline=None)
@given(parity_sizes(max_n=11))
def test_both_ticket_kinds_equal_subset_enumeration(sizes: tuple[int, int, int]) -> None:
    n, k, s = sizes
    inclusion, first_order = enumerate_kinds(n, k, s)
    assert ticket_probability(n, k, s) == ticket_probability(n, k, s, "inclusion") == inclusion
    assert ticket_probability(n, k, s, "first_order") == first_order
    target = range(k)
    for support in itertools.islice(itertools.combinations(range(n), s), 40):
        assert is_ticket(support, target, "first_order") == any((frozenset(target) ^ {j}) <= set(support) for j in target)
    if first_order:
        assert critical_width(n, k, s, "first_order") == math.ceil(1 / first_order)
        assert critical_width_exact(n, k, s, "first_order") == 1 / first_order
    else:
        assert s < k - 1 and critical_width_exact(n, k, s, "first_order") == sympy.oo
        with pytest.raises(ValueError, match="infinite"):
            critical_width(n, k, s, "first_order")


@pytest.mark.parametrize("s", [1, 2, 3, 4, 5, 8])
def test_first_order_kind_is_the_parity_case_of_target_tickets(s: int) -> None:
    """theory.targets counts first-order tickets by intersections: the same number for the parity."""
    from theory.targets import target_expansion, target_tickets

    for k in (1, 2, 3, 4):
        tickets = target_tickets(30, s, target_expansion("parity", k))
        assert ticket_probability(30, k, s, "first_order") == tickets.probability
        if tickets.critical_width is not None:
            assert critical_width(30, k, s, "first_order") == tickets.critical_width


def test_critical_widths_of_both_kinds_at_n30_k3() -> None:
    """The issue's numbers: the two notions differ by up to two orders of magnitude at n = 30, k = 3."""
    inclusion = {s: critical_width(30, 3, s) for s in (2, 3, 4, 8)}
    first_order = {s: critical_width(30, 3, s, "first_order") for s in (2, 3, 4, 8)}
    assert inclusion == {2: 145, 3: 4060, 4: 1015, 8: 73}
    assert first_order == {2: 145, 3: 50, 4: 26, 8: 7}


@pytest.mark.parametrize(("k", "s"), [(3, 2), (3, 3), (3, 8), (4, 2), (4, 3), (5, 7), (1, 4)])
def test_first_order_closed_form(k: int, s: int) -> None:
    n = sympy.Symbol("n", positive=True)
    closed = ticket_probability(n, k, s, "first_order")
    for value in range(max(k, s), 40):
        assert closed.subs(n, value) == ticket_probability(value, k, s, "first_order")
    t = sympy.Symbol("t", nonnegative=True, integer=True)
    general = ticket_probability(n, 3, 2 + t, "first_order")  # s >= k - 1 decided by the assumption
    assert all(general.subs({n: 20, t: extra}) == ticket_probability(20, 3, 2 + extra, "first_order")
               for extra in range(6))


@pytest.mark.parametrize("call", [
    lambda: ticket_probability(10, 3, 2, "strict"),
    lambda: is_ticket([0, 1], [0, 1, 2], "first-order"),
    lambda: critical_width(10, 3, 2, kind=None),
])
def test_an_unknown_ticket_kind_is_refused(call) -> None:
    with pytest.raises(ValueError, match="kind"):
        call()
