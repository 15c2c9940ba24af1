"""Backend kernels built and fed as sim.engine.run_group does, shared by the backend test modules."""

from __future__ import annotations

import numpy as np

from sim import RunConfig
from sim.data import MinibatchStream
from sim.data import test_set as make_test_set  # (not named test_*: pytest would collect it)
from sim.engine import LOSS_IDS
from sim.init import initialize


def build_kernel(module, configs: list[RunConfig], dtype: str = "float64", device: str = "cpu"):
    """A backend kernel for configs of one group, with the driver's inputs (sim.engine.run_group)."""
    inits = [initialize(c) for c in configs]
    tests = [make_test_set(c) for c in configs]
    return module.make_kernel(
        np.stack([W for W, _, _ in inits]), np.stack([b for _, b, _ in inits]), np.stack([u for _, _, u in inits]),
        lr=np.array([c.lr for c in configs]),
        weight_decay=np.array([c.weight_decay for c in configs]),
        loss_ids=np.array([LOSS_IDS[c.loss] for c in configs]),
        test_X=np.stack([X for X, _ in tests]), test_y=np.stack([y for _, y in tests]),
        dtype=dtype, device=device,
    )


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
