"""The check registry: every check is one function registered with its name, its claim and the
sentences the report uses (``describe``). ``verify.checks`` imports the check modules (which
register their checks, in that order) and runs them; ``frontier verify --checks``, the report and
docs/verification.md all read :data:`CHECKS`.

Adding a check = one function under :func:`register` in one of ``verify/*_checks.py`` (plus its
PASS, FAIL and INCONCLUSIVE tests on synthetic stores). Its rule, constants and level are written
in its docstring before it sees data; a rule changed after seeing data goes to CHANGELOG.md.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

import numpy as np

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
STATUSES = (PASS, FAIL, INCONCLUSIVE)
#: Confidence level of every test and interval a check uses, unless the caller gives another
#: (``frontier verify --level``): a check decides at alpha = 1 - level.
CHECK_LEVEL = 0.99

#: The levels ``frontier verify --level`` and ``frontier demo --level`` accept. Below 0.5 an interval
#: is narrower than the coin flip it should rule out (at 1e-12 every interval is a point, and an
#: INCONCLUSIVE check turns into a PASS); above 0.9999 the bootstrap's 2000 draws cannot place
#: the interval's ends.
LEVEL_RANGE = (0.5, 0.9999)


def alpha_of(level: float) -> float:
    """alpha = 1 - level, rounded to 12 places: 1 - 0.99 is 0.010000000000000009 in floating point,
    which would reject a p-value of exactly 0.01 (a Monte Carlo p-value can be exactly that)."""
    return round(1.0 - level, 12)


def check_cli_level(level: float) -> float:
    """``level`` if it lies in :data:`LEVEL_RANGE`, else ValueError naming it."""
    low, high = LEVEL_RANGE
    if not low <= level <= high:
        raise ValueError(f"--level {level:g} must lie in [{low:g}, {high:g}] (e.g. 0.95 or 0.99)")
    return level


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one named check: its status, a one-line summary with the deciding numbers,
    JSON-ready details, and the plain-language ``statements`` the report uses, each with the
    status it belongs under (a check over several settings may agree on one, not another)."""

    name: str
    status: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    statements: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CheckResult":
        """The result back from :meth:`to_dict` (details as their JSON values)."""
        return cls(data["name"], data["status"], data["summary"], dict(data.get("details", {})),
                   tuple(tuple(s) for s in data.get("statements", ())))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": CHECKS[self.name].kind if self.name in CHECKS else None,
                "status": self.status, "summary": self.summary,
                "details": jsonable(self.details), "statements": [list(s) for s in self.statements]}


#: What a check's FAIL means. A *gate* FAILs only when the code is wrong (theory against brute
#: force, the simulator's construction against theory): ``frontier verify`` exits 1 on it. A
#: *finding* tests a claim of the paper or a model: its FAIL is a result about the science,
#: reported, and exits 1 only with ``--strict``.
GATE, FINDING = "gate", "finding"
KINDS = (GATE, FINDING)


@dataclass(frozen=True)
class Check:
    """A registered check: ``function(frame, level, **context) -> CheckResult`` tests ``claim``
    on the runs its ``design`` selects (:mod:`verify.designs`); ``describe(result)`` gives the
    report's sentences as (status, sentence) pairs; ``kind`` is GATE or FINDING; ``effect`` states
    the effect its power is measured at (:mod:`verify.operating`)."""

    name: str
    claim: str
    function: Callable[..., CheckResult]
    describe: Callable[[CheckResult], list[tuple[str, str]]]
    kind: str = FINDING
    design: str = "frontier"
    effect: str = ""

    @property
    def gate(self) -> bool:
        return self.kind == GATE


#: Every check, in the order they run and are reported.
CHECKS: dict[str, Check] = {}


def register(name: str, claim: str, describe: Callable[[CheckResult], list[tuple[str, str]]],
             kind: str = FINDING, design: str = "frontier", effect: str = ""):
    """Decorator: add ``function`` to :data:`CHECKS` under ``name``, a ``kind`` check (GATE or
    FINDING) reading the runs of ``design`` (a key of :data:`verify.designs.DESIGNS`)."""
    from .designs import DESIGNS

    if kind not in KINDS:
        raise ValueError(f"check {name!r}: kind={kind!r} must be one of {KINDS}")
    if design not in DESIGNS:
        raise ValueError(f"check {name!r}: design={design!r} must be one of {tuple(DESIGNS)}")

    select = DESIGNS[design].select

    def add(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        if name in CHECKS:
            raise ValueError(f"check {name!r} is registered twice")

        @functools.wraps(function)
        def on_design(frame=None, *args, **kwargs):  # the check sees only the runs of its design
            return function(select(frame) if frame is not None else frame, *args, **kwargs)
        CHECKS[name] = Check(name, claim, on_design, describe, kind, design, effect)
        return function
    return add


def conjunction(statuses: list[str]) -> str:
    """Overall verdict of a check over several settings: FAIL if one FAILs, PASS only if every
    one PASSes, INCONCLUSIVE otherwise (a PASS never hides an undecided setting)."""
    if FAIL in statuses:
        return FAIL
    return PASS if statuses and all(s == PASS for s in statuses) else INCONCLUSIVE


def verdict(passed: bool, failed: bool) -> str:
    """FAIL wins over PASS when a rule's two sides both hold (they are written to exclude it)."""
    return FAIL if failed else PASS if passed else INCONCLUSIVE


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, fractions and non-finite floats made JSON-safe."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf" if v < 0 else "nan")
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Fraction):
        return str(value)
    return value
