"""Tabular study (science.md section 6; paper Section 4.2): wide sparse-init MLPs vs tuned forests.

Public API::

    X, y, info = load("magic")                       # float32 features, balanced 0/1 labels
    split = make_split(X, y, seed=0)                 # train <= 10,000, quantile-normal on train
    rows = subsample_indices(split.y_train, 0.01, seed=1)
    clf = SparseMLPClassifier(width=1000, init="sparse", sparsity=4).fit(split.X_train, split.y_train)
    search = random_forest_search(split.X_train, split.y_train, split.X_val, split.y_val, n_iter=10)
    frame = run_study(StudyConfig(dataset="breast_cancer", trials=3))
"""

from sim.tabular.datasets import (
    DATASET_NAMES,
    OFFLINE_DATASETS,
    OPENML_SUITE_337,
    DatasetInfo,
    OpenMLCacheMissingError,
    TabularData,
    load,
)
from sim.tabular.forest import ForestSearchResult, random_forest_search, sample_forest_params
from sim.tabular.mlp import MLPBatchFit, SparseMLPClassifier, train_mlp_batch
from sim.tabular.splits import TabularSplit, exponential_fractions, make_split, subsample_indices
from sim.tabular.study import CSV_COLUMNS, StudyConfig, run_study, table2, write_outputs

__all__ = [
    "CSV_COLUMNS", "DATASET_NAMES", "OFFLINE_DATASETS", "OPENML_SUITE_337", "DatasetInfo",
    "ForestSearchResult", "MLPBatchFit", "OpenMLCacheMissingError", "SparseMLPClassifier",
    "StudyConfig", "TabularData", "TabularSplit", "exponential_fractions", "load", "make_split",
    "random_forest_search", "run_study", "sample_forest_params", "subsample_indices", "table2",
    "train_mlp_batch", "write_outputs",
]
