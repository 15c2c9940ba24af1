"""Timings of the exact neuron DP (theory.ltf, theory.neuron, theory.anticoncentration).

    python -m theory.benchmark

Pure Python + sympy like the theory layer; prints one line per measurement. Absolute times on
shared machines are noise: compare the ratios (docs/theory_for_proofs.md, "Speed").
"""

from __future__ import annotations

import math
import random
import time
from fractions import Fraction

from theory.anticoncentration import neuron_census
from theory.fourier import _coefficient_fraction, coefficient
from theory.ltf import MAX_STATES, ltf_coefficient
from theory.neuron import neuron_gradient_signal


def best_of(repeats: int, work) -> float:
    """Smallest wall time of ``repeats`` runs of ``work()`` (seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = random.Random(20)
    weights = [rng.randint(-10, 10) for _ in range(200)]
    bias = Fraction(7, 3)
    dense = best_of(5, lambda: ltf_coefficient(weights, bias, range(3), "relu"))
    print(f"ltf_coefficient, s = 200 integer weights in [-10, 10], relu, |T| = 3: {dense * 1e3:.1f} ms")
    def krawtchouk() -> None:
        _coefficient_fraction.cache_clear()  # time the formula, not the cache
        coefficient(200, 3, 7, "relu")

    symmetric = best_of(5, krawtchouk)
    equal = best_of(5, lambda: ltf_coefficient([1] * 200, 7, range(3), "relu"))
    print(f"s = 200 equal weights: Krawtchouk formula {symmetric * 1e3:.2f} ms, DP {equal * 1e3:.1f} ms")

    n, width, s = 50, 1000, 2
    target = sorted(rng.sample(range(n), 3))
    neurons = [(rng.sample(range(n), s), [rng.uniform(-1 / math.sqrt(s), 1 / math.sqrt(s)) for _ in range(s)],
                rng.uniform(-1 / math.sqrt(n), 1 / math.sqrt(n))) for _ in range(width)]
    run = best_of(3, lambda: [neuron_gradient_signal(n, u, v, b, target) for u, v, b in neurons])
    print(f"neuron_gradient_signal for all {width} neurons of a 2-hot run (n = {n}, float weights exact): "
          f"{run:.2f} s")
    pairs = best_of(3, lambda: [ltf_coefficient(v, b, [0, 1], "step") for _, v, b in neurons])
    print(f"ltf_coefficient (degree 2, step) for the same {width} neurons: {pairs * 1e3:.0f} ms")
    for size in (50, 100):
        census = best_of(1, lambda: neuron_census(size, 3, 100, 8, 0))
        print(f"neuron_census n = {size}, grid 8: {census / 100 * 1e3:.2f} ms per neuron (all n coordinates)")
    floats = [rng.uniform(-1, 1) for _ in range(24)]
    started = time.perf_counter()
    try:
        ltf_coefficient(floats, 0.1, [0, 1], "step")
    except ValueError:
        pass
    print(f"ltf_coefficient refuses 24 distinct float weights (2^24 > MAX_STATES = {MAX_STATES} sums) in "
          f"{(time.perf_counter() - started) * 1e3:.2f} ms")
    largest = best_of(1, lambda: ltf_coefficient(floats[:20], 0.1, [0, 1], "step"))
    print(f"ltf_coefficient, 20 distinct float weights (2^20 partial sums), step, |T| = 2: {largest:.1f} s")


if __name__ == "__main__":
    main()
