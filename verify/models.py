"""Models of the frontier that predict curves, fitted to runs and scored on runs they never saw
(docs/science.md 7.1; the paper itself predicts only scalings with unknown constants).

Every run contributes its outcome y, its training-set size m, its n and its neuron-type counts N
at initialisation (:mod:`verify.neurons`). A model gives each neuron type t a threshold
ln m_t(n) and a shared spread sigma:  pi_t(m) = Phi((ln m - ln m_t(n)) / sigma).

- **Model A (independent parallel search):** a run succeeds if some neuron finds S,
  P(success | N, m) = 1 - prod_t (1 - pi_t(m))^(N_t), with fixed n-exponents
  ln m_t(n) = a_t + e_t ln n + ln ln n (:func:`n_exponents`). Where the exact first-order
  gradient signal of theory.fourier is nonzero, e_t is the slope of ln(1 / gap(n)^2) in ln n
  (the log(n) / gap^2 estimate of docs/science.md 4.3); for k = 3, s = 2 that gives the ticket
  (o = 2) e = 0 and dense e = k - 1 = 2. Where it is 0 (k = 3, s = 2: o = 0 and o = 1) the
  exponent is the heuristic's, labelled so: e_o = max(k - o - 1, 0) for o >= 1, e_0 = k - 1.
  The log(n) / gap^2 estimate itself is off by 1-4 orders of magnitude (science.md 7); only its
  n-exponent is used, with a fitted constant. Constants: one a per type and sigma (five for
  k = 3, s = 2).
  Consequences: cloglog P is linear in ln r with slope exactly 1; P(success | N) does not
  depend on r; a planted ticket adds 1 - (1 - P_0)(1 - pi_ticket).
- **Model A, free exponents:** the same with the exponents fitted (tickets, partial overlaps, and
  o = 0 with dense sharing one); the fitted difference e_nonticket - e_ticket is a test (first-order
  theory: e_dense - e_ticket = 2 for k = 3, s = 2; o = 0 shares e_nonticket only heuristically).
- **Model B (collective width effect):** one threshold per run, moved by width and by having a
  ticket:  P = Phi((ln m - mu) / sigma),  mu = c_init + (k - 1) ln n + ln ln n
  + beta (r*(n) / r)^gamma - Delta 1[N_ticket >= 1] (the exponent k - 1 for every run is
  heuristic). Its width transition is steeper than A's (cloglog slopes above 1).

Fits are binomial maximum likelihood over runs (``scipy.optimize.minimize``, analytic
gradients). Intervals on constants are profile-likelihood intervals (:func:`profile`: the
chi-square(1) quantile at the level), open or "unidentified" where the profile stays flat up to a
constant's bound; the seed-cluster bootstrap (runs of one seed resampled together,
:mod:`verify.estimates`) gives draws for the bands of curves and a second interval that keeps a
seed's dependence but has zero width along flat directions (its refits stall at the estimate).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
from scipy.special import expit, log_ndtr, ndtri

from . import estimates as est
from .neurons import DENSE, type_counts

if TYPE_CHECKING:
    import pandas as pd

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class RunData:
    """The runs a model sees: per run y, ln m, n, width, seed, init, its type counts (runs, types)
    and the critical width r*(n) of its sparsity (for Model B); ``cells`` labels each run's cell
    (setting, width, m) for the saturated model."""

    y: np.ndarray
    log_m: np.ndarray
    n: np.ndarray
    k: int
    s: int
    width: np.ndarray
    seed: np.ndarray
    dense: np.ndarray
    counts: np.ndarray
    types: tuple[str, ...]
    critical_width: np.ndarray
    cells: np.ndarray
    # Not an init field: a copy made with dataclasses.replace (or :meth:`replace`) starts with an
    # empty cache. As an init field it was copied by RunData(**other.__dict__), so the copy reused
    # the conditions of the original: Model B's curve of the first width for every width.
    _cache: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def runs(self) -> int:
        return int(self.y.size)

    def conditions(self) -> tuple["RunData", np.ndarray]:
        """(the distinct conditions a threshold can depend on: n, m, width, init and whether the
        run has a ticket, as a RunData of one row each; the condition of every run). Likelihoods
        evaluate the normal integrals once per condition, not once per run."""
        if "conditions" not in self._cache:
            ticket = self.counts[:, self.ticket_type()] >= 1
            keys = np.stack([self.n, self.log_m, self.width, self.dense, ticket], axis=1)
            unique, index = np.unique(keys, axis=0, return_inverse=True)
            counts = np.zeros((len(unique), len(self.types)))
            counts[:, self.ticket_type()] = unique[:, 4]
            rows = np.unique(index, return_index=True)[1]
            cond = RunData(y=np.zeros(len(unique), bool), log_m=unique[:, 1], n=unique[:, 0], k=self.k, s=self.s,
                           width=unique[:, 2], seed=np.zeros(len(unique)), dense=unique[:, 3].astype(bool),
                           counts=counts, types=self.types, critical_width=self.critical_width[rows],
                           cells=self.cells[rows])
            self._cache["conditions"] = (cond, index.ravel())
        return self._cache["conditions"]

    def replace(self, **changes) -> "RunData":
        """The same runs with ``changes`` (field -> new value) and a cache of its own."""
        return dataclasses.replace(self, **changes)

    def with_outcomes(self, y: np.ndarray) -> "RunData":
        """The same design with outcomes ``y``. The cache holds functions of the design only (every
        field but y), so the copy starts with the entries computed so far (a bootstrap draws
        outcomes hundreds of times; recomputing the conditions costs ~8% of a refit) in a dict of
        its own, so that nothing it computes later leaks back."""
        copy = dataclasses.replace(self, y=np.asarray(y, dtype=bool))
        copy._cache.update(self._cache)
        return copy

    def subset(self, mask: np.ndarray) -> "RunData":
        keep = np.asarray(mask, dtype=bool)
        picked = {name: getattr(self, name)[keep] for name in
                  ("y", "log_m", "n", "width", "seed", "dense", "counts", "critical_width", "cells")}
        return RunData(k=self.k, s=self.s, types=self.types, **picked)

    def ticket_type(self) -> int:
        """Index of the ticket type (overlap min(s, k)) in ``types``."""
        return min(self.s, self.k)


def run_data(frame: "pd.DataFrame") -> RunData:
    """The offline runs of a store frame as model input. All runs must share k and the sparsity
    of their sparse neurons (ValueError naming what differs)."""
    from theory.lottery import critical_width

    data = est.normalized(frame)
    data = data[data["samples"].notna()]
    if data.empty:
        raise ValueError("no offline runs (models need a finite training-set size m)")
    if "run_id" in data:  # a store's row order is the order runs finished: simulations must not see it
        data = data.sort_values("run_id", kind="stable")
    ks = sorted(set(data["k"].astype(int)))
    sparse = data[(data["init"] == "sparse") | data["intervention"].isin(("plant_ticket", "plant_control"))]
    ss = sorted(set(sparse["sparsity"].astype(int))) or [2]
    if len(ks) > 1 or len(ss) > 1:
        raise ValueError(f"fit one (k, s) at a time: the runs have k in {ks} and s in {ss} (select with --fit)")
    counts = type_counts(frame.loc[data.index])
    k, s = ks[0], ss[0]
    r_star = {n: critical_width(int(n), k, s) for n in data["n"].unique()}
    cell_keys = list(est.SETTING_FIELDS) + ["width", "samples"]
    cells = data[cell_keys].astype(str).agg("|".join, axis=1).to_numpy()
    return RunData(y=data["success"].to_numpy(bool), log_m=np.log(data["samples"].to_numpy(float)),
                   n=data["n"].to_numpy(float), k=k, s=s, width=data["width"].to_numpy(float),
                   seed=data["seed"].to_numpy(), dense=(data["init"] == "dense").to_numpy(),
                   counts=counts.to_numpy(float), types=tuple(counts.columns),
                   critical_width=np.array([r_star[n] for n in data["n"]], dtype=float), cells=cells)


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Model:
    """A frontier model: ``mu(theta, data) -> (mu (runs, types), d mu / d theta (runs, types, P - 1))``
    and ``counts(data) -> (runs, types)``; the last of the P parameters of ``theta`` is ln sigma
    (mu does not depend on it)."""

    name: str
    description: str
    parameter_names: Callable[[RunData], list[str]]
    mu: Callable[[np.ndarray, RunData], tuple[np.ndarray, np.ndarray]]
    counts: Callable[[RunData], np.ndarray]
    start: Callable[[RunData], np.ndarray]
    bounds: Callable[[RunData], list[tuple[float, float]]]
    #: (k, s) -> the n-exponents the model fixes, by neuron type, with their provenance (THEORY
    #: or HEURISTIC); empty where the model fits them.
    fixed_exponents: Callable[[int, int], dict[str, "NExponent"]] = lambda k, s: {}


# --------------------------------------------------------------------------- n-exponents

#: Provenance of an n-exponent: read off the exact first-order gradient signal of theory.fourier,
#: or the log(n) / gap^2 heuristic's guess where first-order theory has no signal to read.
THEORY, HEURISTIC = "theory: first-order gap", "heuristic"
#: The n at which the first-order gap is evaluated to read its exponent off (doubling, so the
#: least-squares slope weighs the scales evenly; at n < 64 a dense neuron's gap is still bending:
#: local slopes 1.6-1.9 for k = 3 at n = 16-64).
EXPONENT_NS: tuple[int, ...] = (64, 128, 256, 512, 1024)
#: A slope further than this from an integer is not read as a power of n.
EXPONENT_TOLERANCE = 0.25


@dataclass(frozen=True)
class NExponent:
    """The n-exponent e of a neuron type in ln m_t(n) = a_t + e ln n + ln ln n, and where it comes
    from: ``THEORY`` (the slope of ln(1 / gap(n)^2) in ln n, rounded; ``slope`` unrounded) or
    ``HEURISTIC`` (``slope`` NaN: the first-order signal is 0, so it says nothing)."""

    type: str
    value: int
    provenance: str
    slope: float = math.nan

    def to_dict(self) -> dict:
        return {"value": self.value, "provenance": self.provenance, "slope": self.slope}


def heuristic_exponent(column: str, k: int) -> int:
    """The log(n) / gap^2 heuristic of docs/science.md 7.1: k - o - 1 (at least 0) for overlap
    o >= 1, k - 1 for o = 0 and for a dense neuron."""
    if column == DENSE:
        return k - 1
    o = int(column.split("_")[1])
    return k - 1 if o == 0 else max(k - o - 1, 0)


def first_order_gap(n: int, k: int, support: int, overlap: int) -> float:
    """The Fourier gap |relevant| - |irrelevant| of the exact population gradient at init
    (theory.fourier.gradient_signal) of an equal-weight neuron on ``support`` inputs with
    ``overlap`` of them in S, bias b = beta sqrt(support) in the integer form of
    theory.scaling.threshold_bias (beta = 1 for odd k, 0 for even k: the theory layer's bias
    scale, under which gap = Theta(s^{-(k-1)/2}) for an over-sparse ticket)."""
    from theory.fourier import gradient_signal
    from theory.scaling import threshold_bias

    return float(gradient_signal(n, k, support, bias=threshold_bias(support, k % 2), overlap=overlap).gap)


def derive_exponent(column: str, k: int, s: int, gap: Callable[[int, int, int, int], float] = first_order_gap,
                    ns: Sequence[int] = EXPONENT_NS) -> NExponent:
    """The n-exponent of neuron type ``column`` (``N_o`` or ``N_dense``) for a k-parity and s-hot
    sparse init, from first-order theory where it gives one.

    The first-step sample estimate is m ~ log(n) / gap(n)^2 (docs/science.md 4.3), so the
    exponent of ln m_t(n) - ln ln n is the slope of ln(1 / gap(n)^2) in ln n: fitted by least
    squares over ``ns`` and rounded. A sparse neuron of overlap o has ``support`` s; a dense
    neuron is the s = n neuron whose support holds S (overlap k). Where the gap is 0 at some n
    (k = 3, s = 2: overlaps 0 and 1, whose every first-order signal is exactly 0), or the slope
    is no power of n (further than EXPONENT_TOLERANCE from an integer), first-order theory says
    nothing and the heuristic of :func:`heuristic_exponent` is returned, labelled so.

    ``gap(n, k, support, overlap)`` is :func:`first_order_gap` (theory.fourier); a test plants a
    wrong one. For k = 3, s = 2 this gives 0 for the ticket (o = 2: the missing coordinate gets
    stephat_2 of the 2-hot neuron, constant in n) and 2 = k - 1 for dense (slope 1.98)."""
    if column == DENSE:
        gaps = [gap(n, k, n, k) for n in ns]
    else:
        gaps = [gap(n, k, s, int(column.split("_")[1])) for n in ns]
    if min(gaps) > 0:
        slope = float(np.polyfit(np.log(ns), -2 * np.log(gaps), 1)[0])
        if abs(slope - round(slope)) <= EXPONENT_TOLERANCE:
            return NExponent(column, int(round(slope)), THEORY, slope)
    return NExponent(column, heuristic_exponent(column, k), HEURISTIC)


@functools.cache
def n_exponents(k: int, s: int) -> dict[str, NExponent]:
    """:func:`derive_exponent` of every neuron type (N_0 .. N_min(s,k), N_dense), once per (k, s)."""
    columns = [f"N_{o}" for o in range(min(s, k) + 1)] + [DENSE]
    return {c: derive_exponent(c, k, s) for c in columns}


def _exponent(column: str, k: int, s: int) -> int:
    """Model A's n-exponent of a neuron type (:func:`n_exponents`)."""
    return n_exponents(k, s)[column].value


