"""The ones-plus-epsilon initialisation with epsilon a symbol: Theorem 5's signal as a series in epsilon.

Paper: Edelman et al. 2023 (arXiv 2309.03800), Theorem 5 (under-sparse, k and s even, s < k): a
neuron has weight 1 on its support U (|U| = s) and a small epsilon < 1/(n - s) on every other
coordinate (docs/science.md 2, the ``ones-eps`` init; 4.3). With A = sum_{i in U} x_i and
B = sum_{i not in U} x_i its pre-activation is A + epsilon B + b, and its population gradient
signal on input weight w_j (minus the hinge-loss gradient at initialisation, per unit output
weight, as :class:`theory.fourier.GradientSignal`) is

    E[ chi_{S Δ {j}}(x) act'(A + epsilon B + b) ]
      = 2^{-n} sum_{a=0..s} sum_{c=0..n-s} K_a(d_U; s) K_c(d_out; n-s) act'(z0_a + epsilon z1_c),

z0_a = s - 2a + b, z1_c = (n - s) - 2c, d_U = |(S Δ {j}) ∩ U|, d_out = |(S Δ {j}) \\ U| (the two
sums split because U and its complement are independent; K the binary Krawtchouk polynomials of
theory.fourier). As epsilon -> 0+ each term is a polynomial in epsilon:

    z0 > 0:  step 1,  sign 1,   relu z0 + epsilon z1
    z0 < 0:  step 0,  sign -1,  relu 0
    z0 = 0:  step step(z1), sign sign(z1), relu epsilon relu(z1)   (epsilon breaks the tie)

exact for 0 < epsilon < min_{z0 != 0} |z0| / (n - s) (``valid_below``; at least 1/(n - s) for
an integer bias, the paper's condition epsilon < 1/(n - s)). So the signal is a polynomial of
degree <= 1 in epsilon there, its *series*. Only tie levels (z0 = 0) see the off-support bits: for j in S \\ U with U ⊆ S the
leading term of the step signal is

    epsilon^0 * 2^{-s} K_{(s+b)/2}(s; s) * stephat_{k-s-1}(n - s bits, bias 0),

nonzero only when a tie level exists (b an integer of the parity of s, |b| <= s: why Theorem 5
takes s even with b = 0) and step's degree-(k-s-1) coefficient on the n - s off-support bits is
nonzero. For odd k - s - 1 (k and s even, as the theorem assumes) that is half the majority
coefficient, of size ~ (n - s)^{-(k-s-1)/2} for every n: the origin of the theorem's
m = O((n/k)^{k-s-1}) samples. For even k - s - 1 it comes only from B's own tie, 1[B = 0], and vanishes for odd
n - s. With epsilon = 0 the same signal is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy

from theory._exact import RationalLike, as_fraction, check_int, check_nks, check_positive_expression, to_rational
from theory.activations import NAMED_ACTIVATIONS

#: The derivatives :func:`epsilon_signal` expands (piecewise-linear ones: the series is exact).
EPSILON_DERIVATIVES: tuple[str, ...] = ("step", "sign", "relu")
#: The coordinate kinds, as the fields of :class:`theory.fourier.GradientSignal`.
COORDINATE_KINDS: tuple[str, ...] = ("in_target_and_support", "in_support_only", "in_target_only", "in_neither")


def _krawtchouk_row(degree: int, length: int) -> list[int]:
    """K_a(degree; length) for a = 0..length (three-term recurrence of theory.fourier)."""
    row, previous, current = [], 0, 1
    for a in range(length + 1):
        row.append(current)
        previous, current = current, ((length - 2 * degree) * current - (length - a + 1) * previous) // (a + 1)
    return row


def _sign(z: int | Fraction) -> int:
    return (z > 0) - (z < 0)


def _local_polynomial(z0: Fraction, outer: dict[str, int], derivative: str) -> tuple[int | Fraction, ...]:
    """(c0, c1) with sum_c K_c act'(z0 + epsilon z1_c) = c0 + c1 epsilon for small epsilon > 0, given
    the sums ``outer`` of K_c, K_c z1_c, K_c step(z1_c), K_c sign(z1_c), K_c relu(z1_c)."""
    if derivative == "step":
        return (outer["one"], 0) if z0 > 0 else (0, 0) if z0 < 0 else (outer["step"], 0)
    if derivative == "sign":
        return (_sign(z0) * outer["one"], 0) if z0 != 0 else (outer["sign"], 0)
    return (z0 * outer["one"], outer["linear"]) if z0 > 0 else (0, 0) if z0 < 0 else (0, outer["relu"])


def _coefficient_series(n: int, s: int, bias: Fraction, d_in: int, d_out: int, derivative: str) -> tuple[Fraction, Fraction]:
    """(c0, c1): E[chi_T act'(A + epsilon B + b)] = c0 + c1 epsilon, |T ∩ U| = d_in, |T \\ U| = d_out."""
    off = n - s
    inner, outer_row = _krawtchouk_row(d_in, s), _krawtchouk_row(d_out, off)
    z1 = [off - 2 * c for c in range(off + 1)]
    outer = {
        "one": sum(outer_row),
        "linear": sum(K * z for K, z in zip(outer_row, z1)),
        "step": sum(K for K, z in zip(outer_row, z1) if z > 0),
        "sign": sum(K * _sign(z) for K, z in zip(outer_row, z1)),
        "relu": sum(K * z for K, z in zip(outer_row, z1) if z > 0),
    }
    c0, c1 = Fraction(0), Fraction(0)
    for a, K in enumerate(inner):
        if K:
            low, high = _local_polynomial(s - 2 * a + bias, outer, derivative)
            c0, c1 = c0 + K * low, c1 + K * high
    return c0 / 2**n, c1 / 2**n


@dataclass(frozen=True)
class EpsilonSignal:
    """The exact signal of a ones-plus-epsilon neuron as a polynomial in the symbol ``epsilon``,
    per coordinate kind (the fields of :class:`theory.fourier.GradientSignal`), exact for
    0 < epsilon < ``valid_below`` (module docstring). A kind with no coordinates has value 0."""

    n: int
    k: int
    s: int
    overlap: int
    bias: sympy.Rational
    derivative: str
    epsilon: sympy.Symbol
    in_target_and_support: sympy.Expr
    in_support_only: sympy.Expr
    in_target_only: sympy.Expr
    in_neither: sympy.Expr
    valid_below: sympy.Expr

    def series(self, kind: str) -> sympy.Expr:
        """The signal on coordinates of ``kind`` (one of :data:`COORDINATE_KINDS`) as a polynomial in epsilon."""
        if kind not in COORDINATE_KINDS:
            raise ValueError(f"kind must be one of {COORDINATE_KINDS}, got {kind!r}")
        return getattr(self, kind)

    def leading_term(self, kind: str) -> sympy.Expr:
        """The lowest-order nonzero term c epsilon^p of :meth:`series` (0 when the signal vanishes
        for every small epsilon)."""
        poly = sympy.Poly(self.series(kind), self.epsilon)
        terms = [(monom[0], coeff) for monom, coeff in poly.terms() if coeff != 0]
        if not terms:
            return sympy.Integer(0)
        power, coeff = min(terms)
        return coeff * self.epsilon**power

    def leading_order(self, kind: str) -> int | None:
        """p of :meth:`leading_term` (None when the signal vanishes)."""
        term = self.leading_term(kind)
        return None if term == 0 else int(sympy.degree(term, self.epsilon))

    def at(self, epsilon: RationalLike) -> dict[str, sympy.Rational]:
        """The exact signal per kind at a rational epsilon in (0, ``valid_below``).

        Raises:
            ValueError: epsilon outside that interval, where the series is not the signal.
        """
        value = as_fraction(epsilon, "epsilon")
        if not 0 < value < self.valid_below:
            raise ValueError(f"epsilon={value} is outside (0, {self.valid_below}), where the series is exact")
        point = to_rational(value)
        return {kind: sympy.Rational(self.series(kind).subs(self.epsilon, point)) for kind in COORDINATE_KINDS}


def epsilon_signal(n: int, k: int, s: int, bias: RationalLike = 0, overlap: int | None = None,
                   derivative: str = "step", epsilon: sympy.Symbol | None = None) -> EpsilonSignal:
    """Exact signal E[chi_{S Δ {j}}(x) act'(w . x + b)] of the ones-plus-epsilon neuron
    (w = 1 on U, epsilon elsewhere) as a polynomial in the symbol epsilon (module docstring).

    With o = |U ∩ S| the kinds have |S Δ {j}| split as (inside U, outside U):
        in_target_and_support (o - 1, k - o);  in_support_only (o + 1, k - o);
        in_target_only (o, k - o - 1);         in_neither (o, k - o + 1).
    ``overlap`` defaults to min(k, s), the inclusion ticket (U ⊆ S for Theorem 5's s < k).
    Example: n = 30, k = 4, s = 2, b = 0: the missing target bits get
    -(1/2) stephat_1(28 bits) = -5014575/134217728 at order epsilon^0, for 0 < epsilon < 1/14
    (the off-target bits get 185725/134217728, from stephat_3: the gap is positive).

    Args:
        n, k, s: sizes (1 <= k, s <= n). bias: b, exact (a float by its decimal, 0.1 = 1/10).
        overlap: o in [max(0, s + k - n), min(k, s)]. derivative: ``"step"`` (relu's, the
            gradient; default), ``"sign"`` or ``"relu"`` (then the neuron's own coefficient,
            of degree 1 in epsilon). epsilon: the symbol (default ``Symbol("epsilon", positive=True)``;
            one whose assumptions make it non-positive is refused).

    Raises:
        ValueError: bad sizes or overlap, another derivative, a non-rational bias, or an epsilon
            symbol that cannot be positive.
    """
    n_i, k_i, s_i = check_nks(n, k, s)
    assert s_i is not None
    b = as_fraction(bias, "bias")
    if derivative not in EPSILON_DERIVATIVES:
        known = "" if derivative in NAMED_ACTIVATIONS else " (not a named activation)"
        raise ValueError(f"derivative must be one of {EPSILON_DERIVATIVES}{known}, got {derivative!r}")
    lowest, highest = max(0, s_i + k_i - n_i), min(k_i, s_i)
    o = highest if overlap is None else check_int(overlap, "overlap")
    if not lowest <= o <= highest:
        raise ValueError(f"overlap={o} is impossible for n={n_i}, k={k_i}, s={s_i}: |U ∩ S| lies in [{lowest}, {highest}]")
    eps = sympy.Symbol("epsilon", positive=True) if epsilon is None else epsilon
    if not isinstance(eps, sympy.Symbol):
        raise ValueError(f"epsilon must be a sympy Symbol, got {epsilon!r}")
    check_positive_expression(eps, "epsilon")
    counts = {"in_target_and_support": o, "in_support_only": s_i - o, "in_target_only": k_i - o,
              "in_neither": n_i - s_i - k_i + o}
    split = {"in_target_and_support": (o - 1, k_i - o), "in_support_only": (o + 1, k_i - o),
             "in_target_only": (o, k_i - o - 1), "in_neither": (o, k_i - o + 1)}
    values = {}
    for kind in COORDINATE_KINDS:
        d_in, d_out = split[kind]
        if counts[kind] == 0 or d_in < 0 or d_out < 0 or d_in > s_i or d_out > n_i - s_i:
            values[kind] = sympy.Integer(0)
            continue
        c0, c1 = _coefficient_series(n_i, s_i, b, d_in, d_out, derivative)
        values[kind] = to_rational(c0) + to_rational(c1) * eps
    nonzero_levels = [abs(s_i - 2 * a + b) for a in range(s_i + 1) if s_i - 2 * a + b != 0]
    radius = (sympy.oo if n_i == s_i or not nonzero_levels
              else to_rational(Fraction(min(nonzero_levels)) / (n_i - s_i)))
    return EpsilonSignal(n_i, k_i, s_i, o, to_rational(b), derivative, eps, values["in_target_and_support"],
                         values["in_support_only"], values["in_target_only"], values["in_neither"], radius)
