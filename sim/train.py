"""`sim.train` and `sim.train_history`: the public entry points of the engine."""

from __future__ import annotations

import importlib
import os
from collections import defaultdict
from functools import partial
from typing import Callable, Sequence

import numpy as np

from .config import RunConfig, RunResult
from .engine import History, group_key, run_group

BACKENDS = {
    "numba": "sim.backend_numba",
    "torch": "sim.backend_torch",
    "numpy": "sim.backend_numpy",
    "triton": "sim.backend_triton",  # CUDA (the CPU only under TRITON_INTERPRET=1)
}
DEVICES = ("cpu", "cuda")
DTYPES = ("float32", "float64")

# Runs per kernel: bounds the stacked weights (R * width * n floats) of one group.
MAX_GROUP_ELEMENTS = 2**27


def check_backend_names(backend: str, device: str, dtype: str) -> None:
    """ValueError naming the value unless backend, device and dtype are known names."""
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} must be one of {sorted(BACKENDS)}")
    if device not in DEVICES:
        raise ValueError(f"device={device!r} must be one of {DEVICES}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r} must be one of {DTYPES}")
    if backend == "triton" and device == "cpu" and os.environ.get("TRITON_INTERPRET", "0") != "1":
        raise ValueError("backend='triton' needs device='cuda' (on the CPU only under TRITON_INTERPRET=1)")


def kernel_factory(backend: str, device: str = "cpu", dtype: str = "float32") -> Callable:
    """The ``make_kernel`` of a backend with device and dtype bound; ValueError if unknown."""
    check_backend_names(backend, device, dtype)
    try:
        module = importlib.import_module(BACKENDS[backend])
    except ImportError as error:
        raise ValueError(f"backend={backend!r} cannot be loaded ({error}); "
                         "the triton backend needs the triton package, which CUDA builds of torch bring") from None
    return partial(module.make_kernel, dtype=dtype, device=device)


def plan_groups(configs: Sequence[RunConfig], max_elements: int = MAX_GROUP_ELEMENTS) -> list[list[int]]:
    """Indices of configs, grouped by :func:`sim.engine.group_key` and cut to a memory cap."""
    by_key: dict[tuple, list[int]] = defaultdict(list)
    for i, config in enumerate(configs):
        by_key[group_key(config)].append(i)
    groups = []
    for (n, width, *_), members in by_key.items():
        per_group = max(1, max_elements // (width * n))
        groups.extend(members[i:i + per_group] for i in range(0, len(members), per_group))
    return groups


def train(
    configs: Sequence[RunConfig] | RunConfig,
    backend: str = "numba",
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
    """
    if isinstance(configs, RunConfig):
        configs = [configs]
    configs = list(configs)
    for config in configs:
        if not isinstance(config, RunConfig):
            raise ValueError(f"configs must be RunConfig instances, got {type(config).__name__}")
    make_kernel = kernel_factory(backend, device, dtype)
    results: list[RunResult | None] = [None] * len(configs)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(configs), unit="run", desc=f"train[{backend}/{device}]")
    try:
        for members in plan_groups(configs):
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
    backend: str = "numba",
    device: str = "cpu",
    dtype: str = "float32",
    initial_weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> History:
    """Train one run and record train/test error and loss at every evaluation step,
    plus the initial and final weights (for figures and the lottery-ticket study).
    ``initial_weights`` replaces the seed's initialisation (e.g. rewound tickets)."""
    history = History(config=config)
    run_group(
        [config], kernel_factory(backend, device, dtype), history=history,
        initial_weights=None if initial_weights is None else [initial_weights],
    )
    return history