def _type_names(data: RunData) -> list[str]:
    return [("a_dense" if t == DENSE else f"a_{t.split('_')[1]}") for t in data.types]


def _mu_a(theta: np.ndarray, data: RunData) -> tuple[np.ndarray, np.ndarray]:
    T = len(data.types)
    exponents = np.array([_exponent(t, data.k, data.s) for t in data.types], dtype=float)
    log_n = np.log(data.n)[:, None]
    mu = theta[None, :T] + exponents[None, :] * log_n + np.log(log_n)
    jac = np.zeros((data.runs, T, T))
    jac[:, np.arange(T), np.arange(T)] = 1.0
    return mu, jac


def _groups(data: RunData) -> np.ndarray:
    """Exponent group of each type for the free variant: 0 = o = 0 and dense, 1 = partial, 2 = ticket."""
    ticket = f"N_{data.ticket_type()}"
    return np.array([0 if t in (DENSE, "N_0") else 2 if t == ticket else 1 for t in data.types])


def _mu_a_free(theta: np.ndarray, data: RunData) -> tuple[np.ndarray, np.ndarray]:
    T = len(data.types)
    groups = _groups(data)
    log_n = np.log(data.n)[:, None]
    exponents = theta[T:T + 3][groups]
    mu = theta[None, :T] + exponents[None, :] * log_n + np.log(log_n)
    jac = np.zeros((data.runs, T, T + 3))
    jac[:, np.arange(T), np.arange(T)] = 1.0
    for t, g in enumerate(groups):
        jac[:, t, T + g] = log_n[:, 0]
    return mu, jac


