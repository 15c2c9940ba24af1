"""Public hypothesis strategies for the toolkit's objects, with size caps (issue 27).

For researchers writing their own property tests of a proof step against ``theory``:

    from hypothesis import given
    from verify.strategies import s_hot_neurons, parity_problems

    @given(parity_problems(max_n=12))
    def test_my_lemma(problem): ...

Every strategy takes explicit caps, so a test states how large its examples may get (brute-force
oracles cost 2^n). Values are exact (``Fraction``), so what a test computes from them is exact too.
:mod:`verify.conjecture` searches a conjecture over finite domains without writing a test; these
strategies are for the properties it cannot state (a support, a neuron's weight vector).

Objects: :class:`ParityProblem` (n, k, s and a target support S), supports of size s, tickets of
either kind (:data:`theory.lottery.TICKET_KINDS`), :class:`Neuron` (s-hot with ``uniform``-like,
``sign`` or ``ones-eps`` values, or any rational weights on n inputs), rational biases, and the
targets of :mod:`theory.targets` as :class:`theory.targets.TargetExpansion`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import strategies as st

from theory import TARGET_NAMES, TICKET_KINDS, is_ticket, ltf_coefficient, neuron_gradient_signal, target_expansion
from theory.neuron import NeuronSignal


@dataclass(frozen=True)
class ParityProblem:
    """An (n, k)-parity with target support S and a support size s for the neurons (1 <= k, s <= n)."""

    n: int
    k: int
    s: int
    target: tuple[int, ...]


@dataclass(frozen=True)
class Neuron:
    """act(w . x + b) on n inputs: ``values`` on ``support``, ``off_support`` on every other input.

    ``weights`` is the full vector. :meth:`signal` and :meth:`coefficient` call the exact theory.
    """

    n: int
    support: tuple[int, ...]
    values: tuple[Fraction, ...]
    bias: Fraction
    off_support: Fraction = Fraction(0)

    @property
    def weights(self) -> tuple[Fraction, ...]:
        position = {c: i for i, c in enumerate(self.support)}
        return tuple(self.values[position[j]] if j in position else self.off_support for j in range(self.n))

    def signal(self, target: tuple[int, ...], derivative: str = "step") -> NeuronSignal:
        """theory.neuron.neuron_gradient_signal of this neuron against the parity on ``target``."""
        return neuron_gradient_signal(self.n, self.support, self.values, self.bias, target, self.off_support,
                                      derivative)

    def coefficient(self, subset: tuple[int, ...], activation: str = "relu"):
        """theory.ltf.ltf_coefficient of this neuron on the input set ``subset``."""
        return ltf_coefficient(self.weights, self.bias, subset, activation)


def rationals(max_abs: int = 4, max_denominator: int = 4) -> st.SearchStrategy[Fraction]:
    """p/q with |p/q| <= max_abs and 1 <= q <= max_denominator (small denominators make
    pre-activations hit 0, where step(0) = 0 and sign(0) = 0 decide)."""
    return st.integers(1, max_denominator).flatmap(
        lambda q: st.integers(-max_abs * q, max_abs * q).map(lambda p: Fraction(p, q)))


def rational_biases(max_abs: int = 4, max_denominator: int = 4) -> st.SearchStrategy[Fraction]:
    """A neuron bias: :func:`rationals` with the same caps."""
    return rationals(max_abs, max_denominator)


def supports(n: int, s: int) -> st.SearchStrategy[tuple[int, ...]]:
    """A uniformly drawn s-subset of range(n), sorted (a neuron's support U or a target S)."""
    if not 1 <= s <= n:
        raise ValueError(f"need 1 <= s <= n, got s={s}, n={n}")
    return st.lists(st.integers(0, n - 1), min_size=s, max_size=s, unique=True).map(lambda u: tuple(sorted(u)))


@st.composite
def parity_problems(draw: st.DrawFn, max_n: int = 12, min_n: int = 1, max_k: int | None = None) -> ParityProblem:
    """(n, k, s) with 1 <= k, s <= n <= max_n (k <= max_k) and a target support S of size k."""
    n = draw(st.integers(min_n, max_n))
    k = draw(st.integers(1, n if max_k is None else min(n, max_k)))
    s = draw(st.integers(1, n))
    return ParityProblem(n, k, s, draw(supports(n, k)))


@st.composite
def tickets(draw: st.DrawFn, problem: ParityProblem, kind: str = "inclusion") -> tuple[int, ...]:
    """A support of size ``problem.s`` that is a ticket of ``kind`` for ``problem.target``
    (:func:`theory.lottery.is_ticket`); unsatisfiable (the test is skipped) when none exists."""
    if kind not in TICKET_KINDS:
        raise ValueError(f"kind must be one of {TICKET_KINDS}, got {kind!r}")
    n, k, s, target = problem.n, problem.k, problem.s, problem.target
    others = [j for j in range(n) if j not in target]
    lowest = {"inclusion": min(k, s), "first_order": k - 1}[kind]
    low, high = max(lowest, s - len(others), 0), min(k, s)
    if low > high:  # no such ticket (first order with s < k - 1): hypothesis discards the example
        draw(st.nothing())
    overlap = draw(st.integers(low, high))
    inside = draw(st.lists(st.sampled_from(target), min_size=overlap, max_size=overlap, unique=True))
    outside = draw(st.lists(st.sampled_from(others), min_size=s - overlap, max_size=s - overlap, unique=True)
                   if s > overlap else st.just([]))
    support = tuple(sorted(inside + outside))
    assert is_ticket(support, target, kind)
    return support


#: The value laws of :func:`s_hot_neurons`.
S_HOT_VALUES: tuple[str, ...] = ("uniform", "sign", "ones-eps")


def s_hot_neurons(n: int, s: int, values: str = "uniform", max_denominator: int = 8,
                  support: tuple[int, ...] | None = None) -> st.SearchStrategy[Neuron]:
    """An s-hot neuron on n inputs (docs/science.md 2), exact:

    * ``"uniform"``: values and bias rationals in [-1, 1] with denominators <= ``max_denominator``
      (the grid version of U(-1/sqrt(s), 1/sqrt(s)) up to scale, which step ignores);
    * ``"sign"``: values +-1, bias as above;
    * ``"ones-eps"``: values 1, bias an integer in [-s, s], and a rational epsilon in (0, 1/(n - s))
      on every other input (Theorem 5's init; epsilon 0 when s = n).
    ``support`` fixes U (e.g. from :func:`tickets`); otherwise it is drawn uniformly.

    Raises:
        ValueError: s outside [1, n], an unknown ``values``, a ``support`` of the wrong size or
            outside range(n), max_denominator < 1 (at once, not when the first example is drawn).
    """
    if values not in S_HOT_VALUES:
        raise ValueError(f"values must be one of {S_HOT_VALUES}, got {values!r}")
    if isinstance(max_denominator, bool) or not isinstance(max_denominator, int) or max_denominator < 1:
        raise ValueError(f"max_denominator must be an integer >= 1, got {max_denominator!r}")
    if support is not None and (len(set(support)) != s or not all(0 <= c < n for c in support)):
        raise ValueError(f"support {tuple(support)} is not {s} distinct coordinates of range({n})")
    chosen = supports(n, s) if support is None else st.just(tuple(support))
    return _s_hot_neurons(n, s, values, max_denominator, chosen)


@st.composite
def _s_hot_neurons(draw: st.DrawFn, n: int, s: int, values: str, max_denominator: int,
                   chosen: st.SearchStrategy[tuple[int, ...]]) -> Neuron:
    u = draw(chosen)
    unit = rationals(1, max_denominator)
    if values == "uniform":
        vals = tuple(draw(unit) for _ in range(s))
        return Neuron(n, u, vals, draw(unit))
    if values == "sign":
        return Neuron(n, u, tuple(draw(st.sampled_from([Fraction(1), Fraction(-1)])) for _ in range(s)), draw(unit))
    bias = Fraction(draw(st.integers(-s, s)))  # "ones-eps"
    if s == n:
        return Neuron(n, u, (Fraction(1),) * s, bias)
    denominator = draw(st.integers(n - s + 1, 4 * (n - s) + 4))
    return Neuron(n, u, (Fraction(1),) * s, bias, Fraction(1, denominator))


@st.composite
def general_neurons(draw: st.DrawFn, max_inputs: int = 10, max_abs: int = 4, max_denominator: int = 4) -> Neuron:
    """A neuron with any rational weights (zeros included) on 1..max_inputs inputs, all in its support."""
    n = draw(st.integers(1, max_inputs))
    weights = tuple(draw(rationals(max_abs, max_denominator)) for _ in range(n))
    return Neuron(n, tuple(range(n)), weights, draw(rational_biases(max_abs, max_denominator)))


@st.composite
def targets(draw: st.DrawFn, max_k: int = 7, names: tuple[str, ...] = TARGET_NAMES):
    """A :class:`theory.targets.TargetExpansion` of one of ``names`` with valid parameters (odd k for
    staircase / sparse majority, label noise in (0, 1/2) for the noisy parity, 2-3 tasks for the
    multitask parity)."""
    name = draw(st.sampled_from(names))
    if name in ("staircase", "sparse_majority"):
        k = draw(st.sampled_from([k for k in range(1, max_k + 1, 2)]))
    else:
        k = draw(st.integers(1, max_k))
    tasks = draw(st.integers(2, 3)) if name == "multitask_parity" else 1
    noise = draw(st.integers(1, 9).map(lambda i: Fraction(i, 20))) if name == "noisy_parity" else 0
    return target_expansion(name, k, tasks, noise)
