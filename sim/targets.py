"""The targets a run can learn: one registry, :data:`TARGETS` (docs/targets.md).

A target is a ±1-valued function of x in {-1,+1}^n that depends on the coordinates of a hidden
support S only. S is drawn from the run's seed exactly as the parity's is
(:func:`sim.data.support_order`: a uniformly random ordered subset of ``support_size(k, tasks)``
coordinates), and the order of the draw gives each coordinate of S its *role*: the first
stair of a staircase, the control bits and each task's bits of a multitask parity. A label
function here sees only ``Xs``, the columns of S in that order (int8 ±1, any leading shape),
and returns int8 ±1 labels of the leading shape.

The exact Fourier expansion of every target on its roles lives in ``theory.targets`` (sim may
not import theory, and theory may not use numpy: two homes, tied together by
tests/test_targets_fourier.py, which transforms these label functions and compares).

Adding a target: one label function and one :class:`Target` entry here, its expansion in
``theory.targets``, and its tests.

This module imports no numpy at load time (``sim.config`` reads the registry, and
``import sim.config`` stays light): the label functions import it when called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


def _sign(values: Any) -> Any:
    """int8 +1 where values > 0, -1 elsewhere (callers make 0 impossible: odd sums of ±1)."""
    return ((values > 0).astype("int8") * 2 - 1).astype("int8")


def parity(Xs: Any, k: int, tasks: int) -> Any:
    """y = prod_{i in S} x_i."""
    return Xs.prod(axis=-1, dtype="int8")


def staircase(Xs: Any, k: int, tasks: int) -> Any:
    """y = sign(x_1 + x_1 x_2 + ... + x_1 ... x_k) for odd k (a sum of k ±1 terms: never 0)."""
    return _sign(Xs.cumprod(axis=-1, dtype="int8").sum(axis=-1, dtype="int16"))


def sparse_majority(Xs: Any, k: int, tasks: int) -> Any:
    """y = sign(x_1 + ... + x_k) for odd k: the majority of the k coordinates of S."""
    return _sign(Xs.sum(axis=-1, dtype="int16"))


def task_index(Xs: Any, tasks: int) -> Any:
    """The task of each sample of a multitask parity: the first of the ``tasks - 1`` control
    bits (the first columns of ``Xs``) that is +1, or ``tasks - 1`` when none is. So task t has
    frequency 2^-(t+1) and the last task 2^-(tasks-1): a geometric law of task frequencies."""
    import numpy as np

    index = np.full(Xs.shape[:-1], tasks - 1, dtype=np.int64)
    for t in range(tasks - 2, -1, -1):  # downwards: the first +1 control bit wins
        index[Xs[..., t] == 1] = t
    return index


def multitask_parity(Xs: Any, k: int, tasks: int) -> Any:
    """y = the k-parity of the task the control bits select (:func:`task_index`): columns
    ``tasks - 1 + t k`` to ``tasks - 1 + (t + 1) k`` of ``Xs`` hold task t's bits."""
    import numpy as np

    control = tasks - 1
    parities = Xs[..., control:].reshape(Xs.shape[:-1] + (tasks, k)).prod(axis=-1, dtype=np.int8)
    return np.take_along_axis(parities, task_index(Xs, tasks)[..., None], axis=-1)[..., 0]


@dataclass(frozen=True)
class Target:
    """One entry of the registry: the label function on the support's roles and what it needs.

    ``labels(Xs, k, tasks)``: the clean labels (``noisy``: training labels are then flipped with
    probability ``label_noise``, sim.data); ``support_size(k, tasks)``: |S|; ``odd_k``: k must be
    odd (the sign of a sum of k ±1 terms); ``multitask``: reads ``tasks`` (>= 2), and the engine
    records per-task test errors; ``parity_tickets``: the parity's lottery tickets apply, so the
    ``intervention`` field (sim.init) may be used."""

    name: str
    summary: str
    labels: Callable[[Any, int, int], Any]
    support_size: Callable[[int, int], int] = lambda k, tasks: k
    odd_k: bool = False
    noisy: bool = False
    multitask: bool = False
    parity_tickets: bool = False


TARGETS: dict[str, Target] = {target.name: target for target in (
    Target("parity", "prod of x over S (|S| = k)", parity, parity_tickets=True),
    Target("noisy_parity", "the k-parity, each training label flipped with probability label_noise; clean test set",
           parity, noisy=True, parity_tickets=True),
    Target("staircase", "sign(x_1 + x_1 x_2 + ... + x_1...x_k) on S in draw order, k odd", staircase, odd_k=True),
    Target("sparse_majority", "sign(sum of x over S), k odd", sparse_majority, odd_k=True),
    Target("multitask_parity", "tasks - 1 control bits pick one of `tasks` k-parities (first +1 bit; geometric "
           "frequencies)", multitask_parity, support_size=lambda k, tasks: tasks - 1 + tasks * k, multitask=True),
)}
TARGET_NAMES: tuple[str, ...] = tuple(TARGETS)


def target_problem(target: str, n: int, k: int, tasks: int, label_noise: float) -> str | None:
    """Why these values cannot make a run of ``target`` (a sentence naming the bad value), or None.

    (``RunConfig`` has already reset the parameters a target does not read to their inert
    defaults, ``tasks = 1`` and ``label_noise = 0``.)"""
    entry = TARGETS[target]
    if entry.multitask and tasks < 2:
        return f"RunConfig.tasks={tasks} must be >= 2 for target={target!r}"
    if entry.noisy and not label_noise > 0:
        return f"RunConfig.label_noise={label_noise} must be > 0 for target={target!r} (0 is target='parity')"
    if entry.odd_k and k % 2 == 0:
        return f"RunConfig.k={k} must be odd for target={target!r} (the sign of a sum of k ±1 terms)"
    size = entry.support_size(k, tasks)
    if size > n:
        return f"RunConfig: target={target!r} with k={k}, tasks={tasks} needs |S| = {size} coordinates, but n={n}"
    return None


def flips(bit_generator: Any, count: int, label_noise: float) -> Any:
    """Bool (count,): which of the next ``count`` labels of a noisy run flip. One raw 64-bit
    word per label, flipped when its top 53 bits as a double in [0, 1) (numpy's ``random()``)
    are below ``label_noise``; so the flips do not depend on how the labels are chunked."""
    import numpy as np

    words = bit_generator.random_raw(count).astype(np.uint64, copy=False)
    return (words >> np.uint64(11)).astype(np.float64) * 2.0**-53 < label_noise
