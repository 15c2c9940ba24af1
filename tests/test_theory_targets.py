"""theory.targets (issue 18): each target's expansion, the gradient signal of actual neurons against
it and its first-order tickets, against brute force over {-1,1}^n written from the definitions
(docs/targets.md)."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.lottery import ticket_probability
from theory.neuron import neuron_gradient_signal
from theory.targets import first_order_ticket, target_expansion, target_signal, target_tickets

# (target, k, tasks, label_noise): every target at small sizes
CASES = [("parity", 1, 1, 0), ("parity", 3, 1, 0), ("parity", 4, 1, 0), ("noisy_parity", 3, 1, Fraction(1, 10)),
         ("noisy_parity", 2, 1, Fraction(1, 3)), ("staircase", 1, 1, 0), ("staircase", 3, 1, 0),
         ("staircase", 5, 1, 0), ("sparse_majority", 3, 1, 0), ("sparse_majority", 5, 1, 0),
         ("multitask_parity", 2, 2, 0), ("multitask_parity", 1, 3, 0), ("multitask_parity", 2, 3, 0)]
SMALL = [case for case in CASES if (case[2] - 1 + case[2] * case[1]) <= 5]  # brute force over n <= 7


def label(target: str, x: tuple[int, ...], k: int, tasks: int) -> int:
    """The clean label of the bits of S in role order, from the definitions of docs/targets.md."""
    if target in ("parity", "noisy_parity"):
        return math.prod(x)
    if target == "sparse_majority":
        return 1 if sum(x) > 0 else -1
    if target == "staircase":
        return 1 if sum(math.prod(x[:i + 1]) for i in range(k)) > 0 else -1
    control = x[:tasks - 1]
    task = next((t for t, bit in enumerate(control) if bit == 1), tasks - 1)
    return math.prod(x[tasks - 1 + task * k: tasks - 1 + (task + 1) * k])


def mean_label(target: str, x: tuple[int, ...], k: int, tasks: int, noise: Fraction) -> Fraction:
    """E[y | x]: the label, shrunk by 1 - 2 eta when a fraction eta of labels is flipped."""
    return (1 - 2 * Fraction(noise)) * label(target, x, k, tasks)


def size_of(target: str, k: int, tasks: int) -> int:
    return tasks - 1 + tasks * k if target == "multitask_parity" else k


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-k{c[1]}-T{c[2]}")
def test_expansion_is_the_transform_of_the_definition(case):
    target, k, tasks, noise = case
    expansion = target_expansion(target, k, tasks=tasks, label_noise=noise)
    K = size_of(target, k, tasks)
    assert expansion.support_size == K
    points = list(itertools.product((1, -1), repeat=K))
    values = {x: mean_label(target, x, k, tasks, noise) for x in points}
    for size in range(K + 1):
        for A in itertools.combinations(range(K), size):
            exact = sum(values[x] * math.prod(x[i] for i in A) for x in points) / 2**K
            assert expansion.terms.get(A, 0) == exact, (A, exact)
    assert sum(a * a for a in expansion.terms.values()) == (1 - 2 * noise) ** 2  # Parseval


def brute_signal(n: int, weights: list[Fraction], bias: Fraction, roles: tuple[int, ...], case) -> list[Fraction]:
    """E[E[y|x] x_j step(w . x + b)] for every j, summed over all 2^n inputs."""
    target, k, tasks, noise = case
    totals = [Fraction(0)] * n
    for x in itertools.product((1, -1), repeat=n):
        if sum(w * xi for w, xi in zip(weights, x)) + bias > 0:
            y = mean_label(target, tuple(x[c] for c in roles), k, tasks, noise)
            for j in range(n):
                totals[j] += y * x[j]
    return [t / 2**n for t in totals]


@st.composite
def neurons_and_targets(draw: st.DrawFn) -> dict:
    case = draw(st.sampled_from(SMALL))
    K = size_of(case[0], case[1], case[2])
    n = draw(st.integers(K, min(K + 2, 7)))
    roles = tuple(draw(st.permutations(range(n)))[:K])
    support = draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=min(n, 4)))
    values = draw(st.lists(st.fractions(-2, 2, max_denominator=4), min_size=len(support), max_size=len(support)))
    off = draw(st.sampled_from([Fraction(0), Fraction(1, 16)]))
    return {"case": case, "n": n, "roles": roles, "support": support, "values": values, "off": off,
            "bias": draw(st.fractions(-2, 2, max_denominator=4))}


@settings(max_examples=60, deadline=None)
@given(neurons_and_targets())
def test_target_signal_equals_enumeration(drawn):
    n, case, roles = drawn["n"], drawn["case"], drawn["roles"]
    weights = [drawn["off"]] * n
    for c, v in zip(drawn["support"], drawn["values"]):
        weights[c] = v
    expansion = target_expansion(case[0], case[1], tasks=case[2], label_noise=case[3])
    result = target_signal(n, expansion, roles, drawn["support"], drawn["values"], drawn["bias"], drawn["off"])
    exact = brute_signal(n, weights, drawn["bias"], roles, case)
    assert list(result.signal) == exact
    assert abs(result.relevant) == max(abs(exact[j]) for j in roles)
    assert abs(result.irrelevant) == max((abs(exact[j]) for j in range(n) if j not in roles), default=0)
    if drawn["off"] == 0 and not result.first_order_ticket:  # no ticket: no signal on S, whatever the weights
        assert all(exact[j] == 0 for j in roles)


def test_the_parity_target_is_the_parity_neuron_signal():
    rng = random.Random(4)
    expansion = target_expansion("parity", 3)
    for _ in range(20):
        support = rng.sample(range(9), 2)
        values = [Fraction(rng.randint(-8, 8), 8) for _ in support]
        bias, roles = Fraction(rng.randint(-8, 8), 8), tuple(rng.sample(range(9), 3))
        parity = neuron_gradient_signal(9, support, values, bias, roles)
        assert target_signal(9, expansion, roles, support, values, bias).signal == parity.signal


def can_get_signal(n: int, support: tuple[int, ...], roles: tuple[int, ...], case, coordinates) -> bool:
    """Whether some sign pattern of the AND neuron step(sum_i sigma_i x_i - (s - 1)) on the support
    (every Fourier coefficient inside U nonzero) has a nonzero signal on one of the coordinates:
    distinct terms give distinct monomials in sigma, so this finds every possible signal."""
    s = len(support)
    for sigma in itertools.product((1, -1), repeat=s):
        weights = [Fraction(0)] * n
        for c, v in zip(support, sigma):
            weights[c] = Fraction(v)
        signal = brute_signal(n, weights, Fraction(1 - s) + Fraction(1, 2), roles, case)
        if any(signal[roles[p]] != 0 for p in coordinates):
            return True
    return False


@pytest.mark.parametrize("case", [c for c in SMALL if size_of(c[0], c[1], c[2]) <= 4], ids=lambda c: f"{c[0]}-k{c[1]}")
@pytest.mark.parametrize("s", [1, 2, 3])
def test_first_order_tickets_are_the_neurons_that_can_get_signal(case, s):
    expansion = target_expansion(case[0], case[1], tasks=case[2], label_noise=case[3])
    K = expansion.support_size
    n = K + 2
    roles = tuple(range(n - 1, n - 1 - K, -1))  # S at the end, in reverse role order
    tickets = 0
    for support in itertools.combinations(range(n), s):
        inside = [p for p, c in enumerate(roles) if c in support]
        possible = can_get_signal(n, support, roles, case, range(K))
        assert first_order_ticket(expansion, inside) == possible, (support, inside)
        tickets += possible
    assert target_tickets(n, s, expansion).probability == Fraction(tickets, math.comb(n, s))


def test_per_task_tickets_of_a_multitask_parity_count_signal_on_that_task_only():
    case = ("multitask_parity", 2, 2, 0)
    expansion = target_expansion("multitask_parity", 2, tasks=2)
    n, roles = 7, (6, 0, 2, 4, 1)
    for t, task in enumerate(expansion.task_roles):
        count = sum(can_get_signal(n, U, roles, case, task) for U in itertools.combinations(range(n), 2))
        assert target_tickets(n, 2, expansion, task).probability == Fraction(count, math.comb(n, 2)), t


@pytest.mark.parametrize("n", [10, 20, 50])
def test_parity_tickets_are_the_lottery_tickets_where_those_carry_first_order_signal(n):
    assert target_tickets(n, 2, target_expansion("parity", 3)).probability == ticket_probability(n, 3, 2)
    assert target_tickets(n, 2, target_expansion("parity", 4)).probability == 0  # k - s >= 2: no signal
    assert target_tickets(n, 2, target_expansion("parity", 4)).critical_width is None
    for name in ("staircase", "sparse_majority"):  # degree-1 terms reach every neuron
        tickets = target_tickets(n, 2, target_expansion(name, 3))
        assert tickets.probability == 1 and tickets.critical_width == 1
    multitask = target_tickets(n, 2, target_expansion("multitask_parity", 3, tasks=2))
    assert multitask.probability == 2 * ticket_probability(n, 3, 2) and multitask.by_overlap[2] == (6, 21)


@pytest.mark.parametrize("call, bad", [
    (lambda: target_expansion("xor", 3), "target='xor'"),
    (lambda: target_expansion("staircase", 4), "k=4"),
    (lambda: target_expansion("sparse_majority", 2), "k=2"),
    (lambda: target_expansion("multitask_parity", 3), "tasks=1"),
    (lambda: target_expansion("parity", 3, tasks=2), "tasks=2"),
    (lambda: target_expansion("noisy_parity", 3), "label_noise=0"),
    (lambda: target_expansion("noisy_parity", 3, label_noise="1/2"), "label_noise=1/2"),
    (lambda: target_expansion("parity", 3, label_noise="1/10"), "label_noise=1/10"),
    (lambda: target_tickets(2, 2, target_expansion("parity", 3)), "n=2"),
    (lambda: target_expansion("parity", 3).on((1, 1, 2)), "roles=(1, 1, 2)"),
])
def test_bad_input_is_a_value_error_naming_the_value(call, bad):
    with pytest.raises(ValueError, match=bad.replace("(", r"\(").replace(")", r"\)")):
        call()

