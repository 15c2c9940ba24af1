"""Predicted frontiers on data the fit never saw: selectors, the fit-and-predict protocol, and the
width slope of success on the complementary log-log scale (docs/science.md 7.1).

Protocol: choose the runs to fit and the runs to predict with two selectors, fit every model
by binomial maximum likelihood on the first (profile-likelihood intervals on its constants,
"unidentified" where the data do not bound one; seed-cluster bootstrap draws for bands), and
score each on the second: held-out deviance against the saturated cell model
with its p-value, calibration slope with its interval; AIC and BIC compare the models on the
fitted runs. Model A says cloglog P(success) rises with ln r at slope exactly 1 at fixed m:
:func:`cloglog_slope` measures that slope, seeds paired.

Selectors (``frontier fit --fit ... --predict ...``): clauses ``FIELD OP VALUE`` joined by ``and``,
where FIELD is a RunConfig field, OP one of ``== != < <= > >= in``, VALUE a number, a word
(``init == sparse``), ``online`` (samples) or, after ``in``, a list ``[16, 64]``. Examples:
``n <= 30``, ``n == 40 and init == sparse``, ``width in [16, 65]``. The empty selector is every run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from . import estimates as est
from . import models

if TYPE_CHECKING:
    import pandas as pd

#: One token of a selector: a quoted string, a list, an operator, a word (a field, a number, ``and``).
#: Every alternative matches without backtracking, so reading a selector is linear in its length.
_TOKEN = re.compile(r"""\s*(?:(?P<quoted>'[^']*'|"[^"]*")|(?P<list>\[[^\[\]]*\])|(?P<op>==|!=|<=|>=|<|>)"""
                    r"""|(?P<word>[^\s\[\]'"=<>!]+)|(?P<bad>\S))""")
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "in": lambda a, b: a.isin(b),
}
_ORDERED = ("<", "<=", ">", ">=")