def _mu_b(theta: np.ndarray, data: RunData) -> tuple[np.ndarray, np.ndarray]:
    c_dense, c_sparse, beta, log_gamma, delta = theta[:5]
    log_n = np.log(data.n)
    ratio = data.critical_width / data.width
    power = ratio ** math.exp(log_gamma)
    has_ticket = (data.counts[:, data.types.index(f"N_{data.ticket_type()}")] >= 1).astype(float)
    base = np.where(data.dense, c_dense, c_sparse)
    mu = base + (data.k - 1) * log_n + np.log(log_n) + beta * power - delta * has_ticket
    jac = np.zeros((data.runs, 1, 5))
    jac[:, 0, 0] = data.dense
    jac[:, 0, 1] = ~data.dense
    jac[:, 0, 2] = power
    jac[:, 0, 3] = beta * power * np.log(ratio) * math.exp(log_gamma)
    jac[:, 0, 4] = -has_ticket
    return mu[:, None], jac


def _start_a(data: RunData) -> np.ndarray:
    mid = float(np.median(data.log_m))
    log_n = float(np.median(np.log(data.n)))
    a = [mid - _exponent(t, data.k, data.s) * log_n - math.log(log_n) for t in data.types]
    return np.array(a + [0.0])


def _start_a_free(data: RunData) -> np.ndarray:
    start = _start_a(data)
    k, top = data.k, data.ticket_type()
    fixed = n_exponents(k, data.s)  # Model A's exponents; partial overlap o = 1 (or k - 2 if there is none)
    partial = fixed["N_1"].value if top > 1 else max(k - 2, 0)
    return np.concatenate([start[:-1], [fixed[DENSE].value, partial, fixed[f"N_{top}"].value], [0.0]])


