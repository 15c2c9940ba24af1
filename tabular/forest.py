"""Random-forest baseline tuned by random search on a fixed validation split (docs/science.md section 6).

Search space of the Grinsztajn et al. (2022) benchmark, sampled independently per iteration:

- ``n_estimators``: 250 (an option here, to make small runs cheap);
- ``max_features``: uniform over [sqrt, sqrt, log2, None, 0.1, 0.2, ..., 0.9] (sqrt twice as likely);
- ``max_depth``: None with probability 0.7, else 2, 3 or 4 (0.1 each);
- ``min_samples_split``: 2 with probability 0.95, else 3;
- ``min_samples_leaf``: q-log-uniform on [1.5, 50.5] with q = 1, i.e. round(exp(U(log 1.5, log 50.5)));
- ``bootstrap``: True or False (0.5 each);
- ``min_impurity_decrease``: 0 with probability 0.85, else 0.01, 0.02 or 0.05 (0.05 each);
- ``criterion``: gini or entropy (0.5 each).

As in the benchmark, the first candidate is scikit-learn's default forest (with ``n_estimators``
trees); the other ``n_iter - 1`` are random draws. Unlike ``RandomizedSearchCV`` the candidates
are scored on the given validation split (0-1 error), not by cross-validation; ties go to the
earlier candidate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_FEATURES_CHOICES: tuple[Any, ...] = ("sqrt", "sqrt", "log2", None) + tuple(round(0.1 * k, 1) for k in range(1, 10))


def sample_forest_params(rng: np.random.Generator) -> dict[str, Any]:
    """One draw from the benchmark's forest search space (module docstring); no n_estimators."""
    max_features = MAX_FEATURES_CHOICES[int(rng.integers(len(MAX_FEATURES_CHOICES)))]
    return {
        "max_features": max_features,
        "max_depth": [None, 2, 3, 4][int(rng.choice(4, p=[0.7, 0.1, 0.1, 0.1]))],
        "min_samples_split": [2, 3][int(rng.choice(2, p=[0.95, 0.05]))],
        "min_samples_leaf": int(round(math.exp(rng.uniform(math.log(1.5), math.log(50.5))))),
        "bootstrap": bool(rng.integers(2)),
        "min_impurity_decrease": [0.0, 0.01, 0.02, 0.05][int(rng.choice(4, p=[0.85, 0.05, 0.05, 0.05]))],
        "criterion": ["gini", "entropy"][int(rng.integers(2))],
    }


@dataclass(frozen=True)
class ForestSearchResult:
    """Best forest of a random search and the validation error of every candidate, in order."""

    best_params: dict[str, Any]
    best_estimator: Any
    best_val_error: float
    val_errors: tuple[float, ...]
    candidates: tuple[dict[str, Any], ...]
    fit_seconds: float


def random_forest_search(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    n_iter: int = 10,
    n_estimators: int = 250,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> ForestSearchResult:
    """Random search over the benchmark space (module docstring), selected on validation error."""
    from sklearn.ensemble import RandomForestClassifier

    if n_iter < 1 or n_estimators < 1:
        raise ValueError(f"n_iter and n_estimators must be >= 1, got {n_iter}, {n_estimators}")
    rng = np.random.default_rng(random_state)
    candidates = [{}] + [sample_forest_params(rng) for _ in range(n_iter - 1)]
    start = time.perf_counter()
    best, best_error, errors = None, math.inf, []
    for k, params in enumerate(candidates):
        forest = RandomForestClassifier(
            n_estimators=n_estimators, random_state=random_state + k, n_jobs=n_jobs, **params
        ).fit(X_train, y_train)
        error = float(np.mean(forest.predict(X_val) != y_val))
        errors.append(error)
        if error < best_error:
            best, best_error = (params, forest), error
    return ForestSearchResult(
        best_params=dict(best[0]), best_estimator=best[1], best_val_error=best_error,
        val_errors=tuple(errors), candidates=tuple(candidates), fit_seconds=time.perf_counter() - start,
    )