def _value(text: str) -> Any:
    text = text.strip().strip("'\"")
    if text == "online":
        return math.nan
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) of every token of ``text``, in one left-to-right pass."""
    tokens, position, end = [], 0, len(text)
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None:  # only trailing whitespace is left
            break
        kind = match.lastgroup
        if kind is None:
            break
        if kind == "bad":
            raise ValueError(f"selector: unexpected {match[kind]!r} at character {match.start(kind) + 1} "
                             "(clauses are FIELD OP VALUE joined by 'and', e.g. 'n <= 30 and init == sparse')")
        tokens.append((kind, match[kind]))
        position = match.end()
    return tokens


def _checked_value(name: str, op: str, raw: str, clause: str) -> Any:
    """A clause's value, checked against the field's type (one line naming the clause otherwise)."""
    from sim.config import FIELD_SPECS, FIELD_TYPES

    value = _value(raw)
    spec, kind = FIELD_SPECS[name], FIELD_TYPES[name]
    if isinstance(value, float) and math.isnan(value):  # online
        if name != "samples" or op not in ("==", "!="):
            raise ValueError(f"selector clause {clause!r}: 'online' is a value of samples only, with == or !=")
        return value
    if kind is str:
        if op in _ORDERED:
            raise ValueError(f"selector clause {clause!r}: {name} is text; compare it with ==, != or in")
        if not isinstance(value, str):
            value = raw.strip("'\"")
        if spec.choices is not None and value not in spec.choices:
            raise ValueError(f"selector clause {clause!r}: {name} is one of {', '.join(spec.choices)}, not {value!r}")
        return value
    if isinstance(value, str):
        raise ValueError(f"selector clause {clause!r}: {name} is a number"
                         + (" (or online)" if spec.nullable else "") + f", not {value!r}")
    return value


def parse_selector(text: str) -> Callable[["pd.DataFrame"], np.ndarray]:
    """A function frame -> boolean mask for a selector (module docstring); ValueError naming the
    clause that cannot be read (an unknown field, a value of the wrong type, an operator a text
    field does not have, anything but ``and`` between clauses). Linear in the selector's length."""
    from sim.config import CONFIG_FIELDS

    tokens = _tokens(text or "")
    parsed: list[tuple[str, str, Any]] = []
    i = 0
    while i < len(tokens):
        if parsed:
            kind, word = tokens[i]
            if (kind, word.lower()) != ("word", "and"):
                shown = " ".join(t for _, t in tokens[i:i + 3])
                raise ValueError(f"selector: expected 'and' or the end after clause {parsed_text!r}, found {shown!r} "
                                 "(clauses join with 'and' only)")
            i += 1
        clause_tokens = tokens[i:i + 3]
        if parsed and not clause_tokens:
            raise ValueError(f"selector ends with 'and' after clause {parsed_text!r}: a clause must follow")
        parsed_text = " ".join(t for _, t in clause_tokens)
        if len(clause_tokens) < 3 or clause_tokens[0][0] != "word" \
                or not (clause_tokens[1][0] == "op" or clause_tokens[1] == ("word", "in")) \
                or clause_tokens[2][0] not in ("word", "quoted", "list"):
            raise ValueError(f"selector clause {parsed_text or text.strip()!r} is not FIELD OP VALUE (e.g. 'n <= 30')")
        (_, name), (_, op), (value_kind, raw) = clause_tokens
        if name not in CONFIG_FIELDS:
            raise ValueError(f"selector field {name!r} is not a RunConfig field ({', '.join(CONFIG_FIELDS)})")
        if op == "in":
            if value_kind != "list":
                raise ValueError(f"selector clause {parsed_text!r}: 'in' takes a list like [16, 64]")
            items = [item for item in raw[1:-1].split(",") if item.strip()]
            if not items:
                raise ValueError(f"selector clause {parsed_text!r}: the list is empty")
            value: Any = [_checked_value(name, "==", item.strip(), parsed_text) for item in items]
        elif value_kind == "list":
            raise ValueError(f"selector clause {parsed_text!r}: a list goes with 'in' only")
        else:
            value = _checked_value(name, op, raw, parsed_text)
        parsed.append((name, op, value))
        i += 3

    def select(frame: "pd.DataFrame") -> np.ndarray:
        mask = np.ones(len(frame), dtype=bool)
        for name, op, value in parsed:
            column = frame[name]
            if name == "samples":
                column = column.astype("Float64").astype(float)
                if isinstance(value, float) and math.isnan(value) and op in ("==", "!="):
                    mask &= column.isna().to_numpy() == (op == "==")
                    continue
            mask &= np.asarray(_OPERATORS[op](column, value), dtype=bool)
        return mask
    return select


# --------------------------------------------------------------------------- the cloglog width slope


@dataclass(frozen=True)
class WidthSlope:
    """The slope of cloglog P(success) in ln r at fixed (setting, m), pooled over those groups,
    for one init arm; Model A says exactly 1."""

    arm: str
    slope: float
    interval: tuple[float, float]
    groups: int
    runs: int
    level: float
    #: Share of the bootstrap draws (and whether the point fit) at the slope's bound +-SLOPE_BOUND:
    #: separated data, where the likelihood has no finite maximum and the interval means nothing.
    draws_at_bound: float = 0.0
    point_at_bound: bool = False


#: The slope is fitted inside +-SLOPE_BOUND; a fit there is a separated group, not an estimate.
SLOPE_BOUND = 10.0


def _slope_loss(theta: np.ndarray, group: np.ndarray, log_r: np.ndarray, y: np.ndarray,
                weights: np.ndarray) -> tuple[float, np.ndarray]:
    eta = theta[group] + theta[-1] * log_r
    u = np.exp(np.minimum(eta, 30.0))
    log_p = np.log(-np.expm1(-u))
    value = -np.sum(weights * np.where(y, log_p, -u))
    with np.errstate(over="ignore"):  # u / expm1(u) -> 0 for large u
        d_eta = weights * np.where(y, u / np.expm1(u), -u)
    grad = np.zeros_like(theta)
    np.add.at(grad, group, d_eta)
    grad[-1] = np.sum(d_eta * log_r)
    return float(value), -grad


