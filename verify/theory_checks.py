"""Checks of theory against the simulator's own construction (no training needed): exact
Fourier coefficients, the gradient at initialisation, and the frequency of tickets.

Every rule below was fixed before the check saw data (docs/verification.md); ``level`` is the
confidence level of every test and interval (alpha = 1 - level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

from . import estimates as est
from .registry import CHECK_LEVEL, FAIL, INCONCLUSIVE, PASS, CheckResult, register

if TYPE_CHECKING:
    import pandas as pd


def _bucket(status: str, text: str) -> list[tuple[str, str]]:
    return [(status, text)]


def _sparse_settings(frame: "pd.DataFrame") -> list[dict]:
    """Sparse-init settings without an intervention (the simulator's own initialisation)."""
    if not len(frame):
        return []
    return [s for s in est.settings_of(frame) if s["init"] == "sparse" and s["intervention"] == "none"]


# --------------------------------------------------------------------------- fourier vs brute force
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
              "Exact Krawtchouk coefficients (theory.fourier.coefficient) equal the brute-force "
              "Walsh-Hadamard transform, in exact rational arithmetic (docs/science.md 4.2)."
          ),
          describe=_describe_fourier, kind="gate", design="theory_only",
          effect="one wrong coefficient (exact arithmetic: any mismatch FAILs)")
def check_fourier_vs_bruteforce(frame: "pd.DataFrame | None" = None, level: float = CHECK_LEVEL,
                                max_s: int = 6) -> CheckResult:
    """Rule: exact equality of theory.fourier.coefficient and the brute-force transform for every
    s <= max_s (and every sparsity in the store, up to 10), degree, activation and a set of
    rational biases. FAIL on any mismatch, PASS otherwise (no statistics: exact arithmetic)."""
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
    status = FAIL if mismatches else PASS if compared else INCONCLUSIVE
    summary = f"{compared - len(mismatches)}/{compared} coefficients equal exactly (s <= {max(sizes, default=0)})"
    return CheckResult("fourier_vs_bruteforce", status, summary,
                       {"compared": compared, "mismatches": mismatches[:10], "sizes": sorted(sizes)})


