"""Fit models of the frontier to a results store and predict runs the fit never saw (docs/science.md
7.1; docs/verification.md): Model A (independent parallel search, fixed n-exponents: from the
first-order gap where theory gives one, else heuristic, each labelled in the printout and fit.json),
A-free (fitted exponents) and B (a collective width effect).

Prints each model's constants with profile-likelihood intervals ("unidentified" where the data
bound a constant on neither side) and seed-cluster bootstrap intervals, AIC/BIC on the fitted runs,
and its held-out scores: deviance against the saturated cell model and the calibration slope,
judged by a parametric bootstrap with held-out outcomes independent and comonotone within a seed;
then the verdict for each model, by the rule of the frontier_prediction check (alpha/2 to each
test; a verdict must hold under both dependence assumptions). Writes fit.json and
the figures (predicted vs measured success, m_50(r), cloglog slope, R(r) across r*) to --out.

Selectors: clauses FIELD OP VALUE joined by 'and' (FIELD a RunConfig field; OP == != < <= > >= in):
  frontier fit runs.sqlite --fit "n <= 30" --predict "n == 40"
  frontier fit runs.sqlite --fit "width < 1040" --predict "width == 1040" --model A B
Without --fit/--predict: hold out the largest n (or, with one n, the largest width).
Writes to out/fit/ unless --out says otherwise (out/ is in .gitignore).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

#: Where fit writes by default: under out/, which .gitignore knows (./fit/ was not).
DEFAULT_OUT = "out/fit"


def check_defaults() -> dict[str, float]:
    """The settings of the frontier_prediction check: level, seed-cluster draws of the constants
    (``model_bootstrap``) and parametric draws of the held-out scores (``score_bootstrap``), read
    from its signature so that `frontier fit`'s defaults cannot drift from them (issue 23: A-free
    PASSed at the check's 0.99 / 999 draws and FAILed at the 0.95 / 200 fit used to default to)."""
    import inspect

    from verify.model_checks import check_frontier_prediction

    parameters = inspect.signature(check_frontier_prediction).parameters
    return {name: parameters[name].default for name in ("level", "model_bootstrap", "score_bootstrap")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = check_defaults()
    parser.add_argument("store", help="SQLite results store")
    parser.add_argument("--model", nargs="+", default=["A", "A-free", "B"], choices=["A", "A-free", "B"],
                        help="models to fit (default: all three)")
    parser.add_argument("--fit", default=None, metavar="SELECTOR", help="runs to fit, e.g. \"n <= 30\"")
    parser.add_argument("--predict", default=None, metavar="SELECTOR", help="runs to predict, e.g. \"n == 40\"")
    parser.add_argument("--level", type=float, default=defaults["level"],
                        help=f"interval level, in [0.5, 0.9999] (default {defaults['level']:g}, the check's)")
    parser.add_argument("--bootstrap", type=int, default=defaults["model_bootstrap"], metavar="B",
                        help=f"seed-cluster bootstrap draws of the constants (default {defaults['model_bootstrap']}, "
                             "the check's)")
    parser.add_argument("--score-bootstrap", type=int, default=defaults["score_bootstrap"], metavar="B",
                        help=f"parametric draws behind the held-out scores (default {defaults['score_bootstrap']}, "
                             "the check's; the smallest p-value is 1 / (1 + B))")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"folder for fit.json and the figures (default: {DEFAULT_OUT}, beside make run's outputs; "
                             "out/ is in .gitignore)")
    parser.add_argument("--no-figures", action="store_true", help="write fit.json only")


