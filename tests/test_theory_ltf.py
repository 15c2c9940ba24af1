"""theory.ltf.ltf_coefficient (any linear-threshold neuron) and activations as data, against
brute force over {-1,1}^s, the symmetric Krawtchouk formula and algebraic identities."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import ALL_ACTIVATIONS, all_activations, rational_biases, rational_weight_vectors, weights_and_subset
from theory import fourier
from theory.activations import NAMED_ACTIVATIONS, leaky_relu, resolve_activation
from theory.ltf import (
    IntegerNeuron,
    dense_measure,
    ltf_coefficient,
    ltf_coefficient_on_grid,
    measure_sum,
    sparse_measure,
)
from theory_oracles import brute_force_ltf


def fraction(value: sympy.Rational) -> Fraction:
    return Fraction(int(value.p), int(value.q))


@settings(max_examples=150, deadline=None)
@given(weights_and_subset(max_len=12), rational_biases(max_abs=6, max_denominator=4), all_activations())
def test_ltf_coefficient_equals_brute_force(ws: tuple[list[Fraction], list[int]], bias: Fraction, activation: object) -> None:
    weights, subset = ws
    assert ltf_coefficient(weights, bias, subset, activation) == brute_force_ltf(weights, bias, subset, activation)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=8), st.floats(-2, 2), st.data())
def test_float_weights_are_their_exact_binary_value(weights: list[float], bias: float, data: st.DataObject) -> None:
    subset = data.draw(st.lists(st.integers(0, len(weights) - 1), unique=True))
    activation = data.draw(st.sampled_from(("relu", "step", "sign")))
    exact = [Fraction(w) for w in weights]
    assert ltf_coefficient(weights, bias, subset, activation) == brute_force_ltf(exact, Fraction(bias), subset, activation)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s))),
       rational_biases(max_abs=60, max_denominator=5), all_activations())
def test_equal_weights_agree_with_the_symmetric_krawtchouk_formula(sd: tuple[int, int], bias: Fraction,
                                                                   activation: object) -> None:
    s, degree = sd
    subset = random.Random(s * 1000 + degree).sample(range(s), degree)  # any d-subset: symmetric
    assert ltf_coefficient([1] * s, bias, subset, activation) == fourier.coefficient(s, degree, bias, activation)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s))),
       rational_biases(max_abs=40, max_denominator=3), st.fractions(min_value=Fraction(1, 9), max_value=9))
def test_step_is_invariant_under_positive_scaling(sd: tuple[int, int], bias: Fraction, scale: Fraction) -> None:
    s, degree = sd
    scaled = ltf_coefficient([scale] * s, bias * scale, range(degree), "step")
    assert scaled == fourier.coefficient(s, degree, bias, "step")


@settings(max_examples=60, deadline=None)
@given(weights_and_subset(max_len=10), rational_biases(max_abs=6, max_denominator=4), st.data())
def test_negating_a_weight_negates_the_coefficients_containing_it(ws: tuple[list[Fraction], list[int]], bias: Fraction,
                                                                   data: st.DataObject) -> None:
    # x_i -> -x_i is measure preserving: ghat_{w with -w_i}(T) = (-1)^{[i in T]} ghat_w(T).
    weights, subset = ws
    i = data.draw(st.integers(0, len(weights) - 1))
    flipped = list(weights)
    flipped[i] = -flipped[i]
    sign = -1 if i in subset else 1
    assert ltf_coefficient(flipped, bias, subset, "relu") == sign * ltf_coefficient(weights, bias, subset, "relu")


@settings(max_examples=60, deadline=None)
@given(weights_and_subset(max_len=10), rational_biases(max_abs=6, max_denominator=4), all_activations())
def test_dense_and_sparse_dp_agree(ws: tuple[list[Fraction], list[int]], bias: Fraction, activation: object) -> None:
    weights, subset = ws
    neuron = IntegerNeuron.from_weights(weights, bias)
    flipped = [i in subset for i in neuron.index]
    dense = dense_measure(neuron.magnitudes, flipped)
    sparse = sparse_measure(neuron.magnitudes, flipped)
    assert {y: m for y, m in enumerate(dense) if m} == sparse
    key = resolve_activation(activation) if not isinstance(activation, str) else activation
    if key in ("leaky_relu", "square"):
        key = NAMED_ACTIVATIONS[key]
    assert measure_sum(neuron, dense, key) == measure_sum(neuron, sparse, key)


def test_large_integer_neuron_is_exact() -> None:
    # s = 200 equal weights 7 with bias 21 is 7 relu(sum x_i + 3): the symmetric formula, scaled.
    assert ltf_coefficient([7] * 200, 21, range(3), "relu") == 7 * fourier.coefficient(200, 3, 3, "relu")
    # s = 16 mixed integer weights: brute force over all 65536 inputs.
    rng = random.Random(5)
    weights = [Fraction(rng.randint(-10, 10)) for _ in range(16)]
    for subset in ([], [3], [0, 5, 9], list(range(16))):
        assert ltf_coefficient(weights, Fraction(1, 3), subset, "sign") == brute_force_ltf(weights, Fraction(1, 3), subset, "sign")


# ----------------------------------------------------------------------------- activations
@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s))),
       rational_biases(max_abs=40, max_denominator=5), st.fractions(min_value=-3, max_value=3, max_denominator=7))
def test_leaky_relu_is_relu_plus_a_linear_part(sd: tuple[int, int], bias: Fraction, slope: Fraction) -> None:
    # leaky(z) = (1 - a) relu(z) + a z, and z = x_1 + ... + x_s + b has levels b, 1, 0, 0, ...
    s, degree = sd
    linear = {0: bias, 1: Fraction(1)}.get(degree, Fraction(0))
    expected = (1 - slope) * fraction(fourier.coefficient(s, degree, bias, "relu")) + slope * linear
    assert fourier.coefficient(s, degree, bias, leaky_relu(slope)) == sympy.Rational(expected.numerator, expected.denominator)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s))), rational_biases(max_abs=40))
def test_square_has_the_closed_form_spectrum(sd: tuple[int, int], bias: Fraction) -> None:
    # (sum x_i + b)^2 = s + b^2 + 2 b sum_i x_i + 2 sum_{i<j} x_i x_j
    s, degree = sd
    expected = {0: s + bias**2, 1: 2 * bias, 2: Fraction(2)}.get(degree, Fraction(0))
    assert fourier.coefficient(s, degree, bias, "square") == sympy.Rational(expected.numerator, expected.denominator)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 50).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s))),
       rational_biases(max_abs=50, max_denominator=5), st.sampled_from(("relu", "step", "sign")))
def test_callable_path_equals_the_integer_fast_path(sd: tuple[int, int], bias: Fraction, name: str) -> None:
    s, degree = sd
    slow = NAMED_ACTIVATIONS[name].function  # same function, but a plain callable: general path
    assert fourier.coefficient(s, degree, bias, slow) == fourier.coefficient(s, degree, bias, name)
    assert fourier.spectrum(s, bias, slow)[degree] == fourier.coefficient(s, degree, bias, name)


def test_every_named_activation_is_in_activations() -> None:
    assert set(fourier.ACTIVATIONS) == {"relu", "step", "sign", "leaky_relu", "square"}
    assert leaky_relu().name == "leaky_relu" and leaky_relu("1/5").lipschitz == 1
    assert leaky_relu(3).lipschitz == 3 and resolve_activation("relu").lipschitz == 1
    assert len(ALL_ACTIVATIONS) > len(fourier.ACTIVATIONS)  # the strategies also draw callables


# ----------------------------------------------------------------------------- grid rounding
@settings(max_examples=40, deadline=None)
@given(rational_weight_vectors(max_len=8, max_abs=2, max_denominator=97), rational_biases(max_abs=2, max_denominator=89),
       st.sampled_from(("relu", "leaky_relu")), st.sampled_from((4, 16, 64)), st.data())
def test_grid_rounding_error_bound_holds(weights: list[Fraction], bias: Fraction, activation: str, grid: int,
                                         data: st.DataObject) -> None:
    subset = data.draw(st.lists(st.integers(0, len(weights) - 1), unique=True))
    rounded = ltf_coefficient_on_grid(weights, bias, subset, activation, grid=grid)
    exact = ltf_coefficient(weights, bias, subset, activation)
    assert abs(exact - rounded.value) <= rounded.error_bound
    assert rounded.error_bound <= sympy.Rational(len(weights) + 1, 2 * grid) * resolve_activation(activation).lipschitz
    assert all((w * grid).denominator == 1 for w in rounded.weights)


# ----------------------------------------------------------------------------- bad input
def _float_valued(z: Fraction) -> float:
    return float(z)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: ltf_coefficient([], 0, []), "weights"),
        (lambda: ltf_coefficient([1, 2], 0, [2]), "subset index 2"),
        (lambda: ltf_coefficient([1, 2], 0, [1, 1]), "repeated"),
        (lambda: ltf_coefficient([1, 2], 0, [-1]), "subset index"),
        (lambda: ltf_coefficient([1, math.inf], 0, [0]), r"weights\[1\]"),
        (lambda: ltf_coefficient([1, "x"], 0, [0]), r"weights\[1\]"),
        (lambda: ltf_coefficient([1], float("nan"), [0]), "bias"),
        (lambda: ltf_coefficient([1], 0, [0], "tanh"), "activation"),
        (lambda: ltf_coefficient([1], 0, [0], _float_valued), "_float_valued"),
        (lambda: fourier.coefficient(3, 1, 0, _float_valued), "exact int or Fraction"),
        (lambda: fourier.coefficient(3, 1, 0, 3.5), "activation"),
        (lambda: ltf_coefficient_on_grid([1], 0, [0], "step"), "Lipschitz"),
        (lambda: ltf_coefficient_on_grid([1], 0, [0], "relu", grid=0), "grid"),
        (lambda: leaky_relu("steep"), "slope"),
    ],
)
def test_bad_input_raises_value_error_naming_it(call, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        call()


@pytest.mark.parametrize("mutant", ["numerator", "dp_pad"])
def test_a_planted_off_by_one_is_caught_by_the_brute_force_oracle(monkeypatch, mutant: str) -> None:
    """The oracle can fail: an off-by-one planted in the pre-activation numerator (A - 2 g y + c + 1)
    or in the DP's shift (u^(e+1) instead of u^e) disagrees with brute force on fixed neurons."""
    import theory.ltf as ltf

    if mutant == "numerator":
        monkeypatch.setattr(ltf.IntegerNeuron, "pre_activation_numerator",
                            lambda self, y: self.total - 2 * self.gcd * y + self.offset + 1)
    else:
        real = ltf.dense_measure
        monkeypatch.setattr(ltf, "dense_measure", lambda magnitudes, flipped: real([e + 1 for e in magnitudes], flipped))
    rng = random.Random(0)
    cases = [([Fraction(rng.randint(-6, 6), rng.randint(1, 3)) for _ in range(5)], Fraction(rng.randint(-4, 4), 2))
             for _ in range(10)]
    disagreements = sum(ltf_coefficient(w, b, subset, activation) != brute_force_ltf(w, b, subset, activation)
                        for w, b in cases for subset in ([], [0], [1, 2]) for activation in ("relu", "step"))
    assert disagreements > 0
    monkeypatch.undo()
    assert all(ltf_coefficient(w, b, [0], "relu") == brute_force_ltf(w, b, [0], "relu") for w, b in cases)


