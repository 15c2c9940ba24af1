"""The named checks: every prediction of ``theory`` against what ``sim`` measures.

Each check returns a :class:`CheckResult` with status PASS, FAIL or INCONCLUSIVE, a one-line
summary with the deciding numbers, and a ``details`` dict (JSON-ready). ``level`` is the
confidence level of every interval a check uses (Clopper-Pearson for proportions, bootstrap
percentile intervals for thresholds, Bonferroni-corrected t intervals for gradients).

1. ``fourier_vs_bruteforce``  exact Krawtchouk coefficients (theory.fourier.coefficient) equal
   the brute-force Walsh-Hadamard transform, in exact rational arithmetic (docs/science.md 4.2).
2. ``init_gradient``  the population gradient of neurons from ``sim.init`` (tickets and
   non-tickets), estimated through the reference kernel ``sim.backends.numpy`` from fresh
   samples, equals the exact prediction within Bonferroni-corrected intervals (4.3).
3. ``ticket_frequency``  the fraction of ticket neurons made by ``sim.init`` matches
   theory.lottery.ticket_probability (Clopper-Pearson interval contains p) (4.4).
4. ``width_monotone``  success never drops significantly with width at fixed m (5.2).
5. ``sparse_beats_dense``  at the largest shared width, m_50(sparse) < m_50(dense) (5.3).
6. ``ticket_collapse``  the jump of m_50 sits at the critical width r* = 1/p (4.4).
7. ``sq_consistent``  no cell succeeds significantly more often than the SQ bound allows (4.1).
8. ``tickets_after_training``  the largest-norm neurons of successful sparse runs started as
   tickets more often than chance (5.5).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from . import estimates as est

if TYPE_CHECKING:
    import pandas as pd

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
STATUSES = (PASS, FAIL, INCONCLUSIVE)
#: Confidence level of every interval a check uses, unless the caller gives another.
CHECK_LEVEL = 0.99
# Check 6: a width is "cheap" (on the plateau) only if its m_50 is, with confidence, within
# this factor of the widest width's m_50.
JUMP_FACTOR = 1.5


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one named check: its status, a one-line summary with the deciding numbers,
    JSON-ready details, and the plain-language ``statements`` the report uses, each with the
    status it belongs under (a check over several settings may agree on one, not another)."""

    name: str
    status: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    statements: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "summary": self.summary,
                "details": _jsonable(self.details), "statements": [list(s) for s in self.statements]}


@dataclass(frozen=True)
class Check:
    """A registered check: ``function(frame, level, **context) -> CheckResult`` tests ``claim``;
    ``describe(result)`` gives the report's sentences as (status, sentence) pairs."""

    name: str
    claim: str
    function: Callable[..., CheckResult]
    describe: Callable[[CheckResult], list[tuple[str, str]]]


#: Every check, in the order they run and are reported. Adding a check = one function under
#: :func:`register` (plus its PASS, FAIL and INCONCLUSIVE tests).
CHECKS: dict[str, Check] = {}


def register(name: str, claim: str, describe: Callable[[CheckResult], list[tuple[str, str]]]):
    """Decorator: add ``function`` to :data:`CHECKS` under ``name``."""
    def add(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        if name in CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        CHECKS[name] = Check(name, claim, function, describe)
        return function
    return add


def _bucket(status: str, text: str) -> list[tuple[str, str]]:
    return [(status, text)]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf" if v < 0 else "nan")
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Fraction):
        return str(value)
    return value


def _sparse_settings(frame: "pd.DataFrame") -> list[dict]:
    return [s for s in est.settings_of(frame) if s["init"] == "sparse"] if len(frame) else []


def is_ticket(support: Sequence[int], target: Sequence[int]) -> bool:
    """docs/science.md 4.4: S ⊆ U when s >= k, U ⊆ S when s < k."""
    u, s = set(support), set(target)
    return s <= u if len(u) >= len(s) else u <= s


# --------------------------------------------------------------------------- check 1
def _activation(name: str, z: Fraction) -> Fraction:
    if name == "relu":
        return z if z > 0 else Fraction(0)
    if name == "step":
        return Fraction(1) if z > 0 else Fraction(0)
    return Fraction((z > 0) - (z < 0))


def bruteforce_coefficient(s: int, degree: int, bias: Fraction, activation: str) -> Fraction:
    """2^-s sum_x act(x_1+...+x_s+b) prod_{i<degree} x_i over {-1,+1}^s, exactly."""
    total = Fraction(0)
    for x in product((1, -1), repeat=s):
        chi = math.prod(x[:degree]) if degree else 1
        total += chi * _activation(activation, sum(x) + bias)
    return total / 2**s


def _describe_fourier(c: CheckResult) -> list[tuple[str, str]]:
    d = c.details
    return _bucket(c.status, f"the exact Krawtchouk Fourier coefficients agreed with brute-force transforms in "
                             f"{d.get('compared', 0) - len(d.get('mismatches', []))} of {d.get('compared', 0)} cases")


@register("fourier_vs_bruteforce",
          claim=(
          "Exact Krawtchouk coefficients (theory.fourier.coefficient) equal the brute-force Walsh-"
          "Hadamard transform, in exact rational arithmetic (docs/science.md 4.2)."
          ),
          describe=_describe_fourier)
