"""``out/report.md``: what was run, the tables, the figures, every check with its numbers, and a
plain-language summary generated from those numbers (nothing in it is canned)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from sim.files import write_text
from verify import estimates as est
from verify.checks import FAIL, INCONCLUSIVE, PASS, CheckResult
from verify.model_checks import JUDGED_MODEL, prediction_verdict

if TYPE_CHECKING:
    import pandas as pd


def _rate_cell(row: dict) -> str:
    return f"{row['successes']}/{row['runs']}"


def success_markdown(cells: "pd.DataFrame") -> str:
    """One table per setting: rows = width, columns = m (online last), entries successes/runs."""
    parts = []
    for key, group in cells.groupby(list(est.SETTING_FIELDS), sort=True):
        setting = dict(zip(est.SETTING_FIELDS, key))
        samples = sorted({m for m in group["samples"] if not math.isnan(m)})
        has_online = group["samples"].isna().any()
        header = [f"{int(m)}" for m in samples] + (["online"] if has_online else [])
        lines = [f"**{est.setting_label(setting)}** (successes/runs; columns: m)", "",
                 "| width | " + " | ".join(header) + " |", "|---:|" + "---:|" * len(header)]
        for width, rows in group.groupby("width", sort=True):
            by_m = {(None if math.isnan(r["samples"]) else r["samples"]): r for r in rows.to_dict("records")}
            entries = [_rate_cell(by_m[m]) if m in by_m else "" for m in samples]
            if has_online:
                entries.append(_rate_cell(by_m[None]) if None in by_m else "")
            lines.append(f"| {int(width)} | " + " | ".join(entries) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def m50_markdown(estimates: Sequence[est.M50Estimate]) -> str:
    lines = ["| setting | width | m_50 | interval | runs |", "|:---|---:|---:|:---|---:|"]
    for e in estimates:
        point = est.format_m(e.m50)
        if e.censored == "below":
            point = f"<= {e.m50:.0f}"
        elif e.censored == "above":
            point = f"> {e.m50:.0f}"
        lines.append(f"| {est.setting_label(e.setting)} | {e.width} | {point} | "
                     f"[{est.format_m(e.ci_low)}, {est.format_m(e.ci_high)}] | {e.runs} |")
    return "\n".join(lines)


def median_steps_markdown(cells: "pd.DataFrame") -> str:
    rows = cells[cells["successes"] > 0]
    lines = ["| setting | width | m | successes | median steps to success | interval |",
             "|:---|---:|---:|---:|---:|:---|"]
    for r in rows.to_dict("records"):
        m = "online" if math.isnan(r["samples"]) else f"{int(r['samples'])}"
        low, high = r["median_steps_low"], r["median_steps_high"]
        interval = "" if math.isnan(low) else f"[{low:.0f}, {high:.0f}]"
        lines.append(f"| {est.setting_label(r)} | {int(r['width'])} | {m} | {r['successes']} | "
                     f"{r['median_steps']:.0f} | {interval} |")
    return "\n".join(lines)


def checks_markdown(results: Sequence[CheckResult]) -> str:
    lines = ["| # | check | status | numbers |", "|---:|:---|:---|:---|"]
    for i, r in enumerate(results, 1):
        lines.append(f"| {i} | `{r.name}` | **{r.status}** | {r.summary.replace('|', '/')} |")
    return "\n".join(lines)


def plain_language(results: Sequence[CheckResult]) -> str:
    """What matched the theory and what did not: every check's own sentences (each check writes
    them from its numbers, see ``verify.checks.register``), grouped by their status."""
    headings = {PASS: "**Matched the theory:** ", FAIL: "**Did not match:** ", INCONCLUSIVE: "**Not decided by this run:** "}
    grouped: dict[str, list[str]] = {status: [] for status in headings}
    for result in results:
        for status, sentence in result.statements:
            grouped[status].append(sentence)
    return "\n\n".join(headings[status] + "; ".join(items) + "." for status, items in grouped.items() if items)


def prediction_markdown(prediction) -> str:
    """The fitted models: constants with intervals, AIC/BIC on the fitted runs, held-out scores."""
    if prediction is None:
        return "No model was fitted (the store has one n and one width, or too few offline runs)."
    lines = [f"Fitted on `{prediction.fit_selector}` ({prediction.fit_data.runs} runs), predicting "
             f"`{prediction.predict_selector}` ({prediction.predict_data.runs} runs); k = {prediction.fit_data.k}, "
             f"s = {prediction.fit_data.s}; intervals: seed-cluster bootstrap at level {prediction.level:g} "
             "(`frontier fit` reproduces this; `verify/models.py` defines the models).", "",
             "| model | constants (interval) | log L | AIC | BIC | held-out deviance (cells) | p (comonotone) "
             "| calibration slope | predicts? |",
             "|:---|:---|---:|---:|---:|---:|---:|:---|:---|"]
    for name, fitted in prediction.fits.items():
        score = prediction.scores[name]
        constants = "; ".join(f"{c} {v:.2f} [{fitted.confidence_interval(c)[0]:.2f}, "
                              f"{fitted.confidence_interval(c)[1]:.2f}]" for c, v in fitted.constants().items())
        low, high = score.calibration_interval
        status = (prediction_verdict(score, prediction.level)[0] if name == JUDGED_MODEL
                  else "not judged (reported only)")
        lines.append(f"| {name} | {constants} | {fitted.log_likelihood:.1f} | {fitted.aic:.1f} | {fitted.bic:.1f} | "
                     f"{score.deviance:.1f} ({score.cells}) | {score.p_value:.3g} ({score.p_value_comonotone:.3g}) | "
                     f"{score.calibration_slope:.2f} [{low:.2f}, {high:.2f}] | {status} |")
    lines += ["", f"By AIC on the fitted runs the data favour model {prediction.best_by('aic')}. Only model "
              f"{JUDGED_MODEL} is judged (by the frontier_prediction check: alpha/2 each to the deviance p-value and "
              "the calibration interval; a verdict holds under independent and seed-comonotone outcomes); the other "
              "models' scores are reported for comparison."]
    lines += [f"Note: {note}." for note in prediction.notes]
    return "\n".join(lines)


def write_report(out_dir: str | Path, *, frame: "pd.DataFrame", results: Sequence[CheckResult], level: float,
                 bounds_markdown: str, figures: Sequence[Path], figure_notes: Sequence[str],
                 run_description: str, timings: dict[str, float], store_path: str | Path,
                 m50: Sequence[est.M50Estimate], prediction=None) -> Path:
    """Write ``out_dir/report.md`` and return its path."""
    out_dir = Path(out_dir)
    cells = est.success_table(frame, level)
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, INCONCLUSIVE)}
    lines: list[str] = [
        "# parity-frontier: verification report", "",
        f"{len(frame)} runs in `{Path(store_path).name}`; checks: {counts[PASS]} PASS, {counts[FAIL]} FAIL, "
        f"{counts[INCONCLUSIVE]} INCONCLUSIVE (confidence level {level:g}).", "",
        "## What was run", "", run_description, "",
        "Wall time: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()) + ".", "",
        "## What matched the theory and what did not", "", plain_language(results), "",
        "## Checks", "", checks_markdown(results), "",
        "## Predicted frontier: models of parallel search against held-out runs", "",
        prediction_markdown(prediction), "",
        "## Theory: bound table", "",
        "Exact values from `theory/` (the `frontier bounds` table): ticket probability p, critical width "
        "r* = ceil(1/p), Fourier coefficients and gap of a ticket neuron (bias 0), its sample estimate "
        "log(n)/gap^2, and the SQ bound on m for the dense network at width r*.", "",
        bounds_markdown.strip(), "",
        "## Success per cell", "", success_markdown(cells), "",
        "## Sample threshold m_50 per width",
        "", f"Monotone (isotonic) fit in log m, seed-cluster bootstrap interval at level {level:g} "
            "(see `verify/estimates.py`).", "",
        m50_markdown(m50), "",
        "## Median steps to success (successful runs)", "", median_steps_markdown(cells), "",
        "## Figures", "",
    ]
    for path in figures:
        if path.suffix == ".png":
            relative = os.path.relpath(path, out_dir)
            lines += [f"![{path.stem}]({relative})", ""]
    lines += [f"- {note}" for note in figure_notes]
    return write_text(out_dir / "report.md", "\n".join(lines).rstrip() + "\n")


def runs_analysed_markdown(frame: "pd.DataFrame", requested_ids: set[str]) -> str:
    """Every run the report analyses, summarised from the store itself (one row per setting), and
    how many of them the requested grid does not name: a store may hold runs of earlier
    invocations (a full demo under a --tiny one), and every table, check and figure uses them all."""
    overview = est.settings_overview(frame)
    outside = int((~frame["run_id"].isin(requested_ids)).sum()) if len(frame) else 0
    lines = [f"Every table, check and figure below uses all {len(frame)} runs of the store, in "
             f"{len(overview)} setting(s)."]
    if outside:
        lines[0] += (f" **{outside} of them are not in the grid requested by this invocation** (runs an earlier "
                     "sweep wrote into the same store); they are analysed with the others.")
    if len(frame):
        backends = (frame["backend"] + "/" + frame["device"] + "/" + frame["dtype"]).value_counts()
        lines[0] += " Written by " + ", ".join(f"{name} ({count} runs)" for name, count in backends.items()) + "."
    lines += ["", "| setting | runs | succeeded | diverged | widths | m | seeds | max_steps | test_size |",
              "|:---|---:|---:|---:|:---|:---|---:|---:|---:|"]
    for row in overview.to_dict("records"):
        lines.append(f"| {row['label']} | {row['runs']} | {row['successes']} | {row['diverged']} | "
                     f"{', '.join(map(str, row['widths']))} | {est.format_samples(row['samples'])} | {row['seeds']} | "
                     f"{row['max_steps']} | {row['test_size']} |")
    return "\n".join(lines)


def describe_grid(parts: Sequence[dict[str, Any]], scalars: dict[str, Any]) -> str:
    """Markdown bullet list of the grid parts and the shared hyperparameters."""
    lines = []
    for part in parts:
        lines.append("- " + ", ".join(f"{key} = {value}" for key, value in part.items()))
    lines.append("- shared unless a line above sets it: " + ", ".join(f"{key} = {value}" for key, value in scalars.items())
                 + "; everything else at the paper's values (SGD lr 0.1, weight decay 0.01, batch 32, hinge loss, "
                   "success = test error <= 10%)")
    return "\n".join(lines)
