"""Fourier anti-concentration of random dense neurons: an exact Monte-Carlo census.

The paper names "Fourier anti-concentration" of general halfspaces as the obstacle to a
dense-initialisation theorem: a proof needs the level-(k-1) coefficients of a *random*
threshold step(w . x + b) not to be too small. This module measures how small they are,
neuron by neuron, exactly (docs/science.md 2 for the init, 4.3 for the gap).

The random neuron (an exactly defined rational object). The simulator draws W_i, b iid
U(-1/sqrt(n), 1/sqrt(n)) (PyTorch's default). step is invariant under positive scaling, so
the neuron is step(sum_i u_i x_i + u_0) with u_i = sqrt(n) W_i iid U(-1, 1). Each u is
discretised to the midpoint of its cell among 2q equal cells of [-1, 1]:

    u = a / (2q),   a uniform on the odd integers -(2q-1), ..., -1, 1, ..., 2q-1,

i.e. :class:`GridNeuron` holds W_i = a_i / (2 q sqrt(n)), b = a_0 / (2 q sqrt(n)) and
computes step(sum a_i x_i + a_0) (step(0) = 0; a tie is possible only for odd n). As q -> oo
the law tends to the simulator's; every number reported is exact *for the grid neuron*
(step is not Lipschitz, so there is no error bound back to the continuous neuron).

Exact coefficients: the subset-sum DP of :mod:`theory.ltf` gives the signed count of partial
sums for the target S; the coefficient on S Δ {j} for every j follows by dividing out
coordinate j's factor (1 + sigma_j u^{|a_j|}) and multiplying the flipped one back, O(Y) each,
Y = sum |a_i| <= n (2q - 1). One neuron costs O(n * Y) = O(n^2 q) integer additions.

Bands: distribution-free confidence intervals for quantiles from binomial order statistics,
Clopper-Pearson intervals for proportions (pure Python + mpmath, which ships with sympy).
The best of r neurons (largest gap) has its p-quantile at the per-neuron p^{1/r}-quantile, so
one census of N neurons gives every width r (until p^{1/r} is too close to 1 for N).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from theory._exact import RationalLike, as_fraction, check_int
from theory.limits import check_census
from theory.ltf import dense_measure


@dataclass(frozen=True)
class GridNeuron:
    """step(sum_i a_i x_i + a_0) = step(W . x + b) with W_i = a_i / (2 q sqrt n), b = a_0 / (2 q sqrt n).

    ``weights`` are a_1..a_n and ``bias`` a_0, odd integers in [-(2q - 1), 2q - 1].
    """

    weights: tuple[int, ...]
    bias: int
    grid: int


def draw_grid_neuron(n: int, rng: random.Random, grid: int = 8) -> GridNeuron:
    """One neuron of the simulator's dense init on the grid of ``grid`` = q (module docstring)."""
    q = check_int(grid, "grid", 1)
    draws = [2 * rng.randrange(2 * q) + 1 - 2 * q for _ in range(check_int(n, "n", 1) + 1)]
    return GridNeuron(tuple(draws[1:]), draws[0], q)


def _divided_out(measure: list[int], magnitude: int, flipped: bool) -> list[int]:
    """Q with Q(u) (1 + sigma u^e) = measure(u), sigma = -1 if flipped: Q[y] = M[y] - sigma Q[y - e]."""
    quotient = measure[: len(measure) - magnitude]
    for y in range(magnitude, len(quotient)):
        quotient[y] = quotient[y] + quotient[y - magnitude] if flipped else quotient[y] - quotient[y - magnitude]
    return quotient


