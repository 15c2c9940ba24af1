"""Neuron types of stored runs at initialisation, recomputed from their seeds (docs/science.md 7.1).

A hidden neuron of a sparse run has type o = |U ∩ S|, the overlap of its support with the target;
its N_o counts follow a multinomial with q_o = C(k, o) C(n-k, s-o) / C(n, s). A dense neuron has
type ``dense``; a neuron planted into a dense network (``plant_*``) has its overlap. The counts come
from the same streams ``sim.init`` and ``sim.data`` draw (interventions included), so any store can
be typed without retraining.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

DENSE = "N_dense"


def overlap_column(o: int) -> str:
    return f"N_{o}"


@lru_cache(maxsize=65536)
def _counts(n: int, k: int, init: str, sparsity: int, width: int, seed: int, intervention: str
            ) -> tuple[tuple[int, ...], int]:
    """(N_0..N_min(s,k), N_dense) of one initialisation (the training set size does not matter)."""
    from sim.config import RunConfig
    from sim.data import draw_support
    from sim.init import planted_support, sparse_supports

    config = RunConfig(n=n, k=k, width=width, init=init, sparsity=sparsity, seed=seed, intervention=intervention)
    target = np.asarray(draw_support(n, k, seed))
    top = min(sparsity, k)
    if init == "sparse":
        overlaps = np.isin(sparse_supports(config), target).sum(axis=1)
        return tuple(np.bincount(overlaps, minlength=top + 1).tolist()), 0
    counts = [0] * (top + 1)
    planted = planted_support(config)
    if planted is not None:
        counts[len(set(planted) & set(target.tolist()))] += 1
    return tuple(counts), width - (planted is not None)


def type_counts(frame: "pd.DataFrame") -> "pd.DataFrame":
    """Per run (aligned with ``frame``'s index): ``N_0``.. ``N_O`` (O the largest min(s, k) in the
    frame; 0 where a run's s or k allows fewer) and ``N_dense``."""
    import pandas as pd

    columns = ["n", "k", "init", "sparsity", "width", "seed", "intervention"]
    keys = list(frame[columns].itertuples(index=False, name=None))
    results = [_counts(int(n), int(k), str(i), int(s), int(w), int(sd), str(iv)) for n, k, i, s, w, sd, iv in keys]
    top = max((len(c) for c, _ in results), default=1) - 1
    table = np.zeros((len(results), top + 2), dtype=np.int64)
    for row, (counts, dense) in enumerate(results):
        table[row, :len(counts)] = counts
        table[row, -1] = dense
    return pd.DataFrame(table, index=frame.index, columns=[overlap_column(o) for o in range(top + 1)] + [DENSE])


def neuron_signals(config) -> list:
    """The exact population gradient signal of every neuron of a stored run at initialisation
    (theory.neuron.neuron_gradient_signal on the weights sim.init draws for its seed, target S
    from sim.data): which neurons get signal for this run's target, and their gaps.

    Sparse init only (a dense neuron's exact signal is a DP over all n coordinates; for those use
    the census of theory.anticoncentration)."""
    from sim.data import draw_support
    from sim.init import initialize, sparse_supports
    from theory.neuron import neuron_gradient_signal

    if config.init != "sparse":
        raise ValueError(f"RunConfig.init={config.init!r}: exact neuron signals need sparse init")
    W, b, _ = initialize(config)
    target = draw_support(config.n, config.k, config.seed)
    off = 1.0 / (2 * (config.n - config.sparsity)) if config.sparse_values == "ones-eps" else 0.0
    return [neuron_gradient_signal(config.n, tuple(int(c) for c in support), [float(W[i, c]) for c in support],
                                   float(b[i]), target, off_support=off)
            for i, support in enumerate(sparse_supports(config))]


def ticket_signal_census(n: int, k: int = 3, s: int = 2, values: str = "uniform", width: int = 1000,
                         seeds: int = 10) -> tuple[int, int]:
    """(tickets that carry a first-order signal on S, tickets) over the runs of seeds 0..seeds-1
    at ``width``: an exact per-neuron census of the simulator's own draws (theory.neuron decides
    each ticket exactly), to set beside theory.neuron.signal_carrying_fraction."""
    from sim.config import RunConfig
    from sim.data import draw_support
    from sim.init import initialize, is_ticket_row, sparse_supports
    from theory.neuron import neuron_gradient_signal

    carrying = tickets = 0
    for seed in range(seeds):
        config = RunConfig(n=n, k=k, width=width, init="sparse", sparsity=s, sparse_values=values, seed=seed)
        W, b, _ = initialize(config)
        target = draw_support(n, k, seed)
        supports = sparse_supports(config)
        for i in np.flatnonzero(is_ticket_row(supports, np.asarray(target))):
            support = tuple(int(c) for c in supports[i])
            signal = neuron_gradient_signal(n, support, [float(W[i, c]) for c in support], float(b[i]), target)
            carrying += signal.carries_signal
            tickets += 1
    return carrying, tickets
