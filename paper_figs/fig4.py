"""Figure 4: the full grid, every (n, k, init) cell of the store as a small success heatmap.

Paper: Edelman et al. 2023 (arXiv 2309.03800), Figure 4 (the appendix's full sweep). Rows are
(n, k), columns the initialisations (dense, s-hot sparse); each small panel is the Figure 1
heatmap of that cell: dataset size m (log, with an "online" column) against width r (log),
colour the success fraction over seeds, the white line the 50% frontier m_50(r). Reading down
a column shows the frontier moving to larger m as n and k grow; reading across a row shows
what sparse initialisation buys.

    python -m paper_figs.fig4 --store runs.sqlite --out figs/
"""

from __future__ import annotations

from pathlib import Path

from paper_figs import common


@common.styled
def render(store_path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write ``fig4[_setting].png/.pdf``: one small heatmap per (n, k, init) of the store.

    Raises:
        MissingData: the store has no runs.
    """

    runs = common.load_runs(store_path)
    if runs.empty:
        raise common.MissingData("Figure 4 needs runs in the store (none found); run `frontier sweep`")

    paths: list[Path] = []
    for suffix, setting in common.split_settings(runs):
        rows = sorted({(int(n), int(k)) for n, k in zip(setting["n"], setting["k"])})
        inits = common.init_order(setting["init_label"])
        fig, axes = common.subplots(
            len(rows), len(inits), squeeze=False, layout="constrained",
            figsize=(2.3 * len(inits) + 0.6, 1.75 * len(rows) + 0.5),
        )
        mesh = None
        for i, (n_value, k_value) in enumerate(rows):
            for j, label in enumerate(inits):
                ax = axes[i][j]
                subset = setting[(setting["n"] == n_value) & (setting["k"] == k_value) & (setting["init_label"] == label)]
                ax.set_title(f"n={n_value}, k={k_value}, {label}", fontsize=7)
                if subset.empty:
                    ax.set_axis_off()
                    ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center", va="center", color="0.5")
                    continue
                cells = common.success_cells(subset, ["samples", "width"])
                mesh = common.success_heatmap(
                    ax, cells, common.m50_by_width(cells), label_axes=(i == len(rows) - 1, j == 0),
                ) or mesh
                ax.tick_params(labelsize=6)
                if i == len(rows) - 1:
                    ax.set_xlabel("samples m (log)")
                if j == 0:
                    ax.set_ylabel("width r (log)")
        fig.colorbar(mesh, ax=axes.ravel().tolist(), label="success probability", shrink=0.8, aspect=30)
        fig.suptitle(f"Full grid: {common.setting_note(setting)}" + (f"; {suffix}" if suffix else "")
                     + "; white: 50% frontier", fontsize=7.5)
        paths += common.save(fig, out_dir, "fig4" + (f"_{common.slug(suffix)}" if suffix else ""))
    return paths


def main(argv: list[str] | None = None) -> int:
    return common.figure_main(render, "Figure 4: every (n, k, init) cell of the store as a small heatmap.", argv)


if __name__ == "__main__":
    raise SystemExit(main())
