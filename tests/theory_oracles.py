"""Brute-force oracles for the theory tests, written from the definitions only (no theory code).

Kept in one module so every test compares against the same slow, obviously-correct sums.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Callable

ExactActivation = Callable[[Fraction], object]


def named_activation(name: str) -> ExactActivation:
    """The named activations exactly as the issue defines them (step(0) = sign(0) = 0)."""
    table: dict[str, ExactActivation] = {
        "relu": lambda z: max(z, Fraction(0)),
        "step": lambda z: Fraction(1 if z > 0 else 0),
        "sign": lambda z: Fraction((z > 0) - (z < 0)),
        "leaky_relu": lambda z: z if z > 0 else z / 100,
        "square": lambda z: z * z,
    }
    return table[name]


def as_exact_activation(activation: object) -> ExactActivation:
    return named_activation(activation) if isinstance(activation, str) else activation  # type: ignore[return-value]


def brute_force_ltf(weights: list[Fraction], bias: Fraction, subset: list[int], activation: object) -> Fraction:
    """2^-s sum over x in {-1,1}^s of chi_T(x) act(w . x + b), summed point by point."""
    act = as_exact_activation(activation)
    s = len(weights)
    # Integers inside (speed only): D (w . x + b) with D the common denominator.
    denominator = math.lcm(bias.denominator, *(w.denominator for w in weights))
    scaled = [int(w * denominator) for w in weights]
    offset = int(bias * denominator)
    total = Fraction(0)
    for x in itertools.product((1, -1), repeat=s):
        chi = math.prod(x[i] for i in subset)
        total += chi * Fraction(act(Fraction(sum(a * xi for a, xi in zip(scaled, x)) + offset, denominator)))
    return total / 2**s
