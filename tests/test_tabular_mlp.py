"""SparseMLPClassifier and the batched trainer behind it (tabular.mlp)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import estimator_checks_generator

from tabular.mlp import (
    SparseMLPClassifier,
    batched_logits,
    init_member,
    layer_sizes,
    train_mlp_batch,
)


def applicable_estimator_checks():
    """scikit-learn's estimator checks for our classifier, minus the one that cannot apply.

    Small width and epoch budget keep the ~55 API checks fast; no check is expected to fail.
    Left out: check_array_api_input: the estimator computes with torch on numpy input and does
    not claim array-API support (scikit-learn itself skips this check unless SCIPY_ARRAY_API=1).
    """
    estimator = SparseMLPClassifier(width=32, max_epochs=40, random_state=0)
    for est, check in estimator_checks_generator(estimator, legacy=True):
        name = getattr(check, "func", check).__name__
        if name == "check_array_api_input":
            continue
        keywords = getattr(check, "keywords", {})
        suffix = "(" + ",".join(f"{k}={v}" for k, v in keywords.items()) + ")" if keywords else ""
        yield pytest.param(est, check, id=name + suffix)


@pytest.mark.parametrize("estimator, check", list(applicable_estimator_checks()))
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_sparse_init_has_exactly_s_nonzeros_per_unit_with_the_right_scale():
    sizes = layer_sizes(10, 2, width=500, depth=2, top_width=64)
    weights, biases = init_member(sizes, "sparse", 3, torch.Generator().manual_seed(0), torch.float64)
    first = weights[0]  # (fan_in, fan_out): column j is unit j
    assert first.shape == (10, 500)
    assert torch.all((first != 0).sum(dim=0) == 3)
    assert first.abs().max() <= 1 / math.sqrt(3)
    # U(-1/sqrt(3), 1/sqrt(3)) has variance 1/9; 1500 draws: 5-sigma band of the sample variance.
    values = first[first != 0]
    assert abs(values.var().item() - 1 / 9) < 5 * math.sqrt(2 / 1500) / 9 * 1.5
    # Supports spread over all coordinates (each used 150 times in expectation).
    assert torch.all((first != 0).sum(dim=1) > 100)
    # Later layers and the biases keep nn.Linear's default scale.
    assert weights[1].abs().max() <= 1 / math.sqrt(500) and biases[0].abs().max() <= 1 / math.sqrt(10)
    dense, _ = init_member(sizes, "dense", 3, torch.Generator().manual_seed(0), torch.float64)
    assert torch.all(dense[0] != 0) and dense[0].abs().max() <= 1 / math.sqrt(10)


def test_batched_forward_matches_torch_nn_in_float64():
    sizes = layer_sizes(6, 3, width=20, depth=3, top_width=7)
    drawn = [init_member(sizes, "dense", 0, torch.Generator().manual_seed(m), torch.float64) for m in range(2)]
    X = torch.randn(2, 5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    weights = [torch.stack([w[l] for w, _ in drawn]) for l in range(4)]
    biases = [torch.stack([b[l] for _, b in drawn]) for l in range(4)]
    logits = batched_logits(weights, biases, X)
    for m, (w, b) in enumerate(drawn):
        layers = []
        for l in range(4):
            linear = torch.nn.Linear(sizes[l], sizes[l + 1], dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(w[l].T)
                linear.bias.copy_(b[l])
            layers += [linear, torch.nn.ReLU()]
        reference = torch.nn.Sequential(*layers[:-1])(X[m])
        torch.testing.assert_close(logits[m], reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_batched_training_equals_separate_runs(optimizer):
    """Oracle: M members trained together == each trained alone (float64, early stopping on)."""
    generator = torch.Generator().manual_seed(1)
    members, n, d = 3, 40, 5
    X = torch.randn(members, n, d, dtype=torch.float64, generator=generator)
    y = (X[:, :, 0] * X[:, :, 1] > 0).long()
    X_val = torch.randn(1, 30, d, dtype=torch.float64, generator=generator)
    y_val = (X_val[:, :, 0] * X_val[:, :, 1] > 0).long()
    settings = dict(n_classes=2, width=16, depth=2, top_width=8, optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 0.01,
                    weight_decay=1e-3, batch_size=16, max_epochs=40, patience=3)
    inits, sparsities, seeds = ["dense", "sparse", "sparse"], [1, 2, 3], [11, 12, 13]
    together = train_mlp_batch(X, y, X_val, y_val, inits=inits, sparsities=sparsities, seeds=seeds, **settings)
    # Members stop at different epochs, so the batch really shrinks during training.
    assert len(set(together.epochs_run.tolist())) > 1
    for m in range(members):
        alone = train_mlp_batch(X[m:m + 1], y[m:m + 1], X_val, y_val, inits=inits[m:m + 1],
                                sparsities=sparsities[m:m + 1], seeds=seeds[m:m + 1], **settings)
        assert together.best_epoch[m] == alone.best_epoch[0]
        assert together.epochs_run[m] == alone.epochs_run[0]
        for batched, single in zip(together.weights + together.biases, alone.weights + alone.biases):
            torch.testing.assert_close(batched[m], single[0], rtol=1e-10, atol=1e-12)


def test_explicit_validation_set_drives_early_stopping():
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import log_loss
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, y_train, X_val, y_val = X[:400], y[:400], X[400:], y[400:]
    clf = SparseMLPClassifier(width=64, init="sparse", sparsity=2, max_epochs=60, patience=5, random_state=0)
    clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    # The kept parameters are those of the best validation loss, evaluated on X_val itself.
    assert clf.best_validation_loss_ == pytest.approx(log_loss(y_val, clf.predict_proba(X_val)), rel=1e-4)
    assert 1 <= clf.best_epoch_ <= clf.n_epochs_ <= 60
    assert clf.score(X_val, y_val) > 0.9
    assert [c.shape for c in clf.coefs_] == [(30, 64), (64, 2)]


@pytest.mark.parametrize("params, match", [
    (dict(depth=4), "depth"), (dict(init="lottery"), "init"), (dict(init="sparse", sparsity=9), "sparsity"),
    (dict(optimizer="rmsprop"), "optimizer"), (dict(lr=0.0), "lr"), (dict(validation_fraction=1.5), "validation_fraction"),
])
def test_bad_parameters_are_value_errors(params, match):
    X = np.random.default_rng(0).normal(size=(40, 4))
    y = np.arange(40) % 2
    with pytest.raises(ValueError, match=match):
        SparseMLPClassifier(max_epochs=2, **params).fit(X, y)