def _informative(runs: "pd.DataFrame") -> "pd.DataFrame":
    """Offline runs of (setting, m) groups with two or more widths and mixed outcomes."""
    groups = runs.groupby(list(est.SETTING_FIELDS) + ["samples"])
    widths, rate = groups["width"].transform("nunique"), groups["success"].transform("mean")
    return runs[(widths >= 2) & (rate > 0) & (rate < 1)]


def cloglog_slope(frame: "pd.DataFrame", arm: dict, level: float = est.INTERVAL_LEVEL, n_bootstrap: int = 200,
                  seed: int = 0) -> WidthSlope | None:
    """The pooled cloglog slope in ln r of one init arm (``arm`` = init and sparse-only fields,
    runs without an intervention), one intercept per (setting, m), with a seed-cluster bootstrap
    interval. None when no (setting, m) has two widths and mixed outcomes."""
    data = est.normalized(frame)
    data = data[data["samples"].notna() & (data["intervention"] == "none")]
    for name, value in arm.items():
        data = data[data[name] == value]
    runs = _informative(data)
    if runs.empty:
        return None
    keys = list(est.SETTING_FIELDS) + ["samples"]
    group = runs.groupby(keys, sort=False).ngroup().to_numpy()
    log_r, y = np.log(runs["width"].to_numpy(float)), runs["success"].to_numpy(bool)
    bounds = [(-30.0, 30.0)] * (group.max() + 1) + [(-SLOPE_BOUND, SLOPE_BOUND)]
    start = np.concatenate([np.zeros(group.max() + 1), [1.0]])

    def fitted(weights: np.ndarray) -> float:
        return float(models.minimize_quietly(_slope_loss, start, args=(group, log_r, y, weights), bounds=bounds).x[-1])

    slope = fitted(np.ones(y.size))
    seeds, index = np.unique(runs["seed"].to_numpy(), return_inverse=True)
    weights = est.seed_weights(len(seeds), n_bootstrap, est.estimate_rng(seed, ("cloglog", str(arm))))
    draws = np.array([fitted(w[index]) for w in weights])
    label = arm["init"] if arm["init"] == "dense" else f"sparse(s={arm['sparsity']},{arm['sparse_values']})"
    at_bound = np.abs(draws) >= SLOPE_BOUND - 1e-6
    return WidthSlope(label, slope, est.percentile_interval(draws, level), int(group.max() + 1), int(y.size), level,
                      float(at_bound.mean()), bool(abs(slope) >= SLOPE_BOUND - 1e-6))


def init_arms(frame: "pd.DataFrame") -> list[dict]:
    """The init arms of a frame (dense; each sparse (s, values)) among runs without an intervention."""
    data = est.normalized(frame)
    data = data[data["intervention"] == "none"]
    arms = data[["init", "sparsity", "sparse_values"]].drop_duplicates().to_dict("records")
    return sorted(arms, key=lambda a: (a["init"], int(a["sparsity"]), str(a["sparse_values"])))


# --------------------------------------------------------------------------- fit and predict


@dataclass(frozen=True)
class FrontierPrediction:
    """Models fitted on one part of a store and scored on another (see the module docstring)."""

    fit_selector: str
    predict_selector: str
    fit_data: models.RunData
    predict_data: models.RunData
    fits: dict[str, models.Fit]
    scores: dict[str, models.HeldOutScore]
    level: float
    notes: list[str] = field(default_factory=list)

    def best_by(self, criterion: str = "aic") -> str:
        return min(self.fits, key=lambda name: getattr(self.fits[name], criterion))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fit": self.fit_selector, "predict": self.predict_selector, "level": self.level,
                               "fit_runs": self.fit_data.runs, "predict_runs": self.predict_data.runs,
                               "k": self.fit_data.k, "s": self.fit_data.s, "models": {}, "notes": self.notes}
        for name, fitted in self.fits.items():
            score = self.scores[name]
            out["models"][name] = {
                "description": fitted.model.description, "converged": fitted.converged,
                # the exponents the model fixes, each "theory: first-order gap" or "heuristic"
                "n_exponents": {t: e.to_dict() for t, e in
                                fitted.model.fixed_exponents(self.fit_data.k, self.fit_data.s).items()},
                "log_likelihood": fitted.log_likelihood, "aic": fitted.aic, "bic": fitted.bic,
                # interval: profile likelihood (an open end is -inf / inf; "unidentified" where
                # both are); bootstrap_interval: seed-cluster percentiles, zero-width along flat
                # directions
                "constants": {c: {"value": v, "interval": list(fitted.confidence_interval(c)),
                                  "identification": fitted.identification(c),
                                  "bootstrap_interval": list(fitted.bootstrap_interval(c))}
                              for c, v in fitted.constants().items()},
                "held_out": {"runs": score.runs, "cells": score.cells, "deviance": score.deviance,
                             "p_value": score.p_value, "calibration_slope": score.calibration_slope,
                             "calibration_interval": list(score.calibration_interval),
                             "p_value_comonotone": score.p_value_comonotone,
                             "calibration_interval_comonotone": list(score.calibration_interval_comonotone),
                             "observed_rate": score.observed_rate, "predicted_rate": score.predicted_rate}}
        return out


