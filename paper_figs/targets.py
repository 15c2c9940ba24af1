"""Beyond parity: the sample threshold m_50 against width, dense vs sparse init, one panel per target.

docs/targets.md (issue 18; the paper's open question whether width and sparse initialisation help on
other hard synthetic tasks). For each (n, k) and setting of the store that holds two or more
targets: one panel per target, x the width r (log), y the sample threshold m_50 (log) with its
seed-cluster bootstrap interval (:func:`verify.estimates.m50_estimates`), dense and s-hot sparse
init as two lines. A threshold beyond the m grid is drawn at the grid's edge as a triangle
pointing out of it (at or below the smallest m: down; never reached: up), and an interval end
beyond the grid reaches the panel's edge. The dotted line is the target's critical width for the
sparse init, ceil(1 / p) with p the probability of a first-order ticket
(:func:`theory.targets.target_tickets`; absent when every neuron is one, or none is). A multitask
parity's panel adds each task's m_50 for sparse init (:func:`verify.estimates.task_runs`), thin.

    python -m paper_figs.targets --store runs.sqlite --out figs/
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paper_figs import common
from sim import files

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

#: The setting fields that tell the targets apart: each distinct value is a panel.
TARGET_FIELDS: tuple[str, ...] = ("target", "label_noise", "tasks")
COLOURS = {"dense": "0.25", "sparse": "tab:orange"}


def _panel_key(setting: dict) -> str:
    from verify.estimates import target_label

    return target_label(setting)


def _registry_order(key: str) -> tuple[int, str]:
    """Panels in the registry's order (parity first), a target's parameter values after that."""
    from sim.targets import TARGET_NAMES

    name = key.split("(")[0]
    return (TARGET_NAMES.index(name) if name in TARGET_NAMES else len(TARGET_NAMES), key)


def _runs_of(setting: "pd.DataFrame", key: str) -> "pd.DataFrame":
    """The runs of one panel (one target with its parameters)."""
    labels = [_panel_key(row) for row in setting[list(TARGET_FIELDS)].to_dict("records")]
    return setting[[label == key for label in labels]]


def _critical_width(runs: "pd.DataFrame") -> int | None:
    """ceil(1/p) of the first-order tickets of the runs' target among their sparse neurons."""
    from theory.targets import target_expansion, target_tickets

    first = runs.iloc[0]
    sparse = runs[runs["init"] == "sparse"]
    if sparse.empty:
        return None
    expansion = target_expansion(first["target"], int(first["k"]), tasks=int(first["tasks"]),
                                 label_noise=float(first["label_noise"]))
    width = target_tickets(int(first["n"]), int(sparse.iloc[0]["sparsity"]), expansion).critical_width
    return width if width is not None and width > 1 else None


def _draw_estimates(ax, estimates: list, colour: str, label: str | None, thin: bool = False) -> None:
    """One line of m_50 against width with interval bars, censored points as edge triangles."""
    estimates = sorted(estimates, key=lambda e: e.width)
    if not estimates:
        return
    low_edge, high_edge = min(min(e.grid) for e in estimates), max(max(e.grid) for e in estimates)
    xs = [e.width for e in estimates]
    ys = [e.m50 for e in estimates]
    ax.plot(xs, ys, color=colour, lw=0.7 if thin else 1.2, ls="--" if thin else "-", label=label, zorder=2)
    for e in estimates:
        low = max(e.ci_low, low_edge / 1.5) if e.ci_low > 0 else low_edge / 1.5
        high = min(e.ci_high, high_edge * 1.5) if math.isfinite(e.ci_high) else high_edge * 1.5
        if not thin:
            ax.plot([e.width, e.width], [low, high], color=colour, lw=0.8, alpha=0.7, zorder=1)
        marker = {"below": "v", "above": "^"}.get(e.censored, "o")
        ax.plot([e.width], [e.m50], marker=marker, color=colour, ms=2.5 if thin else 3.5, ls="", zorder=3,
                markerfacecolor="white" if e.censored else colour)


@dataclass(frozen=True)
class TargetPanel:
    """The m_50 estimates of one target (a panel): ``by_init[init]`` one per width, ``by_task[t][init]``
    those of task t's own success for a multitask target (:func:`verify.estimates.task_runs`)."""

    key: str
    runs: "pd.DataFrame"
    by_init: dict
    by_task: dict
    critical_width: int | None


def target_panels(setting: "pd.DataFrame", level: float = 0.95, n_bootstrap: int = 2000) -> list[TargetPanel]:
    """The panels of one (n, k, setting), parity first: seed-cluster m_50 estimates per target and init."""
    from verify.estimates import m50_estimates, task_runs

    estimates = m50_estimates(setting, level=level, n_bootstrap=n_bootstrap)
    keys = sorted({_panel_key(e.setting) for e in estimates}, key=_registry_order)
    panels = []
    for key in keys:
        runs = _runs_of(setting, key)
        by_init = {init: [e for e in estimates if _panel_key(e.setting) == key and e.setting["init"] == init]
                   for init in ("dense", "sparse")}
        by_task = {}
        if runs["target"].iloc[0] == "multitask_parity":
            for task in range(int(runs["tasks"].iloc[0])):
                per_task = m50_estimates(task_runs(runs, task), level=level, n_bootstrap=n_bootstrap)
                by_task[task] = {init: [e for e in per_task if e.setting["init"] == init]
                                 for init in ("dense", "sparse")}
        panels.append(TargetPanel(key, runs, by_init, by_task, _critical_width(runs)))
    return panels


