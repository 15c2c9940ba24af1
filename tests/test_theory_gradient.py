"""theory.fourier.gradient_signal against exact enumeration over {-1,1}^n and Monte-Carlo
hinge-loss gradients (docs/science.md 4.3)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import parity_sizes_with_overlap, rational_biases
from theory.fourier import coefficient, gradient_signal

KINDS = ("in_target_and_support", "in_support_only", "in_target_only", "in_neither")


def place_supports(n: int, k: int, s: int, overlap: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random target S (|S| = k) and support U (|U| = s) with |U ∩ S| = overlap."""
    order = rng.permutation(n)
    target = order[:k]
    support = np.concatenate([order[:overlap], order[k : k + s - overlap]])
    return np.sort(target), np.sort(support)


def kind_of(j: int, target: np.ndarray, support: np.ndarray) -> str:
    in_s, in_u = j in set(target.tolist()), j in set(support.tolist())
    return {(True, True): "in_target_and_support", (False, True): "in_support_only",
            (True, False): "in_target_only", (False, False): "in_neither"}[(in_s, in_u)]


def exact_signal_by_enumeration(n: int, target: np.ndarray, support: np.ndarray, bias: Fraction) -> list[Fraction]:
    """E[y x_j step(sum_{i in U} x_i + b)] for every j, summing over all 2^n inputs."""
    index = np.arange(2**n)
    x = 1 - 2 * ((index[:, None] >> np.arange(n)) & 1)
    y = x[:, target].prod(axis=1)
    active = (x[:, support].sum(axis=1) * bias.denominator + bias.numerator) > 0
    sums = (y * active) @ x
    return [Fraction(int(v), 2**n) for v in sums]


@settings(max_examples=80, deadline=None)
@given(parity_sizes_with_overlap(max_n=9), rational_biases(max_abs=10, max_denominator=4), st.integers(0, 2**32 - 1))
def test_gradient_signal_equals_exact_enumeration(sizes: tuple[int, int, int, int], bias: Fraction, seed: int) -> None:
    n, k, s, overlap = sizes
    target, support = place_supports(n, k, s, overlap, np.random.default_rng(seed))
    exact = exact_signal_by_enumeration(n, target, support, bias)
    result = gradient_signal(n, k, s, bias, overlap=overlap)
    by_kind: dict[str, set[Fraction]] = {}
    for j, value in enumerate(exact):
        by_kind.setdefault(kind_of(j, target, support), set()).add(value)
    for kind in KINDS:
        field = getattr(result, kind)
        if kind in by_kind:
            assert by_kind[kind] == {Fraction(int(field.p), int(field.q))}, kind
        else:
            assert field == 0, kind  # an empty kind reports 0
    assert result.coordinate_counts() == {kind: sum(kind_of(j, target, support) == kind for j in range(n)) for kind in KINDS}
    target_set = set(target.tolist())
    relevant = max((abs(v) for j, v in enumerate(exact) if j in target_set), default=Fraction(0))
    irrelevant = max((abs(v) for j, v in enumerate(exact) if j not in target_set), default=Fraction(0))
    assert abs(result.relevant) == relevant and abs(result.irrelevant) == irrelevant
    assert result.gap == relevant - irrelevant
    assert result.is_ticket == (set(support.tolist()) <= target_set or target_set <= set(support.tolist()))
    if result.gap > 0:
        assert result.sample_estimate == pytest.approx(math.log(n) / float(result.gap) ** 2)
    else:
        assert result.sample_estimate == math.inf


