"""Shared helpers of the figure scripts: style, saving, reading a store, success estimates.

Every figure is drawn for a paper column (about 3.3 in per panel) with the Agg backend and
saved as PNG (200 dpi) and PDF. A figure that the store has no data for raises
:class:`MissingData` with a sentence saying what is missing; ``frontier figs`` reports it as
skipped, and each ``python -m paper_figs.figN`` entry turns it into ``error: ...`` (exit 2).
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, ParamSpec, Sequence, TypeVar

import numpy as np

from sim import files
from sim.config import FIELD_SPECS, SETTING_FIELDS, SPARSE_ONLY_FIELDS, TARGET_ONLY_FIELDS, RunConfig

DEFAULT_SPARSE_VALUES = RunConfig(n=1, k=1, width=1, init="sparse", sparsity=1).sparse_values

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


#: Width of one panel at paper column width, inches.
PANEL_WIDTH = 3.3
#: Height of one panel, inches.
PANEL_HEIGHT = 2.5

#: Hyperparameters that split a store into separately drawn settings: every setting field of
#: RunConfig's schema except those a figure lays out itself (n, k and the initialisation, whose
#: sparse-only fields go into the panel's ``init_label``). Runs differing in any of these are
#: never pooled into one success estimate.
PANEL_FIELDS: tuple[str, ...] = ("n", "k", "init")
SETTING_COLUMNS: tuple[str, ...] = tuple(
    name for name in SETTING_FIELDS if name not in PANEL_FIELDS and name not in SPARSE_ONLY_FIELDS)

ONLINE_LABEL = "online"
P = ParamSpec("P")
R = TypeVar("R")


class MissingData(ValueError):
    """The store has no data for this figure (the message says what is missing)."""


#: The style of every figure, readable at column width (8-9 pt text). Applied with
#: ``matplotlib.rc_context`` while a figure is drawn (:func:`styled`), never globally.
STYLE: dict[str, object] = {
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "legend.fontsize": 6.5,
    "legend.title_fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "pdf.fonttype": 42,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "errorbar.capsize": 1.5,
}
SAVE_OPTIONS: dict[str, object] = {"dpi": 200, "bbox_inches": "tight", "pad_inches": 0.03}


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Run a drawing function under :data:`STYLE` (``matplotlib.rc_context``): the user's
    rcParams and backend are left as they were."""
    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)
    return wrapper


def subplots(*args, figsize: tuple[float, float] | None = None, layout: str | None = None, **kwargs):
    """``(fig, axes)`` like ``pyplot.subplots``, on a bare :class:`matplotlib.figure.Figure`:
    no pyplot, so no backend is chosen and no figure is registered with the user's session."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(*args, **kwargs)


def save(fig: "Figure", out_dir: str | Path, stem: str) -> list[Path]:
    """Write ``out_dir/stem.png`` and ``out_dir/stem.pdf`` atomically; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png", out / f"{stem}.pdf"]
    for path in paths:
        with files.atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], **SAVE_OPTIONS)
    return paths


# --------------------------------------------------------------------------- reading a store

def load_runs(store_path: str | Path) -> "pd.DataFrame":
    """The ``runs`` table of a results store (issue 4), one row per finished run.

    Reads through :func:`sim.store.load`. A SQLite file without a ``runs`` table (for example
    one holding only lottery-ticket results) gives an empty frame, not an error.
    Adds ``init_label`` ("dense" or "s-hot") and ``samples`` as float with NaN for online.
    """
    import pandas as pd

    from sim.store import table_names

    path = Path(store_path)
    if "runs" not in table_names(path):
        return pd.DataFrame()
    from sim.store import load as store_load

    frame = store_load(path)
    if frame.empty:
        return frame
    frame = frame.copy()
    frame["samples"] = pd.to_numeric(frame["samples"], errors="coerce").astype(float)
    frame["success"] = frame["success"].astype(bool)
    frame["init_label"] = [init_label(row) for row in frame[["init", *SPARSE_ONLY_FIELDS]].to_dict("records")]
    return frame


def init_label(run: dict) -> str:
    """"dense", "2-hot sparse", or "2-hot sparse (sign)" when the values are not the default."""
    if run["init"] == "dense":
        return "dense"
    values = "" if run["sparse_values"] == DEFAULT_SPARSE_VALUES else f" ({run['sparse_values']})"
    return f"{int(run['sparsity'])}-hot sparse{values}"


