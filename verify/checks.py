"""The named checks: every prediction of ``theory`` against what ``sim`` measures, run from
one registry (:mod:`verify.registry`).

Each check returns a :class:`CheckResult` with status PASS, FAIL or INCONCLUSIVE, a one-line
summary with the deciding numbers, JSON-ready ``details`` and the report's sentences. The checks
live in four modules, registered in this order:

- :mod:`verify.theory_checks`: ``fourier_vs_bruteforce``, ``init_gradient``, ``ticket_frequency``
  (theory against the simulator's construction; no training);
- :mod:`verify.frontier_checks`: ``width_monotone``, ``sparse_beats_dense``,
  ``ratio_across_critical_width`` (the measured frontier, seeds paired);
- :mod:`verify.ticket_checks`: ``ticket_knockout``, ``ticket_knockin``,
  ``tickets_after_training`` (the ticket mechanism, by intervention and after training);
- :mod:`verify.model_checks`: ``frontier_prediction``, ``parallel_search_slope`` (predicted
  curves: a fitted model of parallel search against runs it never saw).

``python -m verify.checks`` prints the registry as the Markdown table docs/verification.md holds.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any, Callable, Sequence

from . import estimates as est
# Importing a check module registers its checks; this order is the order they run and are reported.
from . import theory_checks  # noqa: F401
from . import frontier_checks  # noqa: F401
from . import ticket_checks  # noqa: F401
from . import model_checks
from .designs import DESIGNS, FRONTIER
from .registry import CHECK_LEVEL, CHECKS, FAIL, INCONCLUSIVE, PASS, STATUSES, CheckResult  # noqa: F401

if TYPE_CHECKING:
    import pandas as pd

CHECK_NAMES: tuple[str, ...] = tuple(CHECKS)


def run_checks(frame: "pd.DataFrame", level: float = CHECK_LEVEL, backend: str = "numba",
               names: Sequence[str] | None = None, n_bootstrap: int = est.DEFAULT_BOOTSTRAP, seed: int = 0,
               progress: Callable[[str], None] | None = None, shared: dict[str, Any] | None = None
               ) -> list[CheckResult]:
    """Run the named checks (default: every registered one, in order) on a store frame.

    Each check function gets ``frame`` and ``level`` and, of ``backend``, ``seed``,
    ``n_bootstrap``, ``m50`` (the thresholds) and ``prediction`` (the pre-registered model fit),
    those its signature names; the last two are computed once, only if a check wants them, and
    left in ``shared`` (if given) for the caller's figures and report."""
    est._check_level(level)
    names = list(names) if names is not None else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    context: dict[str, Any] = {"backend": backend, "seed": seed, "n_bootstrap": n_bootstrap}
    wants = {p for n in names for p in inspect.signature(CHECKS[n].function).parameters}
    frontier = FRONTIER.select(frame)  # the checks that share m50 and the model fit read this design
    context["m50"] = (est.m50_estimates(frontier, level, n_bootstrap, seed) if "m50" in wants and len(frontier)
                      else None)
    if "prediction" in wants:
        context["prediction"] = model_checks.pre_registered_prediction(frontier, level, seed)[0]
    if shared is not None:
        shared.update({key: context[key] for key in ("m50", "prediction") if key in context})
    results = []
    for name in names:
        if progress is not None:
            progress(name)
        check = CHECKS[name]
        accepted = inspect.signature(check.function).parameters
        result = check.function(frame, level=level, **{k: v for k, v in context.items() if k in accepted})
        results.append(dataclasses.replace(result, statements=tuple(check.describe(result))))
    return results


def registry_markdown() -> str:
    """The table of every registered check and its claim (docs/verification.md embeds it)."""
    lines = ["| # | check | kind | claim | design (the runs it reads) |", "|---:|:---|:---|:---|:---|"]
    lines += [f"| {i} | `{c.name}` | {c.kind} | {c.claim} | {c.design}: {DESIGNS[c.design].description} |"
              for i, c in enumerate(CHECKS.values(), 1)]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(registry_markdown())
