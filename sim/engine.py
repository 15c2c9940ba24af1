"""The backend-independent training driver (docs/science.md section 3).

A *group* is a set of runs that share (n, width, batch_size, eval_every, test_size):
their weights stack into (R, width, n) arrays and one kernel call advances them all.
The driver owns everything that makes a run the same run on every backend — data,
test sets, minibatch order, initial weights, evaluation schedule, stopping — and a
backend supplies only a :class:`Kernel` with the arithmetic.

The update, per run and step, on a minibatch (X, y) of size B:

    h = X W^T + b,  a = relu(h),  f = a u
    loss = mean_B l(y, f),  delta = dl/df / B
        hinge     l = max(0, 1 - y f)        dl/df = -y 1[y f < 1]
        square    l = (f - y)^2              dl/df = 2 (f - y)        (torch's MSELoss)
        logistic  l = log(1 + exp(-y f))     dl/df = -y sigmoid(-y f)
    gu = a^T delta,  gh = (delta u^T) * 1[h > 0],  gW = gh^T X,  gb = sum_B gh
    p <- p - lr (g_p + weight_decay p)   for p in (W, b, u)   (torch.optim.SGD, coupled L2)

Evaluation happens every ``eval_every`` steps and at ``max_steps``: the test error is
the fraction of test samples with sign(f(x)) != y (f = 0 counts as an error). It is counted
with an exact early exit: once a run has made more than ``target_error * test_size`` errors it
cannot succeed at this step, so the rest of its test set is skipped. Generic kernels count in
parts of SCREEN_PART_SAMPLES samples (a run at chance, most runs most of the time, counts about
2 target_error of its test set: 2048 of 10^4 samples at the paper's 10%; see
:func:`chance_exit_fraction`); a kernel with ``screen_test`` (numba) counts in its own order,
the samples a run got wrong last time first, and stops within 64 samples of the exit.
Runs that stop at this step, runs with non-finite weights or weights large enough for a loss to
overflow (``SCREEN_MAX_OUTPUT``) and :class:`History` recordings always count the whole test
set, so every reported number is the same as without the exit.
A run stops at success, at ``max_steps``, or when its loss or weights stop being
finite (``diverged``; checked at every evaluation, since NaN/inf never go away).
A run of a multitask target (sim.targets) that stops, and did not diverge, is evaluated once more
on each task's test samples (:func:`task_test_sets`, :func:`task_errors`): ``task_test_errors``.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from .config import LOSS_IDS, RunConfig, RunResult
from .init import initialize
from .targets import TARGETS

# The test set is counted in parts of this many samples with an exact early exit (see the
# module doc): finer parts exit closer to the first sample where a run's errors pass its target
# (quarters, before: 2500 of 10^4 samples for a run at chance) but cost a kernel call each.
# Below SCREEN_MIN_TEST_SIZE samples one part (too few samples to exit on).
SCREEN_PART_SAMPLES = 256
SCREEN_MIN_TEST_SIZE = 400
# Only runs whose output_bound is below this are screened: then f, h and every loss are finite on
# every input (the square loss overflows float32 at |f| ~ 1.8e19), so a loss that is finite on the
# samples counted is finite on the rest, and the exit cannot hide a divergence.
SCREEN_MAX_OUTPUT = 1e18

# Cap on the int8 minibatch block handed to a kernel at once (bytes): long eval
# intervals or many runs are cut into several kernel calls, which the data streams allow.
MAX_BLOCK_BYTES = 64 * 2**20


def group_key(config: RunConfig) -> tuple[int, int, int, int, int]:
    """Runs with equal keys can share one kernel (stacked weights, equal step blocks)."""
    return (config.n, config.width, config.batch_size, config.eval_every, config.test_size)


class Kernel(Protocol):
    """The arithmetic of one backend for a group of R runs.

    Constructed with the stacked float64 initial weights W (R, r, n), b (R, r), u (R, r),
    per-run ``lr``, ``weight_decay`` (R,) float64 and ``loss_ids`` (R,) int (see LOSS_IDS),
    and the stacked test sets X (R, M, n) int8, y (R, M) int8. ``runs`` below is an int
    array of indices into the group (ascending).
    """

    def train(self, runs: np.ndarray, X: np.ndarray, y: np.ndarray) -> None:
        """Advance runs[j] by X.shape[1] SGD steps on X[j] (steps, B, n), y[j] (steps, B)."""

    def evaluate(self, runs: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(error rate, mean loss) of runs[j] on X[j] (M, n), y[j] (M,), as float64 (len(runs),)."""

    def evaluate_test(self, runs: np.ndarray, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(error rate, mean loss) on samples [start:stop) of the runs' own test sets."""

    def finite(self, runs: np.ndarray) -> np.ndarray:
        """Bool (len(runs),): all weights of the run are finite."""

    # Optional: screen_test(runs, limits) -> (errors, loss sums, samples counted) (float64,
    # float64, int), each run's test errors counted, in any order of its samples the kernel
    # likes, until it has more than limits[j] (or all are counted). Used instead of
    # evaluate_test parts when a kernel has it (see screened_test_metrics).

    def output_bound(self, runs: np.ndarray) -> np.ndarray:
        """Float64 (len(runs),): max(sum_i |u_i| H_i, max_i H_i), H_i = |b_i| + sum_j |W_ij|, which
        bounds |f(x)| and every |h_i(x)| over all ±1 inputs x (not finite if a weight is not)."""

    def parameters(self, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Current (W, b, u) of the runs as float64 numpy arrays."""


KernelFactory = Callable[..., Kernel]


def screen_bounds(test_size: int, target_error: float) -> np.ndarray:
    """Where the screened count stops to check its runs: 0; the first multiple of
    SCREEN_PART_SAMPLES at or after floor(target_error * test_size) + 1, the fewest samples on
    which a run can have more errors than ``target_error * test_size`` (none exits before); then
    every SCREEN_PART_SAMPLES samples, and test_size."""
    first_exit = math.floor(target_error * test_size) + 1
    first = min(test_size, -(-first_exit // SCREEN_PART_SAMPLES) * SCREEN_PART_SAMPLES)
    return np.unique(np.r_[0, np.arange(first, test_size, SCREEN_PART_SAMPLES), test_size])


def chance_exit_fraction(test_size: int, target_error: float, error_rate: float = 0.5) -> float:
    """The fraction of its test set a run counts before the exit if its errors are spread evenly
    at ``error_rate`` (0.5: at chance): an estimate of the cost of screened evaluations."""
    if test_size < SCREEN_MIN_TEST_SIZE or error_rate <= target_error:
        return 1.0
    needed = (math.floor(target_error * test_size) + 1) / error_rate
    stops = screen_bounds(test_size, target_error)
    return float(stops[np.searchsorted(stops, needed)] / test_size) if needed <= test_size else 1.0


def screened_test_metrics(
    kernel: Kernel, runs: np.ndarray, screen: np.ndarray, target_error: np.ndarray, test_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test (error rate, mean loss, complete) of ``runs``, with the exact early exit.

    The test set is counted in parts (:func:`screen_bounds`); a run with ``screen[j]`` leaves as
    soon as its error count exceeds ``target_error[j] * test_size`` (it cannot succeed now). For
    runs counted to the end (``complete``) the error rate is exactly the full-set rate; for the
    others it is a lower bound, and the loss is the mean over the samples seen.
    """
    if test_size < SCREEN_MIN_TEST_SIZE or not screen.any():
        error, loss = kernel.evaluate_test(runs)
        return error, loss, np.ones(len(runs), dtype=bool)
    if hasattr(kernel, "screen_test"):
        return _screened_by_kernel(kernel, runs, screen, target_error, test_size)
    bounds = screen_bounds(test_size, float(target_error[screen].min()))
    counts = np.zeros(len(runs))
    loss_sums = np.zeros(len(runs))
    seen = np.zeros(len(runs), dtype=np.int64)
    pending = np.arange(len(runs))
    for start, stop in zip(bounds[:-1], bounds[1:]):
        error, loss = kernel.evaluate_test(runs[pending], int(start), int(stop))
        counts[pending] += np.rint(error * (stop - start))  # the kernels return count / size
        loss_sums[pending] += loss * (stop - start)
        seen[pending] = stop
        hopeless = screen[pending] & (counts[pending] / test_size > target_error[pending])
        pending = pending[~hopeless]
        if not pending.size:
            break
    return counts / test_size, loss_sums / seen, seen == test_size


def final_train_errors(kernel: Kernel, runs: Sequence[int],
                       trains: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[int, float]:
    """{run: error rate on its training set}: one kernel call per training-set size, at most
    MAX_BLOCK_BYTES of stacked samples each (a call per run, with its parallel launch, was most of
    the last evaluation of a group of small runs that stop together)."""
    by_size: dict[int, list[int]] = defaultdict(list)
    for j, (X, _) in enumerate(trains):
        by_size[X.shape[0]].append(j)
    errors: dict[int, float] = {}
    for size, members in by_size.items():
        per_call = max(1, MAX_BLOCK_BYTES // max(1, trains[members[0]][0].nbytes))
        for first in range(0, len(members), per_call):
            part = members[first:first + per_call]
            X = _stacked([trains[j][0] for j in part])
            y = _stacked([trains[j][1] for j in part])
            rates, _ = kernel.evaluate(np.array([runs[j] for j in part], dtype=np.int64), X, y)
            errors.update((runs[j], float(rate)) for j, rate in zip(part, rates))
    return errors


def _stacked(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """np.stack(arrays), as a view when they already lie one after the other in memory (the
    training sets of a GroupStream do: copying them cost more than evaluating them)."""
    first = arrays[0]
    address = first.__array_interface__["data"][0]
    if all(a.flags.c_contiguous and a.shape == first.shape and a.dtype == first.dtype
           and a.__array_interface__["data"][0] == address + k * first.nbytes for k, a in enumerate(arrays)):
        return np.lib.stride_tricks.as_strided(first, (len(arrays),) + first.shape, (first.nbytes,) + first.strides)
    return np.stack(arrays)


def exit_limits(target_error: np.ndarray, test_size: int) -> np.ndarray:
    """The largest error counts c with c / test_size <= target_error (float64): a run with more
    errors than that cannot succeed (the comparison screened_test_metrics makes)."""
    limits = np.floor(np.asarray(target_error, dtype=np.float64) * test_size)
    limits += (limits + 1) / test_size <= target_error  # floor(t M) may round down by one...
    limits -= limits / test_size > target_error         # ...or up by one
    return limits


def _screened_by_kernel(kernel: Kernel, runs: np.ndarray, screen: np.ndarray, target_error: np.ndarray,
                        test_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`screened_test_metrics` with the kernel's own screened count (``screen_test``): the
    unscreened runs counted in full by ``evaluate_test``, the others by ``screen_test``."""
    error, loss = np.empty(len(runs)), np.empty(len(runs))
    complete = np.ones(len(runs), dtype=bool)
    if not screen.all():
        error[~screen], loss[~screen] = kernel.evaluate_test(runs[~screen])
    counts, loss_sums, seen = kernel.screen_test(runs[screen], exit_limits(target_error[screen], test_size))
    error[screen] = counts / test_size
    loss[screen] = loss_sums / seen
    complete[screen] = seen == test_size
    return error, loss, complete


def _reused(storage: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """An int8 array of ``shape`` on storage[0], grown when too small: the minibatch blocks reuse
    one buffer, as a fresh 64 MiB array per block would pay its page faults every time."""
    size = int(np.prod(shape))
    if storage[0].size < size:
        storage[0] = np.empty(size, dtype=np.int8)
    return storage[0][:size].reshape(shape)


@dataclass
class History:
    """What :func:`sim.train_history` records at every evaluation step.

    For offline runs ``train_*`` are measured on the whole training set; for online
    runs on the minibatches of the last block of steps (fresh samples the model saw).
    """

    config: RunConfig
    result: RunResult | None = None
    steps: list[int] = field(default_factory=list)
    train_error: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_error: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    initial_weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    final_weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def record(self, kernel: Kernel, active: np.ndarray, train: tuple[np.ndarray, np.ndarray], step: int,
               test_error: float, test_loss: float) -> None:
        """Append one evaluation step; the train metrics on ``train`` = (X (M, n), y (M,))."""
        train_error, train_loss = kernel.evaluate(active, train[0][None], train[1][None])
        self.steps.append(step)
        self.train_error.append(float(train_error[0]))
        self.train_loss.append(float(train_loss[0]))
        self.test_error.append(test_error)
        self.test_loss.append(test_loss)


def task_test_sets(configs: Sequence[RunConfig], test_X: np.ndarray, test_y: np.ndarray
                   ) -> dict[int, list[tuple[np.ndarray, np.ndarray]]]:
    """{run: [(X, y) of the test samples of task t] for t = 0..tasks-1} for the runs of a
    multitask target (copies: only these runs keep part of their test set outside the kernel)."""
    from .data import task_of

    sets = {}
    for i, config in enumerate(configs):
        if TARGETS[config.target].multitask:
            task = task_of(config, test_X[i])
            sets[i] = [(test_X[i][task == t], test_y[i][task == t]) for t in range(config.tasks)]
    return sets


def task_errors(kernel: Kernel, run: int, sets: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, ...]:
    """The error rate of the run's current weights on each task's test samples (NaN: none)."""
    runs = np.array([run], dtype=np.int64)
    return tuple(float(kernel.evaluate(runs, X[None], y[None])[0][0]) if len(y) else math.nan for X, y in sets)


@dataclass
class GroupSetup:
    """What a group trains with: its kernel (initial weights and test sets loaded), its minibatch
    stream, each offline run's training set, run 0's initial weights (for a History), and the
    per-task test sets of its multitask runs (:func:`task_test_sets`)."""

    kernel: Kernel
    stream: object
    trains: list
    first_weights: tuple[np.ndarray, np.ndarray, np.ndarray]
    task_sets: dict = field(default_factory=dict)

    @classmethod
    def build(cls, configs: Sequence[RunConfig], make_kernel: KernelFactory,
              initial_weights: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None) -> "GroupSetup":
        """The kernel exactly as :func:`run_group` trains it (tests build theirs here too)."""
        # here: importing numba would add 0.15 s to `import sim`
        from .group_stream import GroupStream, group_test_sets

        inits = list(initial_weights) if initial_weights is not None else [initialize(c) for c in configs]
        test_X, test_y = group_test_sets(configs)  # = test_set(c) of each, stacked
        stream = GroupStream(configs)
        kernel = make_kernel(
            np.stack([w for w, _, _ in inits]), np.stack([b for _, b, _ in inits]),
            np.stack([u for _, _, u in inits]),
            lr=np.array([c.lr for c in configs]),
            weight_decay=np.array([c.weight_decay for c in configs]),
            loss_ids=np.array([LOSS_IDS[c.loss] for c in configs]),
            test_X=test_X,
            test_y=test_y,
        )
        return cls(kernel, stream, [stream.training_set(i) for i in range(len(configs))], inits[0],
                   task_test_sets(configs, test_X, test_y))


def _stopping_runs(active: np.ndarray, finite: np.ndarray, test_error: np.ndarray, target: np.ndarray,
                   max_steps: np.ndarray, step: int) -> tuple[list[int], list[tuple[int, bool, float, bool]]]:
    """(runs that go on, runs that stop now as (i, success, test error, diverged))."""
    still_active, stopping = [], []
    for j, i in enumerate(active):
        if not finite[j]:
            stopping.append((i, False, float("nan") if np.isnan(test_error[j]) else test_error[j], True))
        elif test_error[j] <= target[i]:
            stopping.append((i, True, test_error[j], False))
        elif step >= max_steps[i]:
            stopping.append((i, False, test_error[j], False))
        else:
            still_active.append(i)
    return still_active, stopping


def run_group(
    configs: Sequence[RunConfig],
    make_kernel: KernelFactory,
    on_finished: Callable[[int, RunResult], None] | None = None,
    history: History | None = None,
    initial_weights: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
) -> list[RunResult]:
    """Train one group of compatible runs to completion; results in input order.

    ``on_finished(i, result)`` is called as soon as run i stops (for progress bars and
    stores). ``history`` (single-run groups only) collects the learning curves.
    ``initial_weights`` overrides :func:`sim.init.initialize` (lottery-ticket rewinds).
    """
    keys = {group_key(c) for c in configs}
    if len(keys) != 1:
        raise ValueError(f"run_group needs configs with one group key, got {sorted(keys)}")
    if history is not None and len(configs) != 1:
        raise ValueError("history is recorded for single-run groups only")
    R = len(configs)
    n, width, B, eval_every, test_size = keys.pop()
    start = time.perf_counter()
    group = GroupSetup.build(configs, make_kernel, initial_weights)
    kernel, stream, trains = group.kernel, group.stream, group.trains
    if history is not None:
        history.initial_weights = group.first_weights

    max_steps = np.array([c.max_steps for c in configs])
    target = np.array([c.target_error for c in configs])
    results: list[RunResult | None] = [None] * R
    active = np.arange(R)
    step = 0

    def finish(stopping: list[tuple[int, bool, float, bool]]) -> None:
        """Record the runs (i, success, test error, diverged) that stop at this step."""
        measured = [i for i, _, _, diverged in stopping if trains[i] is not None and not diverged]
        train_errors = final_train_errors(kernel, measured, [trains[i] for i in measured])
        for i, success, test_error, diverged in stopping:
            results[i] = RunResult(
                success=success,
                steps_to_success=step if success else None,
                steps_run=step,
                final_test_error=float(test_error),
                final_train_error=train_errors.get(i),
                diverged=diverged,
                wall_seconds=time.perf_counter() - start,
                task_test_errors=(task_errors(kernel, i, group.task_sets[i])
                                  if i in group.task_sets and not diverged else None),
            )
            trains[i] = None
            if on_finished is not None:
                on_finished(i, results[i])

    storage_X, storage_y = [np.empty(0, np.int8)], [np.empty(0, np.int8)]
    while active.size:
        block_end = min(step - step % eval_every + eval_every, int(max_steps[active].min()))
        chunk = max(1, MAX_BLOCK_BYTES // (active.size * B * n))
        last_X = last_y = None
        while step < block_end:
            steps = min(chunk, block_end - step)
            X = _reused(storage_X, (active.size, steps, B, n))
            y = _reused(storage_y, (active.size, steps, B))
            stream.fill(active, X, y)
            kernel.train(active, X, y)
            step += steps
            last_X, last_y = X, y

        weights_finite = kernel.finite(active)
        # Screen only runs that go on training: their error at this step is not reported.
        screen = weights_finite & (step < max_steps[active]) & (history is None)
        if screen.any() and test_size >= SCREEN_MIN_TEST_SIZE:
            screen &= kernel.output_bound(active) < SCREEN_MAX_OUTPUT
        test_error, test_loss, _ = screened_test_metrics(kernel, active, screen, target[active], test_size)
        finite = weights_finite & np.isfinite(test_loss)
        if history is not None:
            train_data = trains[0] if trains[0] is not None else (last_X.reshape(-1, n), last_y.reshape(-1))
            history.record(kernel, active, train_data, step, float(test_error[0]), float(test_loss[0]))
        still_active, stopping = _stopping_runs(active, finite, test_error, target, max_steps, step)
        finish(stopping)
        if history is not None and not still_active:
            history.final_weights = kernel.parameters(np.array([0]))
            history.final_weights = tuple(p[0] for p in history.final_weights)
        active = np.array(still_active, dtype=np.int64)

    if history is not None:
        history.result = results[0]
    return results  # type: ignore[return-value]