# --------------------------------------------------------------------------- gradient at init
def kernel_gradients(W: np.ndarray, b: np.ndarray, u: np.ndarray, supports_S: list[tuple[int, ...]],
                     batches: int, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the hinge-loss gradient dL/dW of single neurons, measured by
    one float64 step (lr = 1, no weight decay) of ``sim.backends.numpy`` per fresh batch.

    W (R, n), b (R,), u (R,): R independent width-1 networks; supports_S[i] is the target of
    network i. Returns (mean (R, n), standard error (R, n)) over ``batches`` batch means."""
    from sim.backends.numpy import make_kernel
    from sim.config import LOSS_IDS
    from sim.data import parity_labels, random_sign_rows

    R, n = W.shape
    dummy_X = np.ones((R, 1, n), dtype=np.int8)
    kernel = make_kernel(W[:, None, :], b[:, None], u[:, None], dtype="float64", lr=np.ones(R),
                         weight_decay=np.zeros(R), loss_ids=np.full(R, LOSS_IDS["hinge"]), test_X=dummy_X,
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
    if not c.details or "parts" not in c.details:
        return []
    d = c.details
    own, theory_part = d["parts"]["store_values"], d["parts"]["sign_values_vs_theory"]
    return _bucket(c.status,
                   f"the gradient the simulator computes at initialisation matched the exact Fourier prediction for "
                   f"{own['sparse_values']}-valued neurons (largest deviation {own['max_abs_z']:.1f} standard errors) "
                   f"and theory.fourier.gradient_signal for sign-valued ones ({theory_part['max_abs_z']:.1f}), against "
                   f"an allowed {d['bonferroni_t_critical']:.1f}; {own['detected'] + theory_part['detected']} nonzero "
                   "ticket signals detected")


@dataclass(frozen=True)
class _Neuron:
    """One initial neuron of a run, its target and its predicted population gradient (n,)."""

    w: np.ndarray
    b: float
    u: float
    target: tuple[int, ...]
    support: tuple[int, ...]
    overlap: int
    predicted: np.ndarray


def _exact_prediction(n: int, off_value: float):
    """-u E[chi_{S Δ {j}}(x) step(w.x + b)] per coordinate j, exactly from the neuron's actual
    (float) weights: theory.neuron.neuron_gradient_signal."""
    from theory.neuron import neuron_gradient_signal

    def predict(w, b, u, target, support, overlap) -> np.ndarray:
        signal = neuron_gradient_signal(n, support, [float(w[c]) for c in support], b, target, off_support=off_value)
        return -u * np.array([float(v) for v in signal.signal])
    return predict


def _theory_prediction(n: int, k: int, s: int):
    """The same from theory.fourier.gradient_signal (sign values: weights +-1/sqrt(s), so the
    neuron is step(sum of +-x_i + b sqrt(s)), signs absorbed into x)."""
    from theory.fourier import gradient_signal

    def predict(w, b, u, target, support, overlap) -> np.ndarray:
        signal = gradient_signal(n, k, s, bias=Fraction(float(b) * math.sqrt(s)), overlap=overlap)
        signs = {c: (1 if w[c] > 0 else -1) for c in support}
        out = np.empty(n)
        for j in range(n):
            kind = ("in_target_and_support" if j in target and j in signs else "in_support_only" if j in signs
                    else "in_target_only" if j in target else "in_neither")
            flips = math.prod(signs[c] for c in set(target) ^ {j} if c in signs)
            out[j] = -u * float(getattr(signal, kind)) * flips
        return out
    return predict


def _pick_neurons(n: int, k: int, s: int, values: str, width: int, per_kind: int, predict) -> list[_Neuron]:
    """``per_kind`` neurons of every overlap |U ∩ S| from sim.init's runs (seeds 0, 1, ...), tickets
    split by whether their predicted signal is nonzero (uniform values make many dictator-like
    tickets that carry none), so the check always has nonzero signals it must detect."""
    from sim.config import RunConfig
    from sim.data import draw_support
    from sim.init import initialize, sparse_supports

    ticket_overlap = min(s, k)
    wanted = {(o, False): per_kind for o in range(max(0, s + k - n), ticket_overlap)}
    wanted[(ticket_overlap, True)] = per_kind
    wanted[(ticket_overlap, False)] = max(1, per_kind // 2)
    chosen: list[_Neuron] = []
    for run_seed in range(501):
        config = RunConfig(n=n, k=k, width=width, init="sparse", sparsity=s, sparse_values=values, seed=run_seed)
        target = draw_support(n, k, run_seed)
        W, b, u = initialize(config)
        for i, row in enumerate(sparse_supports(config)):
            support = tuple(int(c) for c in row)
            o = len(set(support) & set(target))
            if not any(wanted.get((o, flag), 0) for flag in (False, True)):
                continue
            predicted = predict(W[i], float(b[i]), float(u[i]), target, support, o)
            bucket = (o, bool(np.any(predicted != 0.0))) if o == ticket_overlap else (o, False)
            if wanted.get(bucket, 0) > 0:
                wanted[bucket] -= 1
                chosen.append(_Neuron(W[i], float(b[i]), float(u[i]), target, support, o, predicted))
        # Dictator-like (signal-free) tickets are optional: "sign" values never make them.
        if not any(v for key, v in wanted.items() if key != (ticket_overlap, False)):
            break
    return chosen


def _compare_gradients(neurons: list[_Neuron], batches: int, batch_size: int, rng: np.random.Generator,
                       critical: float) -> dict[str, Any]:
    """Kernel gradients of the neurons (each alone, width 1) against their predictions."""
    W = np.stack([x.w for x in neurons])
    b = np.array([x.b for x in neurons])
    u = np.array([x.u for x in neurons])
    # width-1 networks: |f| <= |u| (|w|_1 + |b|) < 1 keeps every sample in the linear part of the hinge.
    linear = bool(np.all(np.abs(u) * (np.abs(W).sum(axis=1) + np.abs(b)) < 1.0))
    mean, se = kernel_gradients(W, b, u, [x.target for x in neurons], batches, batch_size, rng)
    predicted = np.stack([x.predicted for x in neurons])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (mean - predicted) / se, np.where(mean == predicted, 0.0, np.inf))
        detected = int(np.sum((predicted != 0) & (np.abs(mean) / se > critical)))
    worst = np.unravel_index(int(np.argmax(np.abs(z))), z.shape)
    by_overlap = {str(o): float(np.abs(z[[x.overlap == o for x in neurons]]).max())
                  for o in sorted({x.overlap for x in neurons})}
    return {"neurons": len(neurons), "max_abs_z": float(np.abs(z).max()), "detected": detected,
            "with_signal": int(np.sum(np.any(predicted != 0, axis=1))), "linear_hinge_regime": linear,
            "max_abs_z_by_overlap": by_overlap,
            "worst": {"overlap": neurons[worst[0]].overlap, "coordinate": int(worst[1]),
                      "estimate": float(mean[worst]), "predicted": float(predicted[worst]), "se": float(se[worst])}}


@register("init_gradient",
          claim=(
              "The population gradient of neurons from sim.init, measured through the reference kernel on "
              "fresh samples, equals the exact prediction from their actual weights and, for sign values, "
              "theory.fourier.gradient_signal, within Bonferroni-corrected intervals (docs/science.md 4.3)."
          ),
          describe=_describe_init_gradient, kind="gate", design="natural_sparse",
          effect="a 2-hot neuron that is 1-hot (the s-hot init off by one)")
def check_init_gradient(frame: "pd.DataFrame", level: float = CHECK_LEVEL, neurons_per_kind: int = 8,
                        batches: int = 48, batch_size: int = 1024, seed: int = 0) -> CheckResult:
    """Population gradient at init through the simulator's own forward/backward vs theory.

    Rule (fixed before data): for the first sparse setting of the store (n, k, s, its values),
    at the store's widest width, two parts, each with ``neurons_per_kind`` neurons of every
    overlap |U ∩ S| from ``sim.init`` (tickets with and without signal):
    (1) the store's own values: prediction -u E[chi_{S Δ {j}}(x) step(w.x + b)] exactly from
        the neuron's actual weights (``theory.neuron.neuron_gradient_signal``, ones-eps epsilon
        included);
    (2) ``sign`` values: prediction from ``theory.fourier.gradient_signal`` itself.
    Each neuron alone (width 1, |f| < 1: the hinge is linear) gets ``batches`` x ``batch_size``
    fresh samples; z = (estimate - prediction) / SE per coordinate. FAIL: some |z| above the
    Bonferroni-corrected t quantile at ``level`` over all comparisons of both parts. PASS: none,
    and a nonzero predicted signal was detected in both parts. INCONCLUSIVE: a neuron outside the
    linear hinge regime, or no signal detected (underpowered)."""
    from scipy.stats import t as student_t

    settings = _sparse_settings(frame)
    if not settings:
        return CheckResult("init_gradient", INCONCLUSIVE, "no sparse-init runs in the store", {})
    setting = settings[0]
    n, k, s = int(setting["n"]), int(setting["k"]), int(setting["sparsity"])
    values = setting["sparse_values"]
    width = int(est.rows_of_setting(frame, setting)["width"].max())
    off_value = 1.0 / (2 * (n - s)) if values == "ones-eps" and n > s else 0.0
    own = _pick_neurons(n, k, s, values, width, neurons_per_kind, _exact_prediction(n, off_value))
    signs = _pick_neurons(n, k, s, "sign", width, neurons_per_kind, _theory_prediction(n, k, s))
    comparisons = (len(own) + len(signs)) * n
    critical = float(student_t.ppf(1.0 - (1.0 - level) / (2.0 * comparisons), batches - 1))
    rng = np.random.default_rng(seed)
    parts = {"store_values": _compare_gradients(own, batches, batch_size, rng, critical) | {"sparse_values": values},
             "sign_values_vs_theory": _compare_gradients(signs, batches, batch_size, rng, critical)}
    worst = max(p["max_abs_z"] for p in parts.values())
    detected = [p["detected"] for p in parts.values()]
    details = {"n": n, "k": k, "s": s, "width": width, "samples_per_neuron": batches * batch_size,
               "comparisons": comparisons, "bonferroni_t_critical": critical, "max_abs_z": worst, "parts": parts}
    summary = (f"{len(own)} {values}-valued + {len(signs)} sign-valued neurons x {n} coords, {batches * batch_size} "
               f"samples each: max |z| = {worst:.2f} vs Bonferroni t = {critical:.2f}; nonzero signals detected "
               f"{detected[0]} and {detected[1]}")
    if not all(p["linear_hinge_regime"] for p in parts.values()):
        return CheckResult("init_gradient", INCONCLUSIVE, summary + " (a neuron outside the linear hinge regime)",
                           details)
    if worst > critical:
        return CheckResult("init_gradient", FAIL, summary, details)
    if min(detected) == 0:
        return CheckResult("init_gradient", INCONCLUSIVE, summary + " (no nonzero signal detected: underpowered)",
                           details)
    return CheckResult("init_gradient", PASS, summary, details)


# --------------------------------------------------------------------------- ticket frequency
def _describe_ticket_frequency(c: CheckResult) -> list[tuple[str, str]]:
    rows = c.details.get("rows", []) if c.details else []
    return [(c.status, f"sim.init produced tickets at rate {r['observed']:.4f} (n={r['n']}, s={r['s']}) where theory "
                       f"says {r['theory_exact']} = {r['theory']:.4f}") for r in rows]


@register("ticket_frequency",
          claim=(
              "The fraction of ticket neurons sim.init draws matches theory.lottery.ticket_probability "
              "(docs/science.md 4.4)."
          ),
          describe=_describe_ticket_frequency, kind="gate", design="natural_sparse",
          effect="ticket probability off by a factor 1.1")
def check_ticket_frequency(frame: "pd.DataFrame", level: float = CHECK_LEVEL,
                           min_neurons: int = 200_000) -> CheckResult:
    """Fraction of ticket neurons among the supports sim.init draws, vs ticket_probability.

    For each sparse (n, k, s) of the store: the supports of each stored seed's widest run
    (revised once, CHANGELOG.md: runs of one seed share neurons), topped up with further seeds at
    the widest width until ``min_neurons`` neurons;
    each run's own target S (sim.data.draw_support). PASS when theory's p lies in the
    Clopper-Pearson interval of the observed fraction at ``level`` (FAIL otherwise)."""
    from scipy.stats import binomtest

    from sim.config import RunConfig
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
        # One run per seed, its widest: runs of one seed share their init's stream, so narrower
        # runs would count the same neurons again.
        widths_of_seed: dict[int, int] = {}
        for w, sd in zip(data["width"], data["seed"]):
            widths_of_seed[int(sd)] = max(int(w), widths_of_seed.get(int(sd), 0))
        pairs = sorted((w, sd) for sd, w in widths_of_seed.items())
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