def check_fourier_vs_bruteforce(frame: "pd.DataFrame | None" = None, level: float = CHECK_LEVEL,
                                max_s: int = 6) -> CheckResult:
    """Exact equality of theory.fourier.coefficient and the brute-force transform for every
    s <= max_s (and every sparsity in the store, up to 10), degree, activation and a set of
    rational biases."""
    from theory.fourier import coefficient

    sizes = set(range(1, max_s + 1))
    if frame is not None and len(frame):
        sizes |= {int(s["sparsity"]) for s in _sparse_settings(frame) if int(s["sparsity"]) <= 10}
    biases = [Fraction(0), Fraction(1, 2), Fraction(-1), Fraction(3, 2), Fraction(-2, 3), Fraction(1)]
    compared, mismatches = 0, []
    for s in sorted(sizes):
        for activation in ("relu", "step", "sign"):
            for bias in biases:
                for degree in range(s + 1):
                    exact = Fraction(str(coefficient(s, degree, bias, activation)))
                    brute = bruteforce_coefficient(s, degree, bias, activation)
                    compared += 1
                    if exact != brute:
                        mismatches.append({"s": s, "degree": degree, "bias": str(bias), "activation": activation,
                                           "theory": str(exact), "bruteforce": str(brute)})
    status = PASS if not mismatches else FAIL
    summary = f"{compared - len(mismatches)}/{compared} coefficients equal exactly (s <= {max(sizes)})"
    return CheckResult("fourier_vs_bruteforce", status, summary,
                       {"compared": compared, "mismatches": mismatches[:10], "sizes": sorted(sizes)})


# --------------------------------------------------------------------------- check 2
def exact_step_signal(n: int, support: Sequence[int], support_values: Sequence[float], off_value: float,
                      bias: float, target_set: Sequence[int]) -> float:
    """E[chi_T(x) step(w . x + b)] exactly, for w = support_values on U and off_value elsewhere.

    Sums over the 2^s patterns of x_U and, for the n - s other coordinates R, over the number
    j of -1 entries with the Krawtchouk count c_a(j) = sum_i (-1)^i C(a,i) C(N-a, j-i) of
    patterns weighted by chi_{T \\ U} (a = |T \\ U|, N = n - s; docs/science.md 4.2). step(0) = 0."""
    u_index = {c: i for i, c in enumerate(support)}
    inside = [u_index[c] for c in target_set if c in u_index]
    a = sum(1 for c in target_set if c not in u_index)
    s, N = len(support), n - len(support)
    if off_value == 0.0 and a > 0:
        return 0.0
    counts = [sum((-1) ** i * math.comb(a, i) * math.comb(N - a, j - i) for i in range(0, min(a, j) + 1))
              for j in range(N + 1)]
    total = 0
    for x in product((1, -1), repeat=s):
        chi = math.prod(x[i] for i in inside) if inside else 1
        pre = float(np.dot(support_values, x)) + bias
        if off_value == 0.0:
            total += chi * (2**N if pre > 0 else 0)
        else:
            total += chi * sum(c for j, c in enumerate(counts) if pre + off_value * (N - 2 * j) > 0)
    return total / 2 ** (s + N)


