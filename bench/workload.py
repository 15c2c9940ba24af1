"""The benchmark's workload: R runs of one width, their online minibatches pre-generated from
``sim.data``, and our kernels built on them as :func:`sim.engine.run_group` builds them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_INPUTS = 50
K_PARITY = 3
BATCH = 32
LR = 0.1
WEIGHT_DECAY = 0.01
WIDTHS = (10, 100, 1000, 10000)
# On CUDA the bandwidth target is at widths >= 3 x 10^4: measured by default there.
CUDA_WIDTHS = WIDTHS + (30_000, 100_000)


@dataclass
class Workload:
    """Initial weights (float64, stacked) and a pool of pre-generated minibatch blocks.

    ``blocks[i]`` = (X (R, steps, B, n) int8, y (R, steps, B) int8), consecutive online
    minibatches of every run. Our kernels cycle through the whole pool (``pool_steps``
    distinct steps), because the numba kernel skips samples whose hinge margin is met
    and would speed up on a small block it has memorised; fresh data keeps the
    measurement at the cost of early training, where nearly every sample is active.
    The baselines do the same dense work whatever the data and cycle over ``blocks[0]``.
    """

    width: int
    W: np.ndarray  # (R, r, n)
    b: np.ndarray  # (R, r)
    u: np.ndarray  # (R, r)
    blocks: list[tuple[np.ndarray, np.ndarray]]

    @property
    def runs(self) -> int:
        return self.W.shape[0]

    @property
    def steps(self) -> int:
        """Steps per block (one kernel call)."""
        return self.blocks[0][0].shape[1]

    @property
    def X(self) -> np.ndarray:
        return self.blocks[0][0]

    @property
    def y(self) -> np.ndarray:
        return self.blocks[0][1]


def pool_steps_for(runs: int, block_steps: int, n: int = N_INPUTS, batch: int = BATCH,
                   max_bytes: int = 2**26, max_steps: int = 400) -> int:
    """Distinct steps of data to pre-generate: up to ``max_steps``, within ``max_bytes`` of int8."""
    fit = max_bytes // (runs * batch * (n + 1))
    blocks = max(1, min(max_steps, fit) // block_steps)
    return blocks * block_steps


def make_workload(width: int, runs: int, block_steps: int, pool_steps: int | None = None,
                  n: int = N_INPUTS, batch: int = BATCH) -> Workload:
    """R dense-init runs (seeds 0..R-1) and ``pool_steps`` online minibatches each, from sim."""
    from sim import RunConfig
    from sim.data import MinibatchStream
    from sim.init import initialize

    pool_steps = pool_steps or pool_steps_for(runs, block_steps, n, batch)
    configs = [RunConfig(n=n, k=K_PARITY, width=width, batch_size=batch, seed=s) for s in range(runs)]
    inits = [initialize(c) for c in configs]
    streams = [MinibatchStream(c) for c in configs]
    blocks = []
    for _ in range(max(1, pool_steps // block_steps)):
        X = np.empty((runs, block_steps, batch, n), dtype=np.int8)
        y = np.empty((runs, block_steps, batch), dtype=np.int8)
        for j, stream in enumerate(streams):
            stream.next(block_steps, X[j], y[j])
        blocks.append((X, y))
    return Workload(width, np.stack([p[0] for p in inits]), np.stack([p[1] for p in inits]),
                    np.stack([p[2] for p in inits]), blocks)


def kernel_for(backend: str, work: Workload, device: str, test_samples: int = BATCH):
    """Our backend's kernel for the workload's runs, built as sim.engine.run_group builds it."""
    from sim.backends import kernel_factory
    from sim.engine import LOSS_IDS

    R = work.runs
    rng = np.random.default_rng(0)
    test_X = (1 - 2 * rng.integers(0, 2, size=(R, test_samples, work.X.shape[-1]))).astype(np.int8)
    test_y = np.prod(test_X[..., :K_PARITY], axis=-1, dtype=np.int8)
    return kernel_factory(backend, device, "float32")(
        work.W, work.b, work.u, lr=np.full(R, LR), weight_decay=np.full(R, WEIGHT_DECAY),
        loss_ids=np.full(R, LOSS_IDS["hinge"], dtype=np.int64), test_X=test_X, test_y=test_y,
    )