def init_order(labels: Iterable[str]) -> list[str]:
    """Dense first, then sparse inits by increasing s (then by name)."""
    def key(label: str) -> tuple[int, int, str]:
        return (0, 0, "") if label == "dense" else (1, int(label.split("-")[0]), label)
    return sorted(set(labels), key=key)


def split_settings(frame: "pd.DataFrame", ignore: Sequence[str] = ()) -> list[tuple[str, "pd.DataFrame"]]:
    """Split runs by the hyperparameters of :data:`SETTING_COLUMNS` that vary in ``frame`` (but
    those in ``ignore``, which the caller lays out itself).

    Returns (suffix, part) pairs; the suffix is "" when nothing varies, else a short
    description such as "lr=0.05" used in titles and file names.
    """
    varying = [c for c in SETTING_COLUMNS if c in frame and c not in ignore and frame[c].nunique(dropna=False) > 1]
    if not varying:
        return [("", frame)]
    parts = []
    for values, part in frame.groupby(varying, dropna=False, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        named = dict(zip(varying, values))
        # a target parameter is named only with a target that reads it ("target=parity", not "...,tasks=1")
        shown = [c for c in varying if c not in TARGET_ONLY_FIELDS
                 or part["target"].iloc[0] in FIELD_SPECS[c].read_by]
        parts.append((",".join(f"{c}={_short(named[c])}" for c in shown), part))
    return parts


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def setting_note(frame: "pd.DataFrame") -> str:
    """One line with the fixed hyperparameters of a set of runs (for captions)."""
    first = frame.iloc[0]
    return (f"{first['loss']} loss, lr {first['lr']:g}, wd {first['weight_decay']:g}, "
            f"batch {int(first['batch_size'])}, T={int(first['max_steps']):,} steps")


# --------------------------------------------------------------------------- estimates

def success_cells(frame: "pd.DataFrame", by: Sequence[str], level: float = 0.95) -> "pd.DataFrame":
    """Success probability per cell with a Clopper-Pearson interval (docs/science.md 5).

    Columns: ``by`` + trials, successes, p, ci_low, ci_high. ``samples`` NaN (online) is kept
    as its own cell. The interval is :func:`verify.estimates.clopper_pearson`, so figures and
    checks report the same numbers.
    """
    from verify.estimates import clopper_pearson

    grouped = frame.groupby(list(by), dropna=False, sort=True)["success"].agg(["size", "sum"]).reset_index()
    grouped = grouped.rename(columns={"size": "trials", "sum": "successes"})
    grouped["successes"] = grouped["successes"].astype(int)
    intervals = [clopper_pearson(int(x), int(t), level) for x, t in zip(grouped["successes"], grouped["trials"])]
    grouped["p"] = grouped["successes"] / grouped["trials"]
    grouped["ci_low"] = [low for low, _ in intervals]
    grouped["ci_high"] = [high for _, high in intervals]
    return grouped


def m50_by_width(cells: "pd.DataFrame") -> dict[int, float]:
    """Sample threshold m_50 per width from the offline success cells of one setting
    (:func:`verify.estimates.m50_point`: isotonic fit of success on log m, log-linear crossing
    of 1/2). Widths whose fit never reaches 1/2 on the grid (censored "above") and widths with
    fewer than two offline m values are omitted; a crossing at or below the smallest m is
    reported as that m. Expects columns width, samples, successes, trials."""
    from verify.estimates import m50_point

    thresholds = {}
    offline = cells[cells["samples"].notna()]
    for width, part in offline.groupby("width"):
        if len(part) < 2:
            continue
        m50, censored = m50_point(part["samples"].to_numpy(float), part["successes"].to_numpy(int),
                                  part["trials"].to_numpy(int))
        if censored != "above":
            thresholds[int(width)] = m50
    return thresholds


# --------------------------------------------------------------------------- axes helpers

def log_cell_edges(values: Sequence[float]) -> np.ndarray:
    """Cell edges (in log10 units) around sorted positive values: midpoints in log space."""
    logs = np.log10(np.asarray(values, dtype=float))
    if logs.size == 1:
        return np.array([logs[0] - 0.25, logs[0] + 0.25])
    mids = (logs[1:] + logs[:-1]) / 2
    return np.concatenate([[logs[0] - (mids[0] - logs[0])], mids, [logs[-1] + (logs[-1] - mids[-1])]])


def format_count(value: float) -> str:
    """1000 -> '1k', 30000 -> '30k', 10**6 -> '1M', 300 -> '300'."""
    value = float(value)
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= factor:
            scaled = value / factor
            return f"{scaled:g}{suffix}"
    return f"{value:g}"


def success_heatmap(ax, cells: "pd.DataFrame", m50: dict[int, float] | None = None,
                    label_axes: tuple[bool, bool] = (True, True)):
    """Draw success probability over (m, width) on ``ax``; return the mesh (for a colorbar).

    x: dataset size m on a log scale, plus an "online" column (m = infinity) after a gap;
    y: width r on a log scale. Cells not in the store are hatched grey. ``m50`` (width ->
    m_50) is drawn as the 50% frontier: a white line with markers.
    Expects columns samples (NaN = online), width, p.
    """
    import matplotlib.colors as mcolors

    widths = sorted(int(w) for w in cells["width"].unique())
    sample_values = sorted(float(m) for m in cells["samples"].dropna().unique())
    has_online = bool(cells["samples"].isna().any())
    x_edges = list(log_cell_edges(sample_values)) if sample_values else [0.0]
    x_centres = [float(v) for v in np.log10(sample_values)] if sample_values else []
    x_labels = [format_count(v) for v in sample_values]
    if has_online:
        step = (x_edges[-1] - x_edges[0]) / max(len(sample_values), 1) if sample_values else 0.5
        step = step or 0.5
        gap = 0.35 * step
        left = x_edges[-1] + gap if sample_values else 0.0
        online_edges = [left, left + step]
        x_centres.append(left + step / 2)
        x_labels.append("online")
    y_edges = log_cell_edges(widths)

    grid = np.full((len(widths), len(sample_values)), np.nan)
    online_column = np.full((len(widths), 1), np.nan)
    for row in cells.itertuples(index=False):
        i = widths.index(int(row.width))
        if np.isnan(row.samples):
            online_column[i, 0] = row.p
        else:
            grid[i, sample_values.index(float(row.samples))] = row.p
    norm = mcolors.Normalize(0.0, 1.0)
    cmap = "viridis"
    ax.set_facecolor("0.85")
    mesh = None
    if sample_values:
        mesh = ax.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(grid), cmap=cmap, norm=norm)
    if has_online:
        mesh_online = ax.pcolormesh(online_edges, y_edges, np.ma.masked_invalid(online_column), cmap=cmap, norm=norm)
        mesh = mesh or mesh_online
        if sample_values:
            ax.axvspan(x_edges[-1], online_edges[0], color="white", zorder=2)
    ax.patch.set_hatch("///")
    ax.patch.set_edgecolor("0.7")
    right = online_edges[1] if has_online else x_edges[-1]
    ax.set_xlim(x_edges[0], right)
    ax.set_ylim(y_edges[0], y_edges[-1])
    if len(x_centres) > 8:  # label every other column so the ticks stay readable
        shown = set(range(0, len(sample_values), 2)) | ({len(x_centres) - 1} if has_online else set())
        x_labels = [label if i in shown else "" for i, label in enumerate(x_labels)]
    ax.set_xticks(x_centres, x_labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(np.log10(widths), [format_count(w) for w in widths])
    ax.tick_params(length=2)
    ax.minorticks_off()
    if label_axes[0]:
        ax.set_xlabel("dataset size m (samples, log scale)")
    if label_axes[1]:
        ax.set_ylabel("width r (neurons, log scale)")
    if m50:
        points = sorted((w, m) for w, m in m50.items() if w in widths)
        if points:
            ax.plot([math.log10(m) for _, m in points], [math.log10(w) for w, _ in points],
                    color="white", marker="o", markersize=2.5, lw=1.2, zorder=3,
                    path_effects=_outline(), label="50% frontier $m_{50}(r)$")
    return mesh


def _outline():
    import matplotlib.patheffects as patheffects

    return [patheffects.Stroke(linewidth=2.2, foreground="black"), patheffects.Normal()]


def slug(text: str) -> str:
    """A file-name-safe version of a setting description."""
    return "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in text)


# --------------------------------------------------------------------------- entry points

def figure_main(
    render: Callable[..., list[Path]], description: str, argv: Sequence[str] | None = None,
    store_required: bool = True,
) -> int:
    """The ``python -m paper_figs.figN --store runs.sqlite --out figs/`` entry of a figure."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--store", required=store_required, default=None, help="results store (SQLite)")
    parser.add_argument("--out", default="figs", help="output directory for PNG and PDF (default: figs)")
    args = parser.parse_args(argv)
    try:
        paths = render(args.store, args.out)
    except (MissingData, FileNotFoundError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    for path in paths:
        print(path)
    return 0
