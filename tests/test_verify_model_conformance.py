"""Conformance of every model in the registry ``verify.models.MODELS``: the tests are
parametrised over the registry, so a model added there is held to them with no new test.

Properties (each model, each init, n = 30, k = 3, s = 2, widths r*/9, r* and 7 r*, r* = 145):

(a) **Curves are per-width calls.** ``expected_success`` and ``predicted_m50`` over several
    widths in one call equal the same calls one width at a time (to 1e-12 and 1e-9 relative).
(b) **Curves are the model's own law.** ``expected_success(r, m)`` equals the success rate of
    networks drawn from the model: type counts N ~ Multinomial(r; q_o) (sparse init; q_o the
    overlap law of theory.lottery) or r dense neurons, then y ~ Bernoulli(success_probability(N)).
    DRAWS networks per (width, m) cell (fixed seed); every cell must lie within Z_TOL binomial
    standard errors sqrt(P (1 - P) / DRAWS) of the curve. Over the 54 cells of the suite
    (3 models x 2 inits x 9 cells) a correct model exceeds 4.5 SE anywhere with probability
    about 54 * 6.8e-6 = 4e-4.
(c) **A planted defect is caught.** Re-introducing the bug of issue 23 (a copy of RunData that
    shares the original's cache, as ``RunData(**data.__dict__)`` did) makes Model B's curves fail
    both (a) and (b): see :func:`test_the_suite_catches_a_shared_cache`.

The constants of each model are its fit to a synthetic store drawn from Model A at THETA_A
(plausible values at the demo's scale for every model, whatever the model).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from theory.lottery import critical_width
from verify import models as M

THETA_A = np.array([0.5, 2.0, 4.2, 0.0, math.log(0.5)])  # a_0, a_1, a_2, a_dense, ln sigma
N, K, S = 30, 3, 2
R_STAR = critical_width(N, K, S)
WIDTHS = (16, R_STAR, 1000)
#: Networks drawn per (width, m) cell for property (b), and the tolerance in standard errors.
DRAWS, Z_TOL = 2000, 4.5
INITS = ("sparse", "dense")


@pytest.fixture(scope="module")
def thetas() -> dict[str, np.ndarray]:
    """Each registered model fitted to one store drawn from Model A (fixed seeds)."""
    design = M.synthetic_design([20, 30, 40], [16, 64, 256, 1024], [150, 250, 400, 650, 1000, 1600], 6, seed=1)
    data = M.simulate_outcomes(M.MODEL_A, THETA_A, design, np.random.default_rng(0))
    return {name: M.fit(model, data).theta for name, model in M.MODELS.items()}


def _log_m(model: M.Model, theta: np.ndarray, init: str) -> np.ndarray:
    """ln m at half, once and twice the model's m_50 at r*: where a curve is neither 0 nor 1."""
    m50 = float(M.predicted_m50(model, theta, N, K, S, init, [R_STAR])[0])
    return np.log(m50 * np.array([0.5, 1.0, 2.0]))


def curve_discrepancy(model: M.Model, theta: np.ndarray, init: str) -> tuple[float, float]:
    """Property (a): (max |P together - P per width|, max relative |m_50 together - m_50 per width|)."""
    log_m = _log_m(model, theta, init)
    together = M.expected_success(model, theta, N, K, S, init, WIDTHS, log_m)
    one_by_one = np.vstack([M.expected_success(model, theta, N, K, S, init, [r], log_m) for r in WIDTHS])
    m50 = M.predicted_m50(model, theta, N, K, S, init, WIDTHS)
    m50_one = np.array([M.predicted_m50(model, theta, N, K, S, init, [r])[0] for r in WIDTHS])
    return float(np.max(np.abs(together - one_by_one))), float(np.max(np.abs(m50 / m50_one - 1)))


def monte_carlo_z(model: M.Model, theta: np.ndarray, init: str, seed: int = 0) -> np.ndarray:
    """Property (b): (observed - expected) / SE per (width, m) cell, DRAWS networks per cell."""
    log_m = _log_m(model, theta, init)
    design = M.synthetic_design([N], WIDTHS, np.exp(log_m), DRAWS, k=K, s=S, inits=(init,), seed=seed)
    drawn = M.simulate_outcomes(model, theta, design, np.random.default_rng(seed + 1))
    expected = M.expected_success(model, theta, N, K, S, init, WIDTHS, log_m)
    z = np.empty(expected.shape)
    for i, r in enumerate(WIDTHS):
        for j, lm in enumerate(log_m):
            cell = (drawn.width == r) & np.isclose(drawn.log_m, lm)
            assert cell.sum() == DRAWS
            p = expected[i, j]
            z[i, j] = (drawn.y[cell].mean() - p) / max(math.sqrt(p * (1 - p) / DRAWS), 1e-12)
    return z


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("name", list(M.MODELS))
def test_curves_over_widths_equal_per_width_calls(thetas, name, init):
    gap, m50_gap = curve_discrepancy(M.MODELS[name], thetas[name], init)
    assert gap <= 1e-12 and m50_gap <= 1e-9, (gap, m50_gap)


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("name", list(M.MODELS))
def test_expected_success_is_the_models_monte_carlo_law(thetas, name, init):
    z = monte_carlo_z(M.MODELS[name], thetas[name], init)
    assert np.all(np.abs(z) <= Z_TOL), np.round(z, 2)


def _shared_cache_replace(self: M.RunData, **changes) -> M.RunData:
    """The bug of issue 23, planted: a copy that keeps the original's cache (its conditions)."""
    copy = dataclasses.replace(self, **changes)
    object.__setattr__(copy, "_cache", self._cache)
    return copy


def test_the_suite_catches_a_shared_cache(thetas, monkeypatch):
    """Property (c). With copies of RunData sharing their cache, Model B's expected_success
    evaluates every width and both ticket cases on the first case's conditions (width r*/9, no
    ticket): its curves over widths differ from per-width calls (a), and its sparse curve misses
    the ticket term, far outside Z_TOL standard errors of the model's own draws (b)."""
    model, theta = M.MODEL_B, thetas["B"]
    monkeypatch.setattr(M.RunData, "replace", _shared_cache_replace)
    for init in INITS:
        gap, m50_gap = curve_discrepancy(model, theta, init)
        assert gap > 0.1 and m50_gap > 0.5, (init, gap, m50_gap)
    assert np.max(np.abs(monte_carlo_z(model, theta, "sparse"))) > 3 * Z_TOL
    monkeypatch.undo()
    assert curve_discrepancy(model, theta, "sparse")[0] <= 1e-12  # the fix, for contrast
