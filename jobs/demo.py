"""The main job (``make run`` -> ``frontier demo --out out/``).

1. the bound table (``theory.tables``) for a few (n, k, s);
2. a CPU-scale sweep into ``out/runs.sqlite`` (resumable: a rerun skips every run already
   stored), :data:`DEMO_GRID`, assembled from the checks' designs (verify.designs.DEMO_PARTS):
   dense vs 2-hot sparse init at n = 20, 30, 40 (k = 3) at widths placed around each critical
   width r* (r*/16, at n = 20 r*/8, .. 4 r*), and the intervention arms at n = 30 (planting a
   natively valued ticket and its control at r*/8, knocking tickets out with a sham arm at 4 r*,
   m in the transition window);
3. every registered check (``out/checks.json``);
4. the frontier figures of ``paper_figs`` (``out/figs/``);
5. ``out/report.md``.
The grid's sizes were chosen from pilot sweeps (docs/verification.md); the checks' rules were
fixed before any of them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

def _demo_grid() -> list[dict[str, Any]]:
    """The demo grid: every part of every check design (verify.designs.DEMO_PARTS), in order."""
    from verify.designs import DEMO_PARTS
    from verify.registry import CHECKS

    def serves(design: str) -> str:
        readers = [name for name, check in CHECKS.items() if check.design == design]
        return f"design {design} (read by {', '.join(readers) or 'no check'})"
    import verify.checks  # noqa: F401  (registers every check)

    return [dict(part, description=serves(design)) for design, parts in DEMO_PARTS.items() for part in parts]


#: The demo grid, part by part, each part tagged with the design (verify.designs) it serves: the
#: frontier at n = 20, 30, 40 (r*/16 .. 4 r*), the knock-out arms (with the sham) at 4 r* and the
#: planted tickets (native values, with the control) at r*/8 at n = 30.
DEMO_GRID: list[dict[str, Any]] = _demo_grid()
# One step budget and test set for every part (see the n = 30 comment).
from verify.designs import DEMO_SCALARS  # noqa: E402  (one home: the designs)
TINY_GRID: list[dict[str, Any]] = [
    {"n": 12, "k": 3, "init": ["dense", "sparse"], "sparsity": 2, "width": [4, 64],
     "samples": [50, 200, "online"], "seeds": 3},
]
TINY_SCALARS: dict[str, Any] = {"max_steps": 400, "eval_every": 100, "test_size": 300}
BOUND_NS, BOUND_KS, BOUND_SS = [20, 50, 100], [3, 4], [2, 4]


def demo_grid(tiny: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return (TINY_GRID, TINY_SCALARS) if tiny else (DEMO_GRID, DEMO_SCALARS)


def run_demo(out_dir: str | Path, level: float = 0.99, backend: str = "numba", workers: int | None = None,
             tiny: bool = False, progress: bool = True, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the whole main job into ``out_dir``; returns {"report", "results", "timings", ...}."""
    from sim.files import atomic_path, write_text
    from sim.grid import grid_configs
    from sim.store import load
    from sim.sweep import sweep
    from theory.tables import bound_rows, render as render_bounds
    from verify import estimates as est
    from verify.checks import run_checks
    from verify.registry import jsonable

    from .report import write_report

    log = log or (lambda message: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    total_start = time.perf_counter()

    start = time.perf_counter()
    bounds_md = render_bounds(bound_rows(BOUND_NS, BOUND_KS, BOUND_SS), "markdown")
    write_text(out / "bounds.md", bounds_md)
    timings["bounds"] = time.perf_counter() - start

    parts, scalars = demo_grid(tiny)
    configs = []
    for part in parts:
        configs.extend(grid_configs({**scalars, **part}, source="frontier demo"))  # a part may override
    store_path = out / "runs.sqlite"
    log(f"sweep: {len(configs)} runs into {store_path} (finished runs are skipped)")
    start = time.perf_counter()
    summary = sweep(configs, store_path, backend=backend, workers=workers, progress=progress,
                    description="frontier demo")
    timings["sweep"] = time.perf_counter() - start
    log(f"sweep: {summary.ran} runs trained now, {summary.already} already stored")

    frame = load(store_path)
    start = time.perf_counter()
    shared: dict[str, Any] = {}
    results = run_checks(frame, level=level, backend=backend, progress=lambda name: log(f"check {name}"),
                         shared=shared)
    m50, prediction = shared.get("m50") or [], shared.get("prediction")
    timings["checks"] = time.perf_counter() - start
    write_text(out / "checks.json", json.dumps({"checks": [r.to_dict() for r in results]}, indent=2))
    for name, table in (("success.csv", est.success_table(frame, level)), ("m50.csv", est.m50_table(frame, level))):
        with atomic_path(out / name) as tmp:
            table.to_csv(tmp, index=False)
    if prediction is not None:
        write_text(out / "fit.json", json.dumps(jsonable(prediction.to_dict()), indent=2))

    start = time.perf_counter()
    figures, notes = render_figures(store_path, out / "figs", log, prediction)
    timings["figures"] = time.perf_counter() - start
    timings["total"] = time.perf_counter() - total_start

    description = run_description(parts, scalars, configs, summary, backend, frame)
    report = write_report(out, frame=frame, results=results, level=level, bounds_markdown=bounds_md,
                          figures=figures, figure_notes=notes, run_description=description, timings=timings,
                          store_path=store_path, m50=m50, prediction=prediction)
    return {"report": report, "results": results, "timings": timings, "runs": len(frame), "figures": figures}


def run_description(parts, scalars, configs, summary, backend: str, frame) -> str:
    """The report's "What was run": the requested grid, what this invocation trained, the
    reductions against the paper, and every run of the store the analyses use (which can be
    more than the grid: an earlier invocation's runs stay in the store)."""
    from sim.store import run_id

    from .report import describe_grid, runs_analysed_markdown

    reductions = ", ".join(f"{p.get('max_steps', scalars['max_steps'])} steps and a test set of "
                           f"{p.get('test_size', scalars['test_size'])} for n = {p['n']}" for p in parts)
    return ("Requested grid:\n\n" + describe_grid(parts, scalars)
            + f"\n\n{len(configs)} runs in the grid; {summary.ran} trained in this invocation (backend {backend}), "
            f"{summary.already} reused from the store. Reduced against the paper: at most {reductions} (paper: 10^5 "
            "steps, 10^4 test samples), so every threshold here is a threshold within that step budget.\n\n"
            + runs_analysed_markdown(frame, {run_id(c) for c in configs}))


def render_figures(store_path: Path, fig_dir: Path, log: Callable[[str], None], prediction=None
                   ) -> tuple[list[Path], list[str]]:
    """Figures 1 and 2, the theory figures and, given the checks' model fit, the predicted against
    measured frontier (Model A and B); a figure that cannot be drawn is reported (one note)
    instead of stopping the job."""
    from paper_figs import fig1, fig2, frontier_fit, theory_figs
    from paper_figs.common import load_runs

    def fitted(store: Path, out: Path) -> list[Path]:
        if prediction is None:
            return []
        runs = load_runs(store)
        paths = frontier_fit.render_cloglog(runs, out)
        for model in ("A", "B"):
            paths += frontier_fit.render(runs, prediction, out, model)
        return paths

    figures: list[Path] = []
    notes: list[str] = []
    for module_name, draw in (("paper_figs.fig1", fig1.render), ("paper_figs.fig2", fig2.render),
                              ("paper_figs.theory_figs", theory_figs.render), ("paper_figs.frontier_fit", fitted)):
        log(f"figure {module_name}")
        try:
            paths = [Path(p) for p in draw(store_path, fig_dir)]
        except Exception as exc:  # a missing or broken figure must not lose the sweep's report
            notes.append(f"{module_name}: not drawn ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
            continue
        figures.extend(paths)
        notes.append(f"{module_name}: {', '.join(p.name for p in paths if p.suffix == '.png')} (PNG and PDF in figs/)")
    return figures, notes
