"""Exact Fourier coefficients of any linear-threshold neuron act(w . x + b) (docs/science.md 4.2).

The symmetric formula of :mod:`theory.fourier` needs equal weights. A neuron with arbitrary
rational weights w_1..w_s and bias b is handled by dynamic programming over the distribution
of its partial sums (a subset-sum count):

1. Scale by the common denominator D of the w_i and b: a_i = D w_i, c = D b are integers.
2. Absorb signs: with x'_i = sign(a_i) x_i (again uniform), sum a_i x_i = sum |a_i| x'_i and
   chi_T(x) = chi_T(x') * prod_{i in T} sign(a_i). Coordinates with a_i = 0 drop out (a
   factor E[x_i] = 0 if i is in T, E[1] = 1 otherwise).
3. With g = gcd(|a_i|), e_i = |a_i| / g and y = sum of e_i over the i with x'_i = -1, the
   pre-activation is (A - 2 g y + c) / D, A = sum |a_i|. The signed count
       M_T[y] = sum over x' with that y of chi_T(x')
   has generating function prod_i (1 + sigma_i u^{e_i}), sigma_i = -1 for i in T, +1 else,
   built one factor at a time: M[y] <- M[y] + sigma_i M[y - e_i].
4. ghat(T) = prod_{i in T} sign(a_i) * 2^{-s'} * sum_y M_T[y] act((A - 2 g y + c) / D),
   s' the number of nonzero weights.

Cost: with Y = sum e_i <= D * sum |w_i|, the DP has at most min(Y + 1, 2^{s'}) states
(reachable partial sums), so it takes O(s' * min(Y + 1, 2^{s'})) additions of integers of
at most s' + 1 bits and one activation call per state: pseudo-polynomial. A dense list is
used when Y + 1 <= 4 * 2^{s'} (integer-like weights), a dictionary of reachable sums
otherwise (float weights, see below).

Floats are converted *exactly* (``Fraction(x)``: the binary double, not its decimal
spelling), because that is the neuron a simulator holds. Their denominators are powers of
two up to 2^1074, so Y is astronomically large, but the number of distinct partial sums is
still at most 2^{s'}: exact and fast for small s' (a 2-hot neuron has 4), infeasible for a
dense neuron on n ~ 50 inputs. For those, round to a grid with
:func:`ltf_coefficient_on_grid`, which bounds the rounding error for Lipschitz activations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy

from theory._exact import RationalLike, as_fraction, check_int, to_rational
from theory.activations import Activation, ActivationLike, activation_key, resolve_activation

#: The DP refuses neurons with more reachable partial sums than this, before it allocates anything
#: (:func:`state_count_bound`). 2^22 states of the dictionary DP take about 0.8 GB and 15 s
#: (measured in docs/theory_for_proofs.md, "Speed"): 22 distinct float weights are the most a dense
#: float neuron may have; round larger ones with :func:`ltf_coefficient_on_grid`.
MAX_STATES = 1 << 22


def exact_weight(value: RationalLike, name: str) -> Fraction:
    """A weight or bias as an exact Fraction; floats by their exact binary value.

    Unlike :func:`theory._exact.as_fraction` (which reads 0.1 as 1/10), a float here is the
    neuron a simulator holds: ``Fraction(0.1)`` = 3602879701896397/2^55.
    """
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return Fraction(value)
    return as_fraction(value, name)


def _check_subset(subset: Iterable[int], size: int) -> frozenset[int]:
    indices = list(subset)
    for i in indices:
        check_int(i, "subset index", 0)
        if i >= size:
            raise ValueError(f"subset index {i} is out of range for {size} weights")
    if len(set(indices)) != len(indices):
        raise ValueError(f"subset has repeated indices: {sorted(indices)}")
    return frozenset(int(i) for i in indices)


@dataclass(frozen=True)
class IntegerNeuron:
    """A neuron act((sum_i a_i x_i + c) / D) in the integer form of the DP (module docstring).

    ``magnitudes`` e_i = |a_i| / g, ``negative`` the indices with a_i < 0, ``zero`` those
    with a_i = 0, ``index`` maps positions in ``magnitudes`` back to weight indices.
    """

    magnitudes: tuple[int, ...]
    index: tuple[int, ...]
    negative: frozenset[int]
    zero: frozenset[int]
    total: int  # A = sum |a_i|
    gcd: int  # g
    offset: int  # c
    denominator: int  # D

    @staticmethod
    def from_weights(weights: Sequence[Fraction], bias: Fraction) -> IntegerNeuron:
        denominator = math.lcm(bias.denominator, *(w.denominator for w in weights))
        scaled = [int(w * denominator) for w in weights]
        nonzero = [i for i, a in enumerate(scaled) if a != 0]
        g = math.gcd(*(scaled[i] for i in nonzero)) if nonzero else 1
        return IntegerNeuron(
            magnitudes=tuple(abs(scaled[i]) // g for i in nonzero),
            index=tuple(nonzero),
            negative=frozenset(i for i, a in enumerate(scaled) if a < 0),
            zero=frozenset(i for i, a in enumerate(scaled) if a == 0),
            total=sum(abs(a) for a in scaled),
            gcd=g,
            offset=int(bias * denominator),
            denominator=denominator,
        )

    def pre_activation_numerator(self, y: int) -> int:
        """D * (w . x + b) at partial sum y: A - 2 g y + c."""
        return self.total - 2 * self.gcd * y + self.offset

    def state_count_bound(self) -> int:
        """An upper bound on the DP's states, known before any is built (:func:`state_count_bound`)."""
        return state_count_bound(self.magnitudes)

    def is_dense(self) -> bool:
        """Whether a list over y = 0..Y is at most 4x the worst-case number of reachable sums."""
        span = sum(self.magnitudes) + 1
        return span <= 4 << min(len(self.magnitudes), 64) and span <= MAX_STATES


