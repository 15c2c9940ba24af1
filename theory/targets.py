"""Exact theory of the targets beyond parity (docs/targets.md): Fourier expansions, the gradient
signal of actual neurons against them, and their lottery tickets.

Every target is a ±1-valued function of the coordinates of a hidden support S, |S| = K; its
coordinates have *roles* 0..K-1 (sim draws S as an ordered subset and reads the roles in draw
order: ``sim.targets``). :func:`target_expansion` gives the exact Fourier expansion on the roles,
f(x) = sum_A a_A chi_A(x) over subsets A of roles, as ``sympy.Rational`` coefficients:

- ``parity``: a_S = 1 (k = K);
- ``noisy_parity``: the expansion of E[y | x] = (1 - 2 eta) chi_S, what the population gradient
  of the noisy training labels sees (the test set is clean: there the target is the parity);
- ``sparse_majority``: sign(x_1 + ... + x_k), k odd: a_A = ghat_{|A|} of the sign neuron with bias 0
  (:func:`theory.fourier.coefficient`, the Krawtchouk closed form): nonzero exactly for odd |A|;
- ``staircase``: sign(x_1 + x_1 x_2 + ... + x_1...x_k), k odd: no closed form is known to us; the
  exact transform of its 2^k values (integers, a fast Walsh-Hadamard transform in Python);
- ``multitask_parity``: ``tasks - 1`` control bits c_0, c_1, ... (roles 0..tasks-2) pick task t, the
  first c_t = +1 (or the last task when none is), and task t's k-parity on roles
  tasks-1+tk .. tasks-1+(t+1)k-1 gives the label. With 1[c_i = -1] = (1 - x_{c_i})/2 and
  1[c_t = +1] = (1 + x_{c_t})/2, task t < tasks-1 contributes
  2^-(t+1) sum_{A ⊆ {c_0..c_t}} (-1)^{|A \\ {c_t}|} chi_{A ∪ S_t} and the last task
  2^-(tasks-1) sum_{A ⊆ C} (-1)^{|A|} chi_{A ∪ S_last}: closed form.

The population gradient of the hinge loss at initialisation (f ~ 0, docs/science.md 4.3) in input
weight w_j of a neuron act(w.x + b) is -u E[y x_j step(w.x + b)], and by linearity

    E[y x_j step(w.x + b)] = sum_A a_A * stephat(A Δ {j}),

each term the exact coefficient :mod:`theory.neuron` computes for the parity on A
(:func:`target_signal`). A neuron whose support U (off-support weights 0) meets S in the roles I
can get signal on target coordinate j only if A Δ {j} ⊆ U for a term A, i.e. A Δ {j} ⊆ I: a
*first-order ticket* of the target (:func:`first_order_ticket`). Whether a neuron is one depends
only on I, and P(U ∩ S = I) = C(n-K, s-|I|) / C(n, s) for a uniformly random s-subset U
(hypergeometric), so :func:`target_tickets` sums exactly. For the parity this is |U ∩ S| >= k - 1
(with s = 2, k = 3: U ⊆ S, as :func:`theory.lottery.is_ticket`; for s >= k it also counts the
overlap k - 1, whose missing bit gets stephat_{k-1}, docs/science.md 4.3); for the majority and the
staircase every neuron is one (their degree-1 terms reach every neuron).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy

from theory._exact import RationalLike, as_fraction, check_int, to_rational
from theory.activations import ActivationLike, activation_key
from theory.fourier import coefficient
from theory.limits import check_majority
from theory.ltf import exact_weight
from theory.neuron import _coordinates, _largest, signal_fractions

#: The targets, as in ``sim.targets.TARGET_NAMES`` (theory may not import sim: a test checks they agree).
TARGET_NAMES: tuple[str, ...] = ("parity", "noisy_parity", "staircase", "sparse_majority", "multitask_parity")
#: The largest k whose staircase expansion is computed (a transform of 2^k values).
MAX_STAIRCASE_K = 16
#: The largest |S| for which tickets are counted over all 2^|S| intersections.
MAX_TICKET_SUPPORT = 20

Terms = dict[tuple[int, ...], Fraction]


@dataclass(frozen=True)
class TargetExpansion:
    """The exact Fourier expansion f = sum_A a_A chi_A of a target on its roles 0..K-1.

    ``terms``: sorted role tuples A -> a_A (nonzero only); ``tasks_roles``: for a multitask parity,
    the roles of each task's k bits (task 0 first), else one tuple of all roles."""

    target: str
    k: int
    tasks: int
    label_noise: sympy.Rational
    support_size: int
    terms: dict[tuple[int, ...], sympy.Rational]
    task_roles: tuple[tuple[int, ...], ...]

    def on(self, roles: Sequence[int]) -> dict[tuple[int, ...], sympy.Rational]:
        """The expansion on actual coordinates: ``roles[i]`` is the coordinate of role i."""
        if len(roles) != self.support_size or len(set(roles)) != len(roles):
            raise ValueError(f"roles={tuple(roles)} must be {self.support_size} distinct coordinates")
        return {tuple(sorted(roles[i] for i in A)): a for A, a in self.terms.items()}


