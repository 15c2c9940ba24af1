"""Theory figures: Fourier levels of a neuron, lottery-ticket odds, and the SQ frontier.

Our own figures for the paper's theory (Edelman et al. 2023, arXiv 2309.03800, Sections 3-4;
docs/science.md 4.1-4.4), computed exactly by :mod:`theory`:

- ``theory_fourier``: |ghat_d| of a neuron act(sum_{i in U} x_i / sqrt(s)) on its s-hot support,
  bias 0, vs s (log-log), one line per degree d, for relu and step, with dashed guides
  proportional to s^{-d/2}. Exact zeros (odd d >= 3 for relu; even d for step at odd s) are
  left out: a log axis cannot show them. The gap between degree k-1 and k+1 sets a ticket's
  sample cost (4.3).
- ``theory_tickets``: ticket probability p(n, k, s) and critical width r* = ceil(1/p) vs n for
  s = 2..8 at fixed k (4.4): s < k counts U ⊆ S, s >= k counts S ⊆ U.
- ``theory_sq_n{n}_k{k}``: the SQ frontier as samples vs width, m_min(r) = smallest m with
  2 p T m / C(n, k) >= q, p = r (n + 2), at several step budgets T and success probability q
  (4.1); with a store, the empirical m_50 of every width and init is overlaid (the theory is a
  lower bound: points must lie above the curve of their T). Where the bound allows m = 1 at
  every width it is vacuous (docs/science.md 7): the title says so.
- ``theory_anticoncentration``: the exact census of random dense neurons (``frontier
  anticoncentration``; theory.anticoncentration): the median |ghat(T)|, |T| = k - 1, against n
  with its band and the n^{-(k-1)/2} of a majority-like neuron, and the median best gap among
  r neurons.

    python -m paper_figs.theory_figs --out figs/ [--store runs.sqlite]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paper_figs import common

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@common.styled
def render_fourier(out_dir: str | Path, max_s: int = 128, degrees: tuple[int, ...] = (0, 1, 2, 3, 4, 5)) -> list[Path]:
    """``theory_fourier``: exact |ghat_d| of relu and step neurons vs s, with s^{-d/2} guides."""
    import matplotlib

    from theory.fourier import coefficient

    s_all = sorted({int(round(v)) for v in np.geomspace(1, max_s, 40)})
    fig, axes = common.subplots(1, 2, figsize=(2 * common.PANEL_WIDTH * 0.85, common.PANEL_HEIGHT), sharey=True,
                             layout="constrained")
    palette = matplotlib.colormaps["tab10"]
    for ax, activation in zip(axes, ("relu", "step")):
        # step at even s has step(0) = 0 on the tie sum = 0, which adds an s-parity zigzag; odd s
        # is the clean majority-like threshold of the theory (docs/science.md 4.3).
        s_values = s_all if activation == "relu" else sorted({s | 1 for s in s_all})
        for idx, d in enumerate(degrees):
            colour = palette(idx)
            points = []
            for s in s_values:
                if d > s:
                    continue
                value = abs(float(coefficient(s, d, 0, activation)))
                if activation == "relu":
                    value /= np.sqrt(s)  # relu(z / sqrt(s)) = relu(z) / sqrt(s): unit-variance input
                if value > 0:
                    points.append((s, value))
            if not points:
                continue
            s_arr, v_arr = np.array(points).T
            ax.plot(s_arr, v_arr, marker="o", markersize=1.8, lw=0.9, color=colour, label=f"d = {d}")
            if d > 0:  # guide c * s^{-d/2}, anchored at the largest s shown
                guide_s = np.array([max(s_arr.min(), 2.0), s_arr.max()])
                ax.plot(guide_s, v_arr[-1] * (guide_s / s_arr[-1]) ** (-d / 2), ls="--", lw=0.7, color=colour, alpha=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("support size s (inputs of the neuron)")
        name = "relu(Σx/√s), all s" if activation == "relu" else "step(Σx) = 1[Σx > 0], odd s"
        ax.set_title(f"{name}, bias 0")
    axes[0].set_ylabel("|Fourier coefficient| on a degree-d set")
    axes[1].legend(title="degree d", loc="lower left", ncol=2, frameon=False)
    fig.suptitle("Exact Fourier levels of an s-hot neuron; dashed: guides ∝ $s^{-d/2}$", fontsize=7.5)
    return common.save(fig, out_dir, "theory_fourier")


@common.styled
def render_tickets(out_dir: str | Path, k: int = 4, sparsities: tuple[int, ...] = tuple(range(2, 9)),
                   max_n: int = 300) -> list[Path]:
    """``theory_tickets``: ticket probability p and critical width r* = ceil(1/p) vs n (docs/science.md 4.4)."""
    import matplotlib

    from theory.lottery import critical_width, ticket_probability

    fig, axes = common.subplots(1, 2, figsize=(2 * common.PANEL_WIDTH * 0.85, common.PANEL_HEIGHT), layout="constrained")
    cmap = matplotlib.colormaps["plasma"]
    for idx, s in enumerate(sparsities):
        ns = np.unique(np.geomspace(max(s, k) + 1, max_n, 40).astype(int))
        p = [float(ticket_probability(int(n), k, s)) for n in ns]
        r_star = [critical_width(int(n), k, s) for n in ns]
        colour = cmap(idx / max(len(sparsities) - 1, 1) * 0.9)
        style = "-" if s < k else ("-." if s == k else "--")
        axes[0].plot(ns, p, ls=style, color=colour, label=f"s = {s}")
        axes[1].plot(ns, r_star, ls=style, color=colour, label=f"s = {s}")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input dimension n")
    axes[0].set_ylabel("ticket probability p per neuron")
    axes[1].set_ylabel("critical width r* = ⌈1/p⌉ (neurons)")
    axes[0].set_title("solid: P(U ⊆ S), s < k; dashed: P(S ⊆ U)")
    axes[1].set_title("width with one expected ticket")
    axes[1].legend(loc="upper left", frameon=False, ncol=2)
    fig.suptitle(f"Lottery tickets of s-hot initialisation, k = {k}", fontsize=7.5)
    return common.save(fig, out_dir, "theory_tickets")


def _empirical_m50(runs, n: int, k: int):
    """{init label: (widths, m_50 values, T)} for offline runs of one (n, k) (first setting)."""
    part = runs[(runs["n"] == n) & (runs["k"] == k) & runs["samples"].notna()]
    result = {}
    if part.empty:
        return result
    _, setting = common.split_settings(part)[0]
    from verify.estimates import m50_estimates

    for label in common.init_order(setting["init_label"]):
        estimates = [e for e in m50_estimates(setting[setting["init_label"] == label], n_bootstrap=400)
                     if e.censored != "above"]
        if estimates:
            result[label] = ([e.width for e in estimates], estimates, int(setting["max_steps"].max()))
    return result


@common.styled
def render_sq(out_dir: str | Path, n: int, k: int, runs=None, steps: tuple[int, ...] = (1, 10, 100, 1000),
              success_probability: float = 0.5, widths: tuple[int, int] = (1, 10**5)) -> list[Path]:
    """``theory_sq_n{n}_k{k}``: SQ minimum samples vs width at several T, empirical m_50 overlaid."""
    import matplotlib

    from theory.sq import min_samples, mlp_params

    empirical = {} if runs is None or runs.empty else _empirical_m50(runs, n, k)
    lo, hi = widths
    if empirical:
        all_widths = [w for ws, _, _ in empirical.values() for w in ws]
        lo, hi = min(lo, min(all_widths)), max(hi, max(all_widths))
    r = np.unique(np.geomspace(lo, hi, 60).astype(int))
    fig, ax = common.subplots(figsize=(common.PANEL_WIDTH * 1.6, common.PANEL_HEIGHT * 1.1), layout="constrained")
    cmap = matplotlib.colormaps["Greys"]
    steps = tuple(sorted(set(steps) | {t for _, _, t in empirical.values()}))
    for idx, t in enumerate(steps):
        m = [min_samples(n, k, mlp_params(n, int(w)), t, success_probability) for w in r]
        ax.plot(r, m, color=cmap(0.45 + 0.5 * idx / max(len(steps) - 1, 1)), lw=1.1,
                label=f"SQ bound, T = {common.format_count(t)}")
    markers = {"dense": "s"}
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    for idx, (label, (ws, estimates, t)) in enumerate(empirical.items()):
        ms = np.array([e.m50 for e in estimates])
        # bootstrap interval; a bound beyond the grid (0 or inf) is drawn to the grid's edge
        low = np.array([e.ci_low if e.ci_low > 0 else min(e.grid) for e in estimates])
        high = np.array([e.ci_high if np.isfinite(e.ci_high) else max(e.grid) for e in estimates])
        offset = 1.0 + 0.04 * idx  # nudge inits apart so their error bars do not overlap
        ax.errorbar(np.array(ws) * offset, ms, yerr=[np.maximum(ms - low, 0), np.maximum(high - ms, 0)],
                    marker=markers.get(label, "o"), ls=":", color=palette[idx % len(palette)],
                    label=f"empirical $m_{{50}}$, {label} (T = {common.format_count(t)}, 95% seed bootstrap)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width r (neurons); parameters p = r (n + 2)")
    ax.set_ylabel("samples m (log scale)")
    ax.set_ylim(bottom=0.7)
    vacuous = all(min_samples(n, k, mlp_params(n, int(w)), max(steps), success_probability) <= 1
                  for w in (lo, hi))
    ax.set_title(f"(n, k) = ({n}, {k}): SQ lower bound on m at success prob. {success_probability:g}\n"
                 + ("VACUOUS here at T = " + common.format_count(max(steps)) + ": m = 1 allowed at every width"
                    if vacuous else "(m = 1: the bound allows any dataset size)"), fontsize=7)
    fig.legend(loc="outside right center", frameon=False)
    return common.save(fig, out_dir, f"theory_sq_n{n}_k{k}")


@common.styled
def render(store_path: str | Path | None, out_dir: str | Path, default_nk: tuple[int, int] = (50, 3)) -> list[Path]:
    """All theory figures; the SQ figure once per (n, k) of the store (or ``default_nk`` without one)."""
    paths = render_fourier(out_dir) + render_tickets(out_dir)
    runs = common.load_runs(store_path) if store_path is not None else None
    pairs = [default_nk]
    if runs is not None and not runs.empty:
        pairs = sorted({(int(n), int(k)) for n, k in zip(runs["n"], runs["k"])})
    for n, k in pairs:
        paths += render_sq(out_dir, n, k, runs)
    return paths


@common.styled
def anticoncentration_figure(rows: list[dict]) -> "Figure":
    """Rows of ``theory.anticoncentration.anticoncentration_table`` as a two-panel figure."""
    ns = np.array([row["n"] for row in rows], dtype=float)
    k = int(rows[0]["k"])
    fig, (left, right) = common.subplots(1, 2, figsize=(2 * common.PANEL_WIDTH * 0.85, common.PANEL_HEIGHT),
                                         layout="constrained")

    def band(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mid = np.array([row[name] for row in rows], dtype=float)
        low = np.array([row[f"{name}_low"] if row[f"{name}_low"] is not None else np.nan for row in rows], dtype=float)
        high = np.array([row[f"{name}_high"] if row[f"{name}_high"] is not None else np.nan for row in rows],
                        dtype=float)
        return mid, np.nan_to_num(low, nan=0.0), np.nan_to_num(high, nan=np.nanmax(mid) * 10)

    mid, low, high = band("coefficient_median")
    left.errorbar(ns, mid, yerr=[mid - low, high - mid], fmt="o-", ms=3, label="median |ghat(T)| (95% band)")
    left.plot(ns, mid[0] * (ns / ns[0]) ** (-(k - 1) / 2), "--", color="0.5", label=f"$n^{{-{(k - 1) / 2:g}}}$ (majority-like)")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("input dimension n")
    left.set_ylabel(f"|degree-{k - 1} coefficient| of step")
    left.legend(frameon=False)
    widths = sorted(int(key.split("_r")[1]) for key in rows[0] if key.startswith("best_gap_median_r")
                    and key.count("_") == 3)
    for r in widths:
        mid, low, high = band(f"best_gap_median_r{r}")
        right.errorbar(ns, mid, yerr=[np.maximum(mid - low, 0), np.maximum(high - mid, 0)], fmt="o-", ms=3,
                       label=f"best of r = {r}")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("input dimension n")
    right.set_ylabel("median best Fourier gap")
    right.legend(frameon=False)
    fig.suptitle(f"Anti-concentration of random dense neurons (k = {k}, exact census)", fontsize=7.5)
    return fig


def render_anticoncentration(rows: list[dict], out_dir: str | Path) -> list[Path]:
    """``theory_anticoncentration`` (PNG and PDF) from a census table."""
    return common.save(anticoncentration_figure(rows), out_dir, "theory_anticoncentration")


def main(argv: list[str] | None = None) -> int:
    return common.figure_main(render, "Theory figures: Fourier levels, ticket odds, SQ frontier.", argv,
                              store_required=False)


if __name__ == "__main__":
    raise SystemExit(main())
