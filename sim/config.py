"""Run configuration and result records (science.md sections 1-3).

A :class:`RunConfig` fully determines one training run: the data, the support S,
the test set, the initial weights and the minibatch order all derive from
``seed`` (see :mod:`sim.data`), never from the backend.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from dataclasses import dataclass
from typing import Any, Mapping

INITS = ("dense", "sparse")
SPARSE_VALUES = ("uniform", "sign", "ones-eps")
LOSSES = ("hinge", "square", "logistic")


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"RunConfig.{name}={value!r} must be an integer")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"RunConfig.{name}={value!r} must be an integer") from None


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValueError(f"RunConfig.{name}={value!r} must be a number")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"RunConfig.{name}={value!r} must be finite")
    return result


@dataclass(frozen=True)
class RunConfig:
    """One (n, k)-sparse-parity training run of a 2-layer ReLU MLP.

    ``f(x) = sum_i u_i relu(w_i . x + b_i)`` trained by minibatch SGD with coupled
    weight decay (as ``torch.optim.SGD``), success when the test error is at most
    ``target_error`` at an evaluation step (every ``eval_every`` steps and at
    ``max_steps``). ``samples=None`` is the online setting (a fresh batch per step).
    Defaults are the paper's hyperparameters (science.md section 3).
    """

    n: int
    k: int
    width: int
    samples: int | None = None
    init: str = "dense"
    sparsity: int = 2
    sparse_values: str = "uniform"
    loss: str = "hinge"
    lr: float = 0.1
    weight_decay: float = 0.01
    batch_size: int = 32
    max_steps: int = 100_000
    eval_every: int = 100
    test_size: int = 10_000
    target_error: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("n", "k", "width", "sparsity", "batch_size", "max_steps", "eval_every", "test_size", "seed"):
            set_(self, name, _as_int(name, getattr(self, name)))
        if self.samples is not None:
            set_(self, "samples", _as_int("samples", self.samples))
        for name in ("lr", "weight_decay", "target_error"):
            set_(self, name, _as_float(name, getattr(self, name)))

        if self.n < 1:
            raise ValueError(f"RunConfig.n={self.n} must be >= 1")
        if not 1 <= self.k <= self.n:
            raise ValueError(f"RunConfig.k={self.k} must satisfy 1 <= k <= n={self.n}")
        if self.width < 1:
            raise ValueError(f"RunConfig.width={self.width} must be >= 1")
        if self.samples is not None and self.samples < 1:
            raise ValueError(f"RunConfig.samples={self.samples} must be >= 1 (or None for online)")
        if self.init not in INITS:
            raise ValueError(f"RunConfig.init={self.init!r} must be one of {INITS}")
        if self.sparse_values not in SPARSE_VALUES:
            raise ValueError(f"RunConfig.sparse_values={self.sparse_values!r} must be one of {SPARSE_VALUES}")
        if self.sparsity < 1:
            raise ValueError(f"RunConfig.sparsity={self.sparsity} must be >= 1")
        if self.init == "sparse" and self.sparsity > self.n:
            raise ValueError(f"RunConfig.sparsity={self.sparsity} must be <= n={self.n}")
        if self.loss not in LOSSES:
            raise ValueError(f"RunConfig.loss={self.loss!r} must be one of {LOSSES}")
        if self.lr <= 0:
            raise ValueError(f"RunConfig.lr={self.lr} must be > 0")
        if self.weight_decay < 0:
            raise ValueError(f"RunConfig.weight_decay={self.weight_decay} must be >= 0")
        for name in ("batch_size", "max_steps", "eval_every", "test_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"RunConfig.{name}={getattr(self, name)} must be >= 1")
        if not 0 <= self.target_error < 1:
            raise ValueError(f"RunConfig.target_error={self.target_error} must be in [0, 1)")
        if self.seed < 0:
            raise ValueError(f"RunConfig.seed={self.seed} must be >= 0")

    @property
    def online(self) -> bool:
        return self.samples is None

    @property
    def num_params(self) -> int:
        """Trainable parameters p = width * (n + 2) (W, b and u; science.md 4.1)."""
        return self.width * (self.n + 2)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "RunConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown RunConfig field {unknown[0]!r}")
        return cls(**values)

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)


CONFIG_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RunConfig))


@dataclass(frozen=True)
class RunResult:
    """Outcome of one run.

    ``steps_to_success`` is the first evaluation step at which the test error was
    at most ``target_error`` (granularity ``eval_every``), else None.
    ``final_train_error`` is None for online runs (there is no fixed training set).
    ``wall_seconds`` is the time from the start of the run's batch until the run
    stopped: runs trained together share that clock.
    """

    success: bool
    steps_to_success: int | None
    steps_run: int
    final_test_error: float
    final_train_error: float | None
    diverged: bool
    wall_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


RESULT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RunResult))
