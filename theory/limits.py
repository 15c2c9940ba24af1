"""Size guards: exact work refused before it starts when its inputs ask for too much.

Every entry point of ``theory`` whose time or memory grows with its input (the support size s,
n, a census's neurons and weight grid, C(n, k)-sized quantities) checks the size here first and
raises :class:`TheoryTooLargeError` (a ValueError) naming the values and the limit, as a sweep
refuses a grid of too many runs before building one. Without the guards, ``frontier
anticoncentration --n 10 --grid 1000000000`` took all the machine's memory and ``frontier bounds
--n 100000 --k 30 --s 60`` ran for hours.

The limits (:data:`LIMITS`) are set a little above what the measured cost allows in about a
minute on one core (2026 EPYC; docs/theory_for_proofs.md); raise one for a single call with
``theory.limits.LIMITS["name"] = value`` when the wait is intended.
"""

from __future__ import annotations

import math
from typing import Iterable

#: name -> limit. The comment says what is limited and what the limit costs.
LIMITS: dict[str, int] = {
    # 1/p, the critical width, for which width_for_confidence decides its answer exactly (beyond,
    # the 60-digit comparison cannot tell neighbouring widths apart and the search does not end).
    "exact_width": 10**60,
    # s of one exact coefficient or gradient signal: O(s) terms of s-bit integers (s = 10^5: ~4 s).
    "support": 100_000,
    # s of a whole spectrum: s + 1 coefficients (s = 3000: ~20 s).
    "spectrum_support": 3_000,
    # sum of s^2 over the s values of scaling_constants (sum s^2 = 2.7e9, s < 2000: ~17 s).
    "scaling_work": 4 * 10**9,
    # min(k, s) * s for the overlap law: min(k, s) + 1 binomials of s-digit size (1e7: ~43 s).
    "overlap_work": 2 * 10**6,
    # sum over n of neurons * n^2 * grid, the census's integer additions (2e8: ~100 s).
    "census_work": 2 * 10**8,
    # entries of one neuron's subset-sum table, n * (2 grid - 1) (memory: ~30 bytes each at least).
    "census_table": 10**7,
    # k of a closed form in n (sympy; k = 10: ~5 s, k = 12: ~20 s, k = 30 does not finish).
    "symbolic_k": 10,
    # k of the sparse majority's expansion (a sum over 2^k sign patterns; k = 19: ~3 s, 21: ~13 s).
    "majority_k": 21,
    # rows of one bound table.
    "table_rows": 10_000,
}


class TheoryTooLargeError(ValueError):
    """An exact computation refused before it started: its inputs ask for more than :data:`LIMITS`."""


def refuse(what: str, amount: float, limit_name: str, advice: str) -> None:
    """TheoryTooLargeError when ``amount`` exceeds ``LIMITS[limit_name]``."""
    limit = LIMITS[limit_name]
    if amount > limit:
        raise TheoryTooLargeError(f"{what}: {_number(amount)} is above the limit of {_number(limit)}; {advice} "
                                  f"(or raise theory.limits.LIMITS[{limit_name!r}])")


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) and abs(value) < 10**15 else f"{float(value):.3g}"


def _int(value: object) -> int | None:
    """``value`` as an int if it is one (guards leave other types to the function's own checks)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value) if int(value) == value else None  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None


def check_exact_width(n: object, k: object, s: object) -> None:
    """width_for_confidence decides its width exactly only up to ``LIMITS['exact_width']``."""
    n_i, k_i, s_i = _int(n), _int(k), _int(s)
    if n_i is None or k_i is None or s_i is None or not (1 <= k_i <= n_i and 1 <= s_i <= n_i):
        return  # the function's own checks name the bad value
    check_support(s_i)  # the binomials below cost as much as s
    total, tickets = math.comb(n_i, s_i), (math.comb(n_i - k_i, s_i - k_i) if s_i >= k_i else math.comb(k_i, s_i))
    if total > LIMITS["exact_width"] * tickets:  # 1/p = total / tickets, compared exactly
        digits = math.log10(total) - math.log10(tickets) if total < 10**300 else \
            (total.bit_length() - tickets.bit_length()) * math.log10(2)
        raise TheoryTooLargeError(
            f"width_for_confidence(n={n_i}, k={k_i}, s={s_i}): a ticket has probability about 1e-{digits:.0f}, so "
            f"the width is about 1e{digits:.0f} neurons, above the limit of 1e{math.log10(LIMITS['exact_width']):.0f} "
            "up to which it is decided exactly; use a smaller n or s - k (or raise "
            "theory.limits.LIMITS['exact_width'])")


def check_support(s: object, limit_name: str = "support") -> None:
    s_i = _int(s)
    if s_i is not None:
        refuse(f"support size s={s_i}", s_i, limit_name, "use a smaller s")


def check_overlap(k: object, s: object) -> None:
    k_i, s_i = _int(k), _int(s)
    if k_i is not None and s_i is not None and k_i > 0 and s_i > 0:
        refuse(f"overlap law of k={k_i}, s={s_i} (min(k, s) * s)", min(k_i, s_i) * s_i, "overlap_work",
               "use a smaller k or s")


def check_scaling(s_values: Iterable[object]) -> None:
    values = [_int(s) for s in s_values]
    refuse("scaling constants over these s (sum of s^2)", sum(v * v for v in values if v is not None),
           "scaling_work", "use fewer or smaller s")


def check_census(ns: Iterable[object], neurons: object, grid: object) -> None:
    """The census's work (neurons * n^2 * grid summed over n) and one neuron's table size."""
    ns_i = [_int(n) for n in ns]
    neurons_i, grid_i = _int(neurons), _int(grid)
    if neurons_i is None or grid_i is None or neurons_i < 1 or grid_i < 1 or any(n is None or n < 1 for n in ns_i):
        return
    largest = max(ns_i, default=0)  # type: ignore[type-var]
    refuse(f"one neuron's subset-sum table at n={largest}, grid={grid_i} (n * (2 grid - 1) entries)",
           largest * (2 * grid_i - 1), "census_table", "use a smaller n or --grid")  # type: ignore[operator]
    work = sum(neurons_i * n * n * grid_i for n in ns_i)  # type: ignore[operator]
    refuse(f"census of {neurons_i} neurons at n={', '.join(map(str, ns_i))}, grid={grid_i} (neurons * n^2 * grid)",
           work, "census_work", "use fewer --neurons, a smaller n or --grid")


def check_symbolic(ks: Iterable[object]) -> None:
    for k in ks:
        k_i = _int(k)
        if k_i is not None:
            refuse(f"closed forms in n at k={k_i}", k_i, "symbolic_k", "use a smaller k")


def check_majority(k: object) -> None:
    k_i = _int(k)
    if k_i is not None:
        refuse(f"sparse majority expansion at k={k_i}", k_i, "majority_k", "use a smaller k")


def check_table_rows(rows: int) -> None:
    refuse("bound table rows (one per combination of n, k and s)", rows, "table_rows", "ask for fewer combinations")
