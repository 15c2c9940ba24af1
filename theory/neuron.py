"""The gradient signal of actual neurons at initialisation (docs/science.md 4.3, 7).

:func:`theory.fourier.gradient_signal` describes the equal-weight neuron of the theory. A
simulator's neuron has its own values on its support U, a bias, and (with the ``ones-eps``
init) a small value epsilon on every other coordinate. Its population hinge-loss gradient at
initialisation in w_j is  -u * E[chi_{S Δ {j}}(x) step(w . x + b)]  (docs/science.md 4.3),
and :func:`neuron_gradient_signal` computes that expectation exactly for every coordinate
with the subset-sum DP of :mod:`theory.ltf`.

For 2-hot tickets of a 3-parity the only signal is the degree-2 coefficient
E[x_a x_b step(w_a x_a + w_b x_b + b)] on the missing target coordinate, and
:func:`carries_degree2_signal` / :func:`signal_carrying_fraction` say exactly when it is
nonzero and how often the simulator's ``uniform`` init makes it so (docs/science.md 7:
"only ~15-27% of tickets carry the degree-2 signal at init").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy

from theory._exact import RationalLike, check_int, check_symbolic_sizes, to_rational
from theory.activations import ActivationLike, activation_key
from theory.lottery import is_ticket
from theory.ltf import IntegerNeuron, exact_weight, integer_neuron_coefficient


@dataclass(frozen=True)
class NeuronSignal:
    """Exact population gradient signal of one neuron against the parity chi_S, per coordinate.

    ``signal[j]`` = E[chi_{S Δ {j}}(x) step(w . x + b)]: minus the hinge-loss population
    gradient in w_j at initialisation, per unit output weight (the direction one gradient
    step moves w_j; multiply by -u for the gradient itself), as in
    :class:`theory.fourier.GradientSignal`.

    ``relevant`` is the signal of largest magnitude on a coordinate of S and ``irrelevant``
    the one of largest magnitude outside S (both signed, 0 when all vanish or there is no
    such coordinate); ``relevant_coordinate`` / ``irrelevant_coordinate`` say where (the
    smallest such j; None when the value is 0). ``gap`` = |relevant| - |irrelevant|: positive
    when the best target coordinate out-pulls every other, the Fourier gap of docs/science.md
    4.3 for an equal-weight over-sparse ticket.
    """

    n: int
    support: tuple[int, ...]
    target: tuple[int, ...]
    bias: sympy.Rational
    off_support: sympy.Rational
    is_ticket: bool
    signal: tuple[sympy.Rational, ...]
    relevant: sympy.Rational
    irrelevant: sympy.Rational
    gap: sympy.Rational
    relevant_coordinate: int | None
    irrelevant_coordinate: int | None

    @property
    def carries_signal(self) -> bool:
        """Whether some coordinate of S gets a nonzero signal."""
        return self.relevant != 0


def _coordinates(indices: Sequence[int], n: int, name: str) -> tuple[int, ...]:
    items = tuple(check_int(i, f"{name} coordinate", 0) for i in indices)
    if not items:
        raise ValueError(f"{name} must not be empty")
    if len(set(items)) != len(items):
        raise ValueError(f"{name} has repeated coordinates: {sorted(items)}")
    if max(items) >= n:
        raise ValueError(f"{name} coordinate {max(items)} is out of range for n={n}")
    return items


def _largest(values: dict[int, Fraction]) -> tuple[Fraction, int | None]:
    """The signed value of largest magnitude (smallest j on ties) and its j; (0, None) if all 0."""
    best_j = min(values, key=lambda j: (-abs(values[j]), j), default=None)
    if best_j is None or values[best_j] == 0:
        return Fraction(0), None
    return values[best_j], best_j


def signal_fractions(
    n: int,
    support: tuple[int, ...],
    values: Sequence[Fraction],
    bias: Fraction,
    target: frozenset[int],
    off_support: Fraction,
    derivative: object,
) -> list[Fraction]:
    """E[chi_{S Δ {j}}(x) act'(w . x + b)] for j = 0..n-1, as Fractions (the work of
    :func:`neuron_gradient_signal`).

    Off-support coordinates share the weight epsilon, so the coefficient on T depends only on
    T ∩ U and |T \\ U|: one DP per such class, at most s + 2 of them (and with epsilon = 0
    every T not inside U gets 0 without a DP).
    """
    position = {c: i for i, c in enumerate(support)}
    dense = off_support != 0
    off = [c for c in range(n) if c not in position] if dense else []
    weights = list(values) + [off_support] * len(off)
    neuron = IntegerNeuron.from_weights(weights, bias)
    cache: dict[tuple[frozenset[int], int], Fraction] = {}
    result = []
    for j in range(n):
        flipped = target ^ {j}
        inside = frozenset(position[c] for c in flipped if c in position)
        outside = len(flipped) - len(inside)
        key = (inside, outside)
        if key not in cache:
            if outside and not dense:
                cache[key] = Fraction(0)  # the neuron ignores x_c for c outside U: E[x_c] = 0
            else:
                subset = inside | frozenset(range(len(support), len(support) + outside))
                cache[key] = integer_neuron_coefficient(neuron, subset, derivative)
        result.append(cache[key])
    return result


def neuron_gradient_signal(
    n: int,
    support: Sequence[int],
    values: Sequence[RationalLike],
    bias: RationalLike,
    target: Sequence[int],
    off_support: RationalLike = 0,
    derivative: ActivationLike = "step",
) -> NeuronSignal:
    """Exact signal E[chi_{S Δ {j}}(x) step(w . x + b)] on every coordinate j of one neuron.

    The neuron has w_{U[i]} = values[i] on its support U, w_c = ``off_support`` (epsilon of the
    ``ones-eps`` init, docs/science.md 2) on every other coordinate, and bias b; x is uniform
    on {-1, +1}^n and S = ``target``. docs/science.md 4.3: at initialisation the hinge-loss
    population gradient in w_j is -u times this signal. ``derivative`` is the activation's
    derivative (default ``"step"``, relu's; any activation of :mod:`theory.activations`).

    Floats are taken at their exact binary value (the neuron the simulator holds), so a
    neuron copied from ``sim.init.initialize`` is computed exactly. Cost: at most s + 2 DPs of
    :func:`theory.ltf.ltf_coefficient`, each O(n * min(Y + 1, 2^n')) with n' = s (epsilon = 0)
    or n' = n; for a 2-hot neuron with epsilon = 0, 4 states.

    Raises:
        ValueError: n < 1; support or target empty, repeated or outside range(n); as many
            values as support coordinates not given; a non-rational value, bias or epsilon.
    """
    n_i = check_int(n, "n", 1)
    u = _coordinates(support, n_i, "support")
    s_set = frozenset(_coordinates(target, n_i, "target"))
    if len(values) != len(u):
        raise ValueError(f"values has {len(values)} entries but support has {len(u)} coordinates")
    exact_values = [exact_weight(v, f"values[{i}]") for i, v in enumerate(values)]
    b = exact_weight(bias, "bias")
    eps = exact_weight(off_support, "off_support")
    signal = signal_fractions(n_i, u, exact_values, b, s_set, eps, activation_key(derivative))
    relevant, relevant_j = _largest({j: signal[j] for j in sorted(s_set)})
    irrelevant, irrelevant_j = _largest({j: signal[j] for j in range(n_i) if j not in s_set})
    as_rational = {v: to_rational(v) for v in set(signal)}
    return NeuronSignal(
        n=n_i,
        support=u,
        target=tuple(sorted(s_set)),
        bias=to_rational(b),
        off_support=to_rational(eps),
        is_ticket=is_ticket(u, s_set),
        signal=tuple(as_rational[v] for v in signal),
        relevant=to_rational(relevant),
        irrelevant=to_rational(irrelevant),
        gap=to_rational(abs(relevant) - abs(irrelevant)),
        relevant_coordinate=relevant_j,
        irrelevant_coordinate=irrelevant_j,
    )


def degree2_coefficient_of_2hot(w_a: RationalLike, w_b: RationalLike, bias: RationalLike) -> sympy.Rational:
    """E[x_a x_b step(w_a x_a + w_b x_b + b)] in closed form (docs/science.md 7).

    With p = |w_a|, q = |w_b|, the four pre-activations b ± p ± q give
    4 ghat = step(b+p+q) + step(b-p-q) - step(b+p-q) - step(b-p+q), which is nonzero exactly
    when one or three of them are positive:
        -(p + q) < b <= -|p - q|   ->  ghat = +sgn(w_a w_b) / 4,
         |p - q| < b <=  p + q     ->  ghat = -sgn(w_a w_b) / 4,
    and 0 otherwise (the boundaries follow step(0) = 0). So up to null sets the neuron carries
    the degree-2 signal iff  | |w_a| - |w_b| | < |b| < |w_a| + |w_b|: the bias must exceed the
    difference of the weights, or the neuron is a dictator of the larger one.
    """
    a, c, b = exact_weight(w_a, "w_a"), exact_weight(w_b, "w_b"), exact_weight(bias, "bias")
    p, q = abs(a), abs(c)
    sign = (a * c > 0) - (a * c < 0)  # x_a x_b = sgn(w_a w_b) x'_a x'_b with x'_i = sgn(w_i) x_i
    if -(p + q) < b <= -abs(p - q):
        return sympy.Rational(sign, 4)
    if abs(p - q) < b <= p + q:
        return sympy.Rational(-sign, 4)
    return sympy.Integer(0)


def carries_degree2_signal(w_a: RationalLike, w_b: RationalLike, bias: RationalLike) -> bool:
    """Whether step(w_a x_a + w_b x_b + b) has a nonzero degree-2 coefficient (see
    :func:`degree2_coefficient_of_2hot`; a.s.  | |w_a| - |w_b| | < |b| < |w_a| + |w_b|)."""
    return degree2_coefficient_of_2hot(w_a, w_b, bias) != 0


def signal_carrying_fraction(n: int | sympy.Expr, k: int = 3, s: int = 2, values: str = "uniform") -> sympy.Expr:
    """Exact fraction of 2-hot tickets whose initial gradient carries the target signal.

    Setting (docs/science.md 2 and 7): support values iid U(-1/sqrt(s), 1/sqrt(s))
    (``"uniform"``) or +-1/sqrt(s) (``"sign"``), bias b ~ U(-1/sqrt(n), 1/sqrt(n)), off-support
    weights 0, s = 2, k >= 3. A ticket has U ⊆ S; for k = 3 the one missing coordinate gets
    the degree-2 coefficient of :func:`degree2_coefficient_of_2hot`; for k >= 4 every
    first-order signal is 0 and the fraction is 0.

    Derivation (k = 3, uniform): with u = |w_a| sqrt(s), v = |w_b| sqrt(s) iid U(0, 1) and
    tau = |b| sqrt(s), for 0 <= tau <= 1  P(|u - v| < tau < u + v) = (2 tau - tau^2) - tau^2 / 2.
    tau is U(0, t) with t = sqrt(s / n) = sqrt(2 / n) <= 1, so the fraction is
        (1 / t) * integral_0^t (2 tau - 3 tau^2 / 2) d tau = t - t^2 / 2 = sqrt(2 / n) - 1 / n.
    With ``"sign"`` values p = q, and 0 < |b| < 2 / sqrt(2) always holds: the fraction is 1.

    Args:
        n: input bits, an integer >= 3 or a sympy symbol/expression (then a closed form in n).
        k, s: the parity degree and support size; only s = 2, k >= 3 is derived.
        values: ``"uniform"`` (the simulator's default) or ``"sign"``.

    Raises:
        ValueError: s != 2 or k < 3 (not derived: use :func:`neuron_gradient_signal` on drawn
            neurons), n < k, or other ``values`` (``ones-eps`` makes the neuron dense).
    """
    k_i, s_i = check_int(k, "k", 1), check_int(s, "s", 1)
    if s_i != 2 or k_i < 3:
        raise ValueError(f"signal_carrying_fraction is derived for s = 2, k >= 3 only, got s={s_i}, k={k_i}")
    if values not in ("uniform", "sign"):
        raise ValueError(f"values must be 'uniform' or 'sign', got {values!r}")
    n_e, _, _ = check_symbolic_sizes(n, k_i, s_i)  # integers exactly; a symbol is read as n >= k
    if k_i >= 4:
        return sympy.Integer(0)
    if values == "sign":
        return sympy.Integer(1)
    return sympy.sqrt(2) / sympy.sqrt(n_e) - 1 / n_e
