"""Symbolic answers (issue 20): every closed form, substituted with integers, equals the exact
numeric function; every expansion agrees with exact values at large n within its stated order."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.fourier import coefficient
from theory.lottery import critical_width, critical_width_exact, overlap_distribution, ticket_probability
from theory.predict import predicted_frontier, theorem4, theorem5
from theory.sq import (
    max_success_probability,
    min_params,
    min_params_exact,
    min_samples,
    min_samples_exact,
    min_steps,
    min_steps_exact,
    mlp_params,
)
from theory.symbolic import asymptotic, coefficient_closed_form, formula, symbolic_rows, symbolic_table

n = sympy.Symbol("n", positive=True)
KS_GRID = [(k, s) for k in (1, 2, 3, 4, 5) for s in (1, 2, 3, 4, 6, 9)]


@pytest.mark.parametrize(("k", "s"), KS_GRID)
def test_ticket_probability_and_critical_width_closed_forms(k: int, s: int) -> None:
    p = ticket_probability(n, k, s)
    width = critical_width_exact(n, k, s)
    for value in range(max(k, s), 70):
        assert p.subs(n, value) == ticket_probability(value, k, s)
        assert width.subs(n, value) == 1 / ticket_probability(value, k, s)
        assert math.ceil(width.subs(n, value)) == critical_width(value, k, s)
    assert critical_width_exact(50, k, s) == 1 / ticket_probability(50, k, s)


def test_the_issue_example_and_symbolic_support_sizes() -> None:
    assert ticket_probability(n, 3, 2) == 6 / (n * (n - 1))
    assert critical_width_exact(n, 3, 2) == n * (n - 1) / 6
    t = sympy.Symbol("t", nonnegative=True, integer=True)
    over = ticket_probability(n, 3, 3 + t)  # s >= k decided by the assumption on t
    for value, extra in [(20, 0), (20, 5), (40, 11)]:
        assert over.subs({n: value, t: extra}) == ticket_probability(value, 3, 3 + extra)
    with pytest.raises(ValueError, match="s >= k"):
        ticket_probability(n, 3, sympy.Symbol("s"))


@pytest.mark.parametrize(("k", "s"), [(3, 2), (4, 2), (3, 8), (5, 5), (2, 7)])
def test_overlap_distribution_closed_form(k: int, s: int) -> None:
    law = overlap_distribution(n, k, s)
    assert sympy.simplify(sum(law.values()) - 1) == 0
    for value in range(k + s, 60):
        numeric = overlap_distribution(value, k, s)
        assert {o: p.subs(n, value) for o, p in law.items()} == numeric


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 400), st.integers(1, 5), st.integers(1, 10**6), st.integers(1, 10**5), st.integers(1, 10**4),
       st.fractions(min_value=Fraction(1, 1000), max_value=1, max_denominator=1000))
def test_sq_frontier_before_rounding(n_value: int, k: int, params: int, steps: int, samples: int, q: Fraction) -> None:
    k = min(k, n_value)
    p_sym, t_sym, m_sym, q_sym = sympy.symbols("p T m q", positive=True)
    point = {n: n_value, p_sym: params, t_sym: steps, m_sym: samples, q_sym: sympy.Rational(q.numerator, q.denominator)}
    assert max_success_probability(n, k, p_sym, t_sym, m_sym).subs(point) == max_success_probability(
        n_value, k, params, steps, samples)
    exact = {
        "samples": (min_samples_exact(n_value, k, params, steps, q), min_samples(n_value, k, params, steps, q),
                    min_samples_exact(n, k, p_sym, t_sym, q_sym)),
        "steps": (min_steps_exact(n_value, k, params, samples, q), min_steps(n_value, k, params, samples, q),
                  min_steps_exact(n, k, p_sym, m_sym, q_sym)),
        "params": (min_params_exact(n_value, k, steps, samples, q), min_params(n_value, k, steps, samples, q),
                   min_params_exact(n, k, t_sym, m_sym, q_sym)),
    }
    for name, (unrounded, rounded, symbolic) in exact.items():
        assert isinstance(unrounded, sympy.Rational), name
        assert rounded == max(1, math.ceil(unrounded)), name
        assert symbolic.subs(point) == unrounded, name
    assert mlp_params(n, 7).subs(n, n_value) == mlp_params(n_value, 7)


def test_theorem_predictions_in_closed_form() -> None:
    for value in (16, 50, 300):
        four = theorem4(n, 4, 8, epsilon=sympy.Rational(1, 10), c2=3.0)
        numeric = theorem4(value, 4, 8, epsilon=0.1, c2=3.0)
        assert float(four.width.subs(n, value)) == pytest.approx(numeric.width, rel=1e-12)
        assert float(four.samples.subs(n, value)) == pytest.approx(numeric.samples, rel=1e-12)
        assert float(four.steps) == pytest.approx(numeric.steps)
        five = theorem5(n, 6, 2, c_samples=sympy.Rational(1, 2))
        assert float(five.width.subs(n, value)) == pytest.approx(theorem5(value, 6, 2, c_samples=0.5).width, rel=1e-12)
        assert float(five.samples.subs(n, value)) == pytest.approx(theorem5(value, 6, 2, c_samples=0.5).samples, rel=1e-12)
    assert theorem4(n, 4, 8).samples == 8 * n**2 * sympy.log(n)
    assert predicted_frontier(n, 4, 2).theorem.startswith("Theorem 5")
    k_even = sympy.Symbol("k", even=True, positive=True)
    assert theorem4(n, k_even, 4 * k_even, c1=2).width == (n / (4 * k_even)) ** k_even
    with pytest.raises(ValueError, match="k is even"):
        theorem4(n, sympy.Symbol("k"), 8)
    with pytest.raises(ValueError, match="k even"):
        theorem4(n, 3, 8)


EXPANSIONS = [
    6 / (n * (n - 1)),
    ticket_probability(n, 4, 9),
    critical_width_exact(n, 3, 2),
    sympy.sqrt(2 / n) - 1 / n,
    sympy.binomial(n - 3, (n - 3) / 2) / 2**n,
    min_samples_exact(n, 3, mlp_params(n, critical_width_exact(n, 3, 2)), 1000, sympy.Rational(1, 2)),
    sympy.binomial(2 * n, n) / 4**n * (n + 1) / (n - 2) + sympy.log(n) / n**2,
]


@pytest.mark.parametrize("expression", EXPANSIONS, ids=str)
def test_asymptotic_terms_agree_with_exact_values_within_their_order(expression: sympy.Expr) -> None:
    result = asymptotic(expression, n, terms=2)
    assert result.leading == sympy.Add(*result.terms)
    for value in (10**3, 10**4, 10**5):
        with sympy.evaluate(True):
            exact = sympy.N(expression.subs(n, value), 50)
            error = exact - sympy.N(result.leading.subs(n, value), 50)
        if result.next_order == 0:
            assert abs(error) <= abs(exact) * 1e-40
        else:
            # the error is next_term (1 + o(1)): within 50% of it, and O(next_order)
            expected = sympy.N(result.next_term.subs(n, value), 50)
            assert abs(error - expected) <= abs(expected) / 2
            assert abs(error) <= 10 * abs(sympy.N(result.next_order.subs(n, value), 50)) * max(
                1, abs(sympy.N((result.next_term / result.next_order).subs(n, value), 50)))


def test_asymptotic_known_series_and_refusals() -> None:
    assert asymptotic(6 / (n * (n - 1)), n, 3).terms == (6 / n**2, 6 / n**3, 6 / n**4)
    central = asymptotic(sympy.binomial(2 * n, n) / 4**n, n, 2)  # 1/sqrt(pi n) (1 - 1/(8n) + ...)
    assert sympy.simplify(central.terms[0] - 1 / sympy.sqrt(sympy.pi * n)) == 0
    assert sympy.simplify(central.terms[1] + 1 / (8 * sympy.sqrt(sympy.pi) * n ** sympy.Rational(3, 2))) == 0
    polynomial = asymptotic(n * (n - 1) / 6, n, 3)
    assert polynomial.next_order == 0 and polynomial.leading == n**2 / 6 - n / 6
    with pytest.raises(ValueError, match="exponentially"):
        asymptotic(2**n / n, n)
    with pytest.raises(ValueError, match="cannot expand"):
        asymptotic(sympy.sin(n) / n, n)
    with pytest.raises(ValueError, match="cannot expand"):
        asymptotic(1 / (sympy.gamma(n) / sympy.gamma(n - sympy.Rational(1, 2)) + 1), n)
    with pytest.raises(ValueError, match="terms"):
        asymptotic(1 / n, n, 0)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("step", "sign", "relu")), st.integers(1, 6), st.integers(0, 1),
       st.fractions(min_value=-4, max_value=4, max_denominator=3))
def test_coefficient_closed_form_in_s_equals_the_krawtchouk_values(activation: str, degree: int, parity: int,
                                                                   bias: Fraction) -> None:
    if activation == "relu" and degree < 2:
        with pytest.raises(ValueError, match="no closed form"):
            coefficient_closed_form(degree, bias, activation, parity)
        return
    closed = coefficient_closed_form(degree, bias, activation, parity)
    assert closed.valid_from % 2 == parity and closed.valid_from >= degree
    for s in range(closed.valid_from, closed.valid_from + 30, 2):
        assert closed.expression.subs(closed.symbol, s) == coefficient(s, degree, bias, activation), s


def test_majority_family_matches_odonnell() -> None:
    # O'Donnell Thm 5.19: odd s, |T| = d odd: (-1)^{(d-1)/2} C((s-1)/2, (d-1)/2)/C(s-1, d-1) 2^{1-s} C(s-1, (s-1)/2)
    for d in (1, 3, 5):
        closed = coefficient_closed_form(d, 0, "sign", parity=1)
        for s in range(max(closed.valid_from, d), 61, 2):
            half, e = (s - 1) // 2, (d - 1) // 2
            expected = (-1) ** e * sympy.Rational(math.comb(half, e), math.comb(s - 1, d - 1)) * sympy.Rational(
                math.comb(s - 1, half), 2 ** (s - 1))
            assert closed.expression.subs(closed.symbol, s) == expected


@pytest.mark.parametrize(
    ("args", "fragment"),
    [((0, 0, "step"), "degree=0"), ((1, 0, "relu"), "no closed form"), ((2, 0, "square"), "activation"),
     ((2, 0, "step", 2), "parity")],
)
def test_closed_form_refusals_are_clear(args: tuple, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        coefficient_closed_form(*args)


def test_symbolic_table_plain_and_latex() -> None:
    rows = symbolic_rows([3, 4], [2, 8])
    assert [(int(r["k"]), int(r["s"])) for r in rows] == [(3, 2), (3, 8), (4, 2), (4, 8)]
    for row in rows:
        k, s = int(row["k"]), int(row["s"])
        for value in (20, 57):
            assert row["ticket_probability"].subs(n, value) == ticket_probability(value, k, s)
            assert row["sq_budget"].subs(n, value) == sympy.Rational(math.comb(value, k), 4)
            t = sympy.Symbol("T", positive=True)
            width = 1 / ticket_probability(value, k, s)  # r* before the ceiling: not an integer width
            expected = sympy.Rational(1, 2) * math.comb(value, k) / (2 * width * (value + 2) * 100)
            assert row["sq_samples_at_critical_width"].subs({n: value, t: 100}) == expected
    plain = symbolic_table([3], [2])
    assert "6/(n*(n - 1))" in plain and "n**2/6" in plain and plain.endswith("\n")
    latex = symbolic_table([3], [2], fmt="latex")
    assert r"\frac{6}{n \left(n - 1\right)}" in latex and latex.count(r"\\") == 2
    with pytest.raises(ValueError, match="fmt"):
        symbolic_table([3], [2], fmt="html")


# --------------------------------------------------------------------------- issue 27: domains
SYMBOL_N = sympy.Symbol("n", positive=True)


@pytest.mark.parametrize(("call", "fragment"), [
    pytest.param(lambda: ticket_probability(SYMBOL_N, 3, 0), "s must be >= 1, got 0", id="ticket_probability_s0"),
    pytest.param(lambda: ticket_probability(SYMBOL_N, 0, 2), "k must be >= 1, got 0", id="ticket_probability_k0"),
    pytest.param(lambda: ticket_probability(SYMBOL_N, -1, 2), "k must be >= 1, got -1", id="ticket_probability_k_neg"),
    pytest.param(lambda: ticket_probability(SYMBOL_N, 3, 2.5), "s must be an integer, got 2.5",
                 id="ticket_probability_s_float"),
    pytest.param(lambda: ticket_probability(SYMBOL_N, 3, sympy.Rational(5, 2)), "s must be an integer",
                 id="ticket_probability_s_rational"),
    pytest.param(lambda: ticket_probability(SYMBOL_N, sympy.Symbol("k", negative=True), 2), "k must be >= 1",
                 id="ticket_probability_k_negative_symbol"),
    pytest.param(lambda: ticket_probability(sympy.Symbol("n", integer=False), 3, 2), "n must be an integer",
                 id="ticket_probability_n_noninteger_symbol"),
    pytest.param(lambda: ticket_probability(2, 3, sympy.Symbol("s", positive=True, integer=True)), "k=3 exceeds n=2",
                 id="ticket_probability_k_above_n"),
    pytest.param(lambda: critical_width_exact(SYMBOL_N, 3, 0), "s must be >= 1", id="critical_width_exact_s0"),
    pytest.param(lambda: overlap_distribution(sympy.Symbol("n", negative=True), 3, 2), "n must be >= 1",
                 id="overlap_distribution_negative_n"),
    pytest.param(lambda: min_samples_exact(SYMBOL_N, 3, 10, 10, 2), "success_probability must lie in",
                 id="min_samples_exact_q2"),
    pytest.param(lambda: min_steps_exact(SYMBOL_N, 3, 10, 10, 0), "success_probability", id="min_steps_exact_q0"),
    pytest.param(lambda: min_params_exact(SYMBOL_N, 3, 0, 10, "1/2"), "steps must be >= 1", id="min_params_exact_T0"),
    pytest.param(lambda: max_success_probability(SYMBOL_N, 3, 2.5, 1, 1), "params must be an integer",
                 id="max_success_probability_float_params"),
    pytest.param(lambda: mlp_params(SYMBOL_N, 0), "width must be >= 1", id="mlp_params_width0"),
    pytest.param(lambda: theorem4(SYMBOL_N, 0, 8), "k must be >= 1", id="theorem4_k0"),
    pytest.param(lambda: theorem5(SYMBOL_N, 4, -2), "s must be >= 1", id="theorem5_s_neg"),
    pytest.param(lambda: symbolic_rows([3], [2], steps=0), "steps must be >= 1", id="symbolic_rows_steps0"),
    pytest.param(lambda: symbolic_rows([3], [2], success_probability=2), "success_probability",
                 id="symbolic_rows_q2"),
    pytest.param(lambda: formula("ticket_probability", 3, 2).at(2), "outside the domain", id="closed_form_at_n2"),
])
def test_formerly_silent_symbolic_inputs_are_refused(call, fragment: str) -> None:
    """Each of these returned a value before issue 27 (e.g. ticket_probability(n, 3, 0) was 1 and
    6/(n(n-1)) at n = 2 was 3); the numeric path refuses the same inputs."""
    with pytest.raises(ValueError, match=fragment):
        call()


def test_symbols_with_undecided_assumptions_still_give_closed_forms() -> None:
    plain_n = sympy.Symbol("n")  # no assumptions: read as an integer n >= max(k, s)
    assert ticket_probability(plain_n, 3, 2) == 6 / (plain_n * (plain_n - 1))
    assert min_samples_exact(SYMBOL_N, 3, 10, 10, sympy.Symbol("q", positive=True)) is not None


@pytest.mark.parametrize("quantity", ["ticket_probability", "critical_width", "first_order_ticket_probability",
                                      "first_order_critical_width", "sq_budget", "sq_samples_at_critical_width"])
@pytest.mark.parametrize(("k", "s"), [(3, 2), (3, 8), (4, 3), (2, 5)])
def test_formula_carries_its_domain_and_equals_the_function_on_it(quantity: str, k: int, s: int) -> None:
    f = formula(quantity, k, s, steps=100)
    assert f.lowest == (k if quantity == "sq_budget" else max(k, s))
    assert f.domain == sympy.Ge(f.variable, f.lowest)
    exact = {
        "ticket_probability": lambda v: ticket_probability(v, k, s),
        "critical_width": lambda v: critical_width_exact(v, k, s),
        "first_order_ticket_probability": lambda v: ticket_probability(v, k, s, "first_order"),
        "first_order_critical_width": lambda v: critical_width_exact(v, k, s, "first_order"),
        "sq_budget": lambda v: sympy.Rational(math.comb(v, k), 4),
        # q C(n, k) / (2 P T) with P = r* (n + 2) parameters, r* before the ceiling, T = 100
        "sq_samples_at_critical_width": lambda v: Fraction(1, 2) * math.comb(v, k) / (
            2 * critical_width_exact(v, k, s) * (v + 2) * 100),
    }[quantity]
    for value in range(f.lowest, f.lowest + 25):
        assert f.at(value) == exact(value)
    with pytest.raises(ValueError, match="outside the domain"):
        f.at(f.lowest - 1)
    assert f"n >= {f.lowest}" in str(f)


def test_symbolic_rows_have_both_ticket_kinds_and_a_domain() -> None:
    rows = {(int(r["k"]), int(r["s"])): r for r in symbolic_rows([3, 4], [2, 3, 8])}
    assert rows[(3, 8)]["domain"] == sympy.Ge(n, 8)
    assert rows[(3, 3)]["first_order_critical_width"].subs(n, 30) == sympy.Rational(4060, 82)
    assert rows[(4, 2)]["first_order_ticket_probability"] == 0 and rows[(4, 2)]["first_order_critical_width"] == sympy.oo
    header = symbolic_table([3], [2]).splitlines()[0]
    assert "p1(n), first order" in header and "valid for" in header
    # the parameter count is not called p, which is the ticket probability
    assert "params*T*m" in header and "p T m" not in header
