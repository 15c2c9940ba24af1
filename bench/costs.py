"""Cost formulas of one SGD step and one evaluation, and the paper-grid estimate built on them
(the formulas are derived in the :mod:`bench` docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from bench.workload import BATCH, N_INPUTS
from sim.backends import BACKENDS
from sim.engine import chance_exit_fraction

FLOPS_FORMULA = "4Bnr + 9Br + 4B + 4(nr + 2r)"
BYTES_FORMULA = "2*4*(nr + 2r) + B(n + 1)"
EVAL_FLOPS_FORMULA = "M(2nr + 4r + 2) per evaluation on M test samples"


def flops_per_run_step(width: int, n: int = N_INPUTS, batch: int = BATCH) -> int:
    """Forward + backward + SGD-update FLOPs of one SGD step of one run (module docstring)."""
    B, r = batch, width
    return 4 * B * n * r + 9 * B * r + 4 * B + 4 * (n * r + 2 * r)


def bytes_per_run_step(width: int, n: int = N_INPUTS, batch: int = BATCH, float_bytes: int = 4) -> int:
    """Compulsory memory traffic of one SGD step of one run: params read + written, data read."""
    return 2 * float_bytes * (n * width + 2 * width) + batch * (n + 1)


def eval_flops(width: int, n: int, samples: int) -> int:
    """FLOPs of one test-error evaluation of one run on ``samples`` inputs."""
    return samples * (2 * n * width + 4 * width + 2)


def _one_two_three_six(lo: int, hi: int) -> tuple[int, ...]:
    values = []
    decade = 1
    while decade <= hi:
        values += [v * decade for v in (1, 2, 3, 6) if lo <= v * decade <= hi]
        decade *= 10
    return tuple(values)


@dataclass(frozen=True)
class PaperGrid:
    """The paper's full grid (docs/science.md section 3), as a product of its axes.

    Widths {10, 30, 100, ..., 10^5}; m in the 1-2-3-6 sequence from 100 to 10^6 plus
    online; n in {50, 100, ..., 300}; k in {3, 4}; dense vs 2-hot sparse; 50 seeds:
    9 x 18 x 6 x 2 x 2 x 50 = 194,400 runs (the paper: ~2 x 10^5).
    ``steps_per_run`` is the worst case: no run stops before T = 10^5 (an upper bound,
    since successful runs stop early). ``eval_every``/``test_size`` as in sim.RunConfig.
    """

    widths: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000)
    samples: tuple[int | None, ...] = _one_two_three_six(100, 1_000_000) + (None,)
    n_values: tuple[int, ...] = (50, 100, 150, 200, 250, 300)
    k_values: tuple[int, ...] = (3, 4)
    inits: tuple[str, ...] = ("dense", "sparse")
    seeds: int = 50
    steps_per_run: int = 100_000
    eval_every: int = 100
    test_size: int = 10_000

    @property
    def runs_per_width(self) -> int:
        return len(self.samples) * len(self.n_values) * len(self.k_values) * len(self.inits) * self.seeds

    @property
    def total_runs(self) -> int:
        return len(self.widths) * self.runs_per_width


@dataclass(frozen=True)
class GridEstimate:
    """Device-hours for the whole grid from measured per-step costs (see estimate_grid_hours)."""

    hours: float
    train_hours: float
    eval_hours: float
    total_runs: int
    steps_per_run: int
    device: str
    label: str
    assumptions: str
    hours_by_width: dict[str, float]
    # With the engine's exact early exit (sim.engine.chance_exit_fraction): a run that is at chance
    # level (the plateau where failing runs spend their steps) counts ~2 x 10% of the test set.
    hours_with_early_exit: float = float("nan")
    early_exit_assumption: str = ""
    # Training alone, if every run-step moved only its compulsory bytes (bytes_per_run_step) at
    # the device-to-device copy bandwidth measured in the same process: no kernel of this
    # update rule in float32 does better (None without a copy measurement, i.e. on the CPU).
    train_bandwidth_floor_hours: float | None = None


def _interpolate_log(width: int, widths: Sequence[int], values: Sequence[float]) -> float:
    """Linear in log(width) between measured widths, constant beyond them."""
    if width <= widths[0]:
        return values[0]
    if width >= widths[-1]:
        return values[-1]
    logs = np.log(np.asarray(widths, dtype=float))
    return float(np.interp(math.log(width), logs, np.asarray(values, dtype=float)))


def estimate_grid_hours(result: Mapping[str, Any], grid: PaperGrid = PaperGrid(),
                        backends: Sequence[str] | None = None) -> GridEstimate:
    """Hours to run ``grid`` with the fastest of ``backends`` measured in ``result``.

    Per width r of the grid and each n: time per run = steps * F_train(r, n) / rate_train(r)
    + (steps / eval_every) * F_eval(r, n, test_size) / rate_eval(r), where F are the FLOP
    formulas of this module and the achieved FLOP rates are the measured ones at n = 50
    (best backend per measured width), interpolated linearly in log r and held constant
    outside the measured widths. Data generation and the host side of the sweep driver are
    not counted. On a CPU measurement the result is CPU-hours of this machine, labelled so.
    """
    if backends is None:
        backends = [name for name, backend in BACKENDS.items() if backend.benchmarked]
    device = result["machine"]["device"]
    widths, train_rates, eval_rates = [], [], []
    for row in sorted(result["widths"], key=lambda row: row["width"]):
        ours = [row["contenders"][b] for b in backends if b in row["contenders"]]
        if not ours:
            continue
        best = max(ours, key=lambda m: m["run_steps_per_s"])
        widths.append(row["width"])
        train_rates.append(best["gflops"] * 1e9)
        eval_seconds = best["eval_seconds_per_run"]
        samples = result["settings"]["eval_samples"]
        eval_rates.append(eval_flops(row["width"], N_INPUTS, samples) / eval_seconds)
    if not widths:
        raise ValueError(f"no measurement of backends {tuple(backends)} in the benchmark result")
    per_n_runs = grid.runs_per_width // len(grid.n_values)
    evals = math.ceil(grid.steps_per_run / grid.eval_every)
    train_s = eval_s = floor_s = 0.0
    copy_bw = result.get("copy_bytes_per_s")
    by_width = {}
    for r in grid.widths:
        train_rate = _interpolate_log(r, widths, train_rates)
        eval_rate = _interpolate_log(r, widths, eval_rates)
        width_s = 0.0
        for n in grid.n_values:
            t = per_n_runs * grid.steps_per_run * flops_per_run_step(r, n) / train_rate
            e = per_n_runs * evals * eval_flops(r, n, grid.test_size) / eval_rate
            train_s += t
            eval_s += e
            if copy_bw:
                floor_s += per_n_runs * grid.steps_per_run * bytes_per_run_step(r, n) / copy_bw
            width_s += t + e
        by_width[str(r)] = width_s / 3600
    exit_fraction = chance_exit_fraction(grid.test_size, 0.1)  # the paper's target error
    name = result["machine"].get("gpu") or result["machine"]["cpu_model"]
    kind = "GPU-hours" if device.startswith("cuda") else "CPU-hours (a CPU measurement, not GPU-hours)"
    return GridEstimate(
        hours=(train_s + eval_s) / 3600, train_hours=train_s / 3600, eval_hours=eval_s / 3600,
        total_runs=grid.total_runs, steps_per_run=grid.steps_per_run, device=device,
        label=f"{kind} on {name}, from backends {tuple(backends)} measured at widths {tuple(widths)}",
        assumptions=(
            f"{grid.total_runs} runs (widths {grid.widths}, {len(grid.samples)} m values incl. online, "
            f"n {grid.n_values}, k {grid.k_values}, {grid.inits}, {grid.seeds} seeds); worst case "
            f"{grid.steps_per_run} steps per run (no early success); test error on {grid.test_size} "
            f"samples every {grid.eval_every} steps; FLOPs scale with n by the formulas at the "
            "achieved rate measured at n=50; rates interpolated in log width, constant outside the "
            "measured widths; data generation not counted"
        ),
        hours_by_width=by_width,
        hours_with_early_exit=(train_s + eval_s * exit_fraction) / 3600,
        early_exit_assumption=(
            f"every evaluation of every run exits after {exit_fraction:.4g} of the test set, as one at "
            "chance level does (failing runs and runs on the plateau before learning); runs near "
            "the target error count more, successful runs stop early: an estimate, not a bound"
        ),
        train_bandwidth_floor_hours=floor_s / 3600 if copy_bw else None,
    )