def _start_b(data: RunData) -> np.ndarray:
    """Several starts (rows): B's width term and ticket step trade off, and its likelihood has
    local optima a single start can miss."""
    mid = float(np.median(data.log_m - (data.k - 1) * np.log(data.n) - np.log(np.log(data.n))))
    return np.array([[mid, mid, 0.1, 0.0, 0.2, 0.0], [mid - 1, mid - 1, 1.0, 0.0, 0.5, -1.0],
                     [mid - 2, mid - 2, 3.0, 0.5, 1.0, -1.0]])


# Bounds keep the optimiser out of flat, degenerate corners (a threshold of e^50 samples, a
# spread of e^-5); a constant at its bound is reported as such.
_LEVEL_BOUNDS, _SIGMA_BOUNDS = (-50.0, 50.0), (-5.0, 3.0)

MODEL_A = Model("A", "independent parallel search over neuron types, fixed n-exponents (from the first-order "
                "gap where theory gives one, else heuristic)",
                lambda d: _type_names(d) + ["ln_sigma"], _mu_a, lambda d: d.counts, _start_a,
                lambda d: [_LEVEL_BOUNDS] * len(d.types) + [_SIGMA_BOUNDS], n_exponents)
MODEL_A_FREE = Model("A-free", "Model A with fitted n-exponents (o = 0 and dense, partial, ticket)",
                     lambda d: _type_names(d) + ["e_nonticket", "e_partial", "e_ticket", "ln_sigma"],
                     _mu_a_free, lambda d: d.counts, _start_a_free,
                     lambda d: [_LEVEL_BOUNDS] * len(d.types) + [(-10.0, 10.0)] * 3 + [_SIGMA_BOUNDS])
MODEL_B = Model("B", "collective width effect: one threshold per run moved by r*(n)/r and by having a ticket",
                lambda d: ["c_dense", "c_sparse", "beta", "ln_gamma", "delta", "ln_sigma"], _mu_b,
                lambda d: np.ones((d.runs, 1)), _start_b,
                lambda d: [_LEVEL_BOUNDS, _LEVEL_BOUNDS, (-20.0, 20.0), (-3.0, 2.0), (-20.0, 20.0), _SIGMA_BOUNDS],
                # the dense neuron's k - 1 for every run, sparse ones included: no theory says so
                lambda k, s: {"every run": NExponent("every run", k - 1, HEURISTIC)})
MODELS: dict[str, Model] = {m.name: m for m in (MODEL_A, MODEL_A_FREE, MODEL_B)}


# --------------------------------------------------------------------------- likelihood and fit


