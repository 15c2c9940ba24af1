"""Figure 3 analog (paper Section 4.2, docs/science.md section 6): the tabular study's test
error against training-set size, the best MLP against the tuned random forest.

    python -m paper_figs.fig3 out/tabular/tabular_magic_trials.csv --out figs/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from paper_figs import common

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


@common.styled
def figure3(frame: "pd.DataFrame", dataset: str) -> "Figure":
    """Figure 3 analog: median test error vs training size, from a study's trials frame.

    One thin line per (width, init, s), at each fraction using the depth of smallest median
    validation error; thick lines for the best MLP (per fraction, by median validation error)
    and the tuned forest, with their interquartile range shaded.
    """
    import matplotlib

    from tabular.study import best_mlp_by_fraction

    mlp = frame[frame["model"] == "mlp"]
    n_train = frame.groupby("fraction")["n_train"].first()
    fig, ax = common.subplots(figsize=(7.5, 5), layout="constrained")
    keys = sorted({(int(w), str(i), int(s)) for w, i, s in zip(mlp["width"], mlp["init"], mlp["sparsity"])})
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, max(1, len({k[0] for k in keys}))))
    width_color = {w: colors[k] for k, w in enumerate(sorted({k[0] for k in keys}))}
    styles = {}
    for width, init, sparsity in keys:
        sub = mlp[(mlp["width"] == width) & (mlp["init"] == init) & (mlp["sparsity"] == sparsity)]
        xs, ys = [], []
        for fraction, group in sub.groupby("fraction"):
            by_depth = group.groupby("depth")
            depth = by_depth["val_error"].median().idxmin()
            xs.append(n_train[fraction])
            ys.append(by_depth.get_group(depth)["test_error"].median())
        style = styles.setdefault((init, sparsity), ["-", "--", ":", "-."][len(styles) % 4])
        label = f"MLP w={width} " + (f"sparse s={sparsity}" if init == "sparse" else "dense")
        ax.plot(xs, ys, style, color=width_color[width], marker="o", ms=3, lw=1.2, label=label)
    chosen = best_mlp_by_fraction(frame)
    best_x, best = [], []
    for fraction, (width, depth, init, sparsity) in sorted(chosen.items()):
        sel = mlp[(mlp["fraction"] == fraction) & (mlp["width"] == width) & (mlp["depth"] == depth)
                  & (mlp["init"] == init) & (mlp["sparsity"] == sparsity)]["test_error"]
        best_x.append(n_train[fraction])
        best.append(np.percentile(sel, [25, 50, 75]))
    if best:
        best = np.array(best)
        ax.plot(best_x, best[:, 1], "-", color="black", lw=2.5, marker="s", label="best MLP (by median val. error)")
        ax.fill_between(best_x, best[:, 0], best[:, 2], color="black", alpha=0.12)
    rf = frame[frame["model"] == "random_forest"]
    if len(rf):
        q = rf.groupby("fraction")["test_error"].quantile([0.25, 0.5, 0.75]).unstack()
        xs = [n_train[f] for f in q.index]
        ax.plot(xs, q[0.5], "-", color="tab:red", lw=2.5, marker="^", label="tuned random forest")
        ax.fill_between(xs, q[0.25], q[0.75], color="tab:red", alpha=0.12)
    ax.set_xscale("log")
    ax.set_xlabel("training set size (rows)")
    ax.set_ylabel("test error (median over trials)")
    trials = int(frame["trial"].max()) + 1 if len(frame) else 0
    ax.set_title(f"{dataset}: test error vs training size ({trials} trials; shaded: IQR)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig


def render(frame: "pd.DataFrame", dataset: str, out_dir: str | Path) -> list[Path]:
    """Write ``tabular_<dataset>_figure3.png/.pdf`` to ``out_dir``; return both paths."""
    if frame.empty:
        raise common.MissingData("Figure 3 needs the trials of a tabular study (none given)")
    return common.save(figure3(frame, dataset), out_dir, f"tabular_{dataset}_figure3")


def main(argv: Sequence[str] | None = None) -> int:
    import pandas as pd

    parser = argparse.ArgumentParser(description="Figure 3 analog from a tabular study's trials CSV")
    parser.add_argument("trials", help="tabular_<dataset>_trials.csv written by `frontier tabular`")
    parser.add_argument("--out", default="figs", help="output directory for PNG and PDF (default: figs)")
    args = parser.parse_args(argv)
    try:
        frame = pd.read_csv(args.trials)
        dataset = str(frame["dataset"].iloc[0]) if len(frame) else "unknown"
        paths = render(frame, dataset, args.out)
    except (common.MissingData, OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