def flip_coefficients(neuron: GridNeuron, target: Sequence[int]) -> list[int]:
    """2^n * E[chi_{S Δ {j}}(x) step(w . x + b)] for j = 0..n-1, exact integers (module docstring)."""
    n = len(neuron.weights)
    target_set = set(target)
    magnitudes = [abs(a) for a in neuron.weights]
    total = sum(magnitudes)
    # step(total - 2y + a_0) = 1 iff y < cut, y the sum of |a_i| over the x'_i = -1.
    cut = max(0, -((-(total + neuron.bias)) // 2))
    negative_in_target = sum(1 for i in target_set if neuron.weights[i] < 0)
    measure = dense_measure(magnitudes, [i in target_set for i in range(n)])
    result = []
    for j in range(n):
        in_target = j in target_set
        quotient = _divided_out(measure, magnitudes[j], in_target)
        # flipping j's membership turns (1 + sigma u^e) into (1 - sigma u^e)
        sigma = -1 if in_target else 1
        active = sum(quotient[:cut]) - sigma * sum(quotient[: max(0, cut - magnitudes[j])])
        negatives = negative_in_target + ((-1 if in_target else 1) if neuron.weights[j] < 0 else 0)
        result.append(-active if negatives % 2 else active)
    return result


@dataclass(frozen=True)
class NeuronCensus:
    """Exact census of ``len(coefficients)`` grid neurons at one n.

    ``coefficients[i]`` = |ghat_i(T)| with T = {0, ..., k-2} (|T| = d = k - 1) and ``gaps[i]``
    = max_{j in S} |ghat_i(S \\ {j})| - max_{j not in S} |ghat_i(S ∪ {j})| with S = {0..k-1}
    (the Fourier gap of docs/science.md 4.3 for a dense neuron). The weights are iid, so fixing
    S and T to the first coordinates loses nothing.
    """

    n: int
    k: int
    grid: int
    seed: int
    coefficients: tuple[Fraction, ...]
    gaps: tuple[Fraction, ...]


def census_neurons(n: int, k: int, neurons: int, grid: int, seed: int) -> list[GridNeuron]:
    """The neurons :func:`neuron_census` draws: ``random.Random`` seeded by (seed, n, k, grid),
    so a census is reproducible and each n gets its own stream."""
    rng = random.Random(f"anticoncentration:{seed}:{n}:{k}:{grid}")
    return [draw_grid_neuron(n, rng, grid) for _ in range(check_int(neurons, "neurons", 1))]


def neuron_census(n: int, k: int = 3, neurons: int = 200, grid: int = 8, seed: int = 0) -> NeuronCensus:
    """Draw ``neurons`` grid neurons (:func:`census_neurons`) and compute each one's |ghat(T)|
    and gap exactly. Cost O(neurons * n^2 * grid): doubling n costs about 6x per neuron (n^2 from
    the DP's size times the longer integers). Times per neuron are measured by
    ``python -m theory.benchmark`` and listed in docs/theory_for_proofs.md ("Speed"), not here."""
    n_i, k_i = check_int(n, "n", 2), check_int(k, "k", 1)
    if k_i >= n_i:
        raise ValueError(f"k={k_i} must be below n={n_i}: the gap needs a coordinate outside S")
    check_census([n_i], neurons, grid)
    scale = Fraction(1, 2**n_i)
    coefficients, gaps = [], []
    target = range(k_i)
    for neuron in census_neurons(n_i, k_i, neurons, check_int(grid, "grid", 1), seed):
        signals = flip_coefficients(neuron, target)
        relevant = max(abs(signals[j]) for j in target)
        irrelevant = max(abs(signals[j]) for j in range(k_i, n_i))
        coefficients.append(abs(signals[k_i - 1]) * scale)  # S Δ {k-1} = {0..k-2} = T
        gaps.append((relevant - irrelevant) * scale)
    return NeuronCensus(n_i, k_i, check_int(grid, "grid", 1), seed, tuple(coefficients), tuple(gaps))


# ----------------------------------------------------------------------------- confidence bands
def _binomial_upper_tail(count: int, trials: int, p: mpmath.mpf) -> mpmath.mpf:
    """P(Binomial(trials, p) >= count) = I_p(count, trials - count + 1) (regularised incomplete beta)."""
    if count <= 0:
        return mpmath.mpf(1)
    if count > trials:
        return mpmath.mpf(0)
    return mpmath.betainc(count, trials - count + 1, 0, p, regularized=True)


@dataclass(frozen=True)
class QuantileBand:
    """Order-statistic estimate of the p-quantile with a distribution-free band.

    P(low <= xi_p <= high) >= confidence for any distribution (conservative when it has
    atoms); ``low`` / ``high`` are None when the sample is too small to bound that side.
    """

    level: float
    estimate: Fraction
    low: Fraction | None
    high: Fraction | None


def quantile_band(values: Sequence[Fraction], level: float, confidence: RationalLike = Fraction(95, 100)) -> QuantileBand:
    """Distribution-free band for the ``level``-quantile from binomial order statistics.

    With B ~ Binomial(N, level): low = X_(l) for the largest l with P(B <= l - 1) <= alpha/2,
    high = X_(u) for the smallest u with P(B >= u) <= alpha/2 (alpha = 1 - confidence);
    estimate = X_(ceil(N level)). O(N^2) terms of 50-digit arithmetic at most.
    """
    ordered = sorted(values)
    size = len(ordered)
    if size == 0:
        raise ValueError("values must not be empty")
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    alpha = 1 - as_fraction(confidence, "confidence")
    if not 0 < alpha < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    with mpmath.workdps(50):
        p, half = mpmath.mpf(level), mpmath.mpf(alpha.numerator) / alpha.denominator / 2
        cdf = list(itertools.accumulate(
            (math.comb(size, i) * p**i * (1 - p) ** (size - i) for i in range(size + 1)), lambda a, b: a + b))
        low_rank = max((rank for rank in range(1, size + 1) if cdf[rank - 1] <= half), default=None)
        high_rank = min((rank for rank in range(1, size + 1) if 1 - cdf[rank - 1] <= half), default=None)
    estimate = ordered[min(size, max(1, math.ceil(size * level))) - 1]
    return QuantileBand(level, estimate, ordered[low_rank - 1] if low_rank else None,
                        ordered[high_rank - 1] if high_rank else None)


def clopper_pearson(successes: int, trials: int, confidence: RationalLike = Fraction(95, 100)) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a binomial proportion, by bisection on the binomial
    tails: low solves P(B >= x; p) = alpha/2, high solves P(B <= x; p) = alpha/2."""
    x, size = check_int(successes, "successes", 0), check_int(trials, "trials", 1)
    if x > size:
        raise ValueError(f"successes={x} exceeds trials={size}")
    alpha = 1 - as_fraction(confidence, "confidence")
    if not 0 < alpha < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    with mpmath.workdps(40):
        half = mpmath.mpf(alpha.numerator) / alpha.denominator / 2

        def solve(tail_too_small) -> float:  # the p where a monotone tail crosses alpha/2
            lo, hi = mpmath.mpf(0), mpmath.mpf(1)
            for _ in range(60):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if tail_too_small(mid) else (lo, mid)
            return float((lo + hi) / 2)

        low = 0.0 if x == 0 else solve(lambda p: _binomial_upper_tail(x, size, p) < half)
        high = 1.0 if x == size else solve(lambda p: 1 - _binomial_upper_tail(x + 1, size, p) > half)
    return low, high


# ----------------------------------------------------------------------------- the table
def anticoncentration_table(
    ns: Sequence[int] = (10, 20, 30, 50),
    k: int = 3,
    neurons: int = 200,
    widths: Sequence[int] = (1, 10, 100),
    grid: int = 8,
    seed: int = 0,
    confidence: RationalLike = Fraction(95, 100),
) -> list[dict[str, object]]:
    """One row per n a researcher can quote (floats; exact values in :func:`neuron_census`):

    * ``coefficient_median`` (+ ``_low``, ``_high``: distribution-free band at ``confidence``)
      of |ghat(T)|, |T| = k - 1, and ``coefficient_median_scaled`` = median * n^{(k-1)/2} (the
      majority-like benchmark is Theta(1) there, docs/science.md 4.3);
    * ``coefficient_zero`` (+ Clopper-Pearson ``_low``, ``_high``): fraction with ghat(T) = 0;
    * ``gap_positive`` (+ band): fraction of neurons whose best target coordinate out-pulls
      every other coordinate;
    * ``best_gap_median_r{r}`` (+ band) for each width r: the median of the largest gap among
      r independent neurons (the per-neuron 2^{-1/r}-quantile).

    Runtime: O(len(ns) * neurons * n^2 * grid); the defaults take about 1 s on one core.
    Refused beforehand (:mod:`theory.limits`) when that work, or one neuron's table, is too large.
    """
    ns = list(ns)
    check_census(ns, neurons, grid)
    rows = []
    for n in ns:
        census = neuron_census(n, k, neurons, grid, seed)
        size = len(census.coefficients)
        row: dict[str, object] = {"n": census.n, "k": census.k, "d": census.k - 1, "grid": census.grid,
                                  "neurons": size}
        median = quantile_band(census.coefficients, 0.5, confidence)
        row.update(_band("coefficient_median", median))
        row["coefficient_median_scaled"] = float(median.estimate) * census.n ** ((census.k - 1) / 2)
        zeros = sum(1 for c in census.coefficients if c == 0)
        positive = sum(1 for g in census.gaps if g > 0)
        for name, hits in (("coefficient_zero", zeros), ("gap_positive", positive)):
            low, high = clopper_pearson(hits, size, confidence)
            row.update({name: hits / size, f"{name}_low": low, f"{name}_high": high})
        for r in widths:
            best = quantile_band(census.gaps, 0.5 ** (1 / check_int(r, "width", 1)), confidence)
            row.update(_band(f"best_gap_median_r{r}", best))
        rows.append(row)
    return rows


def _band(name: str, band: QuantileBand) -> dict[str, float | None]:
    return {name: float(band.estimate), f"{name}_low": None if band.low is None else float(band.low),
            f"{name}_high": None if band.high is None else float(band.high)}
