"""Sweep grids: a TOML file -> the list of :class:`~sim.config.RunConfig` it names.

A grid is the Cartesian product of its *axes* times its seeds (docs/science.md section 3
lists the paper's grids)::

    # examples/ci_tiny.toml
    n = 8
    k = [2, 3]
    width = [8, 32]
    samples = [64, "online"]      # integers, or "online" (a fresh batch every step)
    init = ["dense", "sparse"]
    sparsity = 2
    seeds = 4                     # seeds 0..3; or a list [0, 5, 9]; or {start = 50, count = 50}
    max_steps = 400               # scalar hyperparameters: one value for the whole grid
    eval_every = 50
    test_size = 500

Axes (a value or a list of values): ``n``, ``k``, ``width``, ``samples``, ``init``,
``sparsity``, ``loss``, ``sparse_values``, ``intervention``, ``target``, ``label_noise``,
``tasks``. Scalars: ``lr``, ``weight_decay``,
``batch_size``, ``max_steps``, ``eval_every``, ``test_size``, ``target_error``.
``description`` (a string) is free text for people. A key that is absent takes the
:class:`RunConfig` default (the paper's hyperparameters).

Dense runs ignore ``sparsity`` and ``sparse_values``, so a grid that crosses
``init = ["dense", "sparse"]`` with ``sparsity = [2, 4]`` would repeat every dense run:
:class:`~sim.config.RunConfig` normalises a dense run's sparse-only fields to their defaults
and the grid keeps each run once. Likewise a target ignores the parameters it does not read
(``label_noise`` is read by ``noisy_parity`` only, ``tasks`` by ``multitask_parity``), so
``target = ["parity", "noisy_parity"]`` with ``label_noise = [0.05, 0.1]`` is 1 + 2 settings.

Every mistake (bad TOML, an unknown key, a wrong type, an empty list, an impossible
point such as k > n) is a ``ValueError`` naming the file, key and value, raised before
anything runs.

Size guard: a grid's run count is computed from its axes (:func:`grid_size`) before a single
run is built, and a grid of more than ``max_runs`` runs (default :data:`MAX_GRID_RUNS`; the
paper's Figure 2 grid has 21,600) is refused with its count. Building a run costs tens of
microseconds, so without the guard a mistyped ``seeds = 10**12`` hangs even ``--dry-run``.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from pathlib import Path
from typing import Any, Mapping, Sequence

from .config import (AXIS_FIELDS, FIELD_SPECS, FIELD_TYPES, INT64_MAX, PLANTS, REQUIRED_FIELDS, SCALAR_FIELDS,
                     SPARSE_ONLY_FIELDS, TARGET_ONLY_FIELDS, RunConfig, unread_values, who_reads)

# Every key derives from RunConfig's schema (sim.config.FIELD_SPECS): a new field is a new key.
AXIS_KEYS: tuple[str, ...] = AXIS_FIELDS
SCALAR_KEYS: tuple[str, ...] = SCALAR_FIELDS
META_KEYS: tuple[str, ...] = ("description",)
REQUIRED_KEYS: tuple[str, ...] = REQUIRED_FIELDS
ALL_KEYS: tuple[str, ...] = AXIS_KEYS + ("seeds",) + SCALAR_KEYS + META_KEYS
ONLINE = "online"
#: Default largest grid (runs) a grid file may name; ``frontier sweep --max-runs`` overrides it.
MAX_GRID_RUNS = 1_000_000


class GridTooLargeError(ValueError):
    """A grid (or ``frontier train --seeds``) names more runs than the limit; the message gives the count."""


def check_run_count(count: int, max_runs: int, source: str, what: str = "the grid has") -> None:
    """GridTooLargeError when ``count`` exceeds ``max_runs``; ``what`` introduces the count."""
    if count > max_runs:
        raise GridTooLargeError(f"{source}: {what} {count:,} runs, above the limit of {max_runs:,}; "
                                "split it, or raise the limit with --max-runs")


def _check_value(source: str, key: str, value: Any) -> Any:
    """One grid value of ``key``, type-checked; returns it as RunConfig wants it."""
    kind = FIELD_TYPES[key]
    if FIELD_SPECS[key].nullable and value == ONLINE:
        return None
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            online = ' or "online"' if FIELD_SPECS[key].nullable else ""
            raise ValueError(f"{source}: {key} = {value!r} must be an integer{online}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{source}: {key} = {value!r} must be a number")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{source}: {key} = {value!r} must be a string")
    return value


def _axis(source: str, key: str, raw: Any) -> list[Any]:
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise ValueError(f"{source}: {key} = [] is empty (give at least one value)")
    checked = [_check_value(source, key, v) for v in values]
    if len(set(checked)) != len(checked):
        raise ValueError(f"{source}: {key} = {raw!r} repeats a value")
    return checked


def _seeds(source: str, raw: Any) -> Sequence[int]:
    if isinstance(raw, bool):
        raise ValueError(f"{source}: seeds = {raw!r} must be a count, a list of seeds or {{start, count}}")
    if isinstance(raw, int):
        if raw < 1:
            raise ValueError(f"{source}: seeds = {raw} must be >= 1 (the count of seeds 0..N-1)")
        if raw - 1 > INT64_MAX:
            raise ValueError(f"{source}: seeds = {raw} reaches seed {raw - 1}, above 2**63 - 1 (the results "
                             "store's integer range)")
        return range(raw)  # lazy: a count of 10**12 is counted, never listed
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - {"start", "count"})
        if unknown or set(raw) != {"start", "count"}:
            raise ValueError(f"{source}: seeds = {raw!r} must be a table with exactly start and count")
        start, count = raw["start"], raw["count"]
        for name, v in (("start", start), ("count", count)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "start" else 1):
                raise ValueError(f"{source}: seeds.{name} = {v!r} must be an integer >= {0 if name == 'start' else 1}")
        if start + count - 1 > INT64_MAX:
            raise ValueError(f"{source}: seeds = {raw!r} reaches seed {start + count - 1}, above 2**63 - 1 = "
                             f"{INT64_MAX} (the results store's integer range)")
        return range(start, start + count)
    if isinstance(raw, list):
        if not raw:
            raise ValueError(f"{source}: seeds = [] is empty")
        for v in raw:
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= INT64_MAX:
                raise ValueError(f"{source}: seeds value {v!r} must be an integer in [0, 2**63 - 1]")
        if len(set(raw)) != len(raw):
            raise ValueError(f"{source}: seeds = {raw!r} repeats a seed")
        return list(raw)
    raise ValueError(f"{source}: seeds = {raw!r} must be a count, a list of seeds or {{start, count}}")


def grid_size(axes: Mapping[str, list[Any]], seeds: Sequence[int]) -> int:
    """The number of distinct runs of a grid, from the lengths of its axes, without building one.

    The product of the axis lengths and the seeds, less the repeats :class:`RunConfig` removes:
    a dense run has one value of each sparse-only field (the sparsity, if a neuron is planted), a
    target one value of each parameter it does not read."""
    inits = axes.get("init", [RunConfig.init])
    interventions = axes.get("intervention", [RunConfig.intervention])
    others = math.prod(len(values) for key, values in axes.items()
                       if key not in ("init", "intervention", "target") + SPARSE_ONLY_FIELDS + TARGET_ONLY_FIELDS)
    targets = sum(math.prod(len(axes.get(key, [None])) for key in TARGET_ONLY_FIELDS
                            if target in FIELD_SPECS[key].read_by) for target in axes.get("target", [RunConfig.target]))
    sparse_only = {key: len(axes.get(key, [None])) for key in SPARSE_ONLY_FIELDS}
    points = 0
    for init in inits:
        for intervention in interventions:
            if init == "sparse":
                points += math.prod(sparse_only.values())
            else:
                points += sparse_only["sparsity"] if intervention in PLANTS else 1
    return points * targets * others * len(seeds)


def grid_configs(grid: Mapping[str, Any], source: str = "grid", max_runs: int = MAX_GRID_RUNS) -> list[RunConfig]:
    """The runs of a parsed grid table, in a fixed order (axes in AXIS_KEYS order, seeds
    innermost), duplicates removed. ``source`` prefixes error messages. A grid of more than
    ``max_runs`` runs is refused (:class:`GridTooLargeError`) before any run is built."""
    unknown = [key for key in grid if key not in ALL_KEYS]
    if unknown:
        raise ValueError(
            f"{source}: unknown key {unknown[0]!r} (known: {', '.join(ALL_KEYS)})"
        )
    for key in REQUIRED_KEYS:
        if key not in grid:
            raise ValueError(f"{source}: missing required key {key!r}")
    if "description" in grid and not isinstance(grid["description"], str):
        raise ValueError(f"{source}: description = {grid['description']!r} must be a string")
    axes = {key: _axis(source, key, grid[key]) for key in AXIS_KEYS if key in grid}
    scalars = {}
    for key in SCALAR_KEYS:
        if key in grid:
            if isinstance(grid[key], list):
                raise ValueError(f"{source}: {key} = {grid[key]!r} must be a single value, not a list")
            scalars[key] = _check_value(source, key, grid[key])
    seeds = _seeds(source, grid.get("seeds", 1))
    check_run_count(grid_size(axes, seeds), max_runs, source)

    names = list(axes)
    configs: list[RunConfig] = []
    seen: set[RunConfig] = set()
    for point in itertools.product(*(axes[name] for name in names)):
        values = dict(zip(names, point)) | scalars
        try:
            template = RunConfig(**values, seed=seeds[0])
        except ValueError as exc:
            shown = ", ".join(f"{name}={'online' if name == 'samples' and v is None else v}"
                              for name, v in zip(names, point))
            raise ValueError(f"{source}: impossible grid point ({shown}): {exc}") from None
        for seed in seeds:
            config = template.replace(seed=seed)
            if config not in seen:
                seen.add(config)
                configs.append(config)
    unread = unread_values(axes | scalars, configs)
    if unread:
        name, value = unread[0]
        raise ValueError(f"{source}: {name} = {value!r} is read by no run of the grid ({who_reads(name)})")
    return configs


def parse_grid(text: str, source: str = "grid", max_runs: int = MAX_GRID_RUNS) -> list[RunConfig]:
    """The runs of a grid given as TOML text (see the module docstring)."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None
    return grid_configs(table, source, max_runs)


def load_grid(path: str | Path, max_runs: int = MAX_GRID_RUNS) -> list[RunConfig]:
    """The runs of the grid file at ``path``; ValueError/FileNotFoundError naming the problem."""
    from .files import path_kind

    path = Path(path)
    kind = path_kind(path)
    if kind == "missing":
        raise FileNotFoundError(f"grid file {str(path)!r} does not exist")
    if kind != "a regular file":
        raise ValueError(f"grid file {str(path)!r} is {kind}, not a file: a grid is a TOML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not valid TOML: not UTF-8 text") from None
    return parse_grid(text, str(path), max_runs)
