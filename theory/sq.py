"""The SQ lower bound read as a four-resource frontier (docs/science.md 4.1).

Paper: Edelman et al. 2023 (arXiv 2309.03800), Section 3, the statistical-query lower bound
for SGD on sparse parities. With p trainable parameters, T SGD steps, gradient tolerance
tau ~ 1/sqrt(m) (m samples) and failure probability delta: if

    p * T / (tau^2 * delta) <= C(n, k) / 2,

the first T iterates are independent of the target with probability >= 1 - delta for some
(n,k)-parity. So the success probability of any such run is at most

    q_max(p, T, m) = min(1, 2 * p * T * m / C(n, k)),

and each ``min_*`` below is the smallest integer value of one resource with q_max >= q.
All arithmetic is exact (``math.comb``, integers, ``Fraction``); n = 10^4, k = 10 is instant.
The ``min_*_exact`` variants solve 2 p T m / C(n, k) = q for one resource *before* rounding
(no ceiling, no floor at 1). Every function here also takes sympy symbols (n, the resources,
q; k too, leaving C(n, k) as a binomial unless k is an integer) and returns a closed form; the
numbers among the arguments are checked as on the numeric path (q in (0, 1], resources integers
>= 1), and a symbol whose assumptions contradict its range is refused.

:func:`sq_bound` states the theorem itself, in its four resources p, T, tau and delta (no
reading of tau as 1/sqrt(m)): it decides the condition, or solves it for the one resource left
out.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from dataclasses import dataclass

from theory._exact import (
    RationalLike,
    as_fraction,
    binomial_expression,
    ceil_fraction,
    check_int,
    check_nks,
    check_positive_expression,
    check_probability_expression,
    check_size_expression,
    check_symbolic_sizes,
    is_symbolic,
    to_rational,
)


def mlp_params(n: int, width: int, output_bias: bool = False) -> int:
    """Trainable parameters of the 2-layer MLP: p = width * (n + 2) (+1 with an output bias).

    Symbols for n or width give the expression r (n + 2) (+ 1).

    Per neuron: n input weights, one bias, one output weight (docs/science.md 4.1).
    """
    if is_symbolic(n, width):
        return check_size_expression(width, "width") * (check_size_expression(n, "n") + 2) + (1 if output_bias else 0)
    n_i = check_int(n, "n", 1)
    r = check_int(width, "width", 1)
    return r * (n_i + 2) + (1 if output_bias else 0)


def _check_probability(value: RationalLike) -> Fraction:
    q = as_fraction(value, "success_probability")
    if not 0 < q <= 1:
        raise ValueError(f"success_probability must lie in (0, 1], got {q}")
    return q


def _symbolic_budget(n: object, k: object) -> tuple[sympy.Expr, sympy.Expr]:
    n_e, k_e, _ = check_symbolic_sizes(n, k)
    return n_e, binomial_expression(n_e, k_e)


def max_success_probability(n: object, k: object, params: object, steps: object, samples: object) -> sympy.Expr:
    """Largest success probability the SQ bound allows: min(1, 2 p T m / C(n, k)), exact.

    Args:
        n, k: the (n,k)-sparse parity. params: p (parameters, not width; see
        :func:`mlp_params`). steps: T. samples: m (tau ~ 1/sqrt(m)). Any of them may be a sympy
        symbol: then the result is ``Min(1, 2 p T m / C(n, k))`` with C(n, k) expanded for
        integer k, e.g. Min(1, 12 p T m / (n (n-1) (n-2))) for k = 3.
    """
    if is_symbolic(n, k, params, steps, samples):
        _, budget = _symbolic_budget(n, k)
        p, t, m = (check_size_expression(v, name)
                   for v, name in ((params, "params"), (steps, "steps"), (samples, "samples")))
        return sympy.Min(1, sympy.factor(2 * p * t * m / budget))
    n_i, k_i, _ = check_nks(n, k)
    p = check_int(params, "params", 1)
    t = check_int(steps, "steps", 1)
    m = check_int(samples, "samples", 1)
    return to_rational(min(Fraction(1), Fraction(2 * p * t * m, math.comb(n_i, k_i))))


def _smallest_resource(n: int, k: int, other_product: int, success_probability: RationalLike) -> int:
    """Smallest integer x >= 1 with 2 * other_product * x / C(n, k) >= q (q <= 1)."""
    q = _check_probability(success_probability)
    needed = q * math.comb(n, k) / (2 * other_product)
    return max(1, ceil_fraction(needed))


def _resource_before_rounding(n: object, k: object, first: tuple[object, str], second: tuple[object, str],
                              success_probability: object) -> sympy.Expr:
    """x = q C(n, k) / (2 * first * second), exact or symbolic (docs/science.md 4.1)."""
    if is_symbolic(n, k, first[0], second[0], success_probability):
        _, budget = _symbolic_budget(n, k)
        a, b = check_size_expression(*first), check_size_expression(*second)
        q = check_probability_expression(success_probability, "success_probability")
        return sympy.factor(q * budget / (2 * a * b))
    n_i, k_i, _ = check_nks(n, k)
    a_i, b_i = check_int(first[0], first[1], 1), check_int(second[0], second[1], 1)
    q = _check_probability(success_probability)
    return to_rational(q * math.comb(n_i, k_i) / (2 * a_i * b_i))


def min_samples(n: int, k: int, params: int, steps: int, success_probability: RationalLike) -> int:
    """Smallest m with max_success_probability(n, k, params, steps, m) >= q:
    m = max(1, ceil(q C(n,k) / (2 p T))).  (docs/science.md 4.1)"""
    n_i, k_i, _ = check_nks(n, k)
    p = check_int(params, "params", 1)
    t = check_int(steps, "steps", 1)
    return _smallest_resource(n_i, k_i, p * t, success_probability)


def min_steps(n: int, k: int, params: int, samples: int, success_probability: RationalLike) -> int:
    """Smallest T with max_success_probability(n, k, params, T, samples) >= q:
    T = max(1, ceil(q C(n,k) / (2 p m))).  (docs/science.md 4.1)"""
    n_i, k_i, _ = check_nks(n, k)
    p = check_int(params, "params", 1)
    m = check_int(samples, "samples", 1)
    return _smallest_resource(n_i, k_i, p * m, success_probability)


def min_params(n: int, k: int, steps: int, samples: int, success_probability: RationalLike) -> int:
    """Smallest p with max_success_probability(n, k, p, steps, samples) >= q:
    p = max(1, ceil(q C(n,k) / (2 T m))).  (docs/science.md 4.1)"""
    n_i, k_i, _ = check_nks(n, k)
    t = check_int(steps, "steps", 1)
    m = check_int(samples, "samples", 1)
    return _smallest_resource(n_i, k_i, t * m, success_probability)


def min_samples_exact(n: object, k: object, params: object, steps: object, success_probability: object) -> sympy.Expr:
    """m = q C(n, k) / (2 p T) before rounding: :func:`min_samples` is max(1, ceil(this)).

    Exact ``sympy.Rational`` for numbers; a closed form when any argument is a sympy symbol.
    """
    return _resource_before_rounding(n, k, (params, "params"), (steps, "steps"), success_probability)


def min_steps_exact(n: object, k: object, params: object, samples: object, success_probability: object) -> sympy.Expr:
    """T = q C(n, k) / (2 p m) before rounding: :func:`min_steps` is max(1, ceil(this))."""
    return _resource_before_rounding(n, k, (params, "params"), (samples, "samples"), success_probability)


def min_params_exact(n: object, k: object, steps: object, samples: object, success_probability: object) -> sympy.Expr:
    """p = q C(n, k) / (2 T m) before rounding: :func:`min_params` is max(1, ceil(this))."""
    return _resource_before_rounding(n, k, (steps, "steps"), (samples, "samples"), success_probability)


# ----------------------------------------------------------------------------- the theorem in tau and delta
#: The resources of :func:`sq_bound`, in the order of its arguments.
SQ_RESOURCES: tuple[str, ...] = ("params", "steps", "tau", "delta")


@dataclass(frozen=True)
class SQBound:
    """The SQ lower bound at one point (docs/science.md 4.1):  P T / (tau^2 delta) <= C(n, k) / 2
    implies that for some (n, k)-parity the first T iterates are independent of the target with
    probability >= 1 - delta.

    ``cost`` = P T / (tau^2 delta) and ``budget`` = C(n, k) / 2 (None where a resource was solved
    for). ``solved_for`` names the resource left out (None when all four were given) and
    ``threshold`` its value at equality: the largest ``params`` or ``steps``, or the smallest
    ``tau`` or ``delta``, at which the condition holds. ``independent`` is True / False when all
    four are numbers (the theorem applies / says nothing), a sympy relation otherwise.
    """

    n: sympy.Expr
    k: sympy.Expr
    params: sympy.Expr | None
    steps: sympy.Expr | None
    tau: sympy.Expr | None
    delta: sympy.Expr | None
    budget: sympy.Expr
    cost: sympy.Expr | None
    solved_for: str | None
    threshold: sympy.Expr | None
    independent: bool | sympy.Basic | None

    def with_samples(self, samples: object) -> SQBound:
        """The same bound with tau = 1/sqrt(m), the paper's reading of m samples (4.1)."""
        if self.solved_for == "tau" or self.tau is None:
            raise ValueError("with_samples sets tau: give the bound with tau left out")
        m = check_size_expression(samples, "samples")
        return sq_bound(self.n, self.k, self.params, self.steps, 1 / sympy.sqrt(m), self.delta)


