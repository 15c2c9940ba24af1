"""`sim.train` and `sim.train_history`: the public entry points of the engine."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Sequence

import numpy as np

from .backends import DEFAULT_BACKEND, kernel_factory
from .config import RunConfig, RunResult
from .engine import History, group_key, run_group
from .resources import available_memory, check_memory, run_memory, runs_per_group

# Runs per kernel: bounds the stacked weights (R * width * n floats) of one group.
MAX_GROUP_ELEMENTS = 2**27


def plan_groups(configs: Sequence[RunConfig], max_elements: int = MAX_GROUP_ELEMENTS, backend: str = "numba",
                available: int | None = None) -> list[list[int]]:
    """Indices of configs, grouped by :func:`sim.engine.group_key` and cut to a memory cap: at most
    ``max_elements`` stacked weights, and (when ``available`` bytes are given) what fits in
    :data:`sim.resources.GROUP_SHARE` of them by :func:`sim.resources.run_memory`."""
    by_key: dict[tuple, list[int]] = defaultdict(list)
    for i, config in enumerate(configs):
        by_key[group_key(config)].append(i)
    groups = []
    for (n, width, *_), members in by_key.items():
        per_group = max(1, max_elements // (width * n))
        if available is not None:
            largest = max((configs[i] for i in members), key=lambda c: run_memory(c, backend))
            per_group = min(per_group, runs_per_group(largest, backend, available) or per_group)
        groups.extend(members[i:i + per_group] for i in range(0, len(members), per_group))
    return groups


def train(
    configs: Sequence[RunConfig] | RunConfig,
    backend: str = DEFAULT_BACKEND,
    device: str = "cpu",
    dtype: str = "float32",
    progress: bool = False,
    on_finished: Callable[[RunConfig, RunResult], None] | None = None,
) -> list[RunResult]:
    """Train every run; results in input order.

    Configs may differ in every field: runs are grouped by (n, width, batch_size,
    eval_every, test_size) and each group advances all its runs together; a run that
    stops (success, max_steps, divergence) leaves the batch at once.
    ``on_finished(config, result)`` is called as each run stops (stores use it).
    A run whose memory estimate exceeds the memory available is refused before anything is
    allocated (:class:`sim.resources.RunTooLargeError`, a MemoryError and a ValueError).
    """
    if isinstance(configs, RunConfig):
        configs = [configs]
    configs = list(configs)
    for config in configs:
        if not isinstance(config, RunConfig):
            raise ValueError(f"configs must be RunConfig instances, got {type(config).__name__}")
    make_kernel = kernel_factory(backend, device, dtype)
    available = available_memory()
    check_memory(configs, backend, available)  # before anything is allocated: a refusal, not an OOM kill
    results: list[RunResult | None] = [None] * len(configs)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(configs), unit="run", desc=f"train[{backend}/{device}]")
    try:
        for members in plan_groups(configs, backend=backend, available=available):
            def finished(j: int, result: RunResult, members=members) -> None:
                results[members[j]] = result
                if on_finished is not None:
                    on_finished(configs[members[j]], result)
                if bar is not None:
                    bar.update(1)
            run_group([configs[i] for i in members], make_kernel, on_finished=finished)
    finally:
        if bar is not None:
            bar.close()
    return results  # type: ignore[return-value]


def train_history(
    config: RunConfig,
    backend: str = DEFAULT_BACKEND,
    device: str = "cpu",
    dtype: str = "float32",
    initial_weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> History:
    """Train one run and record train/test error and loss at every evaluation step,
    plus the initial and final weights (for figures and the lottery-ticket study).
    ``initial_weights`` replaces the seed's initialisation (e.g. rewound tickets)."""
    history = History(config=config)
    check_memory([config], backend)
    run_group(
        [config], kernel_factory(backend, device, dtype), history=history,
        initial_weights=None if initial_weights is None else [initial_weights],
    )
    return history