def state_count_bound(magnitudes: Sequence[int]) -> int:
    """Upper bound on the partial sums y = sum of a sub-multiset of ``magnitudes`` (the DP's states):

        min( Y + 1,  prod over distinct values e of (count(e) + 1) ),   Y = sum of the magnitudes,

    since y lies in 0..Y and is fixed by how many copies of each distinct value it uses. Equal
    weights cost s + 1 states, not 2^s; s distinct float weights cost up to 2^s.
    """
    counts: dict[int, int] = {}
    for e in magnitudes:
        counts[e] = counts.get(e, 0) + 1
    by_multiplicity = math.prod(c + 1 for c in counts.values())
    return min(sum(magnitudes) + 1, by_multiplicity)


def check_state_count(neuron: IntegerNeuron) -> None:
    """Refuse, before allocating, a neuron whose DP may need more than ``MAX_STATES`` states."""
    bound = neuron.state_count_bound()
    if bound > MAX_STATES:
        raise ValueError(
            f"the exact DP of this neuron may need up to {bound} partial sums ({len(neuron.magnitudes)} nonzero "
            f"weights), above the limit MAX_STATES = {MAX_STATES}: round it with ltf_coefficient_on_grid"
        )


def dense_measure(magnitudes: Sequence[int], flipped: Sequence[bool]) -> list[int]:
    """M[y] for y = 0..sum(magnitudes): coefficients of prod_i (1 + sigma_i u^{e_i})."""
    measure = [1]
    for e, flip in zip(magnitudes, flipped):
        pad = [0] * e
        low, high = measure + pad, pad + measure
        measure = [p - q for p, q in zip(low, high)] if flip else [p + q for p, q in zip(low, high)]
    return measure


def sparse_measure(magnitudes: Sequence[int], flipped: Sequence[bool]) -> dict[int, int]:
    """M[y] on the reachable y only (a dictionary), for weights with huge common denominators."""
    measure = {0: 1}
    for e, flip in zip(magnitudes, flipped):
        sign = -1 if flip else 1
        updated = dict(measure)
        for y, count in measure.items():
            updated[y + e] = updated.get(y + e, 0) + sign * count
        measure = {y: c for y, c in updated.items() if c}
        if len(measure) > MAX_STATES:
            raise ValueError(
                f"the neuron has more than {MAX_STATES} distinct partial sums: too large for the exact DP; "
                "round it with ltf_coefficient_on_grid"
            )
    return measure


def measure_sum(neuron: IntegerNeuron, measure: dict[int, int] | list[int], activation: object) -> Fraction:
    """sum_y M[y] act((A - 2 g y + c) / D), with integer fast paths for relu, step and sign."""
    items = measure.items() if isinstance(measure, dict) else enumerate(measure)
    z = neuron.pre_activation_numerator
    if activation == "step":
        return Fraction(sum(m for y, m in items if z(y) > 0))
    if activation == "sign":
        return Fraction(sum(m if z(y) > 0 else -m for y, m in items if z(y) != 0))
    if activation == "relu":
        return Fraction(sum(m * z(y) for y, m in items if z(y) > 0), neuron.denominator)
    assert isinstance(activation, Activation)
    return sum((m * activation(Fraction(z(y), neuron.denominator)) for y, m in items if m), Fraction(0))


def integer_neuron_coefficient(neuron: IntegerNeuron, subset: frozenset[int], activation: object) -> Fraction:
    """ghat(T) of a neuron in integer form (module docstring, steps 2-4)."""
    if subset & neuron.zero:
        return Fraction(0)  # E[x_i] = 0 for a coordinate the neuron ignores
    check_state_count(neuron)
    flipped = [i in subset for i in neuron.index]
    if neuron.is_dense():
        measure: dict[int, int] | list[int] = dense_measure(neuron.magnitudes, flipped)
    else:
        measure = sparse_measure(neuron.magnitudes, flipped)
    sign = -1 if len(subset & neuron.negative) % 2 else 1
    return sign * measure_sum(neuron, measure, activation) / (1 << len(neuron.magnitudes))


