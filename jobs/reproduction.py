"""The paper's Figure 2 at n = 100 on a CPU (docs/reproduction.md): the tables and figure from the
committed store ``results/fig2_n100/runs.sqlite``.

    python -m jobs.reproduction [results/fig2_n100]

reads the store, keeps the paired cells of the frontier design (verify.designs.FRONTIER: both
inits at the same width, m and seed), and writes into the folder

- ``m50.csv``: m_50 per (k, init, width) with its seed-cluster interval (level 0.95);
- ``ratio.csv``: R(r) = m_50(dense) / m_50(sparse) per (k, width), paired draw by draw, with the
  critical width r* = ceil(1/p) of 2-hot init (theory.lottery.critical_width);
- ``success.csv``: successes / runs per cell with Clopper-Pearson intervals;
- ``figs/``: Figure 2 in the paper's style (paper_figs.fig2: success against m on a linear axis,
  one curve per width, dense and sparse panels), PNG and PDF;
- ``summary.md``: the two tables in Markdown, the store's size and its CPU-seconds.

The grids are ``results/fig2_n100/*.toml`` (the pilot, then the fine grid around each arm's
transition); ``frontier sweep GRID --store results/fig2_n100/runs.sqlite`` resumes either.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_FOLDER = Path("results/fig2_n100")
LEVEL = 0.95


def tables(frame: "pd.DataFrame", level: float = LEVEL, n_bootstrap: int = 2000
           ) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """(m_50 table, ratio table) of the paired cells of a store frame."""
    import pandas as pd

    from theory.lottery import critical_width
    from verify import estimates as est
    from verify.designs import FRONTIER

    paired = FRONTIER.select(frame)
    estimates = est.m50_estimates(paired, level, n_bootstrap) if len(paired) else []
    m50_rows, by_key = [], {}
    for e in estimates:
        init = e.setting["init"]
        row = {"n": int(e.setting["n"]), "k": int(e.setting["k"]), "init": init, "width": e.width, "m50": e.m50,
               "censored": e.censored, "ci_low": e.ci_low, "ci_high": e.ci_high, "runs": e.runs,
               "seeds": int(paired[(paired["init"] == init) & (paired["width"] == e.width)
                                   & (paired["k"] == e.setting["k"])]["seed"].nunique())}
        m50_rows.append(row)
        by_key[(row["n"], row["k"], init, e.width)] = e
    ratio_rows = []
    for (n, k, init, width), dense in sorted(by_key.items()):
        sparse = by_key.get((n, k, "sparse", width))
        if init != "dense" or sparse is None:
            continue
        point, low, high = est.ratio_interval(dense, sparse, level)
        s = int(sparse.setting["sparsity"])
        r_star = critical_width(n, k, s)
        ratio_rows.append({"n": n, "k": k, "width": width, "critical_width": r_star, "width_over_r_star": width / r_star,
                           "m50_dense": dense.m50, "m50_sparse": sparse.m50, "ratio": point, "ci_low": low,
                           "ci_high": high})
    return pd.DataFrame(m50_rows), pd.DataFrame(ratio_rows)


def summary_markdown(frame: "pd.DataFrame", m50: "pd.DataFrame", ratio: "pd.DataFrame", level: float = LEVEL) -> str:
    """The tables as Markdown, with the store's size and CPU time."""
    from verify import estimates as est

    cpu_hours = float(frame["wall_seconds"].sum()) / 3600.0
    lines = [f"{len(frame)} runs; {cpu_hours:.1f} CPU-hours of training (sum of the runs' wall seconds, one "
             f"thread each); intervals: seed-cluster bootstrap at {level:g}, paired cells only.", "",
             "| k | init | width | m_50 | interval | seeds |", "|---:|:---|---:|---:|:---|---:|"]
    for r in m50.to_dict("records"):
        lines.append(f"| {r['k']} | {r['init']} | {r['width']} | {est.format_m(r['m50'])} | [{est.format_m(r['ci_low'])}, "
                     f"{est.format_m(r['ci_high'])}] | {r['seeds']} |")
    lines += ["", "| k | width | r / r* | m_50 dense | m_50 sparse | R = dense / sparse | interval |",
              "|---:|---:|---:|---:|---:|---:|:---|"]
    for r in ratio.to_dict("records"):
        lines.append(f"| {r['k']} | {r['width']} | {r['width_over_r_star']:.2f} | {est.format_m(r['m50_dense'])} | "
                     f"{est.format_m(r['m50_sparse'])} | {r['ratio']:.2f} | [{r['ci_low']:.2f}, {r['ci_high']:.2f}] |")
    return "\n".join(lines) + "\n"


def run(folder: str | Path = DEFAULT_FOLDER, figures: bool = True) -> dict[str, Any]:
    """Write the tables, the summary and (``figures``) Figure 2 of the store in ``folder``."""
    from paper_figs import fig2
    from sim.files import atomic_path, write_text
    from sim.store import load
    from verify import estimates as est

    folder = Path(folder)
    store = folder / "runs.sqlite"
    frame = load(store)
    if frame.empty:
        raise ValueError(f"store {str(store)!r} has no runs yet: run the grids in {folder} first")
    m50, ratio = tables(frame)
    for name, table in (("m50.csv", m50), ("ratio.csv", ratio), ("success.csv", est.success_table(frame, LEVEL))):
        with atomic_path(folder / name) as tmp:
            table.to_csv(tmp, index=False)
    write_text(folder / "summary.md", summary_markdown(frame, m50, ratio))
    paths = fig2.render(store, folder / "figs", level=LEVEL) if figures else []
    return {"runs": len(frame), "m50": m50, "ratio": ratio, "figures": paths}


if __name__ == "__main__":  # pragma: no cover
    outcome = run(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FOLDER)
    print(f"{outcome['runs']} runs; wrote m50.csv, ratio.csv, success.csv, summary.md and "
          f"{len(outcome['figures'])} figure files")
