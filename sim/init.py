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

Interventions (``RunConfig.intervention``, docs/science.md section 7) change the drawn weights
afterwards, from their own stream (``STREAM_INTERVENTION``), so the data, S, b, u and every
untouched neuron are those of the ``none`` run of the same seed:

- ``knock_out_tickets`` (sparse init): each ticket neuron (S ⊆ U if s >= k, U ⊆ S if s < k),
  in row order, gets a uniformly random s-subset of the coordinates outside S as its support;
  its values keep their order (the j-th smallest support coordinate keeps the j-th value).
- ``plant_ticket``: neuron 0 becomes an s-hot ticket: a random s-subset of S if s < k, S plus
  s - k random other coordinates if s >= k; values ±1/sqrt(s) with random signs. In a dense
  network the rest of row 0 is set to 0 (one sparse ticket among dense neurons).
- ``plant_control``: the same values (the signs are drawn first, so they equal the
  ``plant_ticket`` run's) on a random s-subset disjoint from S.
"""

from __future__ import annotations

import math

import numpy as np

from .config import RunConfig
from .data import STREAM_INIT, STREAM_INTERVENTION, draw_support, rng_for


def _draw_supports(rng: np.random.Generator, width: int, n: int, s: int) -> np.ndarray:
    # argsort of iid uniforms gives a uniformly random permutation per row; keep s.
    return np.sort(np.argsort(rng.random((width, n)), axis=1)[:, :s], axis=1)


def is_ticket_row(support: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Bool per row of ``support`` (R, s): S ⊆ U when s >= k, U ⊆ S when s < k (docs/science.md 4.4)."""
    hits = np.isin(support, target).sum(axis=-1)
    return hits == min(support.shape[-1], len(target))


def _intervene(config: RunConfig, supports: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(supports after the intervention, the planted neuron's values or None). Moves knocked-out
    supports in place; for a plant, row 0 of the returned supports (sparse init) is the planted one."""
    if config.intervention == "none":
        return supports, None
    n, s = config.n, config.sparsity
    target = np.asarray(draw_support(n, config.k, config.seed))
    outside = np.setdiff1d(np.arange(n), target)
    rng = rng_for(config.seed, STREAM_INTERVENTION)
    if config.intervention == "knock_out_tickets":
        for i in np.flatnonzero(is_ticket_row(supports, target)):
            supports[i] = np.sort(rng.choice(outside, size=s, replace=False))
        return supports, None
    values = (1.0 - 2.0 * rng.integers(0, 2, size=s)) / math.sqrt(s)
    if config.intervention == "plant_ticket":
        if s < config.k:
            planted = rng.choice(target, size=s, replace=False)
        else:
            planted = np.concatenate([target, rng.choice(outside, size=s - config.k, replace=False)])
    else:
        planted = rng.choice(outside, size=s, replace=False)
    planted = np.sort(planted)
    if supports is None:
        return planted[None, :], values
    supports[0] = planted
    return supports, values


def sparse_supports(config: RunConfig) -> np.ndarray:
    """The (width, s) sorted support indices of a sparse-init run's neurons (after its intervention)."""
    if config.init != "sparse":
        raise ValueError(f"RunConfig.init={config.init!r}: only sparse init has supports")
    supports = _draw_supports(rng_for(config.seed, STREAM_INIT), config.width, config.n, config.sparsity)
    return _intervene(config, supports)[0]


def planted_support(config: RunConfig) -> tuple[int, ...] | None:
    """The support of neuron 0 after a ``plant_*`` intervention (any init), else None."""
    if config.intervention not in ("plant_ticket", "plant_control"):
        return None
    supports = sparse_supports(config) if config.init == "sparse" else _intervene(config, None)[0]
    return tuple(int(c) for c in supports[0])


def initialize(config: RunConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial (W (width, n), b (width,), u (width,)) as float64 arrays, intervention applied."""
    rng = rng_for(config.seed, STREAM_INIT)
    r, n, s = config.width, config.n, config.sparsity
    bound_in = 1.0 / math.sqrt(n)
    fill = 0.0
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
        supports, planted_values = _intervene(config, supports)
        if planted_values is not None:
            values[0] = planted_values
        W = np.full((r, n), fill)
        np.put_along_axis(W, supports, values, axis=1)
    b = rng.uniform(-bound_in, bound_in, size=r)
    u = rng.uniform(-1.0 / math.sqrt(r), 1.0 / math.sqrt(r), size=r)
    if config.init == "dense" and config.intervention != "none":
        planted, planted_values = _intervene(config, None)
        W[0] = 0.0
        W[0, planted[0]] = planted_values
    return W, b, u