def monte_carlo_signal(n: int, target: np.ndarray, support: np.ndarray, bias: float, samples: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Minus the empirical hinge-loss gradient in w (per unit output weight), from samples.

    f(x) = u relu(w.x + b) with w = 1 on U, u small so that y f < 1 everywhere (hinge in its
    linear part, as at initialisation); d/dw_j max(0, 1 - y f) = -y u 1[y f < 1] relu'(w.x + b) x_j.
    """
    u = 1e-3
    w = np.zeros(n)
    w[support] = 1.0
    x = rng.choice(np.array([-1.0, 1.0]), size=(samples, n))
    y = x[:, target].prod(axis=1)
    pre = x @ w + bias
    f = u * np.maximum(pre, 0.0)
    hinge_active = (y * f < 1.0).astype(float)
    per_sample_gradient = -(y * u * hinge_active * (pre > 0))[:, None] * x
    return -per_sample_gradient.mean(axis=0) / u


@pytest.mark.parametrize(
    ("n", "k", "s", "bias", "overlap"),
    [
        (16, 3, 8, 3, 3),  # over-sparse ticket: relevant stephat_2 = -9/256, irrelevant stephat_4 = 3/256
        (16, 2, 6, 1, 2),  # over-sparse ticket, k even
        (16, 3, 6, 0, 2),  # partial overlap o = k-1: only the missing target bit gets signal
        (16, 3, 2, 0, 2),  # under-sparse ticket s = k-1: the missing bit gets stephat_2 = 1/4
    ],
)
def test_gradient_signal_matches_monte_carlo_hinge_gradient(n: int, k: int, s: int, bias: int, overlap: int) -> None:
    # 2^19 samples; each per-sample term lies in {-1, 0, 1}, so its standard deviation is <= 1
    # and the standard error <= 2^{-9.5}. Tolerance: 4.5 standard errors per coordinate
    # (two-sided 6.8e-6 each; < 1e-3 over all 64 coordinates of this test by a union bound).
    samples = 2**19
    rng = np.random.default_rng(20230907 + n + 10 * k + 100 * s)
    target, support = place_supports(n, k, s, overlap, rng)
    estimate = monte_carlo_signal(n, target, support, float(bias), samples, rng)
    result = gradient_signal(n, k, s, bias, overlap=overlap)
    expected = np.array([float(getattr(result, kind_of(j, target, support))) for j in range(n)])
    assert np.abs(expected).max() > 0.02  # the configuration carries signal the test can see
    np.testing.assert_allclose(estimate, expected, rtol=0, atol=4.5 / math.sqrt(samples))


def test_ticket_cases_of_science_md() -> None:
    over = gradient_signal(40, 4, 10, 2)  # default overlap = k: S ⊆ U
    assert over.is_ticket and over.overlap == 4
    assert over.relevant == coefficient(10, 3, 2, "step") == over.in_target_and_support
    assert over.irrelevant == coefficient(10, 5, 2, "step") == over.in_support_only
    assert over.in_target_only == 0 and over.in_neither == 0
    # s = k: no coordinate of U lies outside S, so nothing irrelevant gets signal
    exact = gradient_signal(40, 4, 4, 1)
    assert exact.irrelevant == 0 and exact.gap == abs(coefficient(4, 3, 1, "step"))
    # under-sparse, s = k-1: the one missing coordinate gets stephat_s, independent of n
    assert gradient_signal(30, 3, 2).relevant == gradient_signal(3000, 3, 2).relevant == coefficient(2, 2, 0, "step")
    # under-sparse, k - s >= 2: exactly zero signal, infinite sample estimate
    flat = gradient_signal(30, 5, 3, 1)
    assert flat.is_ticket and flat.gap == 0 and flat.sample_estimate == math.inf
    # k odd, bias 0, odd s: the degree-(k-1) step coefficient vanishes (docs/science.md 4.3)
    assert gradient_signal(50, 3, 7, 0).in_target_and_support == 0
    # not a ticket: overlap <= k-2 gives no signal anywhere
    none = gradient_signal(50, 4, 8, 1, overlap=2)
    assert not none.is_ticket and none.gap == 0
    assert isinstance(over.gap, sympy.Rational)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"n": 10, "k": 11, "s": 3}, "k=11"),
        ({"n": 10, "k": 3, "s": 11}, "s=11"),
        ({"n": 10, "k": 3, "s": 0}, "s"),
        ({"n": 10, "k": 3, "s": 4, "overlap": 4}, "overlap"),
        ({"n": 6, "k": 4, "s": 5, "overlap": 2}, "overlap"),  # at least 3 of U must lie in S
        ({"n": 10, "k": 3, "s": 4, "bias": "x"}, "bias"),
    ],
)
def test_gradient_signal_rejects_impossible_input(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        gradient_signal(**kwargs)
