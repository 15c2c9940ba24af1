"""Predicted width and sample size from the paper's upper bounds (docs/science.md 4.3).

Paper: Edelman et al. 2023 (arXiv 2309.03800), Theorem 4 (over-sparse initialisation) and
Theorem 5 (under-sparse initialisation). Both are asymptotic with unknown constants; they are
keyword parameters here (default 1), so a prediction is a *scaling*, not a number to compare
digit by digit. Fit the constants to data (``verify/``) before reading off thresholds.

Integers give floats (as always). A sympy symbol for n (or s, k, a constant, epsilon) gives
the closed form, e.g. ``theorem4(Symbol("n"), 4, 8).samples == 8 n^2 log(n)``; a hypothesis
sympy cannot decide (k even, s >= c1 k for a symbol without assumptions) raises ValueError
unless ``check_hypotheses=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import sympy

from theory._exact import as_expression, check_nks, check_symbolic_sizes, decided, is_symbolic

Number = Union[float, sympy.Expr]


@dataclass(frozen=True)
class Prediction:
    """A predicted operating point: width r, samples m and steps T (None when not given)."""

    theorem: str
    n: int | sympy.Expr
    k: int | sympy.Expr
    s: int | sympy.Expr
    width: Number
    samples: Number
    steps: Number | None


def _check_positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _positive_expression(value: object, name: str) -> sympy.Expr:
    """A constant on the symbolic path: a symbol as given, a float by its decimal (0.5 = 1/2)."""
    if isinstance(value, sympy.Basic) and value.free_symbols:
        return value  # type: ignore[return-value]
    expression = as_expression(value, name)
    if not expression > 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return expression


def _check_even(value: sympy.Expr, name: str, theorem: str) -> None:
    # is_even is True, False, or None for a symbol whose assumptions do not say.
    if not decided(sympy.true if value.is_even else sympy.false if value.is_even is False else sympy.Eq(value % 2, 0),
                   f"whether {name} is even"):
        raise ValueError(f"{theorem} needs {name} even, got {name}={value} (pass check_hypotheses=False to extrapolate)")


def _symbolic_theorem4(n, k, s, epsilon, constants, check_hypotheses) -> Prediction:
    n_e, k_e, s_e = check_symbolic_sizes(n, k, s)
    c1, c2, c3, c4 = (_positive_expression(c, name) for c, name in zip(constants, ("c1", "c2", "c3", "c4")))
    if check_hypotheses:
        _check_even(k_e, "k", "Theorem 4")
        if not decided(sympy.Ge(s_e, c1 * k_e), "whether s >= c1*k"):
            raise ValueError(f"Theorem 4 needs s >= c1*k = {c1 * k_e}, got s={s_e}")
    steps = None if epsilon is None else c4 / _positive_expression(epsilon, "epsilon") ** 2
    return Prediction(
        theorem="Theorem 4 (over-sparse)",
        n=n_e,
        k=k_e,
        s=s_e,
        width=c2 * (n_e / s_e) ** k_e,
        samples=c3 * (s_e / k_e) ** (k_e - 1) * n_e**2 * sympy.log(n_e),
        steps=steps,
    )


def theorem4(
    n: int,
    k: int,
    s: int,
    *,
    epsilon: float | None = None,
    c1: float = 1.0,
    c2: float = 1.0,
    c3: float = 1.0,
    c4: float = 1.0,
    check_hypotheses: bool = True,
) -> Prediction:
    """Theorem 4 (over-sparse s-hot init, k even, s >= c1 * k):

        width   r = c2 * (n / s)^k
        samples m = c3 * (s / k)^{k-1} * n^2 * log(n)
        steps   T = c4 / epsilon^2          (only when ``epsilon``, the target loss, is given)

    give loss <= epsilon with probability 0.99 (docs/science.md 4.3). s ~ n recovers constant
    width with ~ n^{k+1} samples; constant s needs width ~ n^k but only ~ n^2 log n samples.

    Raises:
        ValueError: bad sizes or constants; with ``check_hypotheses`` (default) also k odd or
            s < c1 * k, where the theorem says nothing (pass False to extrapolate).
    """
    if is_symbolic(n, k, s, epsilon, c1, c2, c3, c4):
        return _symbolic_theorem4(n, k, s, epsilon, (c1, c2, c3, c4), check_hypotheses)
    n_i, k_i, s_i = check_nks(n, k, s)
    assert s_i is not None
    c1, c2, c3, c4 = (_check_positive(c, name) for c, name in ((c1, "c1"), (c2, "c2"), (c3, "c3"), (c4, "c4")))
    if check_hypotheses:
        if k_i % 2:
            raise ValueError(f"Theorem 4 needs k even, got k={k_i} (pass check_hypotheses=False to extrapolate)")
        if s_i < c1 * k_i:
            raise ValueError(f"Theorem 4 needs s >= c1*k = {c1 * k_i:g}, got s={s_i}")
    steps = None if epsilon is None else c4 / _check_positive(epsilon, "epsilon") ** 2
    return Prediction(
        theorem="Theorem 4 (over-sparse)",
        n=n_i,
        k=k_i,
        s=s_i,
        width=c2 * (n_i / s_i) ** k_i,
        samples=c3 * (s_i / k_i) ** (k_i - 1) * n_i**2 * math.log(n_i),
        steps=steps,
    )


def _symbolic_theorem5(n, k, s, c_width, c_samples, check_hypotheses) -> Prediction:
    n_e, k_e, s_e = check_symbolic_sizes(n, k, s)
    c_w, c_m = _positive_expression(c_width, "c_width"), _positive_expression(c_samples, "c_samples")
    if check_hypotheses:
        _check_even(k_e, "k", "Theorem 5")
        _check_even(s_e, "s", "Theorem 5")
        if not decided(sympy.Lt(s_e, k_e), "whether s < k"):
            raise ValueError(f"Theorem 5 is the under-sparse case s < k, got s={s_e} >= k={k_e}")
    return Prediction(
        theorem="Theorem 5 (under-sparse)",
        n=n_e,
        k=k_e,
        s=s_e,
        width=c_w * (n_e / k_e) ** s_e,
        samples=c_m * (n_e / k_e) ** (k_e - s_e - 1),
        steps=sympy.Integer(1),
    )


def theorem5(
    n: int,
    k: int,
    s: int,
    *,
    c_width: float = 1.0,
    c_samples: float = 1.0,
    check_hypotheses: bool = True,
) -> Prediction:
    """Theorem 5 (under-sparse, epsilon-perturbed s-hot init, k and s even, s < k):

        width   r = c_width * (n / k)^s
        samples m = c_samples * (n / k)^{k-s-1}
        steps   T = 1 (one step of clipped batch gradient descent)

    suffice for a subnetwork computing the parity to exist (docs/science.md 4.3). The signal behind
    the sample count, as a series in the symbol epsilon of the init, is
    :func:`theory.perturbed.epsilon_signal` (its leading term ~ (n - s)^{-(k-s-1)/2}).

    Raises:
        ValueError: bad sizes or constants; with ``check_hypotheses`` (default) also k or s
            odd, or s >= k.
    """
    if is_symbolic(n, k, s, c_width, c_samples):
        return _symbolic_theorem5(n, k, s, c_width, c_samples, check_hypotheses)
    n_i, k_i, s_i = check_nks(n, k, s)
    assert s_i is not None
    c_width = _check_positive(c_width, "c_width")
    c_samples = _check_positive(c_samples, "c_samples")
    if check_hypotheses:
        if k_i % 2 or s_i % 2:
            raise ValueError(f"Theorem 5 needs k and s even, got k={k_i}, s={s_i} (check_hypotheses=False to extrapolate)")
        if s_i >= k_i:
            raise ValueError(f"Theorem 5 is the under-sparse case s < k, got s={s_i} >= k={k_i}")
    return Prediction(
        theorem="Theorem 5 (under-sparse)",
        n=n_i,
        k=k_i,
        s=s_i,
        width=c_width * (n_i / k_i) ** s_i,
        samples=c_samples * (n_i / k_i) ** (k_i - s_i - 1),
        steps=1.0,
    )


def predicted_frontier(n: int, k: int, s: int, **constants: float) -> Prediction:
    """Theorem 4 when s >= k, Theorem 5 when s < k (hypotheses checked; constants passed on)."""
    if is_symbolic(n, k, s):
        _, k_e, s_e = check_symbolic_sizes(n, k, s)
        over = decided(sympy.Ge(s_e, k_e), "whether s >= k")
        return theorem4(n, k, s, **constants) if over else theorem5(n, k, s, **constants)
    _, k_i, s_i = check_nks(n, k, s)
    return theorem4(n, k, s, **constants) if s_i is not None and s_i >= k_i else theorem5(n, k, s, **constants)