def support_size(target: str, k: int, tasks: int = 1) -> int:
    """|S| of a target: k, or tasks - 1 + tasks * k for ``multitask_parity``."""
    return tasks - 1 + tasks * k if target == "multitask_parity" else k


def _check_target(target: str, k: int, tasks: int, label_noise: Fraction) -> None:
    """ValueError naming the bad value (the rules of sim.targets.target_problem, less n)."""
    if target not in TARGET_NAMES:
        raise ValueError(f"target={target!r} must be one of {TARGET_NAMES}")
    if (target == "multitask_parity") != (tasks >= 2) or tasks < 1:
        raise ValueError(f"tasks={tasks} must be >= 2 for multitask_parity and 1 for any other target")
    if (target == "noisy_parity") != (label_noise != 0) or not 0 <= label_noise < Fraction(1, 2):
        raise ValueError(f"label_noise={label_noise} must lie in (0, 1/2) for noisy_parity and be 0 otherwise")
    if target in ("staircase", "sparse_majority") and k % 2 == 0:
        raise ValueError(f"k={k} must be odd for target={target!r}")
    if target == "staircase" and k > MAX_STAIRCASE_K:
        raise ValueError(f"k={k} above {MAX_STAIRCASE_K}: the staircase expansion is a transform of 2^k values")


def staircase_value(bits: Sequence[int]) -> int:
    """sign(x_1 + x_1 x_2 + ... + x_1...x_k) of ±1 ``bits`` (k odd: the sum is odd, never 0)."""
    total, prefix = 0, 1
    for x in bits:
        prefix *= x
        total += prefix
    return 1 if total > 0 else -1


def _transform_terms(values: list[int], k: int) -> Terms:
    """{A: 2^-k sum_x f(x) chi_A(x)} of the 2^k values f(x) (bit i of the index: x_i = -1), by the
    in-place fast Walsh-Hadamard transform on integers."""
    h = 1
    while h < len(values):
        for start in range(0, len(values), 2 * h):
            for i in range(start, start + h):
                values[i], values[i + h] = values[i] + values[i + h], values[i] - values[i + h]
        h *= 2
    return {tuple(i for i in range(k) if mask >> i & 1): Fraction(v, 1 << k) for mask, v in enumerate(values) if v}


def _multitask_terms(k: int, tasks: int) -> Terms:
    """The closed form of the module docstring: task t's indicator times its parity, expanded."""
    control = tasks - 1
    terms: Terms = {}
    for t in range(tasks):
        last = t == tasks - 1
        chosen = tuple(range(control)) if last else tuple(range(t + 1))  # the control bits task t reads
        bits = tuple(range(control + t * k, control + (t + 1) * k))
        for size in range(len(chosen) + 1):
            for A in itertools.combinations(chosen, size):
                minus = len(A) if last else len([c for c in A if c != t])  # (1 - x)/2 factors give -1
                terms[tuple(sorted(A + bits))] = Fraction((-1) ** minus, 1 << len(chosen))
    return terms


