"""Bound tables: lottery-ticket odds, Fourier gaps and the SQ frontier, one row per (n, k, s).

Exact theory (docs/science.md sections 4.1-4.4); ``frontier bounds`` prints these tables.
The columns are described in :data:`COLUMN_HELP` (printed by ``frontier bounds --help``).

Bias: with b = 0 and k odd, the relevant coefficient of an over-sparse ticket with odd s is
exactly 0 (docs/science.md 4.3): biases are needed for odd k.
"""

from __future__ import annotations

import csv
import io
import json
import math
from fractions import Fraction
from typing import Any

COLUMN_HELP = """\

  n, k, s                    parity on k of n bits; s-hot neuron support
  bias                       neuron bias b (exact)
  ticket_probability         p = P(random s-subset U is an inclusion ticket): C(n-k,s-k)/C(n,s)
                             if s >= k (S in U), C(k,s)/C(n,s) if s < k (U in S)
  ticket_probability_exact   p as an exact fraction, e.g. 3/1225
  critical_width             ceil(1/p): width at which one (inclusion) ticket is expected
  confidence                 the target probability c of at least one ticket
  width_for_confidence       smallest r with 1 - (1-p)^r >= c
  relevant_coefficient       exact population-gradient signal on the target coordinates that
                             a ticket neuron (weights +1 on U, bias b, hinge loss, output weight 1)
                             must grow: stephat_{k-1} (s >= k) or stephat_s on the missing bit (s = k-1)
  irrelevant_coefficient     largest signal on a non-target coordinate: stephat_{k+1} (s > k), else 0
  gap                        |relevant| - |irrelevant| (the Fourier gap)
  predicted_samples          log(n)/gap^2, an order-of-magnitude sample estimate for one ticket
                             (no constant; inf when gap <= 0). Measured thresholds differ from it
                             by 1-4 orders of magnitude (docs/science.md section 7): a heuristic.
  sq_min_samples             SQ frontier for the dense MLP at the critical width: smallest m with
                             2 P T m / C(n,k) >= q, P = critical_width*(n+2) parameters,
                             T steps, q success probability. Vacuous (1) at every feasible size.
  first_order_ticket_probability
                             p1 = P(|U n S| >= k-1): the neuron's initial gradient can carry signal
                             on a target bit (first-order ticket; = p at s = k-1, 0 for s < k-1)
  first_order_ticket_probability_exact
                             p1 as an exact fraction
  first_order_critical_width ceil(1/p1) (inf when p1 = 0). Which kind each check uses:
                             docs/theory_for_proofs.md
"""

COLUMNS: tuple[str, ...] = (
    "n",
    "k",
    "s",
    "bias",
    "ticket_probability",
    "ticket_probability_exact",
    "critical_width",
    "confidence",
    "width_for_confidence",
    "relevant_coefficient",
    "irrelevant_coefficient",
    "gap",
    "predicted_samples",
    "sq_min_samples",
    "first_order_ticket_probability",
    "first_order_ticket_probability_exact",
    "first_order_critical_width",
)

LATEX_HEADERS: dict[str, str] = {
    "n": "$n$",
    "k": "$k$",
    "s": "$s$",
    "bias": "$b$",
    "ticket_probability": "$p$",
    "ticket_probability_exact": "$p$ (exact)",
    "critical_width": r"$\lceil 1/p \rceil$",
    "confidence": "$c$",
    "width_for_confidence": "$r_c$",
    "relevant_coefficient": "relevant",
    "irrelevant_coefficient": "irrelevant",
    "gap": "gap",
    "predicted_samples": r"$\log n/\mathrm{gap}^2$",
    "sq_min_samples": r"SQ $m_{\min}$",
    "first_order_ticket_probability": "$p_1$",
    "first_order_ticket_probability_exact": "$p_1$ (exact)",
    "first_order_critical_width": r"$\lceil 1/p_1 \rceil$",
}

FORMATS = ("markdown", "csv", "latex", "json")


