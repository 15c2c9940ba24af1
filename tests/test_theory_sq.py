"""theory.sq: the SQ frontier min(1, 2 p T m / C(n, k)) and its one-resource inverses (docs/science.md 4.1)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import probabilities
from theory.sq import max_success_probability, min_params, min_samples, min_steps, mlp_params


@st.composite
def frontier_points(draw: st.DrawFn, max_n: int = 10**4, max_k: int = 10) -> dict:
    """(n, k) and three resources, sized so the frontier is often interior (q_max < 1)."""
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(1, min(n, max_k)))
    return {
        "n": n,
        "k": k,
        "params": draw(st.integers(1, 10**7)),
        "steps": draw(st.integers(1, 10**6)),
        "samples": draw(st.integers(1, 10**7)),
        "success_probability": draw(st.one_of(probabilities(max_denominator=10**4), st.just(Fraction(1)))),
    }


def q_max(n: int, k: int, params: int, steps: int, samples: int) -> Fraction:
    value = max_success_probability(n, k, params, steps, samples)
    return Fraction(int(value.p), int(value.q))


def test_max_success_probability_formula() -> None:
    # 2 * 1000 * 10 * 30 / C(50, 3) = 600000 / 19600 > 1 -> 1; and an interior point
    assert max_success_probability(50, 3, 1000, 10, 30) == 1
    assert max_success_probability(50, 3, 7, 10, 3) == sympy.Rational(2 * 7 * 10 * 3, math.comb(50, 3))
    big = max_success_probability(10**4, 10, 10**6, 10**5, 10**3)
    assert big == sympy.Rational(2 * 10**14, math.comb(10**4, 10))
    assert isinstance(big, sympy.Rational)


@settings(max_examples=200, deadline=None)
@given(frontier_points())
def test_each_min_is_the_inverse_of_max_success_probability(point: dict) -> None:
    n, k, q = point["n"], point["k"], point["success_probability"]
    p, t, m = point["params"], point["steps"], point["samples"]

    samples = min_samples(n, k, params=p, steps=t, success_probability=q)
    assert q_max(n, k, p, t, samples) >= q
    assert samples == 1 or q_max(n, k, p, t, samples - 1) < q

    steps = min_steps(n, k, params=p, samples=m, success_probability=q)
    assert q_max(n, k, p, steps, m) >= q
    assert steps == 1 or q_max(n, k, p, steps - 1, m) < q

    params = min_params(n, k, steps=t, samples=m, success_probability=q)
    assert q_max(n, k, params, t, m) >= q
    assert params == 1 or q_max(n, k, params - 1, t, m) < q


@settings(max_examples=150, deadline=None)
@given(frontier_points(), st.integers(1, 1000))
def test_monotone_in_every_argument(point: dict, bump: int) -> None:
    n, k, q = point["n"], point["k"], point["success_probability"]
    p, t, m = point["params"], point["steps"], point["samples"]
    # More of any resource never lowers the allowed success probability ...
    base = q_max(n, k, p, t, m)
    assert q_max(n, k, p + bump, t, m) >= base
    assert q_max(n, k, p, t + bump, m) >= base
    assert q_max(n, k, p, t, m + bump) >= base
    # ... and never raises what the other resources must supply.
    assert min_samples(n, k, p + bump, t, q) <= min_samples(n, k, p, t, q)
    assert min_samples(n, k, p, t + bump, q) <= min_samples(n, k, p, t, q)
    assert min_steps(n, k, p, m + bump, q) <= min_steps(n, k, p, m, q)
    assert min_params(n, k, t, m + bump, q) <= min_params(n, k, t, m, q)
    # A higher target needs at least as much.
    higher = min(Fraction(1), q + Fraction(bump, 10**4))
    assert min_samples(n, k, p, t, higher) >= min_samples(n, k, p, t, q)
    assert min_params(n, k, t, m, higher) >= min_params(n, k, t, m, q)
    # More input bits make the search harder: C(n+1, k) > C(n, k).
    assert q_max(n + 1, k, p, t, m) <= base
    assert min_samples(n + 1, k, p, t, q) >= min_samples(n, k, p, t, q)
    # In k only while C(n, k) grows, i.e. for k <= (n-1)/2 (C(n,k+1)/C(n,k) = (n-k)/(k+1)).
    if k <= (n - 1) / 2:
        assert q_max(n, k + 1, p, t, m) <= base
        assert min_steps(n, k + 1, p, m, q) >= min_steps(n, k, p, m, q)


def test_large_n_is_exact_and_hand_computed() -> None:
    n, k = 10**4, 10
    params = mlp_params(n, 1000)
    assert params == 1000 * (10**4 + 2)
    expected = -(-math.comb(n, k) // (2 * 2 * params * 10**5))  # ceil(C/2 / (2 p T)) for q = 1/2
    assert min_samples(n, k, params, 10**5, "1/2") == expected
    assert min_samples(n, k, params, 10**5, 0.5) == expected


def test_mlp_params() -> None:
    assert mlp_params(50, 409) == 409 * 52
    assert mlp_params(50, 409, output_bias=True) == 409 * 52 + 1


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: max_success_probability(5, 6, 1, 1, 1), "k=6"),
        (lambda: max_success_probability(5, 2, 0, 1, 1), "params"),
        (lambda: max_success_probability(5, 2, 1, -1, 1), "steps"),
        (lambda: max_success_probability(5, 2, 1, 1, 0), "samples"),
        (lambda: min_samples(5, 2, 1, 1, 0), "success_probability"),
        (lambda: min_samples(5, 2, 1, 1, "3/2"), "success_probability"),
        (lambda: min_steps(5, 2, 1, 1, -0.1), "success_probability"),
        (lambda: min_params(5, 2, 1, 1, "half"), "success_probability"),
        (lambda: mlp_params(5, 0), "width"),
        (lambda: mlp_params(0, 3), "n"),
    ],
)
def test_bad_input_raises_value_error_naming_it(call, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        call()


# --------------------------------------------------------------------------- issue 27: tau and delta
@settings(max_examples=60, deadline=None)
@given(frontier_points(max_n=200, max_k=5), st.fractions(min_value=Fraction(1, 1000), max_value=10, max_denominator=1000),
       probabilities(max_denominator=1000))
def test_sq_bound_decides_the_theorem_and_solves_each_resource(point: dict, tau: Fraction, delta: Fraction) -> None:
    """P T / (tau^2 delta) <= C(n, k) / 2, decided exactly, and each solved resource sits on the boundary."""
    from theory.sq import sq_bound

    n, k, params, steps = point["n"], point["k"], point["params"], point["steps"]
    budget = Fraction(math.comb(n, k), 2)
    cost = Fraction(params * steps) / (tau**2 * delta)
    bound = sq_bound(n, k, params, steps, tau, delta)
    assert bound.independent is (cost <= budget)
    assert bound.cost == sympy.Rational(cost.numerator, cost.denominator)
    assert sq_bound(n, k, None, steps, tau, delta).threshold == sympy.Rational(tau**2 * delta * budget / steps)
    assert sq_bound(n, k, params, None, tau, delta).threshold == sympy.Rational(tau**2 * delta * budget / params)
    assert sq_bound(n, k, params, steps, tau, None).threshold == sympy.Rational(params * steps / (tau**2 * budget))
    tau_min = sq_bound(n, k, params, steps, None, delta).threshold
    assert sympy.simplify(tau_min**2 - sympy.Rational(params * steps / (delta * budget))) == 0
    # tau = 1/sqrt(m) recovers the frontier of max_success_probability (before the min with 1)
    m = point["samples"]
    delta_min = sq_bound(n, k, params, steps, 1 / sympy.sqrt(m), None).threshold
    assert min(delta_min, 1) == max_success_probability(n, k, params, steps, m)


def test_sq_bound_symbolic_and_refusals() -> None:
    from theory.sq import sq_bound

    n, P, T, tau, delta = sympy.symbols("n P T tau delta", positive=True)
    bound = sq_bound(n, 3, P, T, tau, delta)
    assert bound.budget == n * (n - 1) * (n - 2) / 12 and bound.cost == P * T / (tau**2 * delta)
    assert sympy.simplify(sq_bound(n, 3, P, T, tau).threshold - 12 * P * T / (tau**2 * n * (n - 1) * (n - 2))) == 0
    assert sq_bound(100, 3, 1000, 10, sympy.Rational(1, 10), sympy.Rational(1, 2)).independent is False
    assert sq_bound(100, 3, 1000, 10, 1, sympy.Rational(1, 2)).independent is True
    for kwargs, fragment in [({"delta": 2}, "delta"), ({"delta": 0}, "delta"), ({"tau": 0}, "tau"),
                             ({"tau": -1}, "tau"), ({"params": 0}, "params"), ({"steps": 1.5}, "steps"),
                             ({"tau": None, "delta": None}, "at most one")]:
        args = {"params": 10, "steps": 10, "tau": 1, "delta": sympy.Rational(1, 2), **kwargs}
        with pytest.raises(ValueError, match=fragment):
            sq_bound(100, 3, **args)
    with pytest.raises(ValueError, match="delta"):
        sq_bound(n, 3, P, T, tau, sympy.Symbol("d", negative=True))