# --------------------------------------------------------------------------- issue 27: the size limit up front
@settings(max_examples=80, deadline=None)
@given(rational_weight_vectors(max_len=10, max_abs=4, max_denominator=4), rational_biases(max_abs=4, max_denominator=4))
def test_state_count_bound_bounds_the_reachable_partial_sums(weights: list[Fraction], bias: Fraction) -> None:
    """The bound is known before the DP and is never below the number of partial sums it reaches."""
    from theory.ltf import state_count_bound

    neuron = IntegerNeuron.from_weights(weights, bias)
    reachable = {0}
    for e in neuron.magnitudes:
        reachable |= {y + e for y in reachable}
    assert len(reachable) <= state_count_bound(neuron.magnitudes) <= sum(neuron.magnitudes) + 1
    assert state_count_bound([3] * 30) == 31  # equal weights: s + 1 sums, not 2^s


def test_a_dense_float_neuron_is_refused_before_any_state_is_built(monkeypatch) -> None:
    """24 distinct float weights (up to 2^24 partial sums) used to build 10^7 states for 41 s and 2.85 GB
    before failing; now the bound refuses them before either DP runs (both are made to fail here)."""
    import theory.ltf as ltf

    def never(*args):
        raise AssertionError("the DP ran")

    monkeypatch.setattr(ltf, "sparse_measure", never)
    monkeypatch.setattr(ltf, "dense_measure", never)
    rng = random.Random(0)
    weights = [rng.uniform(-1, 1) for _ in range(24)]
    with pytest.raises(ValueError, match=r"up to 16777216 partial sums .* MAX_STATES = 4194304"):
        ltf_coefficient(weights, 0.1, [0, 1], "step")
    # The same neuron rounded to a grid stays exact and cheap (the error message's advice).
    monkeypatch.undo()
    assert ltf_coefficient_on_grid(weights, 0.1, [0, 1], "relu", grid=16).error_bound <= Fraction(25, 32)
    # A neuron under the limit still runs: 2^10 sums.
    assert ltf_coefficient(weights[:10], 0.1, [0, 1], "step") == brute_force_ltf(
        [Fraction(w) for w in weights[:10]], Fraction(0.1), [0, 1], "step")