def kernel_gradients(W: np.ndarray, b: np.ndarray, u: np.ndarray, supports_S: list[tuple[int, ...]],
                     batches: int, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the hinge-loss gradient dL/dW of single neurons, measured by
    one float64 step (lr = 1, no weight decay) of ``sim.backends.numpy`` per fresh batch.

    W (R, n), b (R,), u (R,): R independent width-1 networks; supports_S[i] is the target of
    network i. Returns (mean (R, n), standard error (R, n)) over ``batches`` batch means."""
    from sim.backends.numpy import make_kernel
    from sim.data import parity_labels, random_sign_rows

    R, n = W.shape
    dummy_X = np.ones((R, 1, n), dtype=np.int8)
    kernel = make_kernel(W[:, None, :], b[:, None], u[:, None], dtype="float64", lr=np.ones(R),
                         weight_decay=np.zeros(R), loss_ids=np.zeros(R, dtype=int), test_X=dummy_X,
                         test_y=np.ones((R, 1), dtype=np.int8))
    runs = np.arange(R)
    grads = np.empty((batches, R, n))
    for g in range(batches):
        X = random_sign_rows(rng, R * batch_size, n).reshape(R, 1, batch_size, n)
        y = np.stack([parity_labels(X[i, 0], supports_S[i]) for i in range(R)])[:, None, :]
        kernel.W[:] = W[:, None, :]
        kernel.b[:] = b[:, None]
        kernel.u[:] = u[:, None]
        kernel.train(runs, X, y)
        grads[g] = W - kernel.W[:, 0, :]  # lr = 1, weight decay 0: W_after = W - grad
    return grads.mean(axis=0), grads.std(axis=0, ddof=1) / math.sqrt(batches)


def _describe_init_gradient(c: CheckResult) -> list[tuple[str, str]]:
    if not c.details:
        return []
    d = c.details
    return _bucket(c.status,
                   f"the gradient the simulator computes at initialisation matched the exact Fourier prediction "
                   f"(largest deviation {d['max_abs_z']:.1f} standard errors against an allowed "
                   f"{d['bonferroni_t_critical']:.1f}; {d['nonzero_predicted_coordinates_detected']} nonzero ticket "
                   "signals detected, and only tickets carry one)")


@register("init_gradient",
          claim=(
          "The population gradient of neurons from sim.init, measured through the reference kernel "
          "on fresh samples, equals the exact prediction within Bonferroni-corrected intervals "
          "(docs/science.md 4.3)."
          ),
          describe=_describe_init_gradient)
def check_init_gradient(frame: "pd.DataFrame", level: float = CHECK_LEVEL, neurons_per_kind: int = 8,
                        batches: int = 48, batch_size: int = 1024, seed: int = 0) -> CheckResult:
    """Population gradient at init through the sim's own forward/backward vs the exact prediction.

    For the first sparse setting of the store: neurons of ``sim.init.initialize`` at the
    store's widest width, ``neurons_per_kind`` of each overlap |U ∩ S| (tickets included).
    Each neuron alone (width 1, so |f| < 1 and the hinge loss is in its linear part) gets
    ``batches`` x ``batch_size`` fresh samples of its run's parity; the gradient of w_j is
    compared with  -u * E[chi_{S Δ {j}}(x) step(w . x + b)]  computed exactly
    (:func:`exact_step_signal`: the 2^s transform of the neuron's actual threshold function;
    with the ``ones-eps`` variant's dense epsilon part included). For ``sign`` values the
    prediction is also taken from theory.fourier.gradient_signal (bias b*sqrt(s), signs
    absorbed into x) and must agree. Decision: every |z| = |estimate - prediction| / SE below
    the Bonferroni-corrected t quantile at ``level`` -> PASS (if the ticket signal was also
    detected as nonzero), one above -> FAIL."""
    from scipy.stats import t as student_t

    from sim import RunConfig
    from sim.data import draw_support
    from sim.init import initialize, sparse_supports
    from theory.fourier import gradient_signal

    settings = _sparse_settings(frame)
    if not settings:
        return CheckResult("init_gradient", INCONCLUSIVE, "no sparse-init runs in the store", {})
    setting = settings[0]
    data = est.rows_of_setting(frame, setting)
    n, k, s = int(setting["n"]), int(setting["k"]), int(setting["sparsity"])
    values = setting["sparse_values"]
    width = int(data["width"].max())
    off_value = 1.0 / (2 * (n - s)) if values == "ones-eps" and n > s else 0.0

    def predictions(w_row: np.ndarray, b_i: float, u_i: float, S: tuple[int, ...], U: tuple[int, ...]) -> list[float]:
        support_values = [float(w_row[c]) for c in U]
        return [-u_i * exact_step_signal(n, U, support_values, off_value, b_i, sorted(set(S) ^ {j}))
                for j in range(n)]

    # Buckets: every overlap |U ∩ S|; tickets split by whether their exact signal is nonzero
    # (with uniform values many tickets are dictator-like and carry none), so the check
    # always has neurons whose nonzero signal it must detect.
    ticket_overlap = min(s, k)
    wanted = {(o, False): neurons_per_kind for o in range(max(0, s + k - n), ticket_overlap)}
    wanted[(ticket_overlap, True)] = neurons_per_kind
    wanted[(ticket_overlap, False)] = max(1, neurons_per_kind // 2)
    chosen = []  # (W row, b, u, S, U, overlap, predictions)
    for run_seed in range(10_000):
        config = RunConfig(n=n, k=k, width=width, init="sparse", sparsity=s, sparse_values=values, seed=run_seed)
        S = draw_support(n, k, run_seed)
        W, b, u = initialize(config)
        supports = sparse_supports(config)
        for i, U_array in enumerate(supports):
            U = tuple(int(c) for c in U_array)
            o = len(set(U) & set(S))
            if not any(wanted.get((o, flag), 0) for flag in (False, True)):
                continue
            predicted = predictions(W[i], float(b[i]), float(u[i]), S, U)
            bucket = (o, any(v != 0.0 for v in predicted)) if o == ticket_overlap else (o, False)
            if wanted.get(bucket, 0) > 0:
                wanted[bucket] -= 1
                chosen.append((W[i], b[i], u[i], S, U, o, predicted))
        # Dictator-like (signal-free) tickets are optional: "sign" values never make them.
        if not any(v for key, v in wanted.items() if key != (ticket_overlap, False)) or run_seed >= 500:
            break
    W = np.stack([c[0] for c in chosen])
    b = np.array([c[1] for c in chosen])
    u = np.array([c[2] for c in chosen])
    # width-1 networks: |f| <= |u| (|w|_1 + |b|) < 1 keeps every sample in the linear part of the hinge.
    linear = np.abs(u) * (np.abs(W).sum(axis=1) + np.abs(b)) < 1.0
    mean, se = kernel_gradients(W, b, u, [c[3] for c in chosen], batches, batch_size, np.random.default_rng(seed))

    comparisons = len(chosen) * n
    alpha = 1.0 - level
    critical = float(student_t.ppf(1.0 - alpha / (2.0 * comparisons), batches - 1))
    worst_z, worst, theory_gap, detected, signal_neurons = 0.0, {}, 0.0, 0, 0
    by_overlap: dict[int, dict[str, float]] = {}
    for r, (w_row, b_r, u_r, S, U, o, predicted_row) in enumerate(chosen):
        signal_here = False
        for j in range(n):
            T = sorted(set(S) ^ {j})
            predicted = predicted_row[j]
            z = (mean[r, j] - predicted) / se[r, j] if se[r, j] > 0 else (0.0 if mean[r, j] == predicted else math.inf)
            entry = by_overlap.setdefault(o, {"neurons": 0, "max_abs_z": 0.0, "max_abs_predicted": 0.0})
            entry["max_abs_z"] = max(entry["max_abs_z"], abs(z))
            entry["max_abs_predicted"] = max(entry["max_abs_predicted"], abs(predicted))
            if abs(z) > worst_z:
                worst_z = abs(z)
                worst = {"overlap": o, "coordinate_in_S": j in S, "coordinate_in_U": j in U,
                         "estimate": float(mean[r, j]), "predicted": predicted, "se": float(se[r, j])}
            if predicted != 0.0:
                signal_here = True
                if abs(mean[r, j]) / se[r, j] > critical:
                    detected += 1
            if values == "sign":
                signs = {c: (1 if w_row[c] > 0 else -1) for c in U}
                gs = gradient_signal(n, k, s, bias=Fraction(float(b_r) * math.sqrt(s)), overlap=o)
                kind = ("in_target_and_support" if j in S and j in U else "in_support_only" if j in U
                        else "in_target_only" if j in S else "in_neither")
                theory_value = -float(u_r) * float(getattr(gs, kind)) * math.prod(signs[c] for c in T if c in signs)
                theory_gap = max(theory_gap, abs(theory_value - predicted))
        by_overlap[o]["neurons"] += 1
        signal_neurons += signal_here
    details = {"n": n, "k": k, "s": s, "sparse_values": values, "width": width, "neurons": len(chosen),
               "samples_per_neuron": batches * batch_size, "comparisons": comparisons,
               "bonferroni_t_critical": critical, "max_abs_z": worst_z, "worst": worst,
               "by_overlap": {str(o): v for o, v in sorted(by_overlap.items())},
               "nonzero_predicted_coordinates_detected": detected, "neurons_with_predicted_signal": signal_neurons,
               "all_in_linear_hinge_regime": bool(linear.all())}
    if values == "sign":
        details["max_abs_difference_exact_vs_theory_gradient_signal"] = theory_gap
    summary = (f"{len(chosen)} neurons x {n} coords, {batches * batch_size} samples each: "
               f"max |z| = {worst_z:.2f} vs Bonferroni t = {critical:.2f}; "
               f"{detected} nonzero predicted signals detected")
    if not linear.all():
        return CheckResult("init_gradient", INCONCLUSIVE, summary + " (some neuron outside the linear hinge regime)",
                           details)
    if worst_z > critical or theory_gap > 1e-12:
        return CheckResult("init_gradient", FAIL, summary, details)
    if signal_neurons == 0 or detected == 0:
        return CheckResult("init_gradient", INCONCLUSIVE, summary + " (no nonzero signal detected: underpowered)",
                           details)
    return CheckResult("init_gradient", PASS, summary, details)


# --------------------------------------------------------------------------- check 3
def _describe_ticket_frequency(c: CheckResult) -> list[tuple[str, str]]:
    rows = c.details.get("rows", []) if c.details else []
    return [(c.status, f"sim.init produced tickets at rate {r['observed']:.4f} (n={r['n']}, s={r['s']}) where theory "
                       f"says {r['theory_exact']} = {r['theory']:.4f}") for r in rows]


@register("ticket_frequency",
          claim=(
          "The fraction of ticket neurons sim.init draws matches theory.lottery.ticket_probability "
          "(docs/science.md 4.4)."
          ),
          describe=_describe_ticket_frequency)
def check_ticket_frequency(frame: "pd.DataFrame", level: float = CHECK_LEVEL,
                           min_neurons: int = 200_000) -> CheckResult:
    """Fraction of ticket neurons among the supports sim.init draws, vs ticket_probability.

    For each sparse (n, k, s) of the store: the supports of every stored run (its seed and
    width), topped up with further seeds at the widest width until ``min_neurons`` neurons;
    each run's own target S (sim.data.draw_support). PASS when theory's p lies in the
    Clopper-Pearson interval of the observed fraction at ``level`` (FAIL otherwise)."""
    from scipy.stats import binomtest

    from sim import RunConfig
    from sim.data import draw_support
    from sim.init import sparse_supports
    from theory.lottery import ticket_probability

    settings = _sparse_settings(frame)
    if not settings:
        return CheckResult("ticket_frequency", INCONCLUSIVE, "no sparse-init runs in the store", {})
    rows, statuses = [], []
    seen = set()
    for setting in settings:
        n, k, s = int(setting["n"]), int(setting["k"]), int(setting["sparsity"])
        if (n, k, s) in seen:
            continue
        seen.add((n, k, s))
        data = est.rows_of_setting(frame, setting)
        pairs = sorted({(int(w), int(sd)) for w, sd in zip(data["width"], data["seed"])})
        widest = max(w for w, _ in pairs)
        total = sum(w for w, _ in pairs)
        extra_seed = max(sd for _, sd in pairs) + 1
        while total < min_neurons:
            pairs.append((widest, extra_seed))
            total += widest
            extra_seed += 1
        tickets = neurons = 0
        for width, run_seed in pairs:
            config = RunConfig(n=n, k=k, width=width, init="sparse", sparsity=s, seed=run_seed)
            S = set(draw_support(n, k, run_seed))
            supports = sparse_supports(config)
            hits = np.isin(supports, list(S)).sum(axis=1)
            tickets += int((hits == min(s, k)).sum())
            neurons += width
        p = float(ticket_probability(n, k, s))
        test = binomtest(tickets, neurons, p)
        ci = test.proportion_ci(confidence_level=level, method="exact")
        inside = ci.low <= p <= ci.high
        statuses.append(inside)
        rows.append({"n": n, "k": k, "s": s, "neurons": neurons, "tickets": tickets,
                     "observed": tickets / neurons, "ci_low": float(ci.low), "ci_high": float(ci.high),
                     "theory": p, "theory_exact": str(ticket_probability(n, k, s)), "p_value": float(test.pvalue)})
    status = PASS if all(statuses) else FAIL
    summary = "; ".join(f"(n={r['n']},k={r['k']},s={r['s']}) {r['tickets']}/{r['neurons']} = {r['observed']:.5f} "
                        f"CI [{r['ci_low']:.5f}, {r['ci_high']:.5f}] vs p = {r['theory']:.5f}" for r in rows)
    return CheckResult("ticket_frequency", status, summary, {"rows": rows, "level": level})


# --------------------------------------------------------------------------- check 4
def _describe_width_monotone(c: CheckResult) -> list[tuple[str, str]]:
    if not c.details:
        return []
    d = c.details
    text = (f"success never dropped significantly with width ({d['pairs']} width pairs, "
            f"{len(d['significant_violations'])} significant drops)")
    if c.status == FAIL:
        w = d["significant_violations"][0]
        text = (f"success dropped significantly with width ({w['setting']}, m={est.format_m(w['samples'])}: "
                f"{w['narrow_rate']:.2f} at r={w['narrow_width']} vs {w['wide_rate']:.2f} at r={w['wide_width']})")
    return _bucket(c.status, text)


@register("width_monotone",
          claim=(
          "Success never drops significantly with width at fixed m (docs/science.md 5.2)."
          ),
          describe=_describe_width_monotone)
def check_width_monotone(frame: "pd.DataFrame", level: float = CHECK_LEVEL) -> CheckResult:
    """At every (setting, m), for every pair of widths r1 < r2: FAIL when the Clopper-Pearson
    upper bound at r2 lies below the lower bound at r1 (the intervals are disjoint)."""
    cells = est.success_table(frame, level) if len(frame) else None
    if cells is None or cells.empty:
        return CheckResult("width_monotone", INCONCLUSIVE, "no runs in the store", {})
    pairs = point_drops = 0
    violations, worst = [], None
    for _setting, group in cells.groupby(list(est.SETTING_FIELDS) + ["samples"], dropna=False, sort=True):
        group = group.sort_values("width")
        rows = group.to_dict("records")
        for i, narrow in enumerate(rows):
            for wide in rows[i + 1:]:
                pairs += 1
                drop = narrow["success_rate"] - wide["success_rate"]
                if drop > 0:
                    point_drops += 1
                margin = narrow["ci_low"] - wide["ci_high"]
                record = {"setting": est.setting_label(narrow), "samples": narrow["samples"],
                          "narrow_width": int(narrow["width"]), "wide_width": int(wide["width"]),
                          "narrow_rate": narrow["success_rate"], "wide_rate": wide["success_rate"],
                          "narrow_ci": [narrow["ci_low"], narrow["ci_high"]], "wide_ci": [wide["ci_low"], wide["ci_high"]]}
                if worst is None or drop > worst["drop"]:
                    worst = dict(record, drop=drop)
                if margin > 0:
                    violations.append(record)
    details = {"pairs": pairs, "point_estimate_drops": point_drops, "significant_violations": violations[:20],
               "worst_drop": worst, "level": level}
    if pairs == 0:
        return CheckResult("width_monotone", INCONCLUSIVE, "fewer than two widths at every m", details)
    summary = (f"{pairs} width pairs compared, {point_drops} point-estimate drops, "
               f"{len(violations)} beyond the {level:.0%} intervals")
    if worst is not None and worst["drop"] > 0:
        summary += (f"; largest drop {worst['drop']:.2f} ({worst['setting']}, m={est.format_m(worst['samples'])}"
                    f", r={worst['narrow_width']}->{worst['wide_width']})")
    return CheckResult("width_monotone", FAIL if violations else PASS, summary, details)


# --------------------------------------------------------------------------- check 5
def _describe_sparse_beats_dense(c: CheckResult) -> list[tuple[str, str]]:
    out = []
    for comp in (c.details or {}).get("comparisons", []):
        lo, hi = comp["ratio_ci"]
        verdict = {PASS: "needed fewer samples than", FAIL: "needed more samples than",
                   INCONCLUSIVE: "could not be told apart from"}[comp["status"]]
        out.append((comp["status"],
                    f"at width {comp['width']} sparse init ({comp['setting']}) {verdict} dense init: m_50 "
                    f"{est.format_m(comp['m50_sparse'])} vs {est.format_m(comp['m50_dense'])}, a factor "
                    f"{comp['ratio_dense_over_sparse']:.2f} (interval {lo:.2f} to {hi:.2f}); the paper reports well "
                    "over 1.5 at its scale" + ("" if lo > 1.5 else ", which this run does not reach")))
    return out


_PAIR_FIELDS = tuple(f for f in est.SETTING_FIELDS if f not in ("init", "sparsity", "sparse_values"))


@register("sparse_beats_dense",
          claim=(
          "At the largest shared width, sparse init needs fewer samples than dense: m_50(dense) / "
          "m_50(sparse) > 1 (docs/science.md 5.3)."
          ),
          describe=_describe_sparse_beats_dense)
def check_sparse_beats_dense(frame: "pd.DataFrame", level: float = CHECK_LEVEL,
                             n_bootstrap: int = est.DEFAULT_BOOTSTRAP, seed: int = 0,
                             m50: list[est.M50Estimate] | None = None) -> CheckResult:
    """At the largest width that both a dense and a sparse setting (same n, k, hyperparameters)
    have, the bootstrap interval of m_50(dense) / m_50(sparse): PASS when it lies above 1,
    FAIL when below 1, INCONCLUSIVE when it contains 1."""
    estimates = m50 if m50 is not None else (est.m50_estimates(frame, level, n_bootstrap, seed) if len(frame) else [])
    comparisons = []
    for sparse in {tuple(e.setting[f] for f in est.SETTING_FIELDS) for e in estimates if e.setting["init"] == "sparse"}:
        sparse_setting = dict(zip(est.SETTING_FIELDS, sparse))
        key = tuple(sparse_setting[f] for f in _PAIR_FIELDS)
        dense_est = {e.width: e for e in estimates
                     if e.setting["init"] == "dense" and tuple(e.setting[f] for f in _PAIR_FIELDS) == key}
        sparse_est = {e.width: e for e in estimates if tuple(e.setting[f] for f in est.SETTING_FIELDS) == sparse}
        shared = sorted(set(dense_est) & set(sparse_est))
        if not shared:
            continue
        width = shared[-1]
        d, s = dense_est[width], sparse_est[width]
        point, low, high = est.ratio_interval(d, s, level)
        comparisons.append({"setting": est.setting_label(sparse_setting), "width": width,
                            "m50_dense": d.m50, "m50_dense_censored": d.censored,
                            "m50_dense_ci": [d.ci_low, d.ci_high], "m50_sparse": s.m50,
                            "m50_sparse_censored": s.censored, "m50_sparse_ci": [s.ci_low, s.ci_high],
                            "ratio_dense_over_sparse": point, "ratio_ci": [low, high],
                            "status": PASS if low > 1 else FAIL if high < 1 else INCONCLUSIVE})
    if not comparisons:
        return CheckResult("sparse_beats_dense", INCONCLUSIVE,
                           "no width with m_50 estimates for both dense and sparse init", {})
    statuses = [c["status"] for c in comparisons]
    status = FAIL if FAIL in statuses else PASS if PASS in statuses else INCONCLUSIVE
    summary = "; ".join(
        f"{c['setting']} r={c['width']}: m50 dense {est.format_estimate(c['m50_dense'], c['m50_dense_censored'])} vs sparse "
        f"{est.format_estimate(c['m50_sparse'], c['m50_sparse_censored'])}, ratio {c['ratio_dense_over_sparse']:.2f} "
        f"[{c['ratio_ci'][0]:.2f}, {c['ratio_ci'][1]:.2f}] {c['status']}" for c in comparisons)
    return CheckResult("sparse_beats_dense", status, summary, {"comparisons": comparisons, "level": level})


# --------------------------------------------------------------------------- check 6
def _describe_ticket_collapse(c: CheckResult) -> list[tuple[str, str]]:
    out = []
    for s in (c.details or {}).get("settings", []):
        ratios = ", ".join(f"x{w['ratio_to_widest']:.2f} at r={w['width']}" for w in s["widths"][:-1])
        text = (f"with sparse init ({s['setting']}) the sample threshold relative to the widest network was "
                f"{ratios or 'not measurable'}; theory puts the collapse at r* = {s['critical_width']}")
        largest = max((w["ratio_to_widest"] for w in s["widths"]), default=1.0)
        if s["status"] == PASS:
            text += f", and r* does lie between r={s['widest_expensive']} and r={s['narrowest_cheap']}"
        if largest < 2.0:
            text += (f"; the rise is gradual (at most x{largest:.2f}), not the sharp collapse the theory "
                     "predicts at scale")
        out.append((s["status"], text))
    return out


@register("ticket_collapse",
          claim=(
          "The jump of m_50 with sparse init sits at the critical width r* = 1/p (docs/science.md "
          "4.4)."
          ),
          describe=_describe_ticket_collapse)
def check_ticket_collapse(frame: "pd.DataFrame", level: float = CHECK_LEVEL,
                          n_bootstrap: int = est.DEFAULT_BOOTSTRAP, seed: int = 0, jump: float = JUMP_FACTOR,
                          m50: list[est.M50Estimate] | None = None) -> CheckResult:
    """Sparse init: m_50 should jump up once the width falls below r* = critical_width(n, k, s).

    Reference (the plateau) is the widest width's m_50. Every other width w gets the bootstrap
    interval [lo, hi] of m_50(w) / m_50(widest): *expensive* when lo > 1 (significantly more
    samples than the plateau), *cheap* when lo <= 1 and hi < ``jump`` (statistically on the
    plateau), undecided otherwise; the widest is cheap. PASS: r* lies between the widest
    expensive width and the narrowest cheap one (inclusive: at r = r* a network has one
    ticket on average, the edge itself). FAIL: an expensive width above r*, or a cheap width
    below r* (the jump is elsewhere).
    INCONCLUSIVE: the widths do not bracket r*, or no width is decisively expensive."""
    from theory.lottery import critical_width

    estimates = m50 if m50 is not None else (est.m50_estimates(frame, level, n_bootstrap, seed) if len(frame) else [])
    by_setting: dict[tuple, list[est.M50Estimate]] = {}
    for e in estimates:
        if e.setting["init"] == "sparse":
            by_setting.setdefault(tuple(e.setting[f] for f in est.SETTING_FIELDS), []).append(e)
    results = []
    for key, group in by_setting.items():
        setting = dict(zip(est.SETTING_FIELDS, key))
        n, k, s = int(setting["n"]), int(setting["k"]), int(setting["sparsity"])
        r_star = critical_width(n, k, s)
        group = sorted(group, key=lambda e: e.width)
        widest = group[-1]
        widths = []
        for e in group:
            if e is widest:
                ratio, low, high, regime = 1.0, 1.0, 1.0, "cheap"
            else:
                ratio, low, high = est.ratio_interval(e, widest, level)
                regime = "expensive" if low > 1.0 else "cheap" if high < jump else "undecided"
            widths.append({"width": e.width, "m50": e.m50, "censored": e.censored, "m50_ci": [e.ci_low, e.ci_high],
                           "ratio_to_widest": ratio, "ratio_ci": [low, high], "regime": regime})
        expensive = [w["width"] for w in widths if w["regime"] == "expensive"]
        cheap = [w["width"] for w in widths if w["regime"] == "cheap"]
        brackets = group[0].width < r_star <= widest.width
        if not brackets or len(group) < 2 or widest.censored == "above":
            status = INCONCLUSIVE  # no bracket, or the plateau itself lies above the m grid
        elif any(w > r_star for w in expensive) or any(w < r_star for w in cheap):
            status = FAIL
        elif expensive and cheap:
            status = PASS
        else:
            status = INCONCLUSIVE
        results.append({"setting": est.setting_label(setting), "critical_width": r_star, "brackets": brackets,
                        "widest_expensive": max(expensive) if expensive else None,
                        "narrowest_cheap": min(cheap) if cheap else None, "widths": widths, "status": status})
    if not results:
        return CheckResult("ticket_collapse", INCONCLUSIVE, "no sparse setting with m_50 estimates", {})
    statuses = [r["status"] for r in results]
    status = FAIL if FAIL in statuses else PASS if PASS in statuses else INCONCLUSIVE
    summary = "; ".join(
        f"{r['setting']}: r* = {r['critical_width']}, widest expensive {r['widest_expensive']}, "
        f"narrowest cheap {r['narrowest_cheap']} ("
        + ", ".join(f"r={w['width']}: {est.format_estimate(w['m50'], w['censored'])} x{w['ratio_to_widest']:.2f}" for w in r["widths"])
        + ")" + ("" if r["brackets"] else " [grid does not bracket r*]") + f" {r['status']}" for r in results)
    return CheckResult("ticket_collapse", status, summary, {"settings": results, "jump_factor": jump, "level": level})


# --------------------------------------------------------------------------- check 7
def _describe_sq_consistent(c: CheckResult) -> list[tuple[str, str]]:
    if not c.details:
        return []
    d = c.details
    if c.status == INCONCLUSIVE:
        return _bucket(c.status, f"the SQ lower bound is vacuous at this scale (smallest allowed success probability "
                                 f"{d['smallest_bound']:.3g}): parameters x steps x samples exceed C(n,k) by far, so "
                                 "no run could contradict it")
    return _bucket(c.status, f"{len(d['violations'])} cells beat the SQ frontier "
                             f"(bound < 1 in {d['cells_with_nonvacuous_bound']} cells)")


@register("sq_consistent",
          claim=(
          "No cell succeeds significantly more often than the SQ bound allows (docs/science.md "
          "4.1)."
          ),
          describe=_describe_sq_consistent)
def check_sq_consistent(frame: "pd.DataFrame", level: float = CHECK_LEVEL) -> CheckResult:
    """Per cell, the SQ bound q_max = min(1, 2 p T m / C(n,k)) (theory.sq.max_success_probability,
    p = mlp_params(n, width), T = max_steps, m = samples or T x batch for online runs) against
    the Clopper-Pearson lower bound of the cell's success rate. FAIL: some cell succeeds
    significantly more often than the bound allows. INCONCLUSIVE: the bound is 1 (vacuous) in
    every cell with successes, so it could not have failed."""
    from theory.sq import max_success_probability, mlp_params

    cells = est.success_table(frame, level) if len(frame) else None
    if cells is None or cells.empty:
        return CheckResult("sq_consistent", INCONCLUSIVE, "no runs in the store", {})
    tested, binding, violations, smallest = 0, 0, [], math.inf
    for row in cells.to_dict("records"):
        if row["successes"] == 0:
            continue
        n, k, width, steps = int(row["n"]), int(row["k"]), int(row["width"]), int(row["max_steps"])
        samples = steps * int(row["batch_size"]) if math.isnan(row["samples"]) else int(row["samples"])
        bound = float(max_success_probability(n, k, mlp_params(n, width), steps, samples))
        tested += 1
        smallest = min(smallest, bound)
        if bound < 1:
            binding += 1
        if row["ci_low"] > bound:
            violations.append({"setting": est.setting_label(row), "width": width, "samples": row["samples"],
                               "success_rate": row["success_rate"], "ci_low": row["ci_low"], "bound": bound})
    details = {"cells_with_successes": tested, "cells_with_nonvacuous_bound": binding,
               "smallest_bound": smallest, "violations": violations[:20], "level": level}
    summary = (f"{tested} cells with successes, bound < 1 in {binding}, smallest bound {smallest:.3g}, "
               f"{len(violations)} violations")
    if violations:
        return CheckResult("sq_consistent", FAIL, summary, details)
    if binding == 0:
        return CheckResult("sq_consistent", INCONCLUSIVE, summary + " (vacuous: p*T*m >> C(n,k) at this scale)",
                           details)
    return CheckResult("sq_consistent", PASS, summary, details)


# --------------------------------------------------------------------------- check 8
def _sum_of_hypergeometric_tail(draws: list[tuple[int, int, int]], observed: int) -> float:
    """P(sum_i X_i >= observed), X_i ~ Hypergeometric(population N_i, K_i successes, t_i draws)."""
    from scipy.stats import hypergeom

    distribution = np.array([1.0])
    for population, good, taken in draws:
        pmf = hypergeom.pmf(np.arange(taken + 1), population, good, taken)
        distribution = np.convolve(distribution, pmf)
    return float(distribution[observed:].sum()) if observed < distribution.size else 0.0


def _describe_tickets_after_training(c: CheckResult) -> list[tuple[str, str]]:
    if not c.details or "runs" not in c.details:
        return []
    d = c.details
    top_total = sum(min(d["top"], r["width"]) for r in d["runs"])
    return _bucket(c.status,
                   f"after training, {d['tickets_in_top']} of the {top_total} top-{d['top']} neurons (by weight norm) "
                   f"of {len(d['runs'])} successful sparse runs had started as tickets, against "
                   f"{d['expected_by_chance']:.2f} expected by chance (one-sided p = {d['p_value']:.2g})")


@register("tickets_after_training",
          claim=(
          "The largest-norm neurons of successful sparse runs started as tickets more often than "
          "chance (docs/science.md 5.5)."
          ),
          describe=_describe_tickets_after_training)
def check_tickets_after_training(frame: "pd.DataFrame", level: float = CHECK_LEVEL, backend: str = "numba",
                                 max_runs: int = 4, top: int = 5,
                                 history_fn: Callable | None = None) -> CheckResult:
    """Re-run up to ``max_runs`` successful offline sparse runs (widest width, fewest steps) with
    sim.train_history, rank neurons by final input-weight norm ||w_i||_2, and count tickets
    among the ``top`` largest. Null: the top neurons are a random subset of the run's neurons
    (a sum of hypergeometrics, exact). PASS: one-sided p < 1 - level. FAIL: no enrichment at all
    (count <= expected) although the test had power (all-tickets would have been significant).
    INCONCLUSIVE otherwise."""
    import sim
    from sim.data import draw_support
    from sim.init import sparse_supports
    from sim.store import configs_of

    settings = _sparse_settings(frame)
    if not settings:
        return CheckResult("tickets_after_training", INCONCLUSIVE, "no sparse-init runs in the store", {})
    data = est.normalized(frame)
    candidates = frame[(data["init"] == "sparse").to_numpy() & data["success"].to_numpy()
                       & data["samples"].notna().to_numpy()]
    if candidates.empty:
        return CheckResult("tickets_after_training", INCONCLUSIVE, "no successful offline sparse runs", {})
    widest = int(candidates["width"].max())
    chosen = candidates[candidates["width"] == widest].sort_values(["steps_to_success", "seed"]).head(max_runs)
    history_fn = history_fn or (lambda config: sim.train_history(config, backend=backend))
    runs, draws, observed, expected = [], [], 0, 0.0
    for config in configs_of(chosen):
        history = history_fn(config)
        W_final = history.final_weights[0]
        S = draw_support(config.n, config.k, config.seed)
        supports = sparse_supports(config)
        ticket = np.array([is_ticket(U, S) for U in supports.tolist()])
        overlap = np.isin(supports, list(S)).sum(axis=1)
        t = min(top, config.width)
        order = np.argsort(-np.linalg.norm(W_final, axis=1), kind="stable")[:t]
        hits = int(ticket[order].sum())
        observed += hits
        expected += t * ticket.mean()
        draws.append((config.width, int(ticket.sum()), t))
        runs.append({"seed": config.seed, "width": config.width, "samples": config.samples,
                     "reproduced_success": bool(history.result.success), "tickets_in_network": int(ticket.sum()),
                     "tickets_in_top": hits, "top_overlaps": overlap[order].tolist(),
                     "mean_overlap_all": float(overlap.mean())})
    p_value = _sum_of_hypergeometric_tail(draws, observed)
    best_case = sum(min(good, taken) for _, good, taken in draws)
    power = _sum_of_hypergeometric_tail(draws, best_case) < 1.0 - level if best_case > 0 else False
    details = {"runs": runs, "top": top, "tickets_in_top": observed, "expected_by_chance": expected,
               "p_value": p_value, "level": level, "rank": "final ||w_i||_2"}
    enrichment = observed / expected if expected > 0 else math.inf
    summary = (f"{observed} tickets among the top-{top} neurons of {len(runs)} runs (width {widest}); "
               f"chance {expected:.2f} (x{enrichment:.1f}), one-sided p = {p_value:.2g}")
    if p_value < 1.0 - level:
        return CheckResult("tickets_after_training", PASS, summary, details)
    if power and observed <= expected:
        return CheckResult("tickets_after_training", FAIL, summary, details)
    return CheckResult("tickets_after_training", INCONCLUSIVE, summary, details)


# --------------------------------------------------------------------------- all
CHECK_NAMES: tuple[str, ...] = tuple(CHECKS)


def run_checks(frame: "pd.DataFrame", level: float = CHECK_LEVEL, backend: str = "numba",
               names: Sequence[str] | None = None, n_bootstrap: int = est.DEFAULT_BOOTSTRAP, seed: int = 0,
               progress: Callable[[str], None] | None = None) -> list[CheckResult]:
    """Run the named checks (default: every registered one, in order) on a store frame.

    Each check function gets ``frame`` and ``level`` and, of ``backend``, ``seed``,
    ``n_bootstrap`` and ``m50`` (the thresholds, estimated once and shared), those its
    signature names."""
    import inspect

    est._check_level(level)
    names = list(names) if names is not None else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    context: dict[str, Any] = {"backend": backend, "seed": seed, "n_bootstrap": n_bootstrap}
    wants_m50 = any("m50" in inspect.signature(CHECKS[n].function).parameters for n in names)
    context["m50"] = est.m50_estimates(frame, level, n_bootstrap, seed) if wants_m50 and len(frame) else None
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
    lines = ["| # | check | claim |", "|---:|:---|:---|"]
    lines += [f"| {i} | `{c.name}` | {c.claim} |" for i, c in enumerate(CHECKS.values(), 1)]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(registry_markdown())
