"""MLPs with dense or sparse first-layer initialisation, trained M at a time (paper Section 4.2).

Architecture: ``depth`` hidden ReLU layers (1-3); the first has ``width`` units, layers 2..depth
have ``top_width`` units (default ``min(width, 256)``: the paper scales the *first* layer up to
1e5 units), then a linear read-out to ``K`` class logits. Loss: mean softmax cross-entropy.

Initialisation (member ``m`` draws from its own ``torch.Generator`` seeded with ``seeds[m]``):
- dense: every layer as ``torch.nn.Linear``: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
- sparse (first layer only, docs/science.md section 6): each of the ``width`` rows has exactly ``s``
  nonzero weights, on ``s`` input coordinates drawn uniformly without replacement, with values
  ~ U(-1/sqrt(s), 1/sqrt(s)); its bias and all later layers as dense. Only the initialisation is
  sparse; training updates every weight.

Batched training (:func:`train_mlp_batch`): the M members' parameters are stacked on a leading
axis and every layer is one ``torch.baddbmm``; the loss is the sum of the members' mean losses,
so member m's gradient is exactly the gradient it would get alone. SGD (with momentum) and Adam
(L2 ``weight_decay`` added to the gradient, as ``torch.optim``) are written out elementwise, so
they too act per member. Early stopping is per member: after every epoch the validation loss
is evaluated, the best parameters are kept, and a member that has not improved by more than
``tol`` for ``patience`` epochs is frozen and dropped from the batch. A batched run therefore
returns what M separate runs with the same seeds return (tested against single runs).

:class:`SparseMLPClassifier` wraps the same code as a scikit-learn estimator (M = 1).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

INITS = ("dense", "sparse")
OPTIMIZERS = ("sgd", "adam")
_CHUNK_ELEMENTS = 1 << 24  # hidden activations per forward chunk at evaluation (64 MiB in float32)
# Below this many hidden activations per step, torch's thread pool costs more than it gives
# (measured: a 300-row fit ran 10x faster on one thread on a loaded 2-core machine).
_SINGLE_THREAD_ELEMENTS = 1 << 18


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class MLPBatchFit:
    """Best (early-stopped) parameters of M members, stacked on axis 0.

    ``weights[l]`` has shape (M, fan_in, fan_out), ``biases[l]`` (M, fan_out); ``best_epoch[m]``
    is the epoch (1-based) whose parameters were kept; ``epochs_run[m]`` how many it trained.
    """

    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]
    best_val_loss: torch.Tensor
    best_epoch: torch.Tensor
    epochs_run: torch.Tensor


def layer_sizes(n_features: int, n_classes: int, width: int, depth: int, top_width: int | None) -> list[int]:
    """``[d, width, top, ..., top, K]`` with ``depth`` hidden layers (module docstring)."""
    if depth not in (1, 2, 3):
        raise ValueError(f"depth must be 1, 2 or 3, got {depth}")
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    top = min(width, 256) if top_width is None else top_width
    if top < 1:
        raise ValueError(f"top_width must be >= 1, got {top_width}")
    return [n_features, width] + [top] * (depth - 1) + [n_classes]


def init_member(
    sizes: Sequence[int], init: str, sparsity: int, generator: torch.Generator, dtype: torch.dtype
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Weights (fan_in, fan_out) and biases of one member, drawn in a fixed order from ``generator``."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    weights, biases = [], []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / math.sqrt(fan_in)
        if layer == 0 and init == "sparse":
            if not 1 <= sparsity <= fan_in:
                raise ValueError(f"sparsity must lie in [1, n_features={fan_in}], got {sparsity}")
            # s distinct coordinates per unit: the first s of a uniformly random permutation.
            support = torch.rand(fan_out, fan_in, generator=generator, dtype=dtype).argsort(dim=1)[:, :sparsity]
            s_bound = 1.0 / math.sqrt(sparsity)
            values = (torch.rand(fan_out, sparsity, generator=generator, dtype=dtype) * 2 - 1) * s_bound
            weight = torch.zeros(fan_out, fan_in, dtype=dtype).scatter_(1, support, values).T.contiguous()
        else:
            weight = (torch.rand(fan_in, fan_out, generator=generator, dtype=dtype) * 2 - 1) * bound
        bias = (torch.rand(fan_out, generator=generator, dtype=dtype) * 2 - 1) * bound
        weights.append(weight)
        biases.append(bias)
    return weights, biases


def batched_logits(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """Logits (M, n, K) of M stacked MLPs on X of shape (M, n, d): ReLU hidden layers, linear out."""
    hidden = X
    for layer, (weight, bias) in enumerate(zip(weights, biases)):
        hidden = torch.baddbmm(bias.unsqueeze(1), hidden, weight)
        if layer < len(weights) - 1:
            hidden = torch.relu(hidden)
    return hidden


def batched_logits_chunked(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """:func:`batched_logits` without autograd, over row chunks so activations stay <= 64 MiB."""
    members, n = X.shape[0], X.shape[1]
    widest = max(w.shape[2] for w in weights)
    rows = max(1, _CHUNK_ELEMENTS // max(1, members * widest))
    with torch.no_grad():
        return torch.cat([batched_logits(weights, biases, X[:, i:i + rows]) for i in range(0, n, rows)], dim=1)


def _mean_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-member mean cross-entropy (M,) of logits (M, n, K) against labels (M, n)."""
    log_probs = torch.log_softmax(logits, dim=2)
    return -log_probs.gather(2, labels.unsqueeze(2)).squeeze(2).mean(dim=1)


