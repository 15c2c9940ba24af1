"""Figure 1: success probability over dataset size m and width r, dense vs sparse init.

Paper: Edelman et al. 2023 (arXiv 2309.03800), Figure 1; docs/science.md 5.1-5.3. One heatmap per
initialisation (dense, s-hot sparse) side by side, for each (n, k) of the store: x is the
dataset size m on a log scale with an extra "online" column (m = infinity), y the width r on a
log scale, colour the fraction of seeds whose test error reached the target within T steps.
The white line is the 50% frontier m_50(r) (:func:`verify.estimates.m50_estimate`: a monotone
fit of success in log m and the log-linear crossing of 1/2).

    python -m paper_figs.fig1 --store runs.sqlite --out figs/
"""

from __future__ import annotations

from pathlib import Path

from paper_figs import common


@common.styled
def render(store_path: str | Path, out_dir: str | Path, n: int | None = None, k: int | None = None) -> list[Path]:
    """Write ``fig1_n{n}_k{k}[_setting].png/.pdf`` for every (n, k) in the store (or the given one).

    Raises:
        MissingData: the store has no runs (for that n, k).
    """

    runs = common.load_runs(store_path)
    if runs.empty:
        raise common.MissingData("Figure 1 needs runs in the store (none found); run `frontier sweep`")
    if n is not None:
        runs = runs[runs["n"] == n]
    if k is not None:
        runs = runs[runs["k"] == k]
    if runs.empty:
        raise common.MissingData(f"Figure 1: the store has no runs with n={n}, k={k}")

    paths: list[Path] = []
    for (n_value, k_value), part in runs.groupby(["n", "k"], sort=True):
        for suffix, setting in common.split_settings(part):
            inits = common.init_order(setting["init_label"])
            fig, axes = common.subplots(
                1, len(inits), figsize=(common.PANEL_WIDTH * len(inits) * 0.82 + 0.5, common.PANEL_HEIGHT),
                sharey=True, squeeze=False, layout="constrained",
            )
            mesh = None
            for j, (ax, label) in enumerate(zip(axes[0], inits)):
                cells = common.success_cells(setting[setting["init_label"] == label], ["samples", "width"])
                mesh = common.success_heatmap(ax, cells, common.m50_by_width(cells), label_axes=(True, j == 0)) or mesh
                seeds = int(cells["trials"].median())
                ax.set_title(f"{label} init ({seeds} seeds/cell)")
            handles, labels = axes[0][0].get_legend_handles_labels()
            for ax in axes[0][1:]:
                more_handles, more_labels = ax.get_legend_handles_labels()
                if more_labels and not labels:
                    handles, labels = more_handles, more_labels
            if labels:
                legend = fig.legend(handles[:1], labels[:1], loc="outside lower right", frameon=False)
                legend.legend_handles[0].set_path_effects(common._outline())
            fig.colorbar(mesh, ax=axes[0].tolist(), label="success probability", shrink=0.9, pad=0.02)
            title = f"(n, k) = ({n_value}, {k_value}): {common.setting_note(setting)}"
            fig.suptitle(title + (f"; {suffix}" if suffix else ""), fontsize=7.5)
            stem = f"fig1_n{n_value}_k{k_value}" + (f"_{common.slug(suffix)}" if suffix else "")
            paths += common.save(fig, out_dir, stem)
    return paths


def main(argv: list[str] | None = None) -> int:
    return common.figure_main(render, "Figure 1: success heatmap over (m, width), dense vs sparse init.", argv)


if __name__ == "__main__":
    raise SystemExit(main())
