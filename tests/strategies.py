"""Reusable hypothesis strategies with size caps, in one module (style of array-api-tests).

Every strategy takes explicit caps so a test states how big its examples may get; the
defaults keep brute-force oracles (2^s points, C(n, s) subsets) cheap. Other test modules
add their strategies here rather than defining private copies.
"""

from __future__ import annotations

from fractions import Fraction

import sympy
from hypothesis import strategies as st

ACTIVATIONS = ("relu", "step", "sign")


def activations() -> st.SearchStrategy[str]:
    """One of the activations theory.fourier supports."""
    return st.sampled_from(ACTIVATIONS)


def rational_biases(max_abs: int = 6, max_denominator: int = 6) -> st.SearchStrategy[Fraction]:
    """Exact rational biases p/q with |p/q| <= max_abs and 1 <= q <= max_denominator.

    Small denominators make the pre-activation s - 2j + b hit 0 often (the step(0) = 0 and
    sign(0) = 0 conventions matter there), so these biases exercise the edge cases.
    """
    return st.integers(1, max_denominator).flatmap(
        lambda q: st.integers(-max_abs * q, max_abs * q).map(lambda p: Fraction(p, q))
    )


def bias_spellings(bias: Fraction) -> list[object]:
    """The same bias in every input type the API accepts (int only when it is integral)."""
    spellings: list[object] = [bias, sympy.Rational(bias.numerator, bias.denominator), str(bias)]
    if bias.denominator == 1:
        spellings.append(int(bias))
    return spellings


@st.composite
def support_and_degree(draw: st.DrawFn, max_s: int = 12) -> tuple[int, int]:
    """(s, d) with 1 <= s <= max_s and 0 <= d <= s."""
    s = draw(st.integers(1, max_s))
    return s, draw(st.integers(0, s))


@st.composite
def parity_sizes(draw: st.DrawFn, max_n: int = 12, min_n: int = 1) -> tuple[int, int, int]:
    """(n, k, s) with 1 <= k, s <= n <= max_n: a parity and a support size."""
    n = draw(st.integers(min_n, max_n))
    return n, draw(st.integers(1, n)), draw(st.integers(1, n))


@st.composite
def parity_sizes_with_overlap(draw: st.DrawFn, max_n: int = 10) -> tuple[int, int, int, int]:
    """(n, k, s, o) with o = |U ∩ S| feasible: max(0, s + k - n) <= o <= min(k, s)."""
    n, k, s = draw(parity_sizes(max_n=max_n))
    return n, k, s, draw(st.integers(max(0, s + k - n), min(k, s)))


def probabilities(min_denominator: int = 2, max_denominator: int = 1000) -> st.SearchStrategy[Fraction]:
    """Exact probabilities strictly inside (0, 1) with a bounded denominator."""
    return st.integers(min_denominator, max_denominator).flatmap(
        lambda q: st.integers(1, q - 1).map(lambda p: Fraction(p, q))
    )


def mixed_run_configs(
    ns: tuple[int, int], widths: tuple[int, int], samples: tuple, lrs: tuple[float, float, float],
    max_steps: tuple[int, int, int, int], seed_step: int, seed_offset: int, count: int = 16,
) -> list:
    """``count`` RunConfigs that differ in every field a batch may mix (n, width, samples
    incl. online, init, loss, lr, max_steps, seed): for batched-vs-alone and cross-backend
    tests. Deterministic, so each test's fixed seeds decide its outcomes."""
    from sim import RunConfig

    losses = ("hinge", "square", "logistic")
    return [
        RunConfig(
            n=ns[i % 2], k=3, width=widths[(i // 2) % 2], samples=samples[i % 4],
            init=("dense", "sparse")[(i // 3) % 2], loss=losses[i % 3], lr=lrs[(i // 4) % 3],
            max_steps=max_steps[(i // 5) % 4], test_size=500, seed=seed_step * i + seed_offset,
        )
        for i in range(count)
    ]


# --------------------------------------------------------------------------- issue 20
def _cubic_minus_linear(z: Fraction) -> Fraction:
    return z**3 - z  # odd, unbounded: exercises a user-supplied exact activation


def _absolute_value(z: Fraction) -> Fraction:
    return abs(z)


def _shifted_step(z: Fraction) -> int:
    return 1 if z >= 0 else 0  # step with step(0) = 1: the convention the named step avoids


#: Every named activation of theory.activations plus user-supplied exact callables.
ALL_ACTIVATIONS = ("relu", "step", "sign", "leaky_relu", "square", _cubic_minus_linear, _absolute_value, _shifted_step)


def all_activations() -> st.SearchStrategy[object]:
    """A named activation or an exact callable on Fractions."""
    return st.sampled_from(ALL_ACTIVATIONS)


def rational_weight_vectors(max_len: int = 12, max_abs: int = 4, max_denominator: int = 4) -> st.SearchStrategy[list[Fraction]]:
    """Weight vectors of 1..max_len exact rationals (zeros and negatives included).

    Small numerators and denominators make partial sums collide and pre-activations hit 0,
    where the step(0) = 0 and sign(0) = 0 conventions decide the answer.
    """
    weight = st.integers(1, max_denominator).flatmap(
        lambda q: st.integers(-max_abs * q, max_abs * q).map(lambda p: Fraction(p, q))
    )
    # Length first, uniformly: st.lists alone rarely reaches the caps the tests are about.
    return st.integers(1, max_len).flatmap(lambda size: st.lists(weight, min_size=size, max_size=size))


@st.composite
def weights_and_subset(draw: st.DrawFn, max_len: int = 12) -> tuple[list[Fraction], list[int]]:
    """A rational weight vector and a subset T of its indices."""
    weights = draw(rational_weight_vectors(max_len=max_len))
    subset = draw(st.lists(st.integers(0, len(weights) - 1), unique=True, max_size=len(weights)))
    return weights, subset


# --------------------------------------------------------------------------- issue 18
#: A non-parity target of each kind with its parameters (k = 3 for all; the multitask one needs n >= 7).
OTHER_TARGETS: tuple[dict, ...] = (
    {"target": "noisy_parity", "label_noise": 0.1}, {"target": "staircase"}, {"target": "sparse_majority"},
    {"target": "multitask_parity", "tasks": 2},
)


def with_other_targets(configs: list) -> list:
    """The configs with their targets cycling through :data:`OTHER_TARGETS` (k = 3 kept): the
    parity's equivalence tests, rerun on every other target (labels are data: kernels do not change)."""
    return [config.replace(k=3, **OTHER_TARGETS[i % len(OTHER_TARGETS)]) for i, config in enumerate(configs)]
