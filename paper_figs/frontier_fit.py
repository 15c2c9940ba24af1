"""Predicted against measured frontiers (docs/science.md 7.1; beyond the paper, which predicts
only scalings): the curves of a fitted model of parallel search (verify.models) beside the runs,
with the bands of its seed-cluster bootstrap.

- ``fit_success``: success against m per width, measured (Clopper-Pearson) and predicted (band),
  one panel per (n, init);
- ``fit_m50``: m_50 against width, measured (seed-cluster interval) and predicted (band);
- ``fit_cloglog``: cloglog P(success) against ln r at fixed m, with lines of slope 1 (Model A);
- ``fit_ratio``: R(r) = m_50(dense) / m_50(sparse) across the critical width r*.

The figure functions return Figures; :func:`render` writes them as PNG and PDF.

    frontier fit runs.sqlite --fit "n <= 30" --predict "n == 40" --out fit/
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paper_figs import common

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from verify.prediction import FrontierPrediction

BAND_DRAWS = 60  # bootstrap constants drawn for a band (the fit keeps more)


def _panels(frame: "pd.DataFrame") -> list[tuple[int, str]]:
    """(n, init) of every offline, intervention-free arm of the frame."""
    runs = frame[frame["samples"].notna() & (frame["intervention"] == "none")]
    return sorted({(int(n), str(i)) for n, i in zip(runs["n"], runs["init"])})


def _band(prediction: "FrontierPrediction", model: str, curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, low, high) of ``curve(theta)`` over the fit's bootstrap draws (level of the fit)."""
    fitted = prediction.fits[model]
    point = curve(fitted.theta)
    if fitted.draws is None or not len(fitted.draws):
        return point, point, point
    draws = np.array([curve(theta) for theta in fitted.draws[:BAND_DRAWS]])
    alpha = 1 - fitted.level
    return point, np.nanquantile(draws, alpha / 2, axis=0), np.nanquantile(draws, 1 - alpha / 2, axis=0)


def _held_out(prediction: "FrontierPrediction", n: int) -> bool:
    return bool(np.any(prediction.predict_data.n == n))


@common.styled
def fit_success(frame: "pd.DataFrame", prediction: "FrontierPrediction", model: str = "A") -> "Figure":
    """Success against m per width: measured points, predicted curves with bands."""
    import matplotlib

    from verify import models

    from matplotlib.ticker import NullFormatter

    panels = _panels(frame)
    ns, inits = sorted({n for n, _ in panels}), sorted({i for _, i in panels})
    fig, axes = common.subplots(len(inits), len(ns), squeeze=False, sharey=True, layout="constrained",
                                figsize=(common.PANEL_WIDTH * 0.85 * len(ns), common.PANEL_HEIGHT * 0.85 * len(inits)))
    data = prediction.fit_data
    fitted = prediction.fits[model]
    for n, init in panels:
        ax = axes[inits.index(init)][ns.index(n)]
        runs = frame[(frame["n"] == n) & (frame["init"] == init) & frame["samples"].notna()
                     & (frame["intervention"] == "none")]
        widths = sorted(int(w) for w in runs["width"].unique())
        colours = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(widths)))
        grid = np.linspace(math.log(runs["samples"].min() / 1.5), math.log(runs["samples"].max() * 1.5), 80)
        cells = common.success_cells(runs, ["width", "samples"])
        for colour, width in zip(colours, widths):
            part = cells[cells["width"] == width]
            ax.errorbar(part["samples"], part["p"], yerr=[part["p"] - part["ci_low"], part["ci_high"] - part["p"]],
                        fmt="o", color=colour, ms=2.5, lw=0.7, label=f"r={common.format_count(width)}")
            point, low, high = _band(prediction, model, lambda theta, width=width, grid=grid: models.expected_success(
                fitted.model, theta, n, data.k, data.s, init, [width], grid)[0])
            ax.plot(np.exp(grid), point, color=colour, lw=1.0)
            ax.fill_between(np.exp(grid), low, high, color=colour, alpha=0.15, lw=0)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"n={n} {init}" + (" (held out)" if _held_out(prediction, n) else " (fitted)"))
        ax.set_xlabel("training-set size m")
        ax.legend(loc="lower right", frameon=False, fontsize=5)
    for row in axes:
        row[0].set_ylabel("success probability")
    fig.suptitle(f"Model {model}: predicted (lines, {fitted.level:.0%} bootstrap bands) vs measured success")
    return fig


