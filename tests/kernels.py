"""Backend kernels built as sim.engine.run_group builds them and fed by the per-run MinibatchStream
(the slow oracle of the group stream), shared by the backend test modules."""

from __future__ import annotations

from functools import partial

import numpy as np

from sim import RunConfig
from sim.data import MinibatchStream
from sim.engine import GroupSetup


def build_kernel(module, configs: list[RunConfig], dtype: str = "float64", device: str = "cpu"):
    """A backend kernel for configs of one group, set up by the engine itself (GroupSetup)."""
    return GroupSetup.build(configs, partial(module.make_kernel, dtype=dtype, device=device)).kernel


def train_kernel(kernel, configs: list[RunConfig], blocks: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Feed each run its own minibatch stream in blocks of the given step counts; final (W, b, u)."""
    streams = [MinibatchStream(c) for c in configs]
    runs = np.arange(len(configs))
    B, n = configs[0].batch_size, configs[0].n
    for steps in blocks:
        X = np.empty((len(configs), steps, B, n), dtype=np.int8)
        y = np.empty((len(configs), steps, B), dtype=np.int8)
        for j, stream in enumerate(streams):
            stream.next(steps, X[j], y[j])
        kernel.train(runs, X, y)
    return kernel.parameters(runs)


def trained_weights(module, configs: list[RunConfig], steps: int = 200, dtype: str = "float64",
                    device: str = "cpu") -> tuple[np.ndarray, ...]:
    """(W, b, u) of the configs (one group) after ``steps`` SGD steps, fed in two blocks."""
    return train_kernel(build_kernel(module, configs, dtype, device), configs, (steps // 3, steps - steps // 3))