def format_prediction(result, level: float) -> str:
    """The printed report: constants, scores and a verdict per model."""
    from verify.model_checks import JUDGED_MODEL, VERDICT_WORDS, prediction_verdict
    from verify.models import UNIDENTIFIED

    lines = [f"fit: {result.fit_selector or 'all runs'} ({result.fit_data.runs} runs); predict: "
             f"{result.predict_selector} ({result.predict_data.runs} runs); k = {result.fit_data.k}, "
             f"s = {result.fit_data.s}; intervals at {level:g}: profile likelihood (runs independent; "
             f"'unidentified' where the data bound a constant on neither side), and seed-cluster bootstrap"]
    for name, fitted in result.fits.items():
        score = result.scores[name]
        lines.append(f"\nmodel {name}: {fitted.model.description}")
        lines.append(f"  log-likelihood {fitted.log_likelihood:.1f}, AIC {fitted.aic:.1f}, BIC {fitted.bic:.1f}"
                     + ("" if fitted.converged else " (did not converge)"))
        exponents = fitted.model.fixed_exponents(result.fit_data.k, result.fit_data.s)
        if exponents:
            lines.append("  fixed n-exponents: " + ", ".join(f"{t} {e.value} ({e.provenance})"
                                                          for t, e in exponents.items()))
        for constant, value in fitted.constants().items():
            low, high = fitted.confidence_interval(constant)
            b_low, b_high = fitted.bootstrap_interval(constant)
            profile = (UNIDENTIFIED if fitted.identification(constant) == UNIDENTIFIED
                       else f"[{low:.3f}, {high:.3f}]")
            lines.append(f"  {constant:<12} {value:9.3f}  {profile}  (bootstrap [{b_low:.3f}, {b_high:.3f}])")
        low, high = score.calibration_interval
        co_low, co_high = score.calibration_interval_comonotone
        status, _ = prediction_verdict(score, level)
        lines.append(f"  held out: deviance {score.deviance:.1f} over {score.cells} cells, p = {score.p_value:.3g} "
                     f"(seed-comonotone {score.p_value_comonotone:.3g}); calibration slope "
                     f"{score.calibration_slope:.2f} [{low:.2f}, {high:.2f}] (comonotone [{co_low:.2f}, {co_high:.2f}]); "
                     f"success {score.observed_rate:.2f} observed, {score.predicted_rate:.2f} predicted")
        judged = "" if name == JUDGED_MODEL else " (by the check's rule; the check itself judges model A only)"
        lines.append(f"  verdict: {VERDICT_WORDS[status]} the held-out runs{judged}")
    best = result.best_by("aic")
    lines.append(f"\nby AIC on the fitted runs the data favour model {best}")
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def fit_with_progress(frame, args: argparse.Namespace, predict_frontier):
    """predict_frontier for each model in turn, a progress line (and its time) on stderr for each:
    the bootstrap makes a model take tens of seconds on a demo-sized store."""
    import dataclasses

    combined = None
    for number, model in enumerate(args.model, 1):
        print(f"fitting model {model} ({number}/{len(args.model)}, {args.bootstrap} bootstrap draws)...",
              file=sys.stderr, flush=True)
        start = time.perf_counter()
        part = predict_frontier(frame, args.fit, args.predict, names=[model], level=args.level,
                                n_bootstrap=args.bootstrap, score_bootstrap=args.score_bootstrap)
        print(f"  model {model}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        combined = part if combined is None else dataclasses.replace(
            combined, fits={**combined.fits, **part.fits}, scores={**combined.scores, **part.scores},
            notes=combined.notes + [note for note in part.notes if note not in combined.notes])
    if not combined.fits:
        raise ValueError("no model could be fitted: " + "; ".join(combined.notes))
    return combined


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from frontier.cli import CliError, check_matplotlib
    from paper_figs import frontier_fit
    from paper_figs.common import load_runs
    from sim.files import write_text
    from verify.prediction import parse_selector, predict_frontier
    from verify.registry import jsonable

    if not 0.5 <= args.level <= 0.9999:
        raise CliError(f"--level {args.level} must lie in [0.5, 0.9999]")
    for flag, draws in (("--bootstrap", args.bootstrap), ("--score-bootstrap", args.score_bootstrap)):
        if draws < 10:
            raise CliError(f"{flag} {draws} must be >= 10")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {args.out!r} exists and is not a folder")
    if not args.no_figures:
        check_matplotlib()
    for option, selector in (("--fit", args.fit), ("--predict", args.predict)):
        if selector:
            try:  # before the store is read and anything is fitted
                parse_selector(selector)
            except ValueError as exc:
                raise CliError(f"{option}: {exc}") from None
    frame = load_runs(args.store)
    if frame.empty:
        raise CliError(f"store {args.store!r} has no runs")
    result = fit_with_progress(frame, args, predict_frontier)
    print(format_prediction(result, args.level))
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "fit.json", json.dumps(jsonable(result.to_dict()), indent=2) + "\n")
    written = [out / "fit.json"]
    if not args.no_figures:
        written += frontier_fit.render_cloglog(frame, out)
        for model in result.fits:
            written += frontier_fit.render(frame, result, out, model)
    print(f"wrote {len(written)} files to {out}", file=sys.stderr)
    return 0
