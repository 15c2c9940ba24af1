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
- ``knock_out_redrawn``: each ticket's support redrawn uniformly among the s-subsets that are
  not tickets (the law of the network's other neurons, not forced off S), values kept.
- ``knock_out_sham``: the knock-out's sham arm: as many non-ticket neurons as the run has tickets
  (chosen uniformly), each support redrawn uniformly among the s-subsets with its own overlap
  |U ∩ S|, so the overlap distribution and the tickets are kept and only the redrawing is done.
- ``plant_native_ticket`` / ``plant_native_control``: as ``plant_ticket`` / ``plant_control``
  with values drawn like the init's own sparse values (uniform by default: most such tickets are
  dictator-like, as the network's own are) instead of +-1/sqrt(s).
"""

from __future__ import annotations

import math

import numpy as np

from .config import INTERVENTION_SPECS, PLANTS, RunConfig
from .data import STREAM_INIT, STREAM_INTERVENTION, draw_support, rng_for


def _draw_supports(rng: np.random.Generator, width: int, n: int, s: int) -> np.ndarray:
    # argsort of iid uniforms gives a uniformly random permutation per row; keep s.
    return np.sort(np.argsort(rng.random((width, n)), axis=1)[:, :s], axis=1)


def is_ticket_row(support: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Bool per row of ``support`` (R, s): S ⊆ U when s >= k, U ⊆ S when s < k (docs/science.md 4.4)."""
    hits = np.isin(support, target).sum(axis=-1)
    return hits == min(support.shape[-1], len(target))


def _redrawn(rng: np.random.Generator, n: int, s: int, accept) -> np.ndarray:
    """A uniformly random sorted s-subset of range(n) for which ``accept(subset)`` holds (rejection)."""
    while True:
        subset = np.sort(rng.choice(n, size=s, replace=False))
        if accept(subset):
            return subset


def _knock_out(config: RunConfig, supports: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The supports after a knock-out (see the module doc); values keep their order."""
    spec = INTERVENTION_SPECS[config.intervention]
    n, s = config.n, config.sparsity
    tickets = np.flatnonzero(is_ticket_row(supports, target))
    if spec.redraw == "off_target":
        outside = np.setdiff1d(np.arange(n), target)
        for i in tickets:
            supports[i] = np.sort(rng.choice(outside, size=s, replace=False))
    elif spec.redraw == "non_ticket":
        for i in tickets:
            supports[i] = _redrawn(rng, n, s, lambda u: not is_ticket_row(u[None, :], target)[0])
    else:  # the sham: as many non-tickets as there are tickets, each keeping its overlap with S
        others = np.setdiff1d(np.arange(len(supports)), tickets)
        chosen = np.sort(rng.choice(others, size=min(len(tickets), len(others)), replace=False))
        for i in chosen:
            overlap = int(np.isin(supports[i], target).sum())
            supports[i] = _redrawn(rng, n, s, lambda u, o=overlap: int(np.isin(u, target).sum()) == o)
    return supports


def _plant_values(config: RunConfig, rng: np.random.Generator) -> np.ndarray:
    """The planted neuron's s values: +-1/sqrt(s) (``sign`` plants) or drawn like the init's own
    sparse values (``native`` plants; a dense network's plant uses the default, uniform)."""
    s = config.sparsity
    if INTERVENTION_SPECS[config.intervention].values == "sign" or config.sparse_values == "sign":
        return (1.0 - 2.0 * rng.integers(0, 2, size=s)) / math.sqrt(s)
    if config.sparse_values == "uniform":
        return rng.uniform(-1.0 / math.sqrt(s), 1.0 / math.sqrt(s), size=s)
    return np.ones(s)


def _intervene(config: RunConfig, supports: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(supports after the intervention, the planted neuron's values or None). Moves knocked-out
    supports in place; for a plant, row 0 of the returned supports (sparse init) is the planted one."""
    spec = INTERVENTION_SPECS[config.intervention]
    if spec.kind == "none":
        return supports, None
    n, s = config.n, config.sparsity
    target = np.asarray(draw_support(n, config.k, config.seed))
    rng = rng_for(config.seed, STREAM_INTERVENTION)
    if spec.kind == "knock_out":
        return _knock_out(config, supports, target, rng), None
    outside = np.setdiff1d(np.arange(n), target)
    values = _plant_values(config, rng)  # drawn first: a ticket and its control get the same values
    if spec.on_target:
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
    if config.intervention not in PLANTS:
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