@lru_cache(maxsize=256)
def _terms(target: str, k: int, tasks: int, label_noise: Fraction) -> Terms:
    if target in ("parity", "noisy_parity"):
        return {tuple(range(k)): 1 - 2 * label_noise}
    if target == "sparse_majority":
        by_degree = [as_fraction(coefficient(k, d, 0, "sign"), "coefficient") for d in range(k + 1)]
        return {A: by_degree[size] for size in range(k + 1) if by_degree[size]
                for A in itertools.combinations(range(k), size)}
    if target == "staircase":
        values = [staircase_value([-1 if x >> i & 1 else 1 for i in range(k)]) for x in range(1 << k)]
        return _transform_terms(values, k)
    return _multitask_terms(k, tasks)


def target_expansion(target: str, k: int, tasks: int = 1, label_noise: RationalLike = 0) -> TargetExpansion:
    """The exact Fourier expansion of ``target`` on its roles (module docstring).

    Raises:
        ValueError: an unknown target, k < 1, an even k for staircase/sparse_majority, tasks or
            label_noise not as the target reads them (docs/targets.md).
    """
    k_i, tasks_i = check_int(k, "k", 1), check_int(tasks, "tasks", 1)
    eta = as_fraction(label_noise, "label_noise")
    _check_target(target, k_i, tasks_i, eta)
    if target == "sparse_majority":
        check_majority(k_i)
    size = support_size(target, k_i, tasks_i)
    control = tasks_i - 1
    task_roles = tuple(tuple(range(control + t * k_i, control + (t + 1) * k_i)) for t in range(tasks_i))
    terms = {A: to_rational(a) for A, a in sorted(_terms(target, k_i, tasks_i, eta).items())}
    return TargetExpansion(target, k_i, tasks_i, to_rational(eta), size, terms, task_roles)


@dataclass(frozen=True)
class TargetSignal:
    """Exact signal E[y x_j step(w.x + b)] of one neuron against a target, per coordinate j (minus
    the hinge-loss population gradient at initialisation, per unit output weight, as in
    :class:`theory.neuron.NeuronSignal`); ``relevant``/``irrelevant``: largest magnitude on a
    coordinate of S / off S (signed), ``gap`` = |relevant| - |irrelevant|."""

    target: str
    n: int
    support: tuple[int, ...]
    roles: tuple[int, ...]
    signal: tuple[sympy.Rational, ...]
    relevant: sympy.Rational
    irrelevant: sympy.Rational
    gap: sympy.Rational
    relevant_coordinate: int | None
    first_order_ticket: bool

    @property
    def carries_signal(self) -> bool:
        """Whether some coordinate of S gets a nonzero signal."""
        return self.relevant != 0


def target_signal(
    n: int,
    expansion: TargetExpansion,
    roles: Sequence[int],
    support: Sequence[int],
    values: Sequence[RationalLike],
    bias: RationalLike,
    off_support: RationalLike = 0,
    derivative: ActivationLike = "step",
) -> TargetSignal:
    """Exact E[y x_j step(w.x + b)] = sum_A a_A stephat(A Δ {j}) on every coordinate j.

    The target is ``expansion`` placed on ``roles`` (roles[i] = the coordinate of role i, e.g.
    ``sim.data.target_roles(config)``); the neuron has w = ``values`` on ``support``,
    ``off_support`` (epsilon of the ``ones-eps`` init) elsewhere, and bias b. Floats are taken at
    their exact binary value (the neuron a simulator holds). One
    :func:`theory.neuron.signal_fractions` per term (at most s + 2 subset-sum DPs each).

    Raises:
        ValueError: n < 1, roles not ``support_size`` distinct coordinates of range(n), a bad
            support or values (as :func:`theory.neuron.neuron_gradient_signal`).
    """
    n_i = check_int(n, "n", 1)
    u = _coordinates(support, n_i, "support")
    role_coordinates = _coordinates(roles, n_i, "roles")
    placed = expansion.on(role_coordinates)
    if len(values) != len(u):
        raise ValueError(f"values has {len(values)} entries but support has {len(u)} coordinates")
    exact_values = [exact_weight(v, f"values[{i}]") for i, v in enumerate(values)]
    b, eps = exact_weight(bias, "bias"), exact_weight(off_support, "off_support")
    act = activation_key(derivative)
    total = [Fraction(0)] * n_i
    for A, a in placed.items():
        term = signal_fractions(n_i, u, exact_values, b, frozenset(A), eps, act)
        total = [t + as_fraction(a, "coefficient") * v for t, v in zip(total, term)]
    target = set(role_coordinates)
    relevant, relevant_j = _largest({j: total[j] for j in sorted(target)})
    irrelevant, _ = _largest({j: total[j] for j in range(n_i) if j not in target})
    inside = frozenset(i for i, c in enumerate(role_coordinates) if c in set(u))
    return TargetSignal(
        target=expansion.target, n=n_i, support=u, roles=role_coordinates,
        signal=tuple(to_rational(v) for v in total), relevant=to_rational(relevant),
        irrelevant=to_rational(irrelevant), gap=to_rational(abs(relevant) - abs(irrelevant)),
        relevant_coordinate=relevant_j, first_order_ticket=first_order_ticket(expansion, inside),
    )


