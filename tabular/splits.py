"""Train/validation/test splits and training-fraction subsampling (docs/science.md section 6).

Split protocol (Grinsztajn et al. 2022, as used for OpenML suite 337): a stratified split, fixed
by ``seed``, puts ``train_share`` = 70% of the rows in the training split, truncated to
``train_cap`` = 10,000 rows; the remaining rows are split 30% validation / 70% test, each capped
at ``eval_cap`` = 50,000. A ``QuantileTransformer(output_distribution="normal")`` is fit on the
training split only and applied to all three; validation and test rows never influence it.

Training-fraction subsampling: a trial at fraction ``f`` trains on a stratified subsample of the
(transformed, capped) training split with ``max(min_per_class, round(f * n_c))`` rows of each
class ``c`` (``n_c`` rows of class ``c`` in the training split), drawn without replacement with
its own seed. Fractions come from an exponential grid (:func:`exponential_fractions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRAIN_CAP = 10_000
EVAL_CAP = 50_000


@dataclass(frozen=True)
class TabularSplit:
    """Transformed arrays (float32) and the dataset row indices each split was drawn from."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray
    seed: int


def make_split(
    features: np.ndarray,
    labels: np.ndarray,
    seed: int,
    *,
    train_share: float = 0.7,
    train_cap: int = TRAIN_CAP,
    val_share_of_rest: float = 0.3,
    eval_cap: int = EVAL_CAP,
) -> TabularSplit:
    """Stratified train/val/test split fixed by ``seed``, quantile-normal transform fit on train."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import QuantileTransformer

    n = len(labels)
    if n != len(features):
        raise ValueError(f"features have {len(features)} rows but labels have {n}")
    rows = np.arange(n)
    n_train = min(int(round(train_share * n)), train_cap)
    train_index, rest = train_test_split(
        rows, train_size=n_train, stratify=labels, random_state=seed
    )
    n_val = min(int(round(val_share_of_rest * len(rest))), eval_cap)
    n_test = min(len(rest) - n_val, eval_cap)
    val_index, test_index = train_test_split(
        rest, train_size=n_val, test_size=n_test, stratify=labels[rest], random_state=seed + 1
    )
    train_index, val_index, test_index = np.sort(train_index), np.sort(val_index), np.sort(test_index)
    transformer = QuantileTransformer(
        output_distribution="normal", n_quantiles=min(1000, len(train_index)), random_state=seed
    ).fit(features[train_index])

    def transform(index: np.ndarray) -> np.ndarray:
        return transformer.transform(features[index]).astype(np.float32)

    return TabularSplit(
        X_train=transform(train_index), y_train=labels[train_index],
        X_val=transform(val_index), y_val=labels[val_index],
        X_test=transform(test_index), y_test=labels[test_index],
        train_index=train_index, val_index=val_index, test_index=test_index, seed=seed,
    )


def per_class_subsample_size(class_count: int, fraction: float, min_per_class: int) -> int:
    """``min(n_c, max(min_per_class, round(fraction * n_c)))`` rows of a class with ``n_c`` rows."""
    return int(min(class_count, max(min_per_class, round(fraction * class_count))))


def subsample_indices(labels: np.ndarray, fraction: float, seed: int, *, min_per_class: int = 3) -> np.ndarray:
    """Stratified subsample of ``labels``' rows at ``fraction`` (module docstring), sorted."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        size = per_class_subsample_size(len(rows), fraction, min_per_class)
        chosen.append(rng.choice(rows, size=size, replace=False))
    return np.sort(np.concatenate(chosen))


def exponential_fractions(smallest: float = 1e-3, per_decade: int = 1) -> tuple[float, ...]:
    """Fractions ``10**(-k / per_decade)`` from 1 down to ``smallest`` (inclusive, rounded)."""
    if not 0.0 < smallest <= 1.0 or per_decade < 1:
        raise ValueError(f"need 0 < smallest <= 1 and per_decade >= 1, got {smallest}, {per_decade}")
    n_steps = int(np.floor(-np.log10(smallest) * per_decade + 1e-9))
    return tuple(float(f"{10 ** (-k / per_decade):.6g}") for k in range(n_steps, -1, -1))