@common.styled
def fit_m50(frame: "pd.DataFrame", prediction: "FrontierPrediction", model: str = "A") -> "Figure":
    """m_50 against width: measured (seed-cluster intervals) and predicted (band), per (n, init)."""
    from verify import estimates as est
    from verify import models

    fitted, data = prediction.fits[model], prediction.fit_data
    measured = [e for e in est.m50_estimates(frame[frame["intervention"] == "none"], level=fitted.level,
                                             n_bootstrap=400) if e.censored == ""]
    panels = _panels(frame)
    ns, inits = sorted({n for n, _ in panels}), sorted({i for _, i in panels})
    fig, axes = common.subplots(1, len(inits), squeeze=False, sharey=True, layout="constrained",
                                figsize=(common.PANEL_WIDTH * 1.0 * len(inits), common.PANEL_HEIGHT * 1.1))
    top = 3 * float(frame["samples"].max())
    for n, init in panels:
        ax, colour = axes[0][inits.index(init)], f"C{ns.index(n)}"
        mine = sorted((e for e in measured if int(e.setting["n"]) == n and e.setting["init"] == init),
                      key=lambda e: e.width)
        widths = np.unique(np.geomspace(min(frame["width"]), max(frame["width"]), 40).astype(int))
        point, low, high = _band(prediction, model, lambda theta, n=n, init=init, widths=widths: models.predicted_m50(
            fitted.model, theta, n, data.k, data.s, init, widths))
        ax.plot(widths, np.minimum(point, top), color=colour, lw=1.0,
                label=f"n={n}" + (" (held out)" if _held_out(prediction, n) else ""))
        ax.fill_between(widths, np.minimum(low, top), np.minimum(high, top), color=colour, alpha=0.12, lw=0)
        if mine:
            m = np.array([e.m50 for e in mine])
            ax.errorbar([e.width for e in mine], m, yerr=[m - np.array([max(e.ci_low, 1) for e in mine]),
                                                          np.array([min(e.ci_high, top) for e in mine]) - m],
                        fmt="o", color=colour, ms=3, lw=0.7)
        ax.set_title(f"{init} init")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("width r")
        ax.legend(frameon=False)
    axes[0][0].set_ylabel("sample threshold $m_{50}$")
    fig.suptitle(f"Model {model}: predicted $m_{{50}}(r)$ (lines, bands) vs measured (points, seed-cluster intervals)")
    return fig


@common.styled
def fit_cloglog(frame: "pd.DataFrame") -> "Figure":
    """cloglog of the measured success against ln r per (n, init, m), with slope-1 guides."""
    panels = _panels(frame)
    fig, axes = common.subplots(1, len(panels), figsize=(common.PANEL_WIDTH * 0.8 * len(panels), common.PANEL_HEIGHT),
                                squeeze=False, sharey=True, layout="constrained")
    for ax, (n, init) in zip(axes[0], panels):
        runs = frame[(frame["n"] == n) & (frame["init"] == init) & frame["samples"].notna()
                     & (frame["intervention"] == "none")]
        cells = common.success_cells(runs, ["samples", "width"])
        cells = cells[(cells["p"] > 0) & (cells["p"] < 1)]
        for index, (m, part) in enumerate(cells.groupby("samples")):
            if len(part) < 2:
                continue
            x = np.log(part["width"].to_numpy(float))
            y = np.log(-np.log1p(-part["p"].to_numpy(float)))
            ax.plot(x, y, "o-", color=f"C{index % 10}", ms=2.5, lw=0.8, label=f"m={int(m)}")
            ax.plot(x, y[0] + (x - x[0]), ":", color=f"C{index % 10}", lw=0.8)
        ax.set_title(f"n={n} {init}")
        ax.set_xlabel("ln width")
        if len(ax.get_lines()):
            ax.legend(loc="upper left", frameon=False, fontsize=5)
    axes[0][0].set_ylabel("cloglog P(success)")
    fig.suptitle("Success against width on the cloglog scale; dotted: slope 1 (independent parallel search)")
    return fig