def first_order_ticket(expansion: TargetExpansion, inside: Iterable[int],
                       coordinates: Iterable[int] | None = None) -> bool:
    """Whether a neuron whose support meets S in the roles ``inside`` can get first-order signal on a
    target coordinate (of the roles ``coordinates``; default all of S): some term A and role p with
    A Δ {p} ⊆ inside (module docstring). Otherwise its signal on them is 0 whatever its weights."""
    I = frozenset(inside)
    targets = range(expansion.support_size) if coordinates is None else tuple(coordinates)
    terms = [frozenset(A) for A in expansion.terms]
    return any(A ^ {p} <= I for A in terms for p in targets)


@dataclass(frozen=True)
class TargetTickets:
    """The first-order tickets of a target among s-hot neurons on n inputs.

    ``by_overlap[o]`` = (intersections I ⊆ S of size o that are tickets, all of size o);
    ``probability`` = P(a uniformly random s-subset is a ticket), exact; ``critical_width`` =
    ceil(1 / probability) (None when no neuron can be one: no first-order signal anywhere)."""

    target: str
    n: int
    s: int
    support_size: int
    by_overlap: dict[int, tuple[int, int]]
    probability: sympy.Rational
    critical_width: int | None


def target_tickets(n: int, s: int, expansion: TargetExpansion, coordinates: Iterable[int] | None = None
                   ) -> TargetTickets:
    """Count the first-order tickets of ``expansion`` (signal on the roles ``coordinates``, default
    all; e.g. one task's ``expansion.task_roles[t]``) by intersection, and their probability

        p = sum over ticket intersections I of C(n - K, s - |I|) / C(n, s)   (hypergeometric).

    Raises:
        ValueError: n < K, s outside [1, n], or K above MAX_TICKET_SUPPORT.
    """
    K = expansion.support_size
    n_i, s_i = check_int(n, "n", 1), check_int(s, "s", 1)
    if n_i < K or s_i > n_i:
        raise ValueError(f"n={n_i} and s={s_i} must satisfy |S| = {K} <= n and s <= n")
    if K > MAX_TICKET_SUPPORT:
        raise ValueError(f"|S| = {K} above {MAX_TICKET_SUPPORT}: tickets are counted over all 2^|S| intersections")
    chosen = None if coordinates is None else tuple(coordinates)
    by_overlap: dict[int, tuple[int, int]] = {}
    probability = Fraction(0)
    for o in range(min(K, s_i) + 1):
        if s_i - o > n_i - K:
            continue
        tickets = sum(first_order_ticket(expansion, I, chosen) for I in itertools.combinations(range(K), o))
        by_overlap[o] = (tickets, math.comb(K, o))
        probability += Fraction(tickets * math.comb(n_i - K, s_i - o), math.comb(n_i, s_i))
    width = None if probability == 0 else -((-probability.denominator) // probability.numerator)
    return TargetTickets(expansion.target, n_i, s_i, K, by_overlap, to_rational(probability), width)