def _as_members(array: torch.Tensor, members: int) -> torch.Tensor:
    return array.expand(members, *array.shape[1:]) if array.shape[0] == 1 else array


def train_mlp_batch(
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    *,
    n_classes: int,
    width: int,
    depth: int = 1,
    top_width: int | None = None,
    inits: Sequence[str],
    sparsities: Sequence[int],
    seeds: Sequence[int],
    optimizer: str = "adam",
    lr: float = 1e-3,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    batch_size: int = 128,
    max_epochs: int = 100,
    patience: int = 10,
    tol: float = 1e-4,
) -> MLPBatchFit:
    """Train M MLPs at once with per-member early stopping (module docstring).

    ``X_train`` (M, n, d) and ``y_train`` (M, n) int64 hold each member's training set (same n);
    ``X_val`` (M or 1, n_val, d) and ``y_val`` (M or 1, n_val) its validation set (a leading 1 is
    shared by all). ``inits``, ``sparsities`` and ``seeds`` have one entry per member. The dtype of
    ``X_train`` is the training dtype.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    widest = max(width, top_width or 0)
    threads = 1 if X_train.shape[0] * min(batch_size, X_train.shape[1]) * widest <= _SINGLE_THREAD_ELEMENTS else torch.get_num_threads()
    with _torch_threads(threads):
        return _train_mlp_batch(
            X_train, y_train, X_val, y_val, n_classes=n_classes, width=width, depth=depth,
            top_width=top_width, inits=inits, sparsities=sparsities, seeds=seeds, optimizer=optimizer,
            lr=lr, momentum=momentum, weight_decay=weight_decay, batch_size=batch_size,
            max_epochs=max_epochs, patience=patience, tol=tol,
        )


def _train_mlp_batch(
    X_train, y_train, X_val, y_val, *, n_classes, width, depth, top_width, inits, sparsities, seeds,
    optimizer, lr, momentum, weight_decay, batch_size, max_epochs, patience, tol,
) -> MLPBatchFit:
    for name, value in (("lr", lr), ("batch_size", batch_size), ("max_epochs", max_epochs), ("patience", patience)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    members, n, d = X_train.shape
    if not len(inits) == len(sparsities) == len(seeds) == members:
        raise ValueError(f"need one init, sparsity and seed per member ({members})")
    dtype = X_train.dtype
    sizes = layer_sizes(d, n_classes, width, depth, top_width)
    generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    drawn = [init_member(sizes, init, s, g, dtype) for init, s, g in zip(inits, sparsities, generators)]
    n_layers = len(sizes) - 1
    params = [torch.stack([w[l] for w, _ in drawn]) for l in range(n_layers)]
    params += [torch.stack([b[l] for _, b in drawn]) for l in range(n_layers)]
    best = [p.clone() for p in params]
    state_m = [torch.zeros_like(p) for p in params]
    state_v = [torch.zeros_like(p) for p in params] if optimizer == "adam" else []
    best_loss = torch.full((members,), math.inf, dtype=torch.float64)
    best_epoch = torch.zeros(members, dtype=torch.int64)
    epochs_run = torch.zeros(members, dtype=torch.int64)
    stale = torch.zeros(members, dtype=torch.int64)
    active = torch.arange(members)  # original indices of the members still training
    X_val, y_val = _as_members(X_val, members), _as_members(y_val, members)
    X_tr, y_tr = X_train, y_train
    batch = min(batch_size, n)
    beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
    for epoch in range(1, max_epochs + 1):
        order = torch.stack([torch.randperm(n, generator=generators[int(m)]) for m in active])
        rows = torch.arange(len(active)).unsqueeze(1)
        for start in range(0, n, batch):
            index = order[:, start:start + batch]
            leaves = [p.requires_grad_(True) for p in params]
            logits = batched_logits(leaves[:n_layers], leaves[n_layers:], X_tr[rows, index])
            loss = _mean_cross_entropy(logits, y_tr[rows, index]).sum()
            grads = torch.autograd.grad(loss, leaves)
            step += 1
            with torch.no_grad():
                updated = []
                for i, (p, g) in enumerate(zip(params, grads)):
                    if weight_decay:
                        g = g + weight_decay * p
                    if optimizer == "adam":
                        state_m[i].mul_(beta1).add_(g, alpha=1 - beta1)
                        state_v[i].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                        m_hat = state_m[i] / (1 - beta1 ** step)
                        v_hat = state_v[i] / (1 - beta2 ** step)
                        updated.append(p.detach() - lr * m_hat / (v_hat.sqrt() + eps))
                    else:
                        state_m[i].mul_(momentum).add_(g)
                        updated.append(p.detach() - lr * state_m[i])
                params = updated
        epochs_run[active] = epoch
        val_logits = batched_logits_chunked(params[:n_layers], params[n_layers:], X_val)
        val_loss = _mean_cross_entropy(val_logits, y_val).to(torch.float64)
        improved = val_loss < best_loss[active] - tol
        for i, p in enumerate(params):
            best[i][active[improved]] = p[improved]
        best_loss[active[improved]] = val_loss[improved]
        best_epoch[active[improved]] = epoch
        stale[active] = torch.where(improved, 0, stale[active] + 1)
        keep = stale[active] < patience
        if not bool(keep.any()):
            break
        if not bool(keep.all()):
            # Drop stopped members from the batch: elementwise optimisers make this exact.
            active = active[keep]
            params = [p[keep] for p in params]
            state_m = [s[keep] for s in state_m]
            state_v = [s[keep] for s in state_v]
            X_tr, y_tr, X_val, y_val = X_tr[keep], y_tr[keep], X_val[keep], y_val[keep]
    return MLPBatchFit(
        weights=tuple(best[:n_layers]), biases=tuple(best[n_layers:]),
        best_val_loss=best_loss, best_epoch=best_epoch, epochs_run=epochs_run,
    )


class SparseMLPClassifier(ClassifierMixin, BaseEstimator):
    """MLP classifier with dense or s-sparse first-layer initialisation (module docstring).

    Parameters
    ----------
    width : units of the first hidden layer.
    depth : number of hidden layers, 1-3.
    init : ``"dense"`` or ``"sparse"`` (first layer s-hot, see module docstring).
    sparsity : s, nonzeros per first-layer unit when ``init="sparse"`` (ignored for dense).
    top_width : units of hidden layers 2..depth; None means ``min(width, 256)``.
    optimizer : ``"sgd"`` (with ``momentum``) or ``"adam"``.
    lr, momentum, weight_decay : optimiser settings (weight decay as L2 on the gradient).
    batch_size, max_epochs : minibatch size (capped at the training size) and epoch budget.
    early_stopping : stop on the validation loss. The validation set is ``X_val, y_val`` passed
        to ``fit`` if given; otherwise a stratified ``validation_fraction`` of the training rows
        is held out. If holding out is impossible (fewer than 2 rows of some class, or fewer than
        10 rows) the training loss is monitored instead. With ``early_stopping=False`` the model
        trains for ``max_epochs`` and the last epoch's parameters are kept.
    patience, tol : stop after ``patience`` epochs without a loss improvement larger than ``tol``.
    random_state : int, RandomState or None; fixes the initialisation, the batches and the
        validation hold-out.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``coefs_`` (list of (fan_in, fan_out)
    float32 arrays), ``intercepts_``, ``best_validation_loss_``, ``best_epoch_``, ``n_epochs_``.
    """

    def __init__(
        self,
        width: int = 256,
        depth: int = 1,
        init: str = "dense",
        sparsity: int = 4,
        top_width: int | None = None,
        optimizer: str = "adam",
        lr: float = 1e-3,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        batch_size: int = 128,
        max_epochs: int = 200,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        tol: float = 1e-4,
        random_state=None,
    ):
        self.width = width
        self.depth = depth
        self.init = init
        self.sparsity = sparsity
        self.top_width = top_width
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y, X_val=None, y_val=None):
        """Fit on (X, y); ``X_val, y_val`` (optional) replace the held-out validation split."""
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import LabelEncoder
        from sklearn.utils import check_random_state

        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must lie in (0, 1), got {self.validation_fraction}")
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"SparseMLPClassifier needs samples of at least 2 classes; got 1 class ({self.classes_[0]!r})")
        codes = encoder.transform(y)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(0, 2**31 - 1))
        X_fit, y_fit = X, codes
        if not self.early_stopping:
            X_mon, y_mon, patience = X, codes, self.max_epochs + 1
        elif X_val is not None and y_val is not None:
            X_mon = validate_data(self, X_val, dtype=np.float32, reset=False)
            y_val = np.asarray(y_val)
            unseen = set(np.unique(y_val)) - set(self.classes_.tolist())
            if unseen:
                raise ValueError(f"y_val has labels not seen in y: {sorted(unseen)}")
            y_mon, patience = encoder.transform(y_val), self.patience
        else:
            counts = np.bincount(codes)
            n_hold = int(math.ceil(self.validation_fraction * len(codes)))
            if len(codes) >= 10 and counts.min() >= 2 and len(self.classes_) <= n_hold <= len(codes) - len(self.classes_):
                X_fit, X_mon, y_fit, y_mon = train_test_split(
                    X, codes, test_size=n_hold, stratify=codes, random_state=seed
                )
            else:
                X_mon, y_mon = X, codes
            patience = self.patience
        fit = train_mlp_batch(
            torch.from_numpy(np.ascontiguousarray(X_fit)).unsqueeze(0),
            torch.from_numpy(np.asarray(y_fit, dtype=np.int64)).unsqueeze(0),
            torch.from_numpy(np.ascontiguousarray(X_mon, dtype=np.float32)).unsqueeze(0),
            torch.from_numpy(np.asarray(y_mon, dtype=np.int64)).unsqueeze(0),
            n_classes=len(self.classes_), width=self.width, depth=self.depth, top_width=self.top_width,
            inits=[self.init], sparsities=[self.sparsity], seeds=[seed], optimizer=self.optimizer,
            lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay,
            batch_size=self.batch_size, max_epochs=self.max_epochs, patience=patience, tol=self.tol,
        )
        self.coefs_ = [w[0].numpy() for w in fit.weights]
        self.intercepts_ = [b[0].numpy() for b in fit.biases]
        self.best_validation_loss_ = float(fit.best_val_loss[0])
        self.best_epoch_ = int(fit.best_epoch[0])
        self.n_epochs_ = int(fit.epochs_run[0])
        return self

    def _logits(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        # float64 row-by-row-stable evaluation: predictions of a row do not depend on its batch.
        hidden = X
        for layer, (weight, bias) in enumerate(zip(self.coefs_, self.intercepts_)):
            hidden = hidden @ weight.astype(np.float64) + bias.astype(np.float64)
            if layer < len(self.coefs_) - 1:
                hidden = np.maximum(hidden, 0.0)
        return hidden

    def predict_proba(self, X) -> np.ndarray:
        """Softmax class probabilities, columns ordered as ``classes_``."""
        logits = self._logits(X)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log-softmax of the logits (stable)."""
        logits = self._logits(X)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def predict(self, X) -> np.ndarray:
        """The class of largest logit."""
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]
