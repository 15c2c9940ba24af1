"""The lottery-ticket experiment (docs/science.md 5.5; paper: Edelman et al. 2023, Section 5, Figure 5).

Protocol, with s-hot sparse initialisation throughout:

1. Train the full network (width r, seed ``seed``) with :func:`sim.train_history`.
2. Rank its neurons by a final-weight score and keep the ``top`` best. Default score
   ``contribution`` = ||w_i||_2 * |u_i|: the size of neuron i's share of f, and invariant under
   the ReLU rescaling (w_i, b_i, u_i) -> (c w_i, c b_i, u_i / c) that leaves f unchanged, so it
   cannot be inflated by moving weight between layers. ``input-norm`` = ||w_i||_2 (the paper's
   "weight norm" read literally) is the alternative.
3. Rewind the kept neurons to their *initial* weights (w_i, b_i, u_i at step 0, the u_i keeping
   the full network's 1/sqrt(r) scale) and retrain that width-``top`` network with ``seeds``
   different seeds, ``seed + 1, seed + 2, ...``.
4. Train ``random_nets`` freshly initialised width-``top`` networks with the same seeds.

Retraining seeds, honestly: in our seed scheme (:mod:`sim.data`) a seed fixes the target
support S as well as the data, so a new seed would normally make the rewound neurons useless
for reasons that have nothing to do with SGD. We therefore relabel input coordinates: for
retrain seed s' with support S', a permutation of [n] that maps S onto S' (in sorted order) and
the rest of [n] onto the rest in sorted order is applied to the columns of the rewound W.
The parity problem is invariant under relabelling coordinates, so the rewound network stands
to S' exactly as it stood to S; what the new seed changes is the randomness of training: the
online sample stream (or, offline, the training set and its minibatch order) and the test
set. The random networks with the same seed see exactly the same data and target, so each
(rewound, random) pair differs only in its initial weights.

Results go to a SQLite file (tables ``ticket_experiments``, ``ticket_neurons``,
``ticket_curves``; a runs store may hold them next to its ``runs`` table) and Figure 5 is
drawn from there by :mod:`paper_figs.fig5`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

RANK_BY = ("contribution", "input-norm")
GROUPS = ("full", "rewound", "random")


@dataclass(frozen=True)
class TicketSettings:
    """Parameters of one lottery-ticket experiment (see the module docstring)."""

    n: int = 50
    k: int = 4
    width: int = 100
    sparsity: int = 2
    samples: int | None = None
    top: int = 5
    seeds: int = 10
    random_nets: int = 10
    max_steps: int = 20_000
    eval_every: int = 100
    test_size: int = 10_000
    target_error: float = 0.1
    seed: int = 0
    rank_by: str = "contribution"
    sparse_values: str = "uniform"

    def __post_init__(self) -> None:
        for name in ("top", "seeds", "random_nets"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 1")
        if self.top > self.width:
            raise ValueError(f"top={self.top} must be <= width={self.width}")
        if self.rank_by not in RANK_BY:
            raise ValueError(f"rank_by={self.rank_by!r} must be one of {RANK_BY}")
        self.config(self.width, self.seed)  # RunConfig validates the rest

    def config(self, width: int, seed: int):
        """The RunConfig of one training run of this experiment."""
        from sim import RunConfig

        return RunConfig(
            n=self.n, k=self.k, width=width, samples=self.samples, init="sparse", sparsity=self.sparsity,
            sparse_values=self.sparse_values, max_steps=self.max_steps, eval_every=self.eval_every,
            test_size=self.test_size, target_error=self.target_error, seed=seed,
        )

    @property
    def retrain_seeds(self) -> list[int]:
        return [self.seed + 1 + i for i in range(max(self.seeds, self.random_nets))]

    @property
    def experiment_id(self) -> str:
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class KeptNeuron:
    """One neuron kept from the full network, with where it started and what it learned."""

    rank: int
    index: int
    score: float
    support: tuple[int, ...]        # initial s-hot support U_i
    overlap: int                    # |U_i ∩ S|
    ticket: bool                    # U_i ⊆ S (s < k) or S ⊆ U_i (s >= k), docs/science.md 4.4
    final_top: tuple[int, ...]      # the k coordinates with largest |w_i| after training
    final_top_overlap: int          # |final_top ∩ S|


@dataclass(frozen=True)
class Curve:
    """Test (and train) error of one run at every evaluation step."""

    group: str
    seed: int
    steps: tuple[int, ...]
    test_error: tuple[float, ...]
    train_error: tuple[float, ...]
    success: bool
    steps_to_success: int | None


@dataclass
class TicketReport:
    settings: TicketSettings
    support: tuple[int, ...]
    neurons: list[KeptNeuron] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)

    def group(self, name: str) -> list[Curve]:
        return [c for c in self.curves if c.group == name]

    def successes(self, name: str) -> tuple[int, int]:
        """(runs of the group that reached the target error, runs of the group)."""
        curves = self.group(name)
        return sum(c.success for c in curves), len(curves)

    def reached(self, name: str, error: float) -> tuple[int, int]:
        """(runs of the group whose test error was <= ``error`` at some evaluation, runs)."""
        curves = self.group(name)
        return sum(min(c.test_error, default=1.0) <= error for c in curves), len(curves)

    def summary_lines(self) -> list[str]:
        s = self.settings
        data = "online" if s.samples is None else f"m = {s.samples}"
        lines = [
            f"lottery tickets: n={s.n} k={s.k} width={s.width} {s.sparsity}-hot init, {data}, "
            f"top {s.top} by {s.rank_by}, T={s.max_steps}; S = {list(self.support)}",
            "kept neurons (rank, neuron, score, initial support, |U∩S|, ticket, final top-k coords, |top-k∩S|):",
        ]
        for kn in self.neurons:
            lines.append(
                f"  {kn.rank:>2}  #{kn.index:<4} {kn.score:8.4f}  U={list(kn.support)}  {kn.overlap}  "
                f"{'yes' if kn.ticket else 'no ':3}  {list(kn.final_top)}  {kn.final_top_overlap}"
            )
        for name in GROUPS:
            ok, total = self.successes(name)
            steps = [c.steps_to_success for c in self.group(name) if c.success]
            median = f", median steps {int(np.median(steps))}" if steps else ""
            lines.append(f"{name:>8}: {ok}/{total} reached test error <= target{median}")
        return lines


def neuron_scores(final_weights: tuple[np.ndarray, np.ndarray, np.ndarray], rank_by: str) -> np.ndarray:
    """Score per neuron: ||w_i|| |u_i| (``contribution``) or ||w_i|| (``input-norm``)."""
    W, _, u = final_weights
    norms = np.linalg.norm(W, axis=1)
    if rank_by == "contribution":
        return norms * np.abs(u)
    if rank_by == "input-norm":
        return norms
    raise ValueError(f"rank_by={rank_by!r} must be one of {RANK_BY}")


def relabel_columns(W: np.ndarray, source: tuple[int, ...], target: tuple[int, ...]) -> np.ndarray:
    """Columns of W moved by the permutation of [n] mapping ``source`` onto ``target`` in sorted
    order and the complement onto the complement in sorted order (new[:, pi(j)] = W[:, j])."""
    n = W.shape[1]
    rest_source = [j for j in range(n) if j not in set(source)]
    rest_target = [j for j in range(n) if j not in set(target)]
    pi = np.empty(n, dtype=np.int64)
    pi[list(source) + rest_source] = list(target) + rest_target
    out = np.empty_like(W)
    out[:, pi] = W
    return out


def _curve(group: str, seed: int, history) -> Curve:
    result = history.result
    return Curve(
        group=group, seed=seed, steps=tuple(history.steps), test_error=tuple(history.test_error),
        train_error=tuple(history.train_error), success=bool(result.success),
        steps_to_success=result.steps_to_success,
    )


def run_tickets(
    settings: TicketSettings, backend: str = "numba", progress: Callable[[str], None] | None = None,
) -> TicketReport:
    """Run the experiment of the module docstring; the full network first, then the retrains."""
    import sim
    from sim.data import draw_support
    from sim.init import sparse_supports
    from theory.lottery import is_ticket

    say = progress or (lambda message: None)
    full_config = settings.config(settings.width, settings.seed)
    support = draw_support(settings.n, settings.k, settings.seed)
    say(f"training the full network (width {settings.width})")
    full = sim.train_history(full_config, backend=backend)
    report = TicketReport(settings=settings, support=support)
    report.curves.append(_curve("full", settings.seed, full))

    scores = neuron_scores(full.final_weights, settings.rank_by)
    kept = np.argsort(-scores, kind="stable")[: settings.top]
    supports = sparse_supports(full_config)
    W_final = full.final_weights[0]
    S = set(support)
    for rank, i in enumerate(kept, start=1):
        U = tuple(int(j) for j in supports[i])
        overlap = len(S & set(U))
        ticket = is_ticket(U, S)
        final_top = tuple(sorted(int(j) for j in np.argsort(-np.abs(W_final[i]), kind="stable")[: settings.k]))
        report.neurons.append(KeptNeuron(
            rank=rank, index=int(i), score=float(scores[i]), support=U, overlap=overlap, ticket=bool(ticket),
            final_top=final_top, final_top_overlap=len(S & set(final_top)),
        ))

    W0, b0, u0 = (np.array(p[kept]) for p in full.initial_weights)
    for j, seed in enumerate(settings.retrain_seeds):
        config = settings.config(settings.top, seed)
        if j < settings.seeds:
            say(f"retraining the rewound tickets, seed {seed}")
            W = relabel_columns(W0, support, draw_support(settings.n, settings.k, seed))
            history = sim.train_history(config, backend=backend, initial_weights=(W, b0.copy(), u0.copy()))
            report.curves.append(_curve("rewound", seed, history))
        if j < settings.random_nets:
            say(f"training a random width-{settings.top} network, seed {seed}")
            report.curves.append(_curve("random", seed, sim.train_history(config, backend=backend)))
    return report


# --------------------------------------------------------------------------- storage

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ticket_experiments (experiment_id TEXT PRIMARY KEY, settings TEXT, "
    "support TEXT, backend TEXT, finished_at TEXT)",
    "CREATE TABLE IF NOT EXISTS ticket_neurons (experiment_id TEXT, rank INTEGER, neuron INTEGER, "
    "score REAL, support TEXT, overlap INTEGER, ticket INTEGER, final_top TEXT, final_top_overlap INTEGER)",
    "CREATE TABLE IF NOT EXISTS ticket_curves (experiment_id TEXT, grp TEXT, seed INTEGER, step INTEGER, "
    "test_error REAL, train_error REAL, success INTEGER, steps_to_success INTEGER)",
)


def check_tickets_store(path: str | Path) -> Path:
    """Validate the store the results will go to *before* any training, so a bad path costs no
    results: its folder exists, it is absent or an SQLite file holding only a runs table and
    ticket tables (not someone else's database), and it can be written now. ValueError otherwise."""
    from sim.store import check_store_path

    path = check_store_path(path)
    try:
        if not path.exists() or path.stat().st_size == 0:
            with open(path, "ab"):  # what the store will do: create the file (kept, empty)
                pass
            return path
        with contextlib.closing(sqlite3.connect(path, timeout=10.0, isolation_level=None)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            foreign = sorted(t for t in tables if t != "runs" and not t.startswith("ticket_"))
            if foreign:
                raise ValueError(f"tickets store {str(path)!r} holds other tables ({', '.join(foreign[:5])}): "
                                 "not a parity-frontier store; give a new file name")
            db.execute("BEGIN IMMEDIATE")  # can we write it (and take its lock) now?
            db.execute("ROLLBACK")
    except (OSError, sqlite3.Error) as exc:
        raise ValueError(f"tickets store {str(path)!r} cannot be written: {exc}") from None
    return path


def write_report(report: TicketReport, path: str | Path, backend: str = "numba") -> None:
    """Store one experiment in ``path`` (created if missing), replacing an earlier run of the
    same settings; everything in one transaction, so a crash leaves the old rows or the new."""
    import datetime

    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"tickets store {str(path)!r}: directory {str(path.parent)!r} does not exist")
    eid = report.settings.experiment_id
    with contextlib.closing(sqlite3.connect(path, timeout=60.0)) as db:
        with db:
            for statement in _SCHEMA:
                db.execute(statement)
            for table in ("ticket_experiments", "ticket_neurons", "ticket_curves"):
                db.execute(f"DELETE FROM {table} WHERE experiment_id = ?", (eid,))
            db.execute(
                "INSERT INTO ticket_experiments VALUES (?, ?, ?, ?, ?)",
                (eid, json.dumps(dataclasses.asdict(report.settings), sort_keys=True), json.dumps(list(report.support)),
                 backend, datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")),
            )
            db.executemany(
                "INSERT INTO ticket_neurons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(eid, kn.rank, kn.index, kn.score, json.dumps(list(kn.support)), kn.overlap, int(kn.ticket),
                  json.dumps(list(kn.final_top)), kn.final_top_overlap) for kn in report.neurons],
            )
            db.executemany(
                "INSERT INTO ticket_curves VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(eid, c.group, c.seed, step, test, train, int(c.success), c.steps_to_success)
                 for c in report.curves for step, test, train in zip(c.steps, c.test_error, c.train_error)],
            )