def _tails(model: Model, theta: np.ndarray, cond: RunData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per condition and type: z, ln(1 - pi) = ln Phi(-z), the hazard phi(z) / Phi(-z), d mu / d theta."""
    mu, jac = model.mu(theta, cond)
    z = (cond.log_m[:, None] - mu) / math.exp(theta[-1])
    log_tail = log_ndtr(-z)
    # phi(z) / Phi(-z) in logs; far in the upper tail it is ~ z, never an overflow
    hazard = np.exp(np.minimum(-0.5 * z * z - _LOG_SQRT_2PI - log_tail, 700.0))
    return z, log_tail, hazard, jac


def log_miss(model: Model, theta: np.ndarray, data: RunData) -> np.ndarray:
    """ln(1 - P(success)) per run: sum over types of N_t ln(1 - pi_t(m))."""
    cond, index = data.conditions()
    _, log_tail, _, _ = _tails(model, theta, cond)
    return np.sum(model.counts(data) * log_tail[index], axis=1)


def success_probability(model: Model, theta: np.ndarray, data: RunData) -> np.ndarray:
    return -np.expm1(log_miss(model, theta, data))


def negative_log_likelihood(theta: np.ndarray, model: Model, data: RunData,
                            weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """(-log L, gradient) of the binomial likelihood over runs (optionally weighted)."""
    cond, index = data.conditions()
    z, log_tail, hazard, jac = _tails(model, theta, cond)
    counts = model.counts(data)
    L = np.minimum(np.sum(counts * log_tail[index], axis=1), -1e-300)  # ln(1 - P) < 0
    log_p = np.log(-np.expm1(L))
    w = np.ones(data.runs) if weights is None else weights
    value = -np.sum(w * np.where(data.y, log_p, L))
    d_loglik_dL = w * np.where(data.y, -np.exp(L - log_p), 1.0)  # d/dL of y ln P + (1 - y) L
    per_condition = np.zeros((len(cond.y), counts.shape[1]))
    np.add.at(per_condition, index, d_loglik_dL[:, None] * counts)
    weight = per_condition * hazard
    grad = np.einsum("ct,ctp->p", weight / math.exp(theta[-1]), jac)
    with np.errstate(over="ignore", invalid="ignore"):
        grad = np.concatenate([grad, [np.sum(weight * z)]])
    return float(value), -grad


IDENTIFIED, UNIDENTIFIED = "identified", "unidentified"


@dataclass(frozen=True)
class ProfileInterval:
    """Profile-likelihood interval of one constant theta_i at ``level``:
    {c : 2 (min_{theta, theta_i = c} -ln L(theta) - min_theta -ln L(theta)) <= chi2_1(level)}.
    An end where the profile stays below chi2_1(level) up to the constant's bound is open (-inf or
    +inf): the data do not bound the constant on that side. ``status`` is IDENTIFIED (both ends
    finite), ``bounded below`` / ``bounded above`` (one end), or UNIDENTIFIED (neither: a flat
    direction, e.g. the threshold of a neuron type no run has)."""

    low: float
    high: float
    level: float

    @property
    def status(self) -> str:
        low, high = math.isfinite(self.low), math.isfinite(self.high)
        return IDENTIFIED if low and high else "bounded below" if low else "bounded above" if high else UNIDENTIFIED


@dataclass(frozen=True)
class Fit:
    """A fitted model: constants, log-likelihood, AIC/BIC, (after :func:`profile`) the
    profile-likelihood intervals of the constants and (after :func:`bootstrap`) their
    seed-cluster bootstrap draws."""

    model: Model
    theta: np.ndarray
    names: tuple[str, ...]
    log_likelihood: float
    runs: int
    converged: bool
    draws: np.ndarray | None = field(default=None, repr=False)
    level: float = est.INTERVAL_LEVEL
    profiles: dict[str, ProfileInterval] | None = field(default=None, repr=False)

    @property
    def aic(self) -> float:
        return 2 * self.theta.size - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        return self.theta.size * math.log(self.runs) - 2 * self.log_likelihood

    @property
    def sigma(self) -> float:
        return math.exp(self.theta[-1])

    def constants(self) -> dict[str, float]:
        return dict(zip(self.names, (float(v) for v in self.theta)))

    def confidence_interval(self, name: str) -> tuple[float, float]:
        """Profile-likelihood interval of one constant (:class:`ProfileInterval`; an open end is
        -inf or +inf); NaN before :func:`profile`."""
        if self.profiles is None:
            return (math.nan, math.nan)
        interval = self.profiles[name]
        return (interval.low, interval.high)

    def identification(self, name: str) -> str:
        """:attr:`ProfileInterval.status` of one constant ("" before :func:`profile`)."""
        return "" if self.profiles is None else self.profiles[name].status

    def bootstrap_interval(self, name: str) -> tuple[float, float]:
        """Seed-cluster bootstrap percentile interval of one constant (NaN without draws). Keeps
        the dependence of a seed's runs, but along a flat direction the refits stall at the
        estimate and the interval has zero width: read it beside the profile interval."""
        if self.draws is None or not len(self.draws):
            return (math.nan, math.nan)
        return est.percentile_interval(self.draws[:, self.names.index(name)], self.level)


@functools.cache
def _blas_controller():
    """One threadpoolctl controller (building one reads /proc: 1 ms, as long as a small fit)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def minimize_quietly(function: Callable, x0: np.ndarray, args: tuple = (), bounds=None):
    """``scipy.optimize.minimize`` (L-BFGS-B, ``function`` returns value and gradient) with one
    BLAS thread: its few-parameter BLAS calls are 10x slower with a thread per core when the
    cores are busy (measured: 0.5 s against 0.04 s per model fit on 2 loaded cores)."""
    from scipy.optimize import minimize

    with _blas_controller().limit(limits=1, user_api="blas"):
        return minimize(function, x0, args=args, jac=True, method="L-BFGS-B", bounds=bounds,
                        options={"maxiter": 2000})


def fit(model: Model, data: RunData, weights: np.ndarray | None = None, start: np.ndarray | None = None) -> Fit:
    """Binomial maximum likelihood (L-BFGS-B with the analytic gradient), from the model's
    start(s) or ``start``; the best optimum is kept."""
    starts = np.atleast_2d(model.start(data) if start is None else start)
    results = [minimize_quietly(negative_log_likelihood, x0, args=(model, data, weights), bounds=model.bounds(data))
               for x0 in starts]
    result = min(results, key=lambda r: r.fun)
    return Fit(model, result.x, tuple(model.parameter_names(data)), -float(result.fun), data.runs,
               bool(result.success))


def bootstrap(fitted: Fit, data: RunData, n_bootstrap: int = 200, seed: int = 0,
              level: float = est.INTERVAL_LEVEL) -> Fit:
    """The fit with seed-cluster bootstrap draws of its constants: each draw resamples the seeds
    (every run of a drawn seed, with its multiplicity as weight) and refits from the estimate."""
    seeds, index = np.unique(data.seed, return_inverse=True)
    weights = est.seed_weights(len(seeds), n_bootstrap, est.estimate_rng(seed, ("model", fitted.model.name)))
    draws = np.array([fit(fitted.model, data, weights=w[index], start=fitted.theta).theta for w in weights])
    return dataclasses.replace(fitted, draws=draws, level=level)


#: The profile's root sqrt(2 (profile nll - min nll)) is found to within this of
#: sqrt(chi2_1(level)) (0.8% of the half-width at level 0.99), in at most PROFILE_STEPS refits.
PROFILE_TOLERANCE, PROFILE_STEPS = 0.02, 40


def _observed_information(fitted: Fit, data: RunData) -> np.ndarray:
    """-d^2 ln L / d theta^2 at the estimate, by central differences of the analytic gradient."""
    theta, P = fitted.theta, fitted.theta.size
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    info = np.empty((P, P))
    for j in range(P):
        step = np.zeros(P)
        step[j] = h[j]
        info[:, j] = (negative_log_likelihood(theta + step, fitted.model, data)[1]
                      - negative_log_likelihood(theta - step, fitted.model, data)[1]) / (2 * h[j])
    return (info + info.T) / 2


