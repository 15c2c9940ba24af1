"""theory.predict: Theorem 4 / Theorem 5 scalings of docs/science.md 4.3."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.predict import predicted_frontier, theorem4, theorem5


def test_theorem4_hand_values() -> None:
    pred = theorem4(100, 4, 8, epsilon=0.1)
    assert pred.width == pytest.approx((100 / 8) ** 4)
    assert pred.samples == pytest.approx((8 / 4) ** 3 * 100**2 * math.log(100))
    assert pred.steps == pytest.approx(100.0)
    assert theorem4(100, 4, 8).steps is None


def test_theorem5_hand_values() -> None:
    pred = theorem5(120, 6, 2)
    assert pred.width == pytest.approx((120 / 6) ** 2)
    assert pred.samples == pytest.approx((120 / 6) ** 3)
    assert pred.steps == 1.0


@settings(max_examples=60, deadline=None)
@given(st.integers(8, 10**4), st.sampled_from([2, 4, 6]), st.floats(0.1, 10), st.floats(0.1, 10), st.floats(0.1, 10))
def test_constants_scale_linearly_and_width_trades_against_samples(n: int, k: int, c2: float, c3: float, c4: float) -> None:
    s_small, s_large = k, min(n, 4 * k)
    base = theorem4(n, k, s_small, epsilon=0.5)
    scaled = theorem4(n, k, s_small, epsilon=0.5, c2=c2, c3=c3, c4=c4)
    assert scaled.width == pytest.approx(c2 * base.width)
    assert scaled.samples == pytest.approx(c3 * base.samples)
    assert scaled.steps == pytest.approx(c4 * base.steps)
    # Larger supports: fewer neurons needed, more samples (docs/science.md 4.3).
    wide = theorem4(n, k, s_large)
    assert wide.width <= base.width and wide.samples >= base.samples


def test_dense_limit_recovers_constant_width() -> None:
    pred = theorem4(200, 4, 200)
    assert pred.width == pytest.approx(1.0)
    assert pred.samples == pytest.approx((200 / 4) ** 3 * 200**2 * math.log(200))


def test_dispatch_by_regime() -> None:
    assert predicted_frontier(100, 4, 8).theorem.startswith("Theorem 4")
    assert predicted_frontier(100, 4, 2).theorem.startswith("Theorem 5")
    assert predicted_frontier(100, 4, 8, c2=3.0).width == pytest.approx(3 * (100 / 8) ** 4)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: theorem4(100, 3, 8), "k even"),
        (lambda: theorem4(100, 4, 6, c1=2), "c1"),
        (lambda: theorem4(100, 4, 8, c2=0), "c2"),
        (lambda: theorem4(100, 4, 8, epsilon=-1.0), "epsilon"),
        (lambda: theorem4(10, 4, 11), "s=11"),
        (lambda: theorem5(100, 4, 4), "s < k"),
        (lambda: theorem5(100, 5, 2), "even"),
        (lambda: theorem5(100, 4, 2, c_samples=float("inf")), "c_samples"),
    ],
)
def test_hypotheses_and_bad_input_raise(call, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        call()


def test_hypotheses_can_be_waived_to_extrapolate() -> None:
    assert theorem4(100, 3, 8, check_hypotheses=False).width == pytest.approx((100 / 8) ** 3)
    assert theorem5(100, 5, 2, check_hypotheses=False).samples == pytest.approx((100 / 5) ** 2)