def sq_bound(n: object, k: object, params: object = None, steps: object = None, tau: object = None,
             delta: object = None) -> SQBound:
    """The SQ theorem of docs/science.md 4.1 in its own four resources:

        P T / (tau^2 delta) <= C(n, k) / 2   =>   for some (n, k)-parity the first T iterates of
                                                  SGD are independent of the target w.p. >= 1 - delta,

    P the trainable parameters (:func:`mlp_params`, not the width), T the steps, tau the gradient
    tolerance, delta the failure probability. Give all four to decide the condition, or leave one
    out (None) to solve for it at equality:
        params <= tau^2 delta C(n, k) / (2 T),     steps <= tau^2 delta C(n, k) / (2 P),
        tau    >= sqrt(2 P T / (delta C(n, k))),   delta >= 2 P T / (tau^2 C(n, k)).
    The last is :func:`max_success_probability` when tau = 1/sqrt(m) (before the min with 1).
    Exact: integers and rationals give ``sympy`` numbers (tau may be exact irrational, e.g.
    1/sqrt(m)); sympy symbols give closed forms.

    Raises:
        ValueError: more than one resource left out; bad sizes; params or steps not integers >= 1;
            tau <= 0; delta outside (0, 1] (each also for symbols whose assumptions say so).
    """
    given = {"params": params, "steps": steps, "tau": tau, "delta": delta}
    missing = [name for name, value in given.items() if value is None]
    if len(missing) > 1:
        raise ValueError(f"sq_bound solves for one resource; leave out at most one of {SQ_RESOURCES}, got "
                         f"{', '.join(missing)} missing")
    if is_symbolic(n, k):
        n_e, k_e, _ = check_symbolic_sizes(n, k)
    else:
        n_i, k_i, _ = check_nks(n, k)
        n_e, k_e = sympy.Integer(n_i), sympy.Integer(k_i)
    p = None if params is None else check_size_expression(params, "params")
    t = None if steps is None else check_size_expression(steps, "steps")
    tau_e = None if tau is None else check_positive_expression(tau, "tau")
    d = None if delta is None else check_probability_expression(delta, "delta")
    budget = binomial_expression(n_e, k_e) / 2
    symbolic = is_symbolic(n_e, k_e, p, t, tau_e, d)

    def solved(expression: sympy.Expr) -> sympy.Expr:
        return sympy.factor(expression) if symbolic else sympy.simplify(expression)

    if not missing:
        cost = p * t / (tau_e**2 * d)
        relation = sympy.Le(cost, budget)
        independent: bool | sympy.Basic = bool(relation) if relation in (sympy.true, sympy.false) else relation
        return SQBound(n_e, k_e, p, t, tau_e, d, solved(budget), solved(cost), None, None, independent)
    name = missing[0]
    threshold = {
        "params": lambda: tau_e**2 * d * budget / t,
        "steps": lambda: tau_e**2 * d * budget / p,
        "tau": lambda: sympy.sqrt(p * t / (d * budget)),
        "delta": lambda: p * t / (tau_e**2 * budget),
    }[name]()
    return SQBound(n_e, k_e, p, t, tau_e, d, solved(budget), None, name, solved(threshold), None)
