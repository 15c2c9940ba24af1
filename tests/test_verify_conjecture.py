"""verify.conjecture and `frontier conjecture` (issue 27): safe parsing, exact verdicts, exhaustive and
random search, shrinking to the smallest counterexample, the three exit statuses; and the public
hypothesis strategies of verify.strategies against brute force."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_contract import one_error_line
from frontier.cli import main
from theory import critical_width
from theory_oracles import brute_force_ltf
from verify import strategies as vs
from verify.conjecture import ConjectureError, parse, parse_domain, search

FALSE = "critical_width(n, 3, 2) <= n**2/7"


def first_failure_by_hand(low: int, high: int) -> int:
    """The smallest n with ceil(n(n-1)/6) > n^2/7, from the definition (no theory, no search)."""
    return next(n for n in range(low, high + 1) if Fraction(-(-n * (n - 1) // 6)) > Fraction(n * n, 7))


def test_the_false_statement_is_caught_and_shrunk_to_its_smallest_counterexample() -> None:
    result = search(FALSE, {"n": "4:300"})
    assert not result.holds and result.exit_status == 1 and result.method == "exhaustive"
    smallest = first_failure_by_hand(4, 300)
    assert smallest == 5
    assert result.counterexample.values == {"n": smallest}
    # the exact value of both sides: ceil(5*4/6) = 4 against 25/7
    assert [value for _, value in result.counterexample.sides] == [4, Fraction(25, 7)]
    assert result.cases == 297 and result.failed == sum(
        1 for n in range(4, 301) if critical_width(n, 3, 2) > Fraction(n * n, 7))
    assert "at n = 5" in result.summary() and "25/7" in result.summary()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_search_over_a_huge_domain_shrinks_to_the_same_counterexample(seed: int) -> None:
    result = search(FALSE, {"n": "4:100000000"}, seed=seed)
    assert result.method == "random" and result.counterexample.values == {"n": 5}
    assert result.shrunk_from is not None and result.cases <= 2000 + 20000


def test_coordinatewise_minimisation_leaves_no_single_variable_simpler() -> None:
    """critical_width(n, k, s) <= n^2 fails where tickets are rare (k = s = 3: C(n, 3) > n^2 from n = 9);
    the random search's answer must be minimal in each variable on its own (checked by scanning each
    axis from its simplest value up to the one found)."""
    conjecture = "critical_width(n, k, s) <= n**2"
    domains = {"n": "3:5000", "k": "1:6", "s": "1:9"}
    result = search(conjecture, domains, exhaustive_limit=1000, seed=0)
    assert result.method == "random" and not result.holds
    found = result.counterexample.values
    for name in domains:
        simpler = parse_domain(name, domains[name])
        for value in simpler.values():
            if value == found[name]:
                break
            trial = {**found, name: value}
            try:
                fails = critical_width(trial["n"], trial["k"], trial["s"]) > trial["n"] ** 2
            except ValueError:
                fails = False
            assert not fails, (name, value)


def test_a_true_statement_survives_with_every_case_counted() -> None:
    """The closed form of the inclusion ticket probability against the exact function (s >= k)."""
    result = search("ticket_probability(n, k, s) == ff(s, k) / ff(n, k)", {"n": "1:40", "k": "1:6", "s": "1:10"},
                    assume=["s >= k"])
    assert result.holds and result.exit_status == 0 and result.method == "exhaustive"
    defined = sum(1 for n in range(1, 41) for k in range(1, 7) for s in range(1, 11) if k <= s <= n)
    excluded = sum(1 for n in range(1, 41) for k in range(1, 7) for s in range(1, 11) if s < k)
    assert (result.held, result.failed, result.excluded) == (defined, 0, excluded)
    assert result.undefined == 40 * 6 * 10 - defined - excluded  # s > n: the function refuses, not a counterexample
    assert result.cases == 2400


def test_the_symbolic_table_formula_survives_against_the_exact_first_order_function() -> None:
    result = search("closed_form('first_order_ticket_probability', k, s, n) == ticket_probability(n, k, s, 'first_order')",
                    {"n": "1:25", "k": "1:4", "s": "1:7"})
    assert result.holds and result.held == sum(1 for n in range(1, 26) for k in range(1, 5) for s in range(1, 8)
                                               if max(k, s) <= n)


def test_exact_verdicts_on_rationals_and_irrationals() -> None:
    # 1/3 + 1/6 == 1/2 exactly; a float would say otherwise for 0.1 + 0.2 == 0.3 (decimals are read exactly)
    assert search("n/3 + n/6 == n/2", {"n": "1:50"}).holds
    assert search("0.1 + 0.2 == 0.3 + 0*n", {"n": "1:2"}).holds
    assert search("sqrt(n)**2 == n", {"n": "1:30"}).holds
    close = search("sqrt(2) < 1414213562373095/1000000000000000 + 0*n", {"n": "1:1"})
    assert close.holds is False  # sqrt(2) = 1.41421356237309504..., above the 16-digit truncation
    assert search("signal_carrying_fraction(n) <= sqrt(2/n)", {"n": "3:60"}).holds


def test_domains_rank_values_simplest_first_and_cover_the_set_once() -> None:
    for spec, expected in [("4:8", [4, 5, 6, 7, 8]), ("-2:2", [0, 1, -1, 2, -2]), ("-3:1", [0, 1, -1, -2, -3]),
                           ("-5:-2", [-2, -3, -4, -5]), ("-1:1:1/2", [0, Fraction(1, 2), Fraction(-1, 2), 1, -1]),
                           ("3,1,2", [3, 1, 2])]:
        assert list(parse_domain("x", spec).values()) == expected, spec


@settings(max_examples=80, deadline=None)
@given(st.fractions(-20, 20, max_denominator=6), st.integers(0, 40), st.fractions(Fraction(1, 6), 3, max_denominator=6))
def test_every_grid_is_ranked_by_absolute_value(start: Fraction, count: int, step: Fraction) -> None:
    domain = parse_domain("x", f"{start}:{start + count * step}:{step}")
    values = list(domain.values())
    grid = [start + i * step for i in range(count + 1)]
    assert sorted(values) == grid
    assert values == sorted(grid, key=lambda v: (abs(v), -v))


@pytest.mark.parametrize(("expression", "fragment"), [
    ("critical_width(n, 3, 2) <=", "cannot parse"),
    ("critical_width(n, 3, 2)", "must be a comparison"),
    ("__import__('os').system('true') < 1", "unknown function"),
    ("critical_width(n, 3, 2).__class__ < 1", "private"),
    ("(lambda: 1)() < n", "Lambda"),
    ("[x for x in range(n)] < n", "ListComp"),
    ("n < 1 and n > 0", "comparison"),
    ("critical_width < n", "is a function"),
    ("eval('1') < n", "unknown function"),
    ("n < 'a'", "string"),
    ("n < True", "True"),
    ("gradient_signal(n, 3, 2) < 1", "comparison needs numbers"),
    ("theorem4(n, 4, 8).width > 0", "floating-point"),
    ("2**100000 > n", "limit"),
])
def test_bad_expressions_are_refused_by_name(expression: str, fragment: str) -> None:
    with pytest.raises(ConjectureError, match=fragment):
        search(expression, {"n": "8:9"})


@pytest.mark.parametrize(("domains", "fragment"), [
    ({}, "no domain for n"),
    ({"n": "1:5", "k": "1:3"}, "does not use k"),
    ({"n": "5:1"}, "empty"),
    ({"n": "1:5:0"}, "step"),
    ({"n": "1,2,x"}, "not a number"),
    ({"n": "1,1"}, "repeats"),
    ({"n": "50:60"}, "no case"),  # every case undefined: k = 70 > n
])
def test_bad_domains_are_refused(domains: dict, fragment: str) -> None:
    expression = "critical_width(n, 70, 2) > 0" if fragment == "no case" else "critical_width(n, 3, 2) > 0"
    with pytest.raises(ConjectureError, match=fragment):
        search(expression, domains)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(["conjecture", *argv])
    except SystemExit as exc:
        status = int(exc.code)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "critical_width(n, 3, 2) <= n**2/6 + 1", "--n", "4:300")
    assert status == 0 and err == "" and out.startswith("holds:") and "all 297 cases" in out
    status, out, err = run_cli(capsys, FALSE, "--n", "4:300")
    assert status == 1 and err == "" and "at n = 5" in out and "= 4" in out and "25/7" in out
    for argv, fragment in [(["critical_width(n, 3, 2) <"], "cannot parse"), ([FALSE], "no domain for n"),
                           ([FALSE, "--n", "4:300", "--k", "3"], "--k"), (["n < m", "--n", "1:2"], "--var m="),
                           (["n < 1", "--n", "1:2", "--var", "x"], "NAME=SPEC"),
                           (["open('/etc/passwd') < 1", "--n", "1:2"], "unknown function")]:
        status, out, err = run_cli(capsys, *argv)
        assert one_error_line(status, err, fragment) and out == "", (argv, err)


def test_cli_variables_assumptions_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    status, out, _ = run_cli(capsys, "coefficient(s, d, b, 'step') <= 1", "--s", "1:6", "--var", "d=0:6",
                             "--bias=-3:3:1/2", "--assume", "d <= s", "--format", "json")
    record = json.loads(out)
    assert status == 0 and record["holds"] and record["method"] == "exhaustive"
    assert record["held"] == sum(1 for s in range(1, 7) for d in range(0, s + 1)) * 13
    assert record["excluded"] == 6 * 7 * 13 - record["held"]


def test_cli_in_a_real_process() -> None:
    proc = subprocess.run([sys.executable, "-m", "frontier.cli", "conjecture", FALSE, "--n", "4:300"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "at n = 5" in proc.stdout and proc.stderr == ""
    proc = subprocess.run([sys.executable, "-m", "frontier.cli", "conjecture", "n <", "--n", "4:300"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_the_search_loads_no_numpy() -> None:
    """`frontier conjecture` needs theory, sympy and hypothesis only (the [proofs] extra)."""
    code = ("import sys\nfrom verify.conjecture import search\n"
            "assert not search('critical_width(n, 3, 2) <= n**2/7', {'n': '4:100000'}).holds\n"
            "print(sorted(m for m in ('numpy', 'torch', 'scipy', 'numba') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == "[]"


def test_parse_reports_free_variables_in_order() -> None:
    expression = parse("coefficient(s, d, b, activation='step') < n + m")
    assert expression.variables == ("s", "d", "b", "n", "m")
    assert expression.sides == ("coefficient(s, d, b, activation='step')", "n + m")


# --------------------------------------------------------------------------- the public strategies
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_s_hot_neurons_signals_equal_brute_force(data: st.DataObject) -> None:
    problem = data.draw(vs.parity_problems(max_n=7))
    values = data.draw(st.sampled_from(["uniform", "sign", "ones-eps"]))
    neuron = data.draw(vs.s_hot_neurons(problem.n, problem.s, values))
    assert len(neuron.support) == problem.s and len(neuron.weights) == problem.n
    signal = neuron.signal(problem.target)
    for j in range(problem.n):
        subset = sorted(set(problem.target) ^ {j})
        assert signal.signal[j] == brute_force_ltf(list(neuron.weights), neuron.bias, subset, "step")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_tickets_are_tickets_of_their_kind(data: st.DataObject) -> None:
    from theory import is_ticket

    problem = data.draw(vs.parity_problems(max_n=12))
    kind = data.draw(st.sampled_from(["inclusion", "first_order"]))
    support = data.draw(vs.tickets(problem, kind))
    assert len(support) == problem.s and len(set(support)) == problem.s and max(support) < problem.n
    assert is_ticket(support, problem.target, kind)
    if kind == "first_order" and problem.s >= problem.k:
        assert len(set(support) & set(problem.target)) >= problem.k - 1


@settings(max_examples=30, deadline=None)
@given(vs.general_neurons(max_inputs=7), st.data())
def test_general_neurons_coefficients_equal_brute_force(neuron: vs.Neuron, data: st.DataObject) -> None:
    subset = tuple(data.draw(st.lists(st.integers(0, neuron.n - 1), unique=True)))
    activation = data.draw(st.sampled_from(["relu", "step", "sign"]))
    assert neuron.coefficient(subset, activation) == brute_force_ltf(list(neuron.weights), neuron.bias, list(subset),
                                                                     activation)


@settings(max_examples=30, deadline=None)
@given(vs.targets(max_k=5))
def test_targets_satisfy_parseval(expansion) -> None:
    """A ±1 target has sum of squared coefficients 1; the noisy parity's E[y | x] has (1 - 2 eta)^2."""
    total = sum(a**2 for a in expansion.terms.values())
    expected = (1 - 2 * expansion.label_noise) ** 2
    assert total == expected


def test_strategy_caps_are_checked() -> None:
    with pytest.raises(ValueError, match="1 <= s <= n"):
        vs.supports(3, 4)
    with pytest.raises(ValueError, match="values"):
        vs.s_hot_neurons(5, 2, "gaussian")
    with pytest.raises(ValueError, match="support"):
        vs.s_hot_neurons(5, 2, support=(1, 7))
