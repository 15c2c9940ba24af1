"""Figure 5: the lottery-ticket experiment (docs/science.md 5.5; paper: Edelman et al. 2023, Figure 5).

Left: test error vs SGD steps (log x) for the full network (black), its top neurons rewound to
their initial weights and retrained with several seeds (blue), and freshly initialised networks
of the same small width (orange); the dotted line is the target error. Rewound tickets that
learn fast while random small networks stay near 50% error is the paper's finding.
Right: how many of the kept neurons started with each overlap |U_i ∩ S| between their initial
support and the target support, against the count expected for the same number of neurons
drawn at random (hypergeometric, :func:`theory.lottery.overlap_distribution`).

The data come from ``frontier tickets`` (tables ``ticket_*`` of a SQLite file, see
:mod:`verify.tickets`), one figure per stored experiment.

    python -m paper_figs.fig5 --store tickets.sqlite --out figs/
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paper_figs import common
from verify.tickets import TicketReport, read_reports

COLOURS = {"full": "black", "rewound": "tab:blue", "random": "tab:orange"}
LABELS = {"full": "full network", "rewound": "rewound top neurons", "random": "random small networks"}


@common.styled
def render_report(report: TicketReport, out_dir: str | Path, stem: str) -> list[Path]:
    """Draw one experiment as ``stem.png/.pdf``."""
    from matplotlib.lines import Line2D

    from theory.lottery import overlap_distribution

    s = report.settings
    fig, (ax, bars) = common.subplots(
        1, 2, figsize=(common.PANEL_WIDTH * 2 * 0.9, common.PANEL_HEIGHT + 0.25), layout="constrained",
        gridspec_kw={"width_ratios": [1.6, 1]},
    )
    for group in ("random", "rewound", "full"):
        for curve in report.group(group):
            ax.plot(curve.steps, curve.test_error, color=COLOURS[group],
                    lw=1.6 if group == "full" else 0.8, alpha=1.0 if group == "full" else 0.7)
    target = s.target_error
    ax.axhline(target, color="0.4", lw=0.7, ls=":")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 0.62)
    ax.set_xlabel("SGD steps (log scale)")
    ax.set_ylabel("test error (fraction misclassified)")
    handles = []
    for group in ("full", "rewound", "random"):
        ok, total = report.successes(group)
        width = s.width if group == "full" else s.top
        handles.append(Line2D([], [], color=COLOURS[group], lw=1.4,
                              label=f"{LABELS[group]} (r = {width}): {ok}/{total} reach {target:g}"))
    fig.legend(handles=handles, loc="outside lower left", frameon=False, ncol=3, fontsize=6)
    data = "online" if s.samples is None else f"m = {s.samples}"
    ax.set_title(f"n = {s.n}, k = {s.k}, {s.sparsity}-hot init, {data}; top {s.top} by {s.rank_by}", fontsize=7.5)

    overlaps = np.arange(min(s.k, s.sparsity) + 1)
    kept = np.array([sum(kn.overlap == o for kn in report.neurons) for o in overlaps])
    law = overlap_distribution(s.n, s.k, s.sparsity)
    expected = np.array([float(law[int(o)]) * len(report.neurons) for o in overlaps])
    bars.bar(overlaps - 0.18, kept, width=0.36, color="tab:blue", label=f"kept top {len(report.neurons)}")
    bars.bar(overlaps + 0.18, expected, width=0.36, color="0.7", label="expected at random")
    bars.set_xticks(overlaps)
    bars.set_xlabel("initial overlap |U_i ∩ S| (coordinates)")
    bars.set_ylabel("neurons")
    bars.set_title("where the kept neurons started")
    bars.legend(frameon=False, loc="upper right")
    return common.save(fig, out_dir, stem)


@common.styled
def render(store_path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write ``fig5_n{n}_k{k}_w{width}_s{s}_top{top}[_{id}]`` for every stored experiment.

    Raises:
        MissingData: the file holds no lottery-ticket results.
    """
    reports = read_reports(store_path)
    if not reports:
        raise common.MissingData(
            "Figure 5 needs lottery-ticket results (tables ticket_*); run `frontier tickets --store STORE`"
        )
    paths: list[Path] = []
    used: set[str] = set()
    for report in reports:
        s = report.settings
        stem = f"fig5_n{s.n}_k{s.k}_w{s.width}_s{s.sparsity}_top{s.top}"
        if stem in used:
            stem += f"_{s.experiment_id[:8]}"
        used.add(stem)
        paths += render_report(report, out_dir, stem)
    return paths


def main(argv: list[str] | None = None) -> int:
    return common.figure_main(render, "Figure 5: the lottery-ticket experiment.", argv)


if __name__ == "__main__":
    raise SystemExit(main())