def read_reports(path: str | Path) -> list[TicketReport]:
    """Every experiment stored in ``path`` (oldest first)."""
    import pandas as pd

    from sim.store import read_table, table_names

    if "ticket_experiments" not in table_names(path):
        return []
    experiments = read_table(path, "ticket_experiments")
    neurons = read_table(path, "ticket_neurons")
    curves = read_table(path, "ticket_curves")
    reports = []
    for row in experiments.sort_values("finished_at").itertuples(index=False):
        settings = TicketSettings(**json.loads(row.settings))
        report = TicketReport(settings=settings, support=tuple(json.loads(row.support)))
        for kn in neurons[neurons["experiment_id"] == row.experiment_id].sort_values("rank").itertuples(index=False):
            report.neurons.append(KeptNeuron(
                rank=int(kn.rank), index=int(kn.neuron), score=float(kn.score), support=tuple(json.loads(kn.support)),
                overlap=int(kn.overlap), ticket=bool(kn.ticket), final_top=tuple(json.loads(kn.final_top)),
                final_top_overlap=int(kn.final_top_overlap),
            ))
        mine = curves[curves["experiment_id"] == row.experiment_id]
        for (group, seed), part in mine.groupby(["grp", "seed"], sort=False):
            part = part.sort_values("step")
            first = part.iloc[0]
            report.curves.append(Curve(
                group=str(group), seed=int(seed), steps=tuple(int(v) for v in part["step"]),
                test_error=tuple(float(v) for v in part["test_error"]),
                train_error=tuple(float(v) for v in part["train_error"]), success=bool(first["success"]),
                # pd.isna: a column of only NULLs (no run succeeded) comes back as None, which np.isnan refuses
                steps_to_success=None if pd.isna(first["steps_to_success"]) else int(first["steps_to_success"]),
            ))
        report.curves.sort(key=lambda c: (GROUPS.index(c.group), c.seed))
        reports.append(report)
    return reports