def _profile_end(fitted: Fit, data: RunData, i: int, direction: int, target: float, first_step: float) -> float:
    """The end of constant i's profile interval on one side (direction -1 or +1): where the
    signed root r(c) = sqrt(2 (min_{theta_i = c} -ln L - min -ln L)) reaches ``target``; an
    infinite end where r stays below it up to the bound. r is about linear in c near the
    estimate (exactly so for a quadratic log-likelihood), so the search follows the secant from
    the estimate (r = 0) outward, then regula falsi (Illinois) once bracketed."""
    bounds = fitted.model.bounds(data)
    center, bound = float(fitted.theta[i]), float(bounds[i][0 if direction < 0 else 1])
    open_end = direction * math.inf
    if direction * (bound - center) <= 1e-9:  # the estimate sits at the bound
        return open_end
    inner_solution, solutions = fitted.theta, {}

    def root(c: float) -> float:
        # warm start: the solution at the inner end, which lies on the path from the estimate (an
        # outer refit may have stopped in another local optimum, and starting from it would make
        # the profile jump back and forth)
        start = inner_solution.copy()
        start[i] = c
        fixed = list(bounds)
        fixed[i] = (c, c)
        result = minimize_quietly(negative_log_likelihood, start, args=(fitted.model, data), bounds=fixed)
        solutions[c] = result.x
        deviance = 2 * (result.fun + fitted.log_likelihood)
        if not math.isfinite(deviance):  # a degenerate refit: beyond any threshold, not a crossing to chase
            return math.inf
        # a refit below the estimate's -ln L means the estimate was not the global optimum: r = 0
        return math.sqrt(max(deviance, 0.0))

    span = abs(bound - center)

    def toward(distance: float) -> float:  # the bound itself, exactly, when the step reaches it
        return bound if distance >= span else center + direction * distance

    # g = r - target: < 0 at ``inner`` (the estimate, g = -target, to start), > 0 at ``outer``
    inner, inner_g, outer, outer_g = center, -target, None, math.nan
    previous, previous_g = center, -target  # the inner point before ``inner``, for the secant
    kept = 0  # +1 / -1: how often in a row the inner / outer end was the one kept (Illinois)
    c = toward(first_step)
    for _ in range(PROFILE_STEPS):
        g = root(c) - target
        if abs(g) <= PROFILE_TOLERANCE:
            return c
        if g < 0:
            previous, previous_g, inner, inner_g = inner, inner_g, c, g
            inner_solution = solutions[c]
            if c == bound:
                return open_end
            kept = min(kept, 0) - 1
        else:
            outer, outer_g = c, g
            kept = max(kept, 0) + 1
        if outer is None:  # not bracketed: the secant through the last two inner points, 1.1x to 4x as far
            slope = (inner_g - previous_g) / abs(inner - previous)
            reach = abs(inner - center)
            distance = reach - inner_g / slope if slope > 1e-9 else 4 * reach
            c = toward(min(max(distance, 1.1 * reach), 4 * reach))
            continue
        if abs(outer - inner) < 1e-3 * max(1.0, abs(center)):  # a jump (another optimum): the end is there
            return 0.5 * (inner + outer)
        # bracketed: regula falsi, Illinois variant (an end kept twice in a row has its g halved,
        # or a strongly curved profile would move only the other end, by ever smaller steps)
        if kept <= -2:
            outer_g /= 2
        elif kept >= 2:
            inner_g /= 2
        c = inner + (outer - inner) * (-inner_g) / (outer_g - inner_g)
    return c


def profile(fitted: Fit, data: RunData, level: float | None = None) -> Fit:
    """The fit with the profile-likelihood interval (:class:`ProfileInterval`) of every constant
    at ``level`` (default the fit's): each end is where 2 (profile -ln L - min -ln L) reaches
    the chi-square(1) quantile at ``level``, found by refitting the other constants with one
    held fixed (:func:`_profile_end`). The first step is the Wald half-width from the observed
    information; along a flat direction (no information) the search goes straight to the
    constant's bound, where an open end is reported. Runs are treated as independent, as by the
    likelihood itself; a seed's runs are not (shared network and data), which the seed-cluster
    bootstrap (:func:`bootstrap`) keeps."""
    level = fitted.level if level is None else level
    target = float(ndtri((1 + level) / 2))  # sqrt(chi2_1(level)): a chi2_1 variable is Z^2
    info = _observed_information(fitted, data)
    with np.errstate(divide="ignore", invalid="ignore"):
        variances = np.diag(np.linalg.pinv(info, rcond=1e-10, hermitian=True))
    intervals = {}
    for i, name in enumerate(fitted.names):
        # no information along theta_i (a type no run has): go to the bound at once
        flat = not np.abs(info[i]).max() > 1e-9 or not variances[i] > 0
        step = math.inf if flat else target * math.sqrt(variances[i])
        ends = [_profile_end(fitted, data, i, d, target, step) for d in (-1, 1)]
        intervals[name] = ProfileInterval(ends[0], ends[1], level)
    return dataclasses.replace(fitted, profiles=intervals, level=level)


# --------------------------------------------------------------------------- held-out scores


@dataclass(frozen=True)
class HeldOutScore:
    """How a fitted model predicts runs it never saw: deviance against the saturated cell model
    and the calibration slope, each judged against a parametric bootstrap of the whole protocol.

    Runs of one seed share data and the first neurons of their init, so their outcomes are
    dependent; the model treats runs as independent. The bootstrap therefore draws held-out
    outcomes twice: independently (``p_value``, ``calibration_interval``) and comonotone within a
    seed, one uniform per seed for all its runs (``*_comonotone``), the strongest positive
    dependence. The truth lies between; a verdict should hold under both."""

    runs: int
    cells: int
    deviance: float
    p_value: float
    calibration_slope: float
    calibration_interval: tuple[float, float]
    observed_rate: float
    predicted_rate: float
    p_value_comonotone: float = math.nan
    calibration_interval_comonotone: tuple[float, float] = (math.nan, math.nan)
    #: The simulated calibration slopes, (independent, comonotone) x draws.
    calibration_draws: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((2, 0)), repr=False)

    def calibration_interval_at(self, level: float, comonotone: bool = False) -> tuple[float, float]:
        """The basic calibration interval at another ``level`` (see :func:`score_held_out`)."""
        return _basic_interval(self.calibration_slope, self.calibration_draws[int(comonotone)], 1.0, level)


