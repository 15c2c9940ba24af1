"""Loaders, splits and subsampling of the tabular study (tabular; docs/science.md section 6)."""

from __future__ import annotations

from urllib.error import URLError

import numpy as np
import pytest

from frontier.cli import main
from tabular import OpenMLCacheMissingError, exponential_fractions, load, make_split, subsample_indices
from tabular.splits import per_class_subsample_size

# (rows after balancing, features): magic has 6688 'h' rows of 19020, phoneme 1586 '1' of 5404,
# breast_cancer 212 malignant of 569.
OFFLINE_SHAPES = {"magic": (13376, 10), "phoneme": (3172, 5), "breast_cancer": (424, 30)}


@pytest.fixture(scope="module")
def loaded():
    return {name: load(name) for name in OFFLINE_SHAPES}


@pytest.mark.parametrize("name", sorted(OFFLINE_SHAPES))
def test_offline_loader_shapes_balance_and_types(loaded, name):
    features, labels, info = loaded[name]
    assert features.shape == OFFLINE_SHAPES[name]
    assert features.dtype == np.float32 and labels.dtype == np.int64
    assert set(np.unique(labels)) == {0, 1}
    assert np.sum(labels == 0) == np.sum(labels == 1)
    assert np.isfinite(features).all()
    assert info.n_rows == len(labels) and info.n_features == features.shape[1]
    assert info.n_rows_raw >= info.n_rows and len(info.class_names) == 2


def test_magic_labels_follow_the_raw_file(loaded):
    features, labels, info = loaded["magic"]
    assert info.class_names == ("g", "h") and info.source == "keel"
    # Balancing keeps every minority ('h') row: 6688 of them, as counted in the raw file.
    assert np.sum(labels == 1) == 6688


def test_unknown_dataset_is_a_value_error():
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        load("nope")


def test_split_is_disjoint_stratified_and_fixed_by_seed(loaded):
    features, labels, _ = loaded["phoneme"]
    split = make_split(features, labels, seed=3)
    parts = [split.train_index, split.val_index, split.test_index]
    joined = np.concatenate(parts)
    assert len(np.unique(joined)) == len(joined) == len(labels)  # disjoint and covering
    assert len(split.train_index) == round(0.7 * len(labels))
    assert abs(int(split.y_train.sum()) * 2 - len(split.y_train)) <= 1  # balanced by stratification
    again = make_split(features, labels, seed=3)
    other = make_split(features, labels, seed=4)
    np.testing.assert_array_equal(split.X_test, again.X_test)
    assert not np.array_equal(split.train_index, other.train_index)


def test_quantile_transform_sees_training_rows_only(loaded):
    from sklearn.preprocessing import QuantileTransformer

    features, labels, _ = loaded["breast_cancer"]
    split = make_split(features, labels, seed=0)
    reference = QuantileTransformer(output_distribution="normal", n_quantiles=len(split.train_index),
                                    random_state=0).fit(features[split.train_index])
    np.testing.assert_allclose(split.X_val, reference.transform(features[split.val_index]), atol=1e-6)
    # Leakage check: wrecking every validation and test row changes nothing in the training split.
    poisoned = features.copy()
    poisoned[split.val_index] *= 1e6
    poisoned[split.test_index] = -poisoned[split.test_index] + 17
    leaked = make_split(poisoned, labels, seed=0)
    np.testing.assert_array_equal(leaked.X_train, split.X_train)
    # The transform is normal-valued on the training rows (median of each column near 0).
    assert np.all(np.abs(np.median(split.X_train, axis=0)) < 0.2)


def test_training_split_is_capped_at_10000_rows():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(16_000, 3)).astype(np.float32)
    labels = np.repeat([0, 1], 8_000)
    split = make_split(features, labels, seed=0)
    assert len(split.train_index) == 10_000
    assert len(split.val_index) == round(0.3 * 6_000) and len(split.test_index) == 6_000 - 1_800


def test_subsample_sizes_membership_and_determinism():
    labels = np.repeat([0, 1], [500, 500])
    for fraction, per_class in [(1e-3, 3), (0.01, 5), (0.1, 50), (1.0, 500)]:
        rows = subsample_indices(labels, fraction, seed=1)
        assert per_class_subsample_size(500, fraction, 3) == per_class
        assert np.bincount(labels[rows]).tolist() == [per_class, per_class]
        assert len(np.unique(rows)) == len(rows) and np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(subsample_indices(labels, 0.1, 7), subsample_indices(labels, 0.1, 7))
    assert not np.array_equal(subsample_indices(labels, 0.1, 7), subsample_indices(labels, 0.1, 8))
    with pytest.raises(ValueError, match="fraction"):
        subsample_indices(labels, 0.0, 1)


def test_exponential_fraction_grid():
    assert exponential_fractions(1e-3) == (0.001, 0.01, 0.1, 1.0)
    assert exponential_fractions(1e-2, per_decade=2) == (0.01, 0.0316228, 0.1, 0.316228, 1.0)


@pytest.fixture
def counted_network(monkeypatch):
    """Replace the urlopen scikit-learn's OpenML fetcher uses: count calls, fail like no network."""
    import sklearn.datasets._openml as openml_module

    calls = []

    def unreachable(request, *args, **kwargs):
        calls.append(getattr(request, "full_url", request))
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(openml_module, "urlopen", unreachable)
    return calls


def test_missing_openml_cache_is_one_clear_error_after_one_network_try(tmp_path, counted_network):
    with pytest.raises(OpenMLCacheMissingError) as caught:
        load("Higgs", cache_dir=tmp_path)
    message = str(caught.value)
    assert len(counted_network) == 1
    assert "\n" not in message
    assert str(tmp_path / "Higgs.csv") in message and "data_id=44129" in message
    assert str(tmp_path / "openml") in message


def test_cli_missing_openml_cache_exits_2_with_one_line(tmp_path, counted_network, capsys):
    status = main(["tabular", "--dataset", "MiniBooNE", "--cache-dir", str(tmp_path),
                   "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: OpenML dataset 'MiniBooNE' (id 44128)") and err.count("\n") == 1
    assert len(counted_network) == 1


def test_hand_placed_csv_is_used_without_network(tmp_path, counted_network):
    rng = np.random.default_rng(0)
    header = ",".join([f"f{j}" for j in range(4)] + ["target"])
    rows = [",".join(f"{v:.6f}" for v in rng.normal(size=4)) + f",{'yes' if i % 3 == 0 else 'no'}" for i in range(300)]
    (tmp_path / "credit.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    features, labels, info = load("credit", cache_dir=tmp_path)
    assert counted_network == []
    assert info.source == "csv" and info.openml_id == 44089
    assert features.shape == (200, 4) and np.bincount(labels).tolist() == [100, 100]