@common.styled
def fit_ratio(frame: "pd.DataFrame", prediction: "FrontierPrediction", model: str = "A") -> "Figure":
    """R(r) = m_50(dense) / m_50(sparse): predicted (band) and measured at shared widths, per n."""
    from theory.lottery import critical_width
    from verify import estimates as est
    from verify import models

    fitted, data = prediction.fits[model], prediction.fit_data
    measured = est.m50_estimates(frame[frame["intervention"] == "none"], level=fitted.level, n_bootstrap=400)
    fig, ax = common.subplots(figsize=(common.PANEL_WIDTH * 1.4, common.PANEL_HEIGHT * 1.1), layout="constrained")
    for index, n in enumerate(sorted({n for n, _ in _panels(frame)})):
        colour, r_star = f"C{index}", critical_width(n, data.k, data.s)
        widths = np.unique(np.geomspace(max(2, r_star / 30), r_star * 10, 40).astype(int))

        def ratio(theta: np.ndarray, n: int = n, widths: np.ndarray = widths) -> np.ndarray:
            dense = models.predicted_m50(fitted.model, theta, n, data.k, data.s, "dense", widths)
            return dense / models.predicted_m50(fitted.model, theta, n, data.k, data.s, "sparse", widths)

        point, low, high = _band(prediction, model, ratio)
        ax.plot(widths / r_star, point, color=colour, lw=1.0, label=f"n={n} (r* = {r_star})")
        ax.fill_between(widths / r_star, low, high, color=colour, alpha=0.12, lw=0)
        by = {(e.setting["init"], e.width): e for e in measured if int(e.setting["n"]) == n}
        for (init, width), dense in by.items():
            sparse = next((e for (i, w), e in by.items() if i == "sparse" and w == width), None)
            if init != "dense" or sparse is None:
                continue
            value, lo, hi = est.ratio_interval(dense, sparse, fitted.level)
            if math.isfinite(value) and value > 0:
                # never negative: the clip (a censored m_50) or a percentile interval may not contain the value
                below, above = max(value - max(lo, 1e-3), 0.0), max(min(hi, 1e3) - value, 0.0)
                ax.errorbar([width / r_star], [value], yerr=[[below], [above]], fmt="o", color=colour, ms=3, lw=0.7)
    ax.axvline(1.0, color="0.5", lw=0.8, ls=":")
    ax.axhline(1.0, color="0.7", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("width / critical width  r / r*")
    ax.set_ylabel("R(r) = $m_{50}$(dense) / $m_{50}$(sparse)")
    ax.set_title(f"Model {model}: the sparse advantage across r* (bands) vs measured")
    ax.legend(frameon=False)
    return fig


def render(frame: "pd.DataFrame", prediction: "FrontierPrediction", out_dir: str | Path, model: str = "A",
           stem: str = "fit") -> list[Path]:
    """Write the four figures (PNG and PDF) to ``out_dir``; return the paths."""
    if model not in prediction.fits:
        raise common.MissingData(f"model {model!r} was not fitted")
    paths: list[Path] = []
    for name, figure in (("success", fit_success(frame, prediction, model)), ("m50", fit_m50(frame, prediction, model)),
                         ("ratio", fit_ratio(frame, prediction, model))):
        paths += common.save(figure, out_dir, f"{stem}_{model}_{name}")
    return paths


def render_cloglog(frame: "pd.DataFrame", out_dir: str | Path, stem: str = "fit") -> list[Path]:
    """The model-free cloglog figure (PNG and PDF)."""
    return common.save(fit_cloglog(frame), out_dir, f"{stem}_cloglog")
