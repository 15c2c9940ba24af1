"""Figure 2: success fraction and iterations to convergence vs dataset size, per width.

Paper: Edelman et al. 2023 (arXiv 2309.03800), Figure 2; docs/science.md 5.1-5.4. For each n of the
store, one panel per (k, init):

- ``fig2_n{n}``: fraction of seeds that succeed vs m (linear x), one line per width r, with
  Clopper-Pearson 95% intervals as error bars. Width never hurting (5.2) shows as lines that do
  not cross downwards; sparse init shifting the curves left at large width is 5.3.
- ``fig2_steps_n{n}``: SGD steps to reach the target vs m, one marker per successful run
  (log y), coloured by width; runs that never converged are grey crosses at T. Many more
  steps near the frontier is "grokking near the edge"; a dip of success as m grows is
  sample-wise double descent (5.4).

Online runs have no m and are left out of these panels (Figure 1 shows them).

    python -m paper_figs.fig2 --store runs.sqlite --out figs/
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paper_figs import common

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def _width_colours(widths: list[int]) -> dict[int, tuple]:
    import matplotlib

    cmap = matplotlib.colormaps["plasma"]
    if len(widths) == 1:
        return {widths[0]: cmap(0.1)}
    return {w: cmap(0.85 * i / (len(widths) - 1)) for i, w in enumerate(widths)}


def _panel_grid(setting, n_value):

    ks = sorted(int(k) for k in setting["k"].unique())
    inits = common.init_order(setting["init_label"])
    fig, axes = common.subplots(
        len(ks), len(inits), squeeze=False, sharex=True, sharey=True, layout="constrained",
        figsize=(common.PANEL_WIDTH * len(inits) * 0.8, common.PANEL_HEIGHT * 0.9 * len(ks) + 0.35),
    )
    return fig, axes, ks, inits


def _success_panel(ax, subset, widths: list[int], colours: dict, level: float) -> None:
    cells = common.success_cells(subset, ["width", "samples"], level=level)
    span = float(cells["samples"].max() - cells["samples"].min()) or float(cells["samples"].max())
    for width, rows in cells.groupby("width"):
        rows = rows.sort_values("samples")
        p = rows["p"].to_numpy()
        err = np.vstack([p - rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy() - p])
        # dodge the widths sideways a little so their error bars do not overlap
        dodge = (widths.index(int(width)) - (len(widths) - 1) / 2) * 0.008 * span
        ax.errorbar(rows["samples"] + dodge, p, yerr=err, color=colours[int(width)], marker="o",
                    markersize=2.5, lw=1.0, elinewidth=0.6, label=f"r = {common.format_count(width)}")
    ax.axhline(0.5, color="0.6", lw=0.6, ls=":")
    ax.set_ylim(-0.03, 1.03)


def _steps_panel(ax, subset, colours: dict, rng: np.random.Generator) -> None:
    span = float(subset["samples"].max() - subset["samples"].min()) or float(subset["samples"].max())
    jitter = lambda size: rng.uniform(-0.012, 0.012, size) * span  # noqa: E731
    failed = subset[~subset["success"]]
    if not failed.empty:
        ax.scatter(failed["samples"] + jitter(len(failed)), failed["max_steps"], marker="x", s=6, lw=0.5,
                   color="0.6", zorder=1)
    for width, rows in subset[subset["success"]].groupby("width"):
        ax.scatter(rows["samples"] + jitter(len(rows)), rows["steps_to_success"].astype(float), s=5,
                   color=colours[int(width)], alpha=0.75, lw=0, zorder=2)


def _panels(setting, n_value: int, draw, ylabel: str, log_y: bool = False):
    """A (k x init) grid of panels, ``draw(ax, subset)`` on each with runs."""
    fig, axes, ks, inits = _panel_grid(setting, n_value)
    for i, k_value in enumerate(ks):
        for j, label in enumerate(inits):
            ax = axes[i][j]
            subset = setting[(setting["k"] == k_value) & (setting["init_label"] == label)]
            ax.set_title(f"k = {k_value}, {label} init")
            if log_y:
                ax.set_yscale("log")
            if subset.empty:
                ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center", color="0.5")
            else:
                draw(ax, subset)
            if i == len(ks) - 1:
                ax.set_xlabel("dataset size m (samples)")
            if j == 0:
                ax.set_ylabel(ylabel)
    return fig


@common.styled
def success_figure(setting, n_value: int, title: str, level: float = 0.95) -> "Figure":
    """Success fraction against m per width, one panel per (k, init), Clopper-Pearson bars."""
    from matplotlib.lines import Line2D

    widths = sorted(int(w) for w in setting["width"].unique())
    colours = _width_colours(widths)
    fig = _panels(setting, n_value, lambda ax, subset: _success_panel(ax, subset, widths, colours, level),
                  "success fraction")
    handles = [Line2D([], [], color=colours[w], marker="o", markersize=2.5, label=f"{common.format_count(w)}")
               for w in widths]
    fig.legend(handles=handles, title="width r", loc="outside right center", frameon=False)
    fig.suptitle(title + f"; bars: {level:.0%} Clopper-Pearson", fontsize=7.5)
    return fig


@common.styled
def steps_figure(setting, n_value: int, title: str) -> "Figure":
    """Steps to success against m, one marker per run (failures at T), per (k, init)."""
    from matplotlib.lines import Line2D

    widths = sorted(int(w) for w in setting["width"].unique())
    colours = _width_colours(widths)
    rng = np.random.default_rng(0)  # horizontal jitter only, so overlapping runs stay visible
    fig = _panels(setting, n_value, lambda ax, subset: _steps_panel(ax, subset, colours, rng),
                  "SGD steps to test error ≤ target", log_y=True)
    handles = [Line2D([], [], color=colours[w], marker="o", ls="", markersize=3, label=common.format_count(w))
               for w in widths]
    handles.append(Line2D([], [], color="0.6", marker="x", ls="", markersize=3, label="not converged\n(shown at T)"))
    fig.legend(handles=handles, title="width r", loc="outside right center", frameon=False)
    fig.suptitle(title + "; one marker per run", fontsize=7.5)
    return fig


def render(store_path: str | Path, out_dir: str | Path, n: int | None = None, level: float = 0.95) -> list[Path]:
    """Write ``fig2_n{n}[_setting]`` and ``fig2_steps_n{n}[_setting]`` (PNG and PDF) per n.

    Raises:
        MissingData: no offline runs (finite m) in the store (for that n).
    """
    runs = common.load_runs(store_path)
    if runs.empty:
        raise common.MissingData("Figure 2 needs runs in the store (none found); run `frontier sweep`")
    runs = runs[runs["samples"].notna()]
    if n is not None:
        runs = runs[runs["n"] == n]
    if runs.empty:
        raise common.MissingData(
            "Figure 2 needs offline runs (finite samples m)" + (f" with n={n}" if n is not None else "")
        )
    paths: list[Path] = []
    for n_value, part in runs.groupby("n", sort=True):
        for suffix, setting in common.split_settings(part):
            tail = (f"_{common.slug(suffix)}" if suffix else "")
            title = f"n = {n_value}: {common.setting_note(setting)}" + (f"; {suffix}" if suffix else "")
            paths += common.save(success_figure(setting, n_value, title, level), out_dir, f"fig2_n{n_value}{tail}")
            paths += common.save(steps_figure(setting, n_value, title), out_dir, f"fig2_steps_n{n_value}{tail}")
    return paths


def main(argv: list[str] | None = None) -> int:
    return common.figure_main(render, "Figure 2: success and steps to convergence vs dataset size m.", argv)


if __name__ == "__main__":
    raise SystemExit(main())