def cell_deviance(y: np.ndarray, p: np.ndarray, cell_index: np.ndarray) -> np.ndarray:
    """2 sum [log-likelihood of the saturated cell model - of the model], for every row of y (B, runs)."""
    y = np.atleast_2d(y).astype(float)
    cells = cell_index.max() + 1
    hits = np.zeros((y.shape[0], cells))
    for row in range(y.shape[0]):
        hits[row] = np.bincount(cell_index, weights=y[row], minlength=cells)
    size = np.bincount(cell_index, minlength=cells).astype(float)
    rate = hits / size
    with np.errstate(divide="ignore", invalid="ignore"):
        saturated = np.nansum(hits * np.log(rate) + (size - hits) * np.log1p(-rate), axis=1)
    p = np.clip(p, 1e-12, 1 - 1e-12)
    model = y @ np.log(p) + (1 - y) @ np.log1p(-p)
    return 2.0 * (saturated - model)


def calibration_slope(y: np.ndarray, p: np.ndarray) -> float:
    """beta of the logistic recalibration  y ~ expit(alpha + beta logit(p))  (1 = calibrated)."""
    x = np.log(np.clip(p, 1e-9, 1 - 1e-9)) - np.log1p(-np.clip(p, 1e-9, 1 - 1e-9))

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        eta = ab[0] + ab[1] * x
        value = np.sum(np.logaddexp(0, eta) - y * eta)
        residual = expit(eta) - y
        return float(value), np.array([residual.sum(), (residual * x).sum()])

    return float(minimize_quietly(loss, np.array([0.0, 1.0])).x[1])


def _basic_interval(estimate: float, draws: np.ndarray, truth: float, level: float) -> tuple[float, float]:
    """Basic bootstrap interval: the estimate's error under the simulation (draws - truth), reflected."""
    low, high = est.percentile_interval(draws, level)
    return (estimate - (high - truth), estimate - (low - truth))


def score_held_out(fitted: Fit, data: RunData, fit_data: RunData | None = None, n_bootstrap: int = 200,
                   seed: int = 0, level: float = est.INTERVAL_LEVEL) -> HeldOutScore:
    """Deviance of the held-out runs against the saturated cell model, and their calibration
    slope, judged by a parametric bootstrap of the whole protocol: ``n_bootstrap`` times, draw
    the fitted runs (``fit_data``) and the held-out runs from the fitted model, refit on the
    former and score the latter, so the p-value and the interval carry the fit's own
    uncertainty (without ``fit_data`` the fit is taken as exact). The deviance p-value is
    (1 + #{simulated >= observed}) / (1 + n_bootstrap); the calibration interval at ``level`` is
    the basic interval [s - (q_hi - 1), s - (q_lo - 1)] from the simulated slopes' quantiles
    (1 is the slope of a calibrated model). Each is given for independent and for
    seed-comonotone held-out outcomes (see :class:`HeldOutScore`)."""
    p = success_probability(fitted.model, fitted.theta, data)
    p_fit = None if fit_data is None else success_probability(fitted.model, fitted.theta, fit_data)
    _, cell_index = np.unique(data.cells, return_inverse=True)
    observed = float(cell_deviance(data.y, p, cell_index)[0])
    slope = calibration_slope(data.y.astype(float), p)
    rng = est.estimate_rng(seed, ("held-out", fitted.model.name))
    deviances = np.empty((2, n_bootstrap))
    slopes = np.empty((2, n_bootstrap))
    for b in range(n_bootstrap):
        predicted = p
        if fit_data is not None:
            simulated = fit_data.with_outcomes(draw_outcomes(p_fit, fit_data.seed, rng))
            predicted = success_probability(fitted.model, fit(fitted.model, simulated, start=fitted.theta).theta, data)
        independent = draw_outcomes(p, data.seed, rng)
        comonotone = draw_outcomes(p, data.seed, rng, comonotone=True)
        for row, outcomes in enumerate((independent, comonotone)):
            deviances[row, b] = cell_deviance(outcomes, predicted, cell_index)[0]
            slopes[row, b] = calibration_slope(outcomes.astype(float), predicted)
    p_values = (1 + np.sum(deviances >= observed, axis=1)) / (1 + n_bootstrap)
    intervals = [_basic_interval(slope, slopes[row], 1.0, level) for row in range(2)]
    return HeldOutScore(runs=data.runs, cells=int(cell_index.max() + 1), deviance=observed,
                        p_value=float(p_values[0]), calibration_slope=slope, calibration_interval=intervals[0],
                        observed_rate=float(data.y.mean()), predicted_rate=float(p.mean()),
                        p_value_comonotone=float(p_values[1]), calibration_interval_comonotone=intervals[1],
                        calibration_draws=slopes)


# --------------------------------------------------------------------------- predicted curves