def bound_rows(
    ns: list[int], ks: list[int], ss: list[int], bias: str | Fraction = "0", confidence: Fraction = Fraction(99, 100),
    steps: int = 10**5, success_probability: Fraction = Fraction(1, 2),
) -> list[dict[str, Any]]:
    """One dict per (n, k, s) with the columns of ``COLUMNS`` (floats, ints and strings; an infinite
    first-order critical width is ``math.inf``, printed as inf / null)."""
    from theory import (
        critical_width,
        gradient_signal,
        min_samples,
        mlp_params,
        ticket_probability,
        width_for_confidence,
    )
    from theory.limits import check_exact_width, check_table_rows

    check_table_rows(len(ns) * len(ks) * len(ss))  # size guards (theory.limits), before any row
    for n, k, s in ((n, k, s) for n in ns for k in ks for s in ss):
        check_exact_width(n, k, s)
    rows = []
    for n in ns:
        for k in ks:
            for s in ss:
                p = ticket_probability(n, k, s)
                width = critical_width(n, k, s)
                p1 = ticket_probability(n, k, s, "first_order")
                signal = gradient_signal(n, k, s, bias)
                rows.append({
                    "n": n,
                    "k": k,
                    "s": s,
                    "bias": str(signal.bias),
                    "ticket_probability": float(p),
                    "ticket_probability_exact": str(p),
                    "critical_width": width,
                    "confidence": float(confidence),
                    "width_for_confidence": width_for_confidence(n, k, s, confidence),
                    "relevant_coefficient": float(signal.relevant),
                    "irrelevant_coefficient": float(signal.irrelevant),
                    "gap": float(signal.gap),
                    "predicted_samples": signal.sample_estimate,
                    "sq_min_samples": min_samples(n, k, mlp_params(n, width), steps, success_probability),
                    "first_order_ticket_probability": float(p1),
                    "first_order_ticket_probability_exact": str(p1),
                    "first_order_critical_width": critical_width(n, k, s, "first_order") if p1 else math.inf,
                })
    return rows


def _short(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}"
    return str(value)


def _latex_cell(column: str, value: Any) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return r"$\infty$"
        mantissa, _, exponent = f"{value:.3g}".partition("e")
        return f"${mantissa}\\times 10^{{{int(exponent)}}}$" if exponent else f"${mantissa}$"
    if column in ("ticket_probability_exact", "first_order_ticket_probability_exact", "bias"):
        return f"${value}$"
    return str(value)


def render(rows: list[dict[str, Any]], fmt: str, settings: str = "") -> str:
    """The table as text in one of ``FORMATS``."""
    if fmt == "json":
        clean = [{c: (None if isinstance(v, float) and math.isinf(v) else v) for c, v in row.items()} for row in rows]
        return json.dumps({"rows": clean}, indent=2, allow_nan=False) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: (repr(v) if isinstance(v, float) else v) for c, v in row.items()} for row in rows)
        return buffer.getvalue()
    if fmt == "markdown":
        left_aligned = {"ticket_probability_exact", "first_order_ticket_probability_exact", "bias"}
        lines = ["| " + " | ".join(COLUMNS) + " |",
                 "|" + "|".join(":---" if c in left_aligned else "---:" for c in COLUMNS) + "|"]
        lines += ["| " + " | ".join(_short(row[c]) for c in COLUMNS) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    if fmt == "latex":
        lines = [f"% frontier bounds {settings}".rstrip(), "% needs \\usepackage{booktabs}",
                 "\\begin{tabular}{" + "".join("l" if c.endswith("_exact") else "r" for c in COLUMNS) + "}",
                 "\\toprule",
                 " & ".join(LATEX_HEADERS[c] for c in COLUMNS) + " \\\\",
                 "\\midrule"]
        lines += [" & ".join(_latex_cell(c, row[c]) for c in COLUMNS) + " \\\\" for row in rows]
        lines += ["\\bottomrule", "\\end{tabular}"]
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
