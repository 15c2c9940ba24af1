"""Exact Fourier coefficients of a neuron on an s-hot support, and its population gradient.

docs/science.md 4.2-4.3 (paper: Edelman et al. 2023, arXiv 2309.03800, Sections 3-4, and the
Fourier-gap argument of its Appendix). A neuron with support U, |U| = s, weights +1 on U
and bias b computes g(x) = act(x_1 + ... + x_s + b) on x uniform in {-1,+1}^s. g is
symmetric in its inputs, so its Fourier coefficient on T ⊆ U depends only on d = |T|:

    ghat_d = 2^{-s} * sum_{j=0..s} act(s - 2j + b) * K_j(d; s),
    K_j(d; s) = sum_i (-1)^i C(d, i) C(s-d, j-i)   (binary Krawtchouk polynomial),

where j counts the -1 entries of x and K_j(d; s) is the sum of chi_T(x) over those x.
We evaluate K_j(d; s) for j = 0..s by the three-term recurrence in j,

    (j+1) K_{j+1} = (s - 2d) K_j - (s - j + 1) K_{j-1},   K_0 = 1, K_1 = s - 2d,

so one coefficient costs O(s) big-integer operations on O(s)-bit integers: O(s^2) bit work.
Everything is exact: integers and ``fractions.Fraction`` inside, ``sympy.Rational`` out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy

from theory._exact import RationalLike, as_fraction, check_int, check_nks, to_rational
from theory.activations import NAMED_ACTIVATIONS, Activation, ActivationLike, activation_key
from theory.limits import check_support
from theory.ltf import ltf_coefficient
from theory.neuron import signal_carrying_fraction

# Re-exported: general neurons live in theory.ltf / theory.neuron, but a researcher looks here.
__all__ = [
    "ACTIVATIONS",
    "GradientSignal",
    "coefficient",
    "gradient_signal",
    "ltf_coefficient",
    "signal_carrying_fraction",
    "spectrum",
]

#: The activations known by name (see :mod:`theory.activations`): relu(z) = max(0, z);
#: step(z) = 1[z > 0] (step(0) = 0, the derivative of relu as autograd defines it); sign(z) in
#: {-1, 0, +1} with sign(0) = 0; leaky_relu (negative slope 1/100); square. Any exact callable
#: on Fractions, or an :class:`~theory.activations.Activation`, is accepted too.
ACTIVATIONS: tuple[str, ...] = tuple(NAMED_ACTIVATIONS)

def _scaled_activation_values(s: int, bias: Fraction, activation: str | Activation) -> tuple[list[int], int]:
    """Integers v_j and a scale q with act(s - 2j + bias) = v_j / q for j = 0..s.

    Multiplying through by the bias denominator keeps relu with a rational bias in integers;
    a general activation is brought to integers by the common denominator of its values.
    """
    if isinstance(activation, Activation):
        exact = [activation(s - 2 * j + bias) for j in range(s + 1)]
        scale = math.lcm(*(v.denominator for v in exact))
        return [int(v * scale) for v in exact], scale
    p, q = bias.numerator, bias.denominator
    scaled_pre_activations = [q * (s - 2 * j) + p for j in range(s + 1)]  # q * (s - 2j + b)
    if activation == "relu":
        return [max(0, z) for z in scaled_pre_activations], q
    if activation == "step":
        return [1 if z > 0 else 0 for z in scaled_pre_activations], 1
    return [(z > 0) - (z < 0) for z in scaled_pre_activations], 1


@lru_cache(maxsize=65536)
def _coefficient_fraction(s: int, degree: int, bias: Fraction, activation: str | Activation) -> Fraction:
    values, scale = _scaled_activation_values(s, bias, activation)
    last = s
    # act(s - 2j + b) is non-increasing in j for relu and step: once it hits 0 it stays 0,
    # so those terms need no Krawtchouk values at all. (Trailing zeros of any activation may
    # be skipped the same way.)
    while last >= 0 and values[last] == 0:
        last -= 1
    total = 0
    k_prev, k_cur = 0, 1  # K_{-1} (unused), K_0
    linear = s - 2 * degree
    for j in range(last + 1):
        if values[j]:
            total += values[j] * k_cur
        # (j+1) K_{j+1} = (s - 2d) K_j - (s - j + 1) K_{j-1}; the division is exact.
        k_prev, k_cur = k_cur, (linear * k_cur - (s - j + 1) * k_prev) // (j + 1)
    return Fraction(total, scale << s)


def coefficient(s: int, degree: int, bias: RationalLike = 0, activation: ActivationLike = "relu") -> sympy.Rational:
    """Exact Fourier coefficient ghat_d of g(x) = act(x_1 + ... + x_s + bias) on any T, |T| = d.

    Formula (docs/science.md 4.2):  ghat_d = 2^{-s} sum_{j=0..s} act(s - 2j + b) K_j(d; s), with
    K_j(d; s) = sum_i (-1)^i C(d,i) C(s-d,j-i) the binary Krawtchouk polynomial, evaluated by
    its three-term recurrence in j (exact integers). Coefficients on sets not inside the
    support are 0 and not covered here.

    Args:
        s: support size (number of +1 weights), s >= 1.
        degree: d = |T|, 0 <= d <= s.
        bias: the neuron's bias b; int, ``Fraction``, ``sympy.Rational``, a string like
            ``"1/2"`` or a float (read by its shortest decimal representation).
        activation: ``"relu"``, ``"step"`` (1[z>0], step(0)=0), ``"sign"`` (sign(0)=0),
            ``"leaky_relu"`` (slope 1/100), ``"square"``, an
            :class:`~theory.activations.Activation` or any exact callable on Fractions
            (docs/science.md 4.2; :mod:`theory.activations`). relu, step and sign use integer
            fast paths; any other activation is evaluated once per level j (s + 1 calls).

    Returns:
        ``sympy.Rational``: the exact coefficient.

    Raises:
        ValueError: s < 1, degree outside [0, s], unknown activation, or a non-rational bias.
    """
    s_i = check_int(s, "s", 1)
    check_support(s_i)
    d_i = check_int(degree, "degree", 0)
    if d_i > s_i:
        raise ValueError(f"degree={d_i} exceeds s={s_i}: a neuron on s inputs has levels 0..s")
    act = activation_key(activation)
    return to_rational(_coefficient_fraction(s_i, d_i, as_fraction(bias, "bias"), act))


def spectrum(s: int, bias: RationalLike = 0, activation: ActivationLike = "relu") -> list[sympy.Rational]:
    """All s+1 level coefficients [ghat_0, ..., ghat_s] of act(x_1 + ... + x_s + bias).

    Same formula as :func:`coefficient` (docs/science.md 4.2); O(s^2) big-integer operations.
    Parseval: sum_d C(s, d) ghat_d^2 = E[g(x)^2].
    """
    s_i = check_int(s, "s", 1)
    check_support(s_i, "spectrum_support")
    act = activation_key(activation)
    b = as_fraction(bias, "bias")
    return [to_rational(_coefficient_fraction(s_i, d, b, act)) for d in range(s_i + 1)]


@dataclass(frozen=True)
class GradientSignal:
    """Exact population gradient signal at initialisation, per kind of input coordinate.

    Setting (docs/science.md 4.3): one neuron f(x) = u * relu(sum_{i in U} x_i + b) with weights +1
    on its support U (|U| = s, 0 elsewhere), output weight u = 1, target y = chi_S(x) (|S| = k),
    hinge loss max(0, 1 - y f) in its linear part (f ~ 0 at init). The population gradient of
    the loss in input weight w_j is  -u * E[y x_j step(w . x + b)].

    **Sign convention:** the fields hold the *signal*  E[y x_j step(w . x + b)]  =
    stephat(S Δ {j}), i.e. minus the population gradient (u = 1): the direction in which
    one step of gradient descent moves w_j. Multiply by -u for the gradient itself.

    Because y x_j = chi_{S Δ {j}}(x) and step(...) depends only on x_U, the signal is the
    step coefficient of degree |S Δ {j}| when S Δ {j} ⊆ U and 0 otherwise. With
    o = |U ∩ S| (the overlap) that gives:
      * j in S ∩ U:  stephat_{k-1} if o = k (S ⊆ U), else 0;
      * j in U \\ S:  stephat_{k+1} if o = k and s > k, else 0;
      * j in S \\ U:  stephat_{k-1} if o = k - 1 (j is the only target bit missing), else 0;
      * j in neither: always 0.
    A kind with no coordinates has value 0.

    ``relevant`` is the largest-magnitude signal on a coordinate in S and ``irrelevant`` the
    largest-magnitude signal on a coordinate outside S (both signed); ``gap`` =
    |relevant| - |irrelevant| is the Fourier gap. For an over-sparse ticket (S ⊆ U) they are
    stephat_{k-1} and stephat_{k+1} (0 if s = k). For an under-sparse ticket (U ⊆ S) with
    s = k - 1 the missing coordinate gets stephat_s; with k - s >= 2 everything is 0
    (the paper then adds a small dense component epsilon: :func:`theory.perturbed.epsilon_signal`
    gives that signal as a series in a symbol epsilon).

    ``sample_estimate`` = log(n) / gap^2 (natural log; ``inf`` if gap <= 0) is an
    order-of-magnitude estimate of the samples m this neuron needs (the empirical gradient has
    noise ~ 1/sqrt(m) per coordinate, and a union bound over n coordinates costs log n). It
    carries no constant and is not a bound.
    """

    n: int
    k: int
    s: int
    overlap: int
    bias: sympy.Rational
    is_ticket: bool
    in_target_and_support: sympy.Rational
    in_support_only: sympy.Rational
    in_target_only: sympy.Rational
    in_neither: sympy.Rational
    relevant: sympy.Rational
    irrelevant: sympy.Rational
    gap: sympy.Rational
    sample_estimate: float

    def coordinate_counts(self) -> dict[str, int]:
        """How many of the n coordinates are of each kind (keys are the field names)."""
        o = self.overlap
        return {
            "in_target_and_support": o,
            "in_support_only": self.s - o,
            "in_target_only": self.k - o,
            "in_neither": self.n - self.s - self.k + o,
        }


def gradient_signal(
    n: int, k: int, s: int, bias: RationalLike = 0, overlap: int | None = None
) -> GradientSignal:
    """Exact population gradient signal of a neuron with support U against the parity chi_S.

    Signal on coordinate j (docs/science.md 4.3; minus the hinge-loss gradient, output weight 1):
        E[ chi_S(x) x_j step(sum_{i in U} x_i + b) ] = stephat_{|S Δ {j}|}  if S Δ {j} ⊆ U, else 0,
    with stephat_d = :func:`coefficient`(s, d, b, "step"). See :class:`GradientSignal` for the
    case analysis by coordinate kind, the gap and the sample estimate log(n) / gap^2.

    Args:
        n: number of input bits; k: parity degree |S|; s: support size |U|.
        bias: the neuron's bias b (exact; int, Fraction, sympy.Rational, "1/2", float).
        overlap: o = |U ∩ S|, between max(0, s + k - n) and min(k, s). Default min(k, s): the
            lottery ticket (S ⊆ U when s >= k, U ⊆ S when s < k).

    Raises:
        ValueError: impossible sizes (k > n, s > n, s < 1, ...) or an infeasible overlap.
    """
    n_i, k_i, s_i = check_nks(n, k, s)
    assert s_i is not None
    check_support(s_i)
    b = as_fraction(bias, "bias")
    lowest, highest = max(0, s_i + k_i - n_i), min(k_i, s_i)
    o = highest if overlap is None else check_int(overlap, "overlap")
    if not lowest <= o <= highest:
        raise ValueError(
            f"overlap={o} is impossible for n={n_i}, k={k_i}, s={s_i}: |U ∩ S| lies in [{lowest}, {highest}]"
        )

    def step_coefficient(degree: int) -> Fraction:
        return _coefficient_fraction(s_i, degree, b, "step")

    zero = Fraction(0)
    both = step_coefficient(k_i - 1) if o == k_i else zero
    support_only = step_coefficient(k_i + 1) if (o == k_i and s_i > k_i) else zero
    target_only = step_coefficient(k_i - 1) if (o == k_i - 1) else zero
    neither = zero

    counts = {"both": o, "support_only": s_i - o, "target_only": k_i - o, "neither": n_i - s_i - k_i + o}
    relevant = max(
        (v for kind, v in (("both", both), ("target_only", target_only)) if counts[kind] > 0),
        key=abs,
        default=zero,
    )
    irrelevant = max(
        (v for kind, v in (("support_only", support_only), ("neither", neither)) if counts[kind] > 0),
        key=abs,
        default=zero,
    )
    gap = abs(relevant) - abs(irrelevant)
    sample_estimate = math.log(n_i) / float(gap) ** 2 if gap > 0 else math.inf
    return GradientSignal(
        n=n_i,
        k=k_i,
        s=s_i,
        overlap=o,
        bias=to_rational(b),
        is_ticket=(o == k_i) if s_i >= k_i else (o == s_i),
        in_target_and_support=to_rational(both),
        in_support_only=to_rational(support_only),
        in_target_only=to_rational(target_only),
        in_neither=to_rational(neither),
        relevant=to_rational(relevant),
        irrelevant=to_rational(irrelevant),
        gap=to_rational(gap),
        sample_estimate=sample_estimate,
    )
