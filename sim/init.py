"""Initial weights (docs/science.md section 2), from the run's seed only.

Dense (default): PyTorch's ``nn.Linear`` default, W, b ~ U(-1/sqrt(n), 1/sqrt(n)) and
u ~ U(-1/sqrt(r), 1/sqrt(r)). Sparse "s-hot": each row of W is nonzero exactly on a
uniformly random s-subset U_i (its support) with values

- ``"uniform"`` (default): U(-1/sqrt(s), 1/sqrt(s));
- ``"sign"``: ±1/sqrt(s) with random signs;
- ``"ones-eps"`` (the theory's variant, docs/science.md 4.3): 1 on U_i and
  epsilon = 1/(2(n-s)) < 1/(n-s) elsewhere (so this variant is dense, with an s-hot
  dominant part).

Biases and u are as in dense init. Draw order within the INIT stream: supports,
values, b, u; so :func:`sparse_supports` can recompute the supports cheaply.
"""

from __future__ import annotations

import math

import numpy as np

from .config import RunConfig
from .data import STREAM_INIT, rng_for


def _draw_supports(rng: np.random.Generator, width: int, n: int, s: int) -> np.ndarray:
    # argsort of iid uniforms gives a uniformly random permutation per row; keep s.
    return np.sort(np.argsort(rng.random((width, n)), axis=1)[:, :s], axis=1)


def sparse_supports(config: RunConfig) -> np.ndarray:
    """The (width, s) sorted support indices of a sparse-init run's neurons."""
    if config.init != "sparse":
        raise ValueError(f"RunConfig.init={config.init!r}: only sparse init has supports")
    return _draw_supports(rng_for(config.seed, STREAM_INIT), config.width, config.n, config.sparsity)


def initialize(config: RunConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial (W (width, n), b (width,), u (width,)) as float64 arrays."""
    rng = rng_for(config.seed, STREAM_INIT)
    r, n, s = config.width, config.n, config.sparsity
    bound_in = 1.0 / math.sqrt(n)
    if config.init == "dense":
        W = rng.uniform(-bound_in, bound_in, size=(r, n))
    else:
        supports = _draw_supports(rng, r, n, s)
        if config.sparse_values == "uniform":
            values = rng.uniform(-1.0 / math.sqrt(s), 1.0 / math.sqrt(s), size=(r, s))
        elif config.sparse_values == "sign":
            values = (1.0 - 2.0 * rng.integers(0, 2, size=(r, s))) / math.sqrt(s)
        else:
            values = np.ones((r, s))
        fill = 1.0 / (2 * (n - s)) if config.sparse_values == "ones-eps" and n > s else 0.0
        W = np.full((r, n), fill)
        np.put_along_axis(W, supports, values, axis=1)
    b = rng.uniform(-bound_in, bound_in, size=r)
    u = rng.uniform(-1.0 / math.sqrt(r), 1.0 / math.sqrt(r), size=r)
    return W, b, u
