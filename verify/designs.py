"""The runs each check reads: its *design* (docs/verification.md, "Designs").

A check answers the question its design asks and no other: which arms it reads, which cells,
and what pairs them. A check never reads runs of another experiment (an extra cell one arm has
and the other lacks, an intervention arm typed as natural runs), so every analysis is on
paired cells only:

- :data:`FRONTIER` (width_monotone, sparse_beats_dense, ratio_across_critical_width,
  frontier_prediction, parallel_search_slope): runs without an intervention, restricted, within
  each study (n, k, target, ...), to the cells (width, m, seed) that *every* init arm of the
  study has. A study with one init arm keeps all its runs (width_monotone pairs them across
  widths). The none arm of an intervention experiment at cells or seeds the other init lacks
  is therefore not read, and no planted or knocked-out run ever is.
- :data:`KNOCKOUT`: the sparse runs of ``none``, ``knock_out_redrawn`` and ``knock_out_sham``
  (or the original ``knock_out_tickets``), at cells (width, m, seed) every arm has.
- :data:`KNOCKIN`: ``none``, ``plant_native_ticket`` and ``plant_native_control`` (or the
  sign-valued ``plant_ticket`` / ``plant_control``) at cells every arm has.
- :data:`NATURAL_SPARSE` (the gates init_gradient, ticket_frequency and tickets_after_training):
  sparse-init runs without an intervention (they read the simulator's own initialisation).

Each design also names the grid parts the demo runs for it (:data:`DEMO_PARTS`): ``jobs.demo``
assembles its grid from them, so a reader sees which runs serve which check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from . import estimates as est

if TYPE_CHECKING:
    import pandas as pd

#: The fields that make a cell of a study (what pairs runs across its arms).
CELL_KEYS: tuple[str, ...] = ("width", "samples", "seed")
ARM_KEYS: tuple[str, ...] = ("init", "sparsity", "sparse_values", "intervention")


@dataclass(frozen=True)
class Design:
    """The runs a check reads. ``select(frame)`` returns those rows of a store frame (the
    original rows, index kept); ``interventions`` are the arms it reads; ``pairing`` what pairs
    them; ``description`` says it in words for the docs and the report."""

    name: str
    description: str
    interventions: tuple[str, ...]
    pairing: str
    select: Callable[["pd.DataFrame"], "pd.DataFrame"]


def _study_keys(data: "pd.DataFrame") -> list[str]:
    return [f for f in est.STUDY_FIELDS if f in data.columns]


def group_labels(data: "pd.DataFrame", columns: list[str]) -> "pd.Series":
    """An integer label per row, equal for rows equal in ``columns`` (NaN equal to NaN)."""
    return data.groupby(columns, dropna=False, sort=False).ngroup()


def paired_cells(frame: "pd.DataFrame", arms_of: Callable[["pd.DataFrame"], "pd.Series"]) -> "pd.DataFrame":
    """The rows of ``frame`` whose (study, width, m, seed) cell is present in every arm of its
    study, arms labelled by ``arms_of(normalized frame)``; a study with one arm keeps every row."""
    if not len(frame):
        return frame
    data = est.normalized(frame)
    study = group_labels(data, _study_keys(data))
    cell = group_labels(data, _study_keys(data) + list(CELL_KEYS))
    arm = arms_of(data).astype(str)
    arms_per_study = arm.groupby(study).nunique()
    arms_per_cell = arm.groupby(cell).nunique()
    keep = arms_per_cell.reindex(cell).to_numpy() == arms_per_study.reindex(study).to_numpy()
    return frame[np.asarray(keep, dtype=bool)]


def _init_arm(data: "pd.DataFrame") -> "pd.Series":
    return data["init"].astype(str) + "|" + data["sparsity"].astype(str) + "|" + data["sparse_values"].astype(str)


def _select_frontier(frame: "pd.DataFrame") -> "pd.DataFrame":
    if not len(frame):
        return frame
    plain = frame[(frame["intervention"] == "none").to_numpy()]
    return paired_cells(plain, _init_arm)


def _plant_arm(data: "pd.DataFrame") -> "pd.Series":
    """The init arm an intervention acts on: init and values, and s for sparse init (a dense
    network's plant is paired with the dense runs, whatever its planted s)."""
    sparse = data["init"] == "sparse"
    return (data["init"].astype(str) + "|" + data["sparse_values"].astype(str) + "|"
            + data["sparsity"].astype(str).where(sparse, ""))


def _intervention_selector(groups: tuple[tuple[str, ...], ...]) -> Callable[["pd.DataFrame"], "pd.DataFrame"]:
    """For each group of arms (``none`` and its interventions) and each init arm they act on, the
    runs at the cells (study, width, m, seed) every arm of the group has."""
    def select(frame: "pd.DataFrame") -> "pd.DataFrame":
        import pandas as pd

        if not len(frame):
            return frame
        data = est.normalized(frame)
        init_arm = _plant_arm(data)
        parts = []
        for arms in groups:
            in_group = data["intervention"].isin(arms)
            treated = set(init_arm[in_group & (data["intervention"] != "none")])
            for arm in sorted(treated):
                rows = frame[(in_group & (init_arm == arm)).to_numpy()]
                parts.append(paired_cells(rows, lambda d: d["intervention"]))
        if not parts:
            return frame.iloc[0:0]
        out = pd.concat(parts)
        return out[~out.index.duplicated()]
    return select


def _select_natural_sparse(frame: "pd.DataFrame") -> "pd.DataFrame":
    if not len(frame):
        return frame
    return frame[((frame["init"] == "sparse") & (frame["intervention"] == "none")).to_numpy()]


FRONTIER = Design(
    "frontier", "runs without an intervention at the cells (width, m, seed) every init arm of their study has",
    ("none",), "seed, width and m across init arms; seed and m across widths", _select_frontier)
KNOCKOUT_ARMS = ("none", "knock_out_redrawn", "knock_out_sham")
KNOCKOUT = Design(
    "knockout", "sparse runs of none, knock_out_redrawn and knock_out_sham (or knock_out_tickets) at the cells "
    "every arm has", ("none", "knock_out_redrawn", "knock_out_sham", "knock_out_tickets"), "seed, width and m",
    _intervention_selector((KNOCKOUT_ARMS, ("none", "knock_out_tickets"))))
KNOCKIN_ARMS = ("none", "plant_native_ticket", "plant_native_control")
KNOCKIN = Design(
    "knockin", "runs of none, plant_native_ticket and plant_native_control (or the sign-valued plant_ticket and "
    "plant_control) at the cells every arm has", ("none", "plant_native_ticket", "plant_native_control",
                                                  "plant_ticket", "plant_control"), "seed, width and m",
    _intervention_selector((KNOCKIN_ARMS, ("none", "plant_ticket", "plant_control"))))
NATURAL_SPARSE = Design(
    "natural_sparse", "sparse-init runs without an intervention (the simulator's own initialisation)", ("none",),
    "none (the init is recomputed from each run's seed)", _select_natural_sparse)
THEORY_ONLY = Design("theory_only", "no runs: exact arithmetic (the store's sparsities widen the cases)", (),
                     "none", lambda frame: frame)

DESIGNS: dict[str, Design] = {d.name: d for d in (FRONTIER, KNOCKOUT, KNOCKIN, NATURAL_SPARSE, THEORY_ONLY)}

# --------------------------------------------------------------------------- the demo's parts

#: One step budget and test set for every part of the demo grid (a step budget that changed with n
#: would bend the n-scaling the frontier models fit).
DEMO_SCALARS: dict[str, Any] = {"max_steps": 10000, "eval_every": 100, "test_size": 2000}
#: The demo grid, part by part, under the design each part serves (``jobs.demo`` assembles it).
DEMO_PARTS: dict[str, list[dict[str, Any]]] = {
    "frontier": [
        # n = 20, r* = 64: r*/8 .. 4 r*. m up to 900 (and 2000 at n = 40): the narrow dense
        # thresholds lay above the old grids' ends in some bootstrap draws (ratio_across_critical_width
        # could not PASS at n = 20 nor decide at n = 40; issue 23).
        {"n": 20, "k": 3, "init": ["dense", "sparse"], "width": [8, 16, 64, 256],
         "samples": [100, 150, 200, 250, 300, 400, 600, 900, "online"], "seeds": 16},
        # n = 30, r* = 145: r*/16 .. 4 r*. A quarter of the successes at n = 30 come after step 3000.
        {"n": 30, "k": 3, "init": ["dense", "sparse"], "width": [9, 18, 36, 145, 580],
         "samples": [200, 300, 450, 700, 1000, 1500, "online"], "seeds": 12},
        # n = 40, r* = 260: r*/16 .. 4 r* (the held-out n of frontier_prediction).
        {"n": 40, "k": 3, "init": ["dense", "sparse"], "width": [16, 65, 260, 1040],
         "samples": [300, 400, 500, 650, 800, 1000, 1300, 2000, "online"], "seeds": 12},
    ],
    # n = 30 at 4 r* = 580, m in the none arm's transition window; seeds sized by the operating
    # characteristics (docs/verification.md): the equivalence route needs them.
    "knockout": [
        {"n": 30, "k": 3, "init": "sparse", "width": 580, "samples": [320, 340, 360, 380],
         "intervention": list(KNOCKOUT_ARMS), "seeds": 32},
    ],
    # n = 30 at r*/8 = 18, m in the none arm's transition window.
    "knockin": [
        {"n": 30, "k": 3, "init": "sparse", "width": 18, "samples": [450, 575, 700],
         "intervention": list(KNOCKIN_ARMS), "seeds": 48},
    ],
}