def ltf_fraction(
    weights: Sequence[RationalLike], bias: RationalLike, subset: Iterable[int], activation: ActivationLike = "relu"
) -> Fraction:
    """:func:`ltf_coefficient` as a ``fractions.Fraction`` (no sympy conversion; for loops)."""
    exact = [exact_weight(w, f"weights[{i}]") for i, w in enumerate(weights)]
    if not exact:
        raise ValueError("weights must have at least one entry")
    chosen = _check_subset(subset, len(exact))
    neuron = IntegerNeuron.from_weights(exact, exact_weight(bias, "bias"))
    return integer_neuron_coefficient(neuron, chosen, activation_key(activation))


def ltf_coefficient(
    weights: Sequence[RationalLike], bias: RationalLike, subset: Iterable[int], activation: ActivationLike = "relu"
) -> sympy.Rational:
    """Exact Fourier coefficient E_x[chi_T(x) act(w . x + b)], x uniform on {-1, +1}^s.

    Dynamic programming over the signed count of partial sums (module docstring;
    docs/science.md 4.2 for the equal-weight special case, which :func:`theory.fourier.coefficient`
    computes by the Krawtchouk formula and which this must and does agree with).

    Complexity: D the common denominator of the w_i and b, g the gcd of the nonzero D w_i,
    Y = sum_i |D w_i| / g <= D * sum_i |w_i|, s' the number of nonzero weights. Time
    O(s' * min(Y + 1, 2^{s'})) additions of (s' + 1)-bit integers plus min(Y + 1, 2^{s'})
    activation calls; memory O(min(Y + 1, 2^{s'})). Integer weights up to 10 on s = 200
    inputs: Y <= 2000 states, milliseconds (docs/theory_for_proofs.md has measurements).

    Args:
        weights: w_1..w_s; int, Fraction, sympy.Rational, "1/3", or float (converted exactly:
            the binary double; denominators up to 2^1074 keep the DP exact, and its state
            count is then the number of distinct partial sums, at most 2^s).
        bias: b, same types.
        subset: T as indices into ``weights`` (any iterable of distinct ints).
        activation: a name, an :class:`~theory.activations.Activation` or an exact callable.

    Size limit: before building anything, the state count is bounded by
    min(Y + 1, prod over distinct |D w_i| / g of (multiplicity + 1)) (:func:`state_count_bound`);
    above ``MAX_STATES`` = 2^22 the call is refused at once (a dense neuron with 24 distinct float
    weights used to build 10^7 states for 41 s and 2.85 GB before failing).

    Raises:
        ValueError: empty weights, a non-rational or non-finite weight or bias, a subset index
            out of range or repeated, an unknown activation, or a state-count bound above
            ``MAX_STATES`` (raised before any allocation).
    """
    return to_rational(ltf_fraction(weights, bias, subset, activation))


@dataclass(frozen=True)
class RoundedCoefficient:
    """A coefficient of the neuron rounded to a grid, with a rigorous bound on the rounding error.

    |ghat_true(T) - value| <= error_bound = L * (sum_i |w_i - w'_i| + |b - b'|), because
    |E[chi_T (act(z) - act(z'))]| <= E|act(z) - act(z')| <= L E|z - z'| <= L (sum |w_i - w'_i| + |b - b'|).
    """

    value: sympy.Rational
    error_bound: sympy.Rational
    weights: tuple[Fraction, ...]
    bias: Fraction
    grid: int


def ltf_coefficient_on_grid(
    weights: Sequence[RationalLike],
    bias: RationalLike,
    subset: Iterable[int],
    activation: ActivationLike = "relu",
    grid: int = 1024,
) -> RoundedCoefficient:
    """ghat(T) of the neuron with every weight and the bias rounded to the nearest multiple of 1/grid.

    For a Lipschitz activation (relu: L = 1; leaky relu: L = max(1, |slope|); an
    :class:`~theory.activations.Activation` with ``lipschitz`` set) the returned
    ``error_bound`` = L * (sum |w_i - w'_i| + |b - b'|) <= L (s + 1) / (2 grid) bounds the
    distance to the exact coefficient of the unrounded neuron. Cost: the DP of
    :func:`ltf_coefficient` with D <= grid, i.e. O(s * grid * sum |w_i|).

    Raises:
        ValueError: grid < 1, or an activation without a Lipschitz constant (step, sign,
            square, plain callables): a rounding error there has no such bound.
    """
    q = check_int(grid, "grid", 1)
    act = resolve_activation(activation)
    if act.lipschitz is None:
        raise ValueError(f"activation {act.name!r} has no Lipschitz constant: grid rounding has no error bound for it")
    exact = [exact_weight(w, f"weights[{i}]") for i, w in enumerate(weights)]
    b = exact_weight(bias, "bias")
    rounded = [Fraction(round(w * q), q) for w in exact]
    rounded_bias = Fraction(round(b * q), q)
    value = ltf_fraction(rounded, rounded_bias, subset, act)
    error = act.lipschitz * (sum(abs(w - r) for w, r in zip(exact, rounded)) + abs(b - rounded_bias))
    return RoundedCoefficient(to_rational(value), to_rational(error), tuple(rounded), rounded_bias, q)