def default_split(frame: "pd.DataFrame") -> tuple[str, str]:
    """The pre-registered split: hold out the largest n if there are two or more, else the
    largest width."""
    data = est.normalized(frame)
    data = data[data["samples"].notna()]
    ns = sorted(set(data["n"].astype(int)))
    if len(ns) >= 2:
        return f"n < {ns[-1]}", f"n == {ns[-1]}"
    widths = sorted(set(data["width"].astype(int)))
    if len(widths) >= 2:
        return f"width < {widths[-1]}", f"width == {widths[-1]}"
    return "", ""


def predict_frontier(frame: "pd.DataFrame", fit: str | None = None, predict: str | None = None,
                     names: Sequence[str] = ("A", "A-free", "B"), level: float = est.INTERVAL_LEVEL,
                     n_bootstrap: int = 200, seed: int = 0, score_bootstrap: int | None = None) -> FrontierPrediction:
    """Fit each named model on the runs ``fit`` selects and score it on those ``predict`` selects
    (defaults: :func:`default_split`); profile-likelihood intervals at ``level`` for the
    constants (:func:`verify.models.profile`), ``n_bootstrap`` seed-cluster draws of them,
    ``score_bootstrap`` (default the same) parametric draws for the held-out scores. ValueError
    when a part is empty or they overlap."""
    unknown = [n for n in names if n not in models.MODELS]
    if unknown:
        raise ValueError(f"model {unknown[0]!r} must be one of {list(models.MODELS)}")
    if fit is None or predict is None:
        fit, predict = default_split(frame) if (fit is None and predict is None) else (fit or "", predict or "")
    fit_mask, predict_mask = parse_selector(fit)(frame), parse_selector(predict)(frame)
    if (fit_mask & predict_mask).any():
        raise ValueError(f"the selectors {fit!r} and {predict!r} share {int((fit_mask & predict_mask).sum())} runs")
    if not fit_mask.any() or not predict_mask.any():
        raise ValueError(f"the selectors {fit!r} / {predict!r} select {int(fit_mask.sum())} / "
                         f"{int(predict_mask.sum())} runs: both need some")
    fit_data, predict_data = models.run_data(frame[fit_mask]), models.run_data(frame[predict_mask])
    if (fit_data.k, fit_data.s) != (predict_data.k, predict_data.s) or fit_data.types != predict_data.types:
        raise ValueError("the fitted and predicted runs must share k and s")
    fits, scores, notes = {}, {}, []
    if "A-free" in names and len(set(fit_data.n.tolist())) < 2:
        # Its n-exponents are not identified by one n: intervals on them would look like estimates.
        names = [name for name in names if name != "A-free"]
        notes.append("model A-free left out: its n-exponents need fitted runs at two or more n")
    for name in names:
        fitted = models.profile(models.fit(models.MODELS[name], fit_data), fit_data, level)
        fits[name] = models.bootstrap(fitted, fit_data, n_bootstrap, seed, level)
        scores[name] = models.score_held_out(fitted, predict_data, fit_data,
                                             n_bootstrap if score_bootstrap is None else score_bootstrap, seed, level)
    return FrontierPrediction(fit, predict, fit_data, predict_data, fits, scores, level, notes)