def m50_summary(panels: list[TargetPanel], level: float = 0.95) -> "pd.DataFrame":
    """One row per (target, width) (and per task of a multitask target): m_50 of dense and sparse
    init with their intervals (0: below the m grid, inf: above) and the paired ratio
    m_50(dense) / m_50(sparse) with its seed-cluster interval (:func:`verify.estimates.ratio_interval`)."""
    import pandas as pd

    from verify.estimates import ratio_interval

    rows = []
    for panel in panels:
        for label, by_init in [(panel.key, panel.by_init)] + [(f"{panel.key} task {t}", by) for t, by in
                                                               panel.by_task.items()]:
            dense = {e.width: e for e in by_init["dense"]}
            for sparse in by_init["sparse"]:
                row = {"target": label, "width": sparse.width, "critical_width": panel.critical_width}
                for init, e in (("dense", dense.get(sparse.width)), ("sparse", sparse)):
                    if e is not None:
                        row.update({f"{init}_m50": e.m50, f"{init}_censored": e.censored, f"{init}_low": e.ci_low,
                                    f"{init}_high": e.ci_high, f"{init}_runs": e.runs})
                if sparse.width in dense:
                    ratio = ratio_interval(dense[sparse.width], sparse, level)
                    row["ratio"], row["ratio_low"], row["ratio_high"] = ratio
                rows.append(row)
    return pd.DataFrame(rows)


def width_effects(panels: list[TargetPanel], level: float = 0.95) -> "pd.DataFrame":
    """One row per (target, init) (and task): m_50 at the narrowest over m_50 at the widest width of
    the store, with its paired seed-cluster interval (:func:`verify.estimates.ratio_interval`): how
    much width buys. Above 1: the wide network needs fewer samples."""
    import pandas as pd

    from verify.estimates import ratio_interval

    rows = []
    for panel in panels:
        for label, by_init in [(panel.key, panel.by_init)] + [(f"{panel.key} task {t}", by) for t, by in
                                                               panel.by_task.items()]:
            for init, estimates in by_init.items():
                if len(estimates) < 2:
                    continue
                narrow, wide = min(estimates, key=lambda e: e.width), max(estimates, key=lambda e: e.width)
                ratio, low, high = ratio_interval(narrow, wide, level)
                rows.append({"target": label, "init": init, "narrow": narrow.width, "wide": wide.width,
                             "ratio": ratio, "ratio_low": low, "ratio_high": high})
    return pd.DataFrame(rows)


@common.styled
def targets_figure(panels: list[TargetPanel], title: str, level: float = 0.95) -> "Figure":
    """m_50 against width per target of one (n, k, setting): the figure of the module docstring."""
    if not panels:
        raise common.MissingData("the targets figure needs offline runs at two or more m per width")
    fig, axes = common.subplots(1, len(panels), squeeze=False, sharey=True, layout="constrained",
                                figsize=(2.0 * len(panels) + 0.6, common.PANEL_HEIGHT))
    for ax, panel in zip(axes[0], panels):
        for init in ("dense", "sparse"):
            _draw_estimates(ax, panel.by_init[init], COLOURS[init], f"{init} init")
        for task, by_init in panel.by_task.items():
            _draw_estimates(ax, by_init["sparse"], "tab:blue", "sparse, each task" if task == 0 else None, thin=True)
        if panel.critical_width is not None:
            ax.axvline(panel.critical_width, color="0.5", ls=":", lw=0.8, label="critical width (sparse)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(panel.key, fontsize=7)
        ax.set_xlabel("width r")
    axes[0][0].set_ylabel("sample threshold $m_{50}$")
    handles = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle(title + f"; bars: {level:.0%} seed-cluster bootstrap", fontsize=7.5)
    return fig


def render(store_path: str | Path, out_dir: str | Path, level: float = 0.95, n_bootstrap: int = 2000) -> list[Path]:
    """Write ``targets_n{n}_k{k}[_setting].png/.pdf`` for every (n, k) and setting with two or more
    targets, and its numbers as ``.csv`` (:func:`m50_summary`) and ``_width.csv`` (:func:`width_effects`).

    Raises:
        MissingData: the store has no (n, k) with offline runs of two or more targets.
    """
    runs = common.load_runs(store_path)
    if runs.empty or "target" not in runs:
        raise common.MissingData("the targets figure needs runs in the store (none found); run `frontier sweep`")
    runs = runs[runs["samples"].notna()]
    paths: list[Path] = []
    for (n_value, k_value), part in runs.groupby(["n", "k"], sort=True):
        for suffix, setting in common.split_settings(part, ignore=TARGET_FIELDS):
            if len({_panel_key(row) for row in setting[list(TARGET_FIELDS)].to_dict("records")}) < 2:
                continue
            title = f"(n, k) = ({n_value}, {k_value}): {common.setting_note(setting)}"
            title += f"; {suffix}" if suffix else ""
            stem = f"targets_n{n_value}_k{k_value}" + (f"_{common.slug(suffix)}" if suffix else "")
            panels = target_panels(setting, level, n_bootstrap)
            paths += common.save(targets_figure(panels, title, level), out_dir, stem)
            table = m50_summary(panels, level).to_csv(index=False)
            paths.append(files.write_text(Path(out_dir) / f"{stem}.csv", table))
            table = width_effects(panels, level).to_csv(index=False)
            paths.append(files.write_text(Path(out_dir) / f"{stem}_width.csv", table))
    if not paths:
        raise common.MissingData("the targets figure needs offline runs of two or more targets at one (n, k); "
                                 "sweep examples/targets_*.toml")
    return paths


def main(argv: list[str] | None = None) -> int:
    return common.figure_main(render, "Beyond parity: m_50 against width per target, dense vs sparse init.", argv)


if __name__ == "__main__":
    raise SystemExit(main())