def expected_success(model: Model, theta: np.ndarray, n: int, k: int, s: int, init: str, widths: Sequence[int],
                     log_m: np.ndarray) -> np.ndarray:
    """P(success | r, m) averaged over the multinomial type counts of a fresh network (widths, m):
    Model A: 1 - (sum_o q_o (1 - pi_o(m)))^r for sparse init, 1 - (1 - pi_dense(m))^r for dense."""
    from theory.lottery import critical_width, overlap_distribution

    q = {o: float(p) for o, p in overlap_distribution(n, k, s).items()}
    top = min(s, k)
    types = tuple([f"N_{o}" for o in range(top + 1)] + [DENSE])
    widths = np.asarray(widths, dtype=float)
    grid = np.asarray(log_m, dtype=float)
    one = RunData(y=np.zeros(grid.size, bool), log_m=grid, n=np.full(grid.size, float(n)), k=k, s=s,
                  width=np.ones(grid.size), seed=np.zeros(grid.size), dense=np.full(grid.size, init == "dense"),
                  counts=np.zeros((grid.size, len(types))), types=types,
                  critical_width=np.full(grid.size, float(critical_width(n, k, s))), cells=np.zeros(grid.size))
    if model.name == "B":
        return _expected_b(model, theta, one, q, top, init, widths)
    mu, _ = model.mu(theta, one)
    log_tail = log_ndtr(-(grid[:, None] - mu) / math.exp(theta[-1]))  # (m, types)
    if init == "dense":
        per_neuron = log_tail[:, -1]
    else:
        per_neuron = np.log(np.sum([q.get(o, 0.0) * np.exp(log_tail[:, o]) for o in range(top + 1)], axis=0))
    return -np.expm1(widths[:, None] * per_neuron[None, :])


def _expected_b(model: Model, theta: np.ndarray, one: RunData, q: dict, top: int, init: str,
                widths: np.ndarray) -> np.ndarray:
    out = np.empty((widths.size, one.runs))
    p_ticket = 0.0 if init == "dense" else q.get(top, 0.0)
    for i, r in enumerate(widths):
        curves = []
        for has in (0.0, 1.0):
            counts = np.zeros_like(one.counts)
            counts[:, top] = has
            case = one.replace(width=np.full(one.runs, r), counts=counts)
            curves.append(success_probability(model, theta, case))
        chance = 1 - (1 - p_ticket) ** r
        out[i] = (1 - chance) * curves[0] + chance * curves[1]
    return out


def predicted_m50(model: Model, theta: np.ndarray, n: int, k: int, s: int, init: str, widths: Sequence[int],
                  bounds: tuple[float, float] = (1.0, 1e8), points: int = 801) -> np.ndarray:
    """m_50(r) of the model: where the expected success first reaches 1/2 on a fine grid of ln m
    (linear interpolation between grid points; ``bounds[1]`` when it never does)."""
    grid = np.linspace(math.log(bounds[0]), math.log(bounds[1]), points)
    curves = expected_success(model, theta, n, k, s, init, widths, grid)
    out = np.full(len(widths), bounds[1])
    for i, curve in enumerate(curves):
        above = np.flatnonzero(curve >= 0.5)
        if above.size == 0:
            continue
        j = above[0]
        if j == 0:
            out[i] = bounds[0]
            continue
        fraction = (0.5 - curve[j - 1]) / (curve[j] - curve[j - 1])
        out[i] = math.exp(grid[j - 1] + fraction * (grid[j] - grid[j - 1]))
    return out


# --------------------------------------------------------------------------- synthetic data


def synthetic_design(ns: Sequence[int], widths: Sequence[int], samples: Sequence[int], seeds: int, k: int = 3,
                     s: int = 2, inits: Sequence[str] = ("dense", "sparse"), seed: int = 0) -> RunData:
    """A design like a sweep's (every n x init x width x m x seed; a seed's network is shared by
    its m values, as in the simulator), with type counts drawn from their multinomial law. The
    outcomes are all False: draw them with :func:`simulate_outcomes`."""
    from theory.lottery import critical_width, overlap_distribution

    rng = np.random.default_rng(seed)
    top = min(s, k)
    types = tuple([f"N_{o}" for o in range(top + 1)] + [DENSE])
    rows = []
    for n in ns:
        q = np.array([float(overlap_distribution(n, k, s).get(o, 0)) for o in range(top + 1)])
        for init in inits:
            for width in widths:
                for sd in range(seeds):
                    counts = np.zeros(len(types))
                    if init == "dense":
                        counts[-1] = width
                    else:
                        counts[:-1] = rng.multinomial(width, q / q.sum())
                    for m in samples:
                        rows.append((n, init == "dense", width, sd, m, counts, f"{n}|{init}|{width}|{m}"))
    n_arr, dense, width_arr, seed_arr, m_arr, counts, cells = (np.array(x) for x in zip(*rows))
    return RunData(y=np.zeros(len(rows), bool), log_m=np.log(m_arr.astype(float)), n=n_arr.astype(float), k=k,
                   s=s, width=width_arr.astype(float), seed=seed_arr + 1000 * n_arr, dense=dense.astype(bool),
                   counts=np.stack(counts).astype(float), types=types,
                   critical_width=np.array([critical_width(int(n), k, s) for n in n_arr], dtype=float),
                   cells=cells)


def simulate_outcomes(model: Model, theta: np.ndarray, data: RunData, rng: np.random.Generator,
                      comonotone: bool = False) -> RunData:
    """The same runs with outcomes drawn from the model at ``theta``: independently, or
    (``comonotone``) from one uniform per seed, so a seed's runs succeed in order of their
    success probability (the strongest positive dependence within a seed)."""
    p = success_probability(model, np.asarray(theta, dtype=float), data)
    return data.with_outcomes(draw_outcomes(p, data.seed, rng, comonotone))


def draw_outcomes(p: np.ndarray, seeds: np.ndarray, rng: np.random.Generator, comonotone: bool = False) -> np.ndarray:
    """Successes with probabilities ``p``: independent, or from one uniform per seed (comonotone)."""
    if comonotone:
        _, seed_index = np.unique(seeds, return_inverse=True)
        return rng.random(seed_index.max() + 1)[seed_index] < p
    return rng.random(p.size) < p
