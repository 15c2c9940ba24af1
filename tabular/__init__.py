"""Tabular study (docs/science.md section 6; paper Section 4.2): wide sparse-init MLPs vs tuned forests.

Public API::

    X, y, info = load("magic")                       # float32 features, balanced 0/1 labels
    split = make_split(X, y, seed=0)                 # train <= 10,000, quantile-normal on train
    rows = subsample_indices(split.y_train, 0.01, seed=1)
    clf = SparseMLPClassifier(width=1000, init="sparse", sparsity=4).fit(split.X_train, split.y_train)
    search = random_forest_search(split.X_train, split.y_train, split.X_val, split.y_val, n_iter=10)
    frame = run_study(StudyConfig(dataset="breast_cancer", trials=3))
"""

import importlib
from typing import Any

# Lazy re-exports (PEP 562): `frontier --help` imports tabular.datasets for the dataset names
# and must not pay for torch and scikit-learn.
_EXPORTS: dict[str, str] = {
    "DATASET_NAMES": "datasets", "OFFLINE_DATASETS": "datasets", "OPENML_SUITE_337": "datasets",
    "DatasetInfo": "datasets", "OpenMLCacheMissingError": "datasets", "TabularData": "datasets",
    "load": "datasets",
    "ForestSearchResult": "forest", "random_forest_search": "forest", "sample_forest_params": "forest",
    "MLPBatchFit": "mlp", "SparseMLPClassifier": "mlp", "train_mlp_batch": "mlp",
    "TabularSplit": "splits", "exponential_fractions": "splits", "make_split": "splits",
    "subsample_indices": "splits",
    "CSV_COLUMNS": "study", "StudyConfig": "study", "run_study": "study", "table2": "study",
    "write_outputs": "study",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tabular' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tabular.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
