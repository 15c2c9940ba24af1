"""Run configuration and result records (docs/science.md sections 1-3).

A :class:`RunConfig` fully determines one training run: the data, the support S,
the test set, the initial weights and the minibatch order all derive from
``seed`` (see :mod:`sim.data`), never from the backend.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .targets import TARGET_NAMES, TARGETS, target_problem

#: The targets that read ``label_noise`` and ``tasks`` (sim.targets' registry says).
NOISY_TARGETS: tuple[str, ...] = tuple(name for name, target in TARGETS.items() if target.noisy)
MULTITASK_TARGETS: tuple[str, ...] = tuple(name for name, target in TARGETS.items() if target.multitask)

INITS = ("dense", "sparse")


@dataclass(frozen=True)
class Intervention:
    """One intervention on the initial weights (docs/science.md 7; :mod:`sim.init` applies it).

    ``kind``: ``"none"``, ``"knock_out"`` (supports of sparse-init neurons redrawn) or ``"plant"``
    (neuron 0 replaced by one s-hot neuron); ``moves``: which neurons a knock-out redraws
    (``"tickets"`` or, for the sham, as many ``"non_tickets"``) and from what law
    (``redraw``: ``"off_target"`` = an s-subset disjoint from S, ``"non_ticket"`` = uniform
    s-subsets that are not tickets, ``"same_overlap"`` = uniform among s-subsets with the
    neuron's own |U ∩ S|); a plant's ``on_target`` (a ticket, else the control off S) and
    ``values`` (``"sign"`` = +-1/sqrt(s), ``"native"`` = drawn like the init's own sparse values).
    """

    name: str
    kind: str
    help: str
    moves: str = ""
    redraw: str = ""
    on_target: bool = False
    values: str = ""


#: Every intervention, in the order that gives the CLI its choices. The first two knock-outs and
#: plants are the originals (kept: their run ids are in stores); the rest were added when the
#: intervention checks were rebuilt (CHANGELOG.md, issue 23).
INTERVENTION_TABLE: tuple[Intervention, ...] = (
    Intervention("none", "none", "no intervention"),
    Intervention("knock_out_tickets", "knock_out", "every ticket's support moved to an s-subset disjoint from S",
                 moves="tickets", redraw="off_target"),
    Intervention("plant_ticket", "plant", "neuron 0 becomes an s-hot ticket with values +-1/sqrt(s)",
                 on_target=True, values="sign"),
    Intervention("plant_control", "plant", "plant_ticket's values on an s-subset disjoint from S", values="sign"),
    Intervention("knock_out_redrawn", "knock_out", "every ticket's support redrawn from the law of non-ticket "
                 "supports (uniform s-subsets that are not tickets)", moves="tickets", redraw="non_ticket"),
    Intervention("knock_out_sham", "knock_out", "as many non-ticket neurons as the run has tickets, each support "
                 "redrawn with its own overlap |U ∩ S| (the overlap distribution kept)", moves="non_tickets",
                 redraw="same_overlap"),
    Intervention("plant_native_ticket", "plant", "neuron 0 becomes an s-hot ticket with values drawn like the "
                 "init's own sparse values", on_target=True, values="native"),
    Intervention("plant_native_control", "plant", "plant_native_ticket's values on an s-subset disjoint from S",
                 values="native"),
)
INTERVENTION_SPECS: dict[str, Intervention] = {x.name: x for x in INTERVENTION_TABLE}
INTERVENTIONS: tuple[str, ...] = tuple(INTERVENTION_SPECS)
PLANTS: tuple[str, ...] = tuple(x.name for x in INTERVENTION_TABLE if x.kind == "plant")
KNOCK_OUTS: tuple[str, ...] = tuple(x.name for x in INTERVENTION_TABLE if x.kind == "knock_out")
SPARSE_VALUES = ("uniform", "sign", "ones-eps")
#: The losses, in the order that gives each its integer id in the kernels (``LOSS_IDS``).
LOSSES = ("hinge", "square", "logistic")
LOSS_IDS: dict[str, int] = {name: i for i, name in enumerate(LOSSES)}


#: The largest integer a field may hold: the results store keeps integers as SQLite's signed
#: 64-bit INTEGER, so a larger seed (or any count) would train and then fail to be stored.
INT64_MAX = 2**63 - 1


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"RunConfig.{name}={value!r} must be an integer")
    try:
        result = operator.index(value)
    except TypeError:
        raise ValueError(f"RunConfig.{name}={value!r} must be an integer") from None
    if not -INT64_MAX - 1 <= result <= INT64_MAX:
        raise ValueError(f"RunConfig.{name}={result} must be at most 2**63 - 1 = {INT64_MAX} (the results "
                         "store's integer range)")
    return result


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValueError(f"RunConfig.{name}={value!r} must be a number")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"RunConfig.{name}={value!r} must be finite")
    return result


@dataclass(frozen=True)
class FieldSpec:
    """What the rest of the toolkit needs to know about one :class:`RunConfig` field.

    ``role``: ``"axis"`` (a grid may list several values), ``"scalar"`` (one value per grid)
    or ``"seed"``; ``sql``: its column type in the store; ``help``: the CLI/grid help text;
    ``choices``: the allowed strings; ``nullable``: None is a value (``samples``: online);
    ``sparse_only``: only sparse init reads it (dense runs normalise it to the default);
    ``read_by``: only these targets read it (runs of any other target normalise it to the
    default, as dense runs do the sparse-only fields; from sim.targets' registry);
    ``since``: the run-id scheme version that introduced it (see ``sim.store.RUN_ID_SCHEME``:
    a field added after version 1 is hashed only when it differs from its default, so old
    stores keep their run ids); ``setting``: part of a setting (runs that differ only in the
    non-setting fields width, samples and seed are one experiment).
    """

    role: str
    sql: str
    help: str
    choices: tuple[str, ...] | None = None
    nullable: bool = False
    sparse_only: bool = False
    read_by: tuple[str, ...] | None = None
    since: int = 1
    setting: bool = True
    rule: str | None = None  # a key of _RULES: the range the value must lie in


_RULES: dict[str, Callable[[Any], bool]] = {
    ">= 0": lambda v: v >= 0, ">= 1": lambda v: v >= 1, "> 0": lambda v: v > 0, "in [0, 1)": lambda v: 0 <= v < 1,
    "in [0, 1/2)": lambda v: 0 <= v < 0.5,
}


_COERCE: dict[str, Callable[[str, Any], Any]] = {
    "INTEGER": lambda name, v: _as_int(name, v), "REAL": lambda name, v: _as_float(name, v),
    "TEXT": lambda name, v: v,
}


def _field(role: str, sql: str, help: str, default: Any = dataclasses.MISSING, **spec: Any) -> Any:
    return dataclasses.field(default=default, metadata={"spec": FieldSpec(role, sql, help, **spec)})


@dataclass(frozen=True)
class RunConfig:
    """One training run of a 2-layer ReLU MLP on a sparse target (default: the (n, k)-parity).

    ``f(x) = sum_i u_i relu(w_i . x + b_i)`` trained by minibatch SGD with coupled
    weight decay (as ``torch.optim.SGD``), success when the test error is at most
    ``target_error`` at an evaluation step (every ``eval_every`` steps and at
    ``max_steps``). ``samples=None`` is the online setting (a fresh batch per step).
    Defaults are the paper's hyperparameters (docs/science.md section 3).

    Every field carries a :class:`FieldSpec` (``FIELD_SPECS``): the grid reader, the store's
    columns, the estimates' setting key, the figures and ``frontier train`` derive from it.
    A dense run does not read ``sparsity``/``sparse_values``, nor a target other than
    ``noisy_parity``/``multitask_parity`` its ``label_noise``/``tasks``: they are normalised to
    their defaults, so equal runs have equal ids however they were written.
    """

    n: int = _field("axis", "INTEGER", "input dimension n", rule=">= 1")
    k: int = _field("axis", "INTEGER", "parity degree k = |S| (the size of each task's parity for "
                    "target multitask_parity, sim.targets)", rule=">= 1")
    width: int = _field("axis", "INTEGER", "hidden neurons r", setting=False, rule=">= 1")
    samples: int | None = _field("axis", "INTEGER", "training set size m, or online (a fresh batch every step)",
                                 None, nullable=True, setting=False, rule=">= 1")
    init: str = _field("axis", "TEXT", "first-layer initialisation", "dense", choices=INITS)
    sparsity: int = _field("axis", "INTEGER", "s of the s-hot sparse init", 2, sparse_only=True, rule=">= 1")
    sparse_values: str = _field("axis", "TEXT", "values on a sparse neuron's support", "uniform",
                                choices=SPARSE_VALUES, sparse_only=True)
    loss: str = _field("axis", "TEXT", "training loss", "hinge", choices=LOSSES)
    lr: float = _field("scalar", "REAL", "SGD learning rate", 0.1, rule="> 0")
    weight_decay: float = _field("scalar", "REAL", "coupled L2 weight decay", 0.01, rule=">= 0")
    batch_size: int = _field("scalar", "INTEGER", "minibatch size B", 32, rule=">= 1")
    max_steps: int = _field("scalar", "INTEGER", "step budget T", 100_000, rule=">= 1")
    eval_every: int = _field("scalar", "INTEGER", "steps between test evaluations", 100, rule=">= 1")
    test_size: int = _field("scalar", "INTEGER", "test samples per run", 10_000, rule=">= 1")
    target_error: float = _field("scalar", "REAL", "success: test error at most this", 0.1, rule="in [0, 1)")
    intervention: str = _field("axis", "TEXT", "intervention on the initial weights (sim.init)", "none",
                               choices=INTERVENTIONS, since=2)
    target: str = _field("axis", "TEXT", "the function of x the network learns (sim.targets, docs/targets.md)",
                         "parity", choices=TARGET_NAMES, since=2)
    label_noise: float = _field("axis", "REAL", "noisy_parity: probability that a training label is flipped", 0.0,
                                since=2, rule="in [0, 1/2)", read_by=NOISY_TARGETS)
    tasks: int = _field("axis", "INTEGER", "multitask_parity: number of tasks (tasks - 1 control bits)", 1,
                        since=2, rule=">= 1", read_by=MULTITASK_TARGETS)
    seed: int = _field("seed", "INTEGER", "the run's seed: S, data, test set, init and order derive from it", 0,
                       setting=False, rule=">= 0")

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name, spec in FIELD_SPECS.items():
            value = getattr(self, name)
            if value is None and spec.nullable:
                continue
            value = _COERCE[spec.sql](name, value)
            set_(self, name, value)
            if spec.choices is not None and value not in spec.choices:
                raise ValueError(f"RunConfig.{name}={value!r} must be one of {spec.choices}")
            if spec.rule is not None and not _RULES[spec.rule](value):
                raise ValueError(f"RunConfig.{name}={value!r} must be {spec.rule}"
                                 + (" (or None for online)" if spec.nullable else ""))
        if not self.k <= self.n:
            raise ValueError(f"RunConfig.k={self.k} must satisfy 1 <= k <= n={self.n}")
        self._check_target()
        planted = self.intervention in PLANTS
        if (self.init == "sparse" or planted) and self.sparsity > self.n:
            raise ValueError(f"RunConfig.sparsity={self.sparsity} must be <= n={self.n}")
        if self.intervention in KNOCK_OUTS and self.init != "sparse":
            raise ValueError(f"RunConfig.intervention={self.intervention!r} needs init='sparse' (dense neurons have no "
                             "supports to move)")
        on_target = INTERVENTION_SPECS[self.intervention].on_target
        if self.intervention != "none" and self.n - self.k < (self.sparsity if not on_target
                                                              else max(self.sparsity - self.k, 0)):
            raise ValueError(f"RunConfig.intervention={self.intervention!r} needs {self.sparsity} coordinates outside "
                             f"S, but n - k = {self.n - self.k}")
        if self.init == "dense":
            # Dense init never reads the sparse-only fields: one run, one id, whatever was asked
            # (a planted neuron in a dense network reads the sparsity, never the values).
            for name in SPARSE_ONLY_FIELDS:
                if not (planted and name == "sparsity"):
                    set_(self, name, _DEFAULTS[name])

    def _check_target(self) -> None:
        """Normalise the target parameters this target does not read to their defaults (one run,
        one id, as for dense init), then the target's own rules (sim.targets.target_problem), and
        interventions only where the parity's tickets (what sim.init moves or plants) are the target's."""
        for name in TARGET_ONLY_FIELDS:
            if self.target not in FIELD_SPECS[name].read_by:
                object.__setattr__(self, name, _DEFAULTS[name])
        problem = target_problem(self.target, self.n, self.k, self.tasks, self.label_noise)
        if problem is not None:
            raise ValueError(problem)
        if self.intervention != "none" and not TARGETS[self.target].parity_tickets:
            raise ValueError(f"RunConfig.intervention={self.intervention!r} needs a target whose tickets are the "
                             f"parity's (parity, noisy_parity), not target={self.target!r}")

    @property
    def online(self) -> bool:
        return self.samples is None

    @property
    def num_params(self) -> int:
        """Trainable parameters p = width * (n + 2) (W, b and u; docs/science.md 4.1)."""
        return self.width * (self.n + 2)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "RunConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown RunConfig field {unknown[0]!r}")
        return cls(**values)

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)


_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(RunConfig)
                             if f.default is not dataclasses.MISSING}
CONFIG_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RunConfig))
FIELD_SPECS: dict[str, FieldSpec] = {f.name: f.metadata["spec"] for f in dataclasses.fields(RunConfig)}
AXIS_FIELDS: tuple[str, ...] = tuple(name for name, spec in FIELD_SPECS.items() if spec.role == "axis")
SCALAR_FIELDS: tuple[str, ...] = tuple(name for name, spec in FIELD_SPECS.items() if spec.role == "scalar")
REQUIRED_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(RunConfig) if f.default is dataclasses.MISSING)
#: The fields that make a *setting*: runs differing only in width, samples and seed are one experiment.
SETTING_FIELDS: tuple[str, ...] = tuple(name for name, spec in FIELD_SPECS.items() if spec.setting)
SPARSE_ONLY_FIELDS: tuple[str, ...] = tuple(name for name, spec in FIELD_SPECS.items() if spec.sparse_only)
#: The fields only some targets read (``FieldSpec.read_by``): target parameters.
TARGET_ONLY_FIELDS: tuple[str, ...] = tuple(name for name, spec in FIELD_SPECS.items() if spec.read_by is not None)
def who_reads(name: str) -> str:
    """Which runs read a field :class:`RunConfig` may normalise away ("" for the others)."""
    spec = FIELD_SPECS[name]
    if spec.read_by is not None:
        return f"only target {' and '.join(spec.read_by)} reads {name}"
    if spec.sparse_only:
        return f"only sparse init{' and planted neurons read' if name == 'sparsity' else ' reads'} {name}"
    return ""


def unread_values(requested: dict[str, Any], configs: "list[RunConfig]") -> list[tuple[str, Any]]:
    """(field, value) of the requested values (one value or a list per field) that no config
    kept because every run normalised them away: for an error that stops a user from meaning a
    run they did not get (``label_noise`` without a noisy target)."""
    unread = []
    for name, values in requested.items():
        if not who_reads(name):
            continue
        kept = {getattr(config, name) for config in configs}
        for value in values if isinstance(values, (list, tuple)) else [values]:
            if value != _DEFAULTS[name] and value not in kept:
                unread.append((name, value))
    return unread


#: Python type of each field's values (None aside).
FIELD_TYPES: dict[str, type] = {name: {"INTEGER": int, "REAL": float, "TEXT": str}[spec.sql]
                                for name, spec in FIELD_SPECS.items()}


@dataclass(frozen=True)
class RunResult:
    """Outcome of one run.

    ``steps_to_success`` is the first evaluation step at which the test error was
    at most ``target_error`` (granularity ``eval_every``), else None.
    ``final_train_error`` is None for online runs (there is no fixed training set).
    ``wall_seconds`` is the time from the start of the run's batch until the run
    stopped: runs trained together share that clock.
    ``task_test_errors`` (a target with tasks, ``multitask_parity``; None otherwise and for a
    diverged run): the final weights' test error on the test samples of each task, task 0
    first (NaN for a task without test samples; docs/targets.md).
    """

    success: bool
    steps_to_success: int | None
    steps_run: int
    final_test_error: float
    final_train_error: float | None
    diverged: bool
    wall_seconds: float
    task_test_errors: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


RESULT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RunResult))
