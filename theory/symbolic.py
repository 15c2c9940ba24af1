"""Closed forms: asymptotic expansions, Fourier coefficients as functions of s, the bound table in n.

* :func:`asymptotic` expands an expression as n -> oo, including ratios of binomials and
  gamma functions (central binomial coefficients, Stirling), which sympy's own ``series``
  does not expand at infinity (it raises or, worse, returns a bare O-term). Every expansion
  is checked numerically at n = 10^8 before it is returned.
* :func:`coefficient_closed_form` gives the level-d coefficient of the symmetric neuron
  act(x_1 + ... + x_s + b) (docs/science.md 4.2) as a closed form in s, from the Krawtchouk
  partial-sum identity  sum_{j < J} K_j(d; s) = K_{J-1}(d-1; s-1)  (generating functions:
  (1-z)^d (1+z)^{s-d} / (1-z)). It covers step, sign and relu for every fixed degree and
  rational bias where the sum telescopes, and raises ValueError where it does not (partial
  sums of binomial coefficients have no closed form).
* :func:`symbolic_rows` / :func:`symbolic_table`: p(n), r*(n) (both ticket kinds) and the SQ
  frontier in n for a grid of (k, s), as data and as plain text or LaTeX (docs/science.md 4.1,
  4.4), each row with the domain its closed forms hold on; :func:`formula` gives one column as a
  :class:`Formula` that carries that domain and refuses points outside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy

from theory._exact import (
    RationalLike,
    as_fraction,
    check_int,
    check_probability_expression,
    check_size_expression,
)
from theory.limits import check_symbolic
from theory.lottery import critical_width_exact, ticket_probability
from theory.sq import min_samples_exact, mlp_params

#: The point where every expansion is checked against the expression it expands.
_CHECK_POINT = 10**8


@dataclass(frozen=True)
class Asymptotic:
    """Leading terms of an expression as n -> oo.

    ``expression`` ~ ``leading`` (the sum of ``terms``, largest first). ``next_term`` is the
    first omitted term and ``next_order`` its order n^a log(n)^b: the error of ``leading`` is
    next_term (1 + o(1)). Both are 0 when the expansion is finite (``leading`` is exact).
    """

    expression: sympy.Expr
    variable: sympy.Symbol
    terms: tuple[sympy.Expr, ...]
    leading: sympy.Expr
    next_term: sympy.Expr
    next_order: sympy.Expr


class _ExponentialTerm(ValueError):
    """A term like 2^n: no expansion in powers and logarithms of n."""


def _log_gamma_part(term: sympy.Expr, y: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr]:
    """Split a product into (log of its gamma and exponential factors, the other factors)."""
    log_part, rest = sympy.Integer(0), sympy.Integer(1)
    for factor in sympy.Mul.make_args(term):
        base, exponent = factor.as_base_exp()
        if isinstance(base, sympy.gamma):
            log_part += exponent * sympy.loggamma(base.args[0])
        elif exponent.has(y) and not base.has(y) and base.is_positive:
            log_part += exponent * sympy.log(base)
        else:
            rest *= factor
    return log_part, rest


def _term_series(term: sympy.Expr, y: sympy.Symbol, order: int) -> sympy.Expr:
    """Series of one product term in y -> 0+ up to O(y^order), gamma factors via Stirling."""
    log_part, rest = _log_gamma_part(term, y)
    rest_series = sympy.series(rest, y, 0, order).removeO()
    if log_part == 0:
        return sympy.expand(rest_series)
    logs = sympy.expand(sympy.expand_log(sympy.series(log_part, y, 0, order + 1).removeO(), force=True))
    power = logs.coeff(sympy.log(y))
    remainder = sympy.expand(logs - power * sympy.log(y))
    if power.has(y) or any(t.as_coeff_exponent(y)[1] < 0 for t in sympy.Add.make_args(remainder)):
        raise _ExponentialTerm()
    constant = remainder.subs(y, 0)
    exponential = sympy.series(sympy.exp(remainder - constant), y, 0, order + 1).removeO()
    return sympy.expand(y**power * sympy.exp(constant) * exponential * rest_series)


def _order_key(term: sympy.Expr, y: sympy.Symbol) -> tuple[sympy.Expr, int]:
    """(power of y, -power of log y): smaller sorts first, i.e. larger as y -> 0+."""
    log_power = sympy.degree(term, sympy.log(y)) if term.has(sympy.log(y)) else 0
    _, power = (term / sympy.log(y) ** log_power).as_coeff_exponent(y)
    return power, -log_power


def _additive_pieces(expression: sympy.Expr) -> list[sympy.Expr]:
    """Split into a sum of products, distributing sums in numerators only: ``sympy.expand``
    would also multiply out denominators and bury gamma factors inside sums."""
    if isinstance(expression, sympy.Add):
        return [piece for term in expression.args for piece in _additive_pieces(term)]
    if isinstance(expression, sympy.Mul):
        for i, factor in enumerate(expression.args):
            if isinstance(factor, sympy.Add):
                others = sympy.Mul(*(expression.args[:i] + expression.args[i + 1:]))
                return [piece for term in factor.args for piece in _additive_pieces(others * term)]
    return [expression]


def _expanded_terms(expression: sympy.Expr, y: sympy.Symbol, wanted: int) -> tuple[list[sympy.Expr], bool]:
    """Nonzero terms of the y-expansion, largest first: ``wanted`` complete ones, or all of
    them with the flag True when the expansion is finite (a Laurent polynomial in y)."""
    pieces = _additive_pieces(expression)
    for order in range(3, 60, 4):
        total = sympy.expand(sum((_term_series(p, y, order) for p in pieces), sympy.Integer(0)))
        terms = [t for t in sympy.Add.make_args(total) if t != 0]
        complete = sorted((t for t in terms if _order_key(t, y)[0] < order), key=lambda t: _order_key(t, y))
        if len(complete) >= wanted:
            return complete[:wanted], False
        if sympy.simplify(expression - total) == 0:
            return complete, True
    raise ValueError(f"could not find {wanted} terms of the expansion of {expression}")


def _numeric_check(result: Asymptotic, n: sympy.Symbol) -> None:
    """Guard against silent sympy failures: at n = 10^8 the error of ``leading`` must be the
    next term to within half of it (every later term is smaller by a factor >= ~1/log n).
    Evaluated in 80-digit mpmath floats (exact evaluation would build 2^(10^8))."""
    others = sorted(result.expression.free_symbols - {n}, key=str)
    symbols = [n, *others]
    with mpmath.workdps(80):
        point = [mpmath.mpf(_CHECK_POINT)] + [mpmath.mpf(7 + 4 * i) / (3 + i) for i in range(len(others))]

        def value(expression: sympy.Expr) -> mpmath.mpf:
            return mpmath.mpf(sympy.lambdify(symbols, expression, "mpmath")(*point))

        exact = value(result.expression)
        error = exact - value(result.leading)
        expected = value(result.next_term)
        ok = abs(error - expected) <= abs(expected) / 2 + abs(exact) * mpmath.mpf(10) ** -60
    if not ok:
        raise ValueError(f"the expansion of {result.expression} failed its numerical check at n = 10^8")


def asymptotic(expression: sympy.Expr, n: sympy.Symbol, terms: int = 2) -> Asymptotic:
    """The first ``terms`` terms of ``expression`` as n -> oo, and the order of the error.

    Substitutes n = 1/y and expands in y -> 0+. Product terms containing gamma functions,
    binomials, factorials or exponentials in n are expanded through their logarithm (Stirling
    series of loggamma) and exponentiated back; everything else by ``sympy.series``. The
    result is checked at n = 10^8 (other symbols set to arbitrary positive rationals): the
    error of ``leading`` must equal ``next_term`` to within half of it.

    Example: asymptotic(6/(n(n-1)), n, 2) has terms (6/n^2, 6/n^3) and next_order n^-4.

    Raises:
        ValueError: terms < 1, an expression without a power-log expansion (e.g. 2^n, sin(n)),
            a gamma function inside a sum (not split into products), or sympy failing to
            expand it (reported rather than returned wrong).
    """
    count = check_int(terms, "terms", 1)
    expression = sympy.sympify(expression)
    y = sympy.Dummy("y", positive=True)
    in_y = sympy.expand_func(expression).rewrite(sympy.gamma).subs(n, 1 / y)
    try:
        found, finite = _expanded_terms(in_y, y, count + 1)
    except _ExponentialTerm:
        raise ValueError(f"{expression} grows or decays exponentially in {n}: it has no power-log expansion") from None
    except (sympy.PoleError, NotImplementedError) as error:  # e.g. sin(n), gamma inside a sum
        raise ValueError(f"cannot expand {expression} as {n} -> oo: {error}".strip()) from error
    if finite and len(found) <= count:
        next_term, next_order = sympy.Integer(0), sympy.Integer(0)
    else:
        power, negative_log_power = _order_key(found[count], y)
        next_term = sympy.simplify(found[count].subs(y, 1 / n))
        next_order = n ** (-power) * sympy.log(n) ** (-negative_log_power)
    back = tuple(sympy.simplify(t.subs(y, 1 / n)) for t in found[:count])
    result = Asymptotic(expression, n, back, sympy.Add(*back), next_term, next_order)
    _numeric_check(result, n)
    return result


# ----------------------------------------------------------------------------- closed forms in s
#: The symbol closed forms in s are written in.
S = sympy.Symbol("s", positive=True)


@dataclass(frozen=True)
class ClosedForm:
    """A level coefficient of act(x_1 + ... + x_s + b) as a closed form in s.

    ``expression`` equals :func:`theory.fourier.coefficient` (s, degree, bias, activation) for
    every s = ``valid_from``, ``valid_from`` + 2, ... (s of the given ``parity``; the formula
    depends on the parity of s through the number of active levels). ``valid_from`` is where
    every binomial the form divides by is nonzero; smaller s may still agree.
    """

    expression: sympy.Expr
    symbol: sympy.Symbol
    degree: int
    bias: sympy.Rational
    activation: str
    parity: int
    valid_from: int


def _krawtchouk_in_s(shift: int, degree: int, deficit: int, parity: int) -> tuple[sympy.Expr, int]:
    """K_{h + shift}(degree; s - deficit) with s = 2h + parity, as one binomial times a
    factored rational function of s, and the smallest s from which that form is valid.

    K_m(e; L) = sum_i (-1)^i C(e, i) C(L - e, m - i); each term is divided by the i = 0 term:
    C(N, m - i) / C(N, m) = prod_{t<i} (m - t) / (N - m + t + 1), N = L - e. That needs
    0 <= m <= N, i.e. s >= parity - 2 shift and s >= 2 shift + 2 (deficit + degree) - parity.
    """
    index = (S - parity) / 2 + shift
    top = S - deficit - degree
    base = sympy.binomial(top, index)
    ratio = sum(
        (-1) ** i * math.comb(degree, i) * sympy.Mul(*((index - t) / (top - index + t + 1) for t in range(i)))
        for i in range(degree + 1)
    )
    first = max(parity - 2 * shift, 2 * shift + 2 * (deficit + degree) - parity)
    return base * sympy.factor(ratio), first


def coefficient_closed_form(
    degree: int, bias: RationalLike = 0, activation: str = "step", parity: int = 1
) -> ClosedForm:
    """ghat_d of act(x_1 + ... + x_s + b) as a closed form in s (s of one parity), d fixed.

    With s = 2h + parity, the active levels j (s - 2j + b > 0) are j < J = h + ceil((parity + b)/2),
    and the Krawtchouk partial sum sum_{j<J} K_j(d; s) = K_{J-1}(d-1; s-1) gives
        step, d >= 1:  ghat_d = 2^{-s} K_{J-1}(d-1; s-1)
        sign, d >= 1:  2 * step_d + 2^{-s} K_{j0}(d; s)  (sign = 2 step - 1 + 1[z = 0]; the tie
                       term only when b is an integer of the parity of s, at j0 = (s + b) / 2)
        relu, d >= 2:  2^{-s} [ r K_{J-1}(d-1; s-1) + 2 K_{J-2}(d-2; s-2) ],  r = s - 2J + 2 + b
    (relu(s - 2j + b) = r + 2 (J - 1 - j) on active levels, summed twice by the identity).
    For odd s and |b| < 1 the sign case is the majority function, O'Donnell's Theorem 5.19.

    Raises:
        ValueError: degree 0 (step, sign) or degree 0-1 (relu), where the coefficient is a
            partial sum of binomial coefficients, which has no closed form (Gosper's
            algorithm fails); another activation; parity not 0 or 1.
    """
    d = check_int(degree, "degree", 0)
    b = as_fraction(bias, "bias")
    p = check_int(parity, "parity", 0)
    if p > 1:
        raise ValueError(f"parity must be 0 (even s) or 1 (odd s), got {p}")
    lowest = {"step": 1, "sign": 1, "relu": 2}.get(activation)
    if lowest is None:
        raise ValueError(f"activation must be 'step', 'sign' or 'relu' for a closed form in s, got {activation!r}")
    if d < lowest:
        raise ValueError(
            f"degree={d} of {activation} is a partial sum of binomial coefficients in s: no closed form "
            "(use theory.fourier.coefficient for numeric s)"
        )
    offset = -((-(p + b)) // 2)  # ceil((parity + b) / 2), exactly; J = h + offset
    step, first = _krawtchouk_in_s(offset - 1, d - 1, 1, p)
    firsts = [first]
    if activation == "step":
        expression = step / 2**S
    elif activation == "sign":
        expression = 2 * step / 2**S
        if b.denominator == 1 and (b.numerator - p) % 2 == 0:  # a level with s - 2j + b = 0
            tie, first = _krawtchouk_in_s((p + b.numerator) // 2, d, 0, p)
            expression += tie / 2**S
            firsts.append(first)
    else:
        r = p - 2 * offset + 2 + b  # s - 2J + 2 + b, the same for every s of this parity
        second, first = _krawtchouk_in_s(offset - 2, d - 2, 2, p)
        expression = (sympy.Rational(r.numerator, r.denominator) * step + 2 * second) / 2**S
        firsts.append(first)
    valid_from = max(d, 1, *firsts)
    valid_from += (valid_from - p) % 2
    return ClosedForm(expression, S, d, sympy.Rational(b.numerator, b.denominator), activation, p, valid_from)


# ----------------------------------------------------------------------------- the bound table in n
#: Columns of :func:`symbolic_rows`, in order, with their plain and LaTeX headers. The parameter
#: count of the SQ columns is written P ("params"), never p: p is the ticket probability.
TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "k": ("k", "$k$"),
    "s": ("s", "$s$"),
    "domain": ("valid for", "valid for"),
    "ticket_probability": ("p(n)", "$p(n)$"),
    "critical_width": ("r*(n) = 1/p", "$r^*(n) = 1/p$"),
    "critical_width_leading": ("r* ~ (n -> oo)", r"$r^* \sim$"),
    "first_order_ticket_probability": ("p1(n), first order", "$p_1(n)$, first order"),
    "first_order_critical_width": ("r1*(n) = 1/p1", "$r_1^*(n) = 1/p_1$"),
    "sq_budget": ("SQ: params*T*m >=", r"SQ: $P\,T\,m \ge$"),
    "sq_samples_at_critical_width": ("SQ m at r*, T", r"SQ $m$ at $r^*$, $T$"),
}

#: The quantities :func:`formula` gives (the closed-form columns of :data:`TABLE_COLUMNS`).
FORMULA_QUANTITIES: tuple[str, ...] = (
    "ticket_probability", "critical_width", "critical_width_leading", "first_order_ticket_probability",
    "first_order_critical_width", "sq_budget", "sq_samples_at_critical_width",
)


@dataclass(frozen=True)
class Formula:
    """A closed form in n with the domain it holds on: integers n >= ``lowest``.

    ``expression`` equals the exact function it stands for at every integer n >= ``lowest`` (and
    only there: 6/(n(n-1)), the ticket probability of k = 3, s = 2, is 3 at n = 2, where no
    3-parity exists). ``domain`` is that condition as a sympy relation; :meth:`at` refuses a point
    outside it. ``critical_width_leading`` is an asymptote, not an identity: it agrees as n -> oo.
    """

    quantity: str
    expression: sympy.Expr
    variable: sympy.Symbol
    lowest: int
    exact: bool = True

    @property
    def domain(self) -> sympy.Basic:
        """The condition n >= lowest (n an integer)."""
        return sympy.Ge(self.variable, self.lowest)

    def at(self, n: int, **values: object) -> sympy.Expr:
        """The closed form at integer n (and other symbols by name, e.g. ``T=100``).

        Raises:
            ValueError: n not an integer >= ``lowest``.
        """
        n_i = check_int(n, "n")
        if n_i < self.lowest:
            raise ValueError(f"n={n_i} is outside the domain of the closed form of {self.quantity}: "
                             f"it holds for integers n >= {self.lowest}")
        by_name = {str(symbol): symbol for symbol in self.expression.free_symbols}
        unknown = sorted(set(values) - set(by_name))
        if unknown:
            raise ValueError(f"{', '.join(unknown)} is not a symbol of {self.expression}")
        point = {self.variable: n_i, **{by_name[name]: value for name, value in values.items()}}
        return self.expression.subs(point)

    def __str__(self) -> str:
        relation = "~" if not self.exact else "="
        return f"{self.quantity}(n) {relation} {sympy.sstr(self.expression)}  for integers n >= {self.lowest}"


def _success_probability(value: RationalLike | sympy.Expr) -> sympy.Expr:
    return check_probability_expression(value, "success_probability")


def _steps(steps: sympy.Expr | int | None) -> sympy.Expr:
    if steps is None:
        return sympy.Symbol("T", positive=True)
    return check_size_expression(steps, "steps")


def formula(quantity: str, k: int, s: int, n: sympy.Symbol | None = None, steps: sympy.Expr | int | None = None,
            success_probability: RationalLike | sympy.Expr = Fraction(1, 2)) -> Formula:
    """One closed-form column of the bound table, with its domain (a :class:`Formula`).

    ``quantity`` is one of :data:`FORMULA_QUANTITIES` (docs/science.md 4.1, 4.4): the inclusion and
    first-order ticket probabilities and critical widths (:func:`theory.lottery.ticket_probability`,
    ``kind``), the leading term of r*, the SQ budget q C(n, k) / 2 and the SQ samples at r*. The
    domain is n >= max(k, s) (n >= k for ``sq_budget``). Example: ``formula("ticket_probability",
    3, 2).at(2)`` raises, ``.at(30)`` is 1/145.

    Raises:
        ValueError: an unknown quantity, k or s not integers >= 1, a bad ``steps`` or
            ``success_probability``.
    """
    if quantity not in FORMULA_QUANTITIES:
        raise ValueError(f"quantity must be one of {FORMULA_QUANTITIES}, got {quantity!r}")
    k_i, s_i = check_int(k, "k", 1), check_int(s, "s", 1)
    n_sym = sympy.Symbol("n", positive=True, integer=True) if n is None else n
    row = _row(k_i, s_i, n_sym, _steps(steps), _success_probability(success_probability), {quantity})
    lowest = k_i if quantity == "sq_budget" else max(k_i, s_i)
    return Formula(quantity, row[quantity], n_sym, lowest, exact=quantity != "critical_width_leading")


def _row(k: int, s: int, n: sympy.Symbol, steps: sympy.Expr, q: sympy.Expr, wanted: set[str]) -> dict[str, sympy.Expr]:
    """The closed forms of one (k, s) row (only the ``wanted`` columns and what they need)."""
    row: dict[str, sympy.Expr] = {"k": sympy.Integer(k), "s": sympy.Integer(s),
                                  "domain": sympy.Ge(n, max(k, s))}
    if wanted & {"ticket_probability"}:
        row["ticket_probability"] = ticket_probability(n, k, s)
    if wanted & {"critical_width", "critical_width_leading", "sq_samples_at_critical_width"}:
        width = critical_width_exact(n, k, s)
        row["critical_width"] = width
        if "critical_width_leading" in wanted:
            row["critical_width_leading"] = asymptotic(width, n, 1).leading
        if "sq_samples_at_critical_width" in wanted:
            row["sq_samples_at_critical_width"] = min_samples_exact(n, k, mlp_params(n, width), steps, q)
    if "first_order_ticket_probability" in wanted:
        row["first_order_ticket_probability"] = ticket_probability(n, k, s, "first_order")
    if "first_order_critical_width" in wanted:
        row["first_order_critical_width"] = critical_width_exact(n, k, s, "first_order")
    if "sq_budget" in wanted:
        row["sq_budget"] = sympy.factor(q * sympy.ff(n, k) / (2 * math.factorial(k)))
    return row


def symbolic_rows(
    k_values: Sequence[int],
    s_values: Sequence[int],
    n: sympy.Symbol | None = None,
    steps: sympy.Expr | int | None = None,
    success_probability: RationalLike | sympy.Expr = Fraction(1, 2),
) -> list[dict[str, sympy.Expr]]:
    """One dict of closed forms in n per (k, s) (docs/science.md 4.1 and 4.4), keys
    :data:`TABLE_COLUMNS`:

    * ``domain``: where every closed form of the row holds, n >= max(k, s) (n an integer);
    * ``ticket_probability`` p(n) = ff(s, k)/ff(n, k) or ff(k, s)/ff(n, s) (inclusion tickets);
    * ``critical_width`` r*(n) = 1/p(n) (before the ceiling) and its leading term;
    * ``first_order_ticket_probability`` p1(n) = [ff(s, k) + k ff(s, k-1) (n - s)] / ff(n, k)
      (overlap >= k - 1; 0 for s < k - 1) and ``first_order_critical_width`` 1/p1 (oo where p1 = 0);
    * ``sq_budget``: the SQ frontier, q C(n, k) / 2, which params * steps * samples must reach
      for success probability q (independent of s);
    * ``sq_samples_at_critical_width``: m = q C(n, k) / (2 r*(n) (n + 2) T), the samples the SQ
      bound asks of a width-r* MLP run for T steps (T a symbol unless ``steps`` is given).

    Raises:
        ValueError: k or s not integers >= 1; ``steps`` not an integer >= 1 (or a symbol that may
            be one); ``success_probability`` outside (0, 1].
    """
    check_symbolic(k_values)  # size guard (theory.limits)
    n_sym = sympy.Symbol("n", positive=True) if n is None else n
    t = _steps(steps)
    q = _success_probability(success_probability)
    return [_row(check_int(k, "k", 1), check_int(s, "s", 1), n_sym, t, q, set(TABLE_COLUMNS))
            for k in k_values for s in s_values]


def symbolic_table(
    k_values: Sequence[int],
    s_values: Sequence[int],
    fmt: str = "plain",
    n: sympy.Symbol | None = None,
    steps: sympy.Expr | int | None = None,
    success_probability: RationalLike | sympy.Expr = Fraction(1, 2),
) -> str:
    """:func:`symbolic_rows` as text: ``fmt="plain"`` (aligned columns, sympy's one-line
    printing) or ``"latex"`` (a booktabs tabular, sympy.latex cells). Ends with a newline."""
    if fmt not in ("plain", "latex"):
        raise ValueError(f"fmt must be 'plain' or 'latex', got {fmt!r}")
    rows = symbolic_rows(k_values, s_values, n=n, steps=steps, success_probability=success_probability)
    if fmt == "latex":
        lines = ["% needs \\usepackage{booktabs}", "\\begin{tabular}{" + "l" * len(TABLE_COLUMNS) + "}", "\\toprule",
                 " & ".join(latex for _, latex in TABLE_COLUMNS.values()) + " \\\\", "\\midrule"]
        lines += [" & ".join(f"${sympy.latex(row[c])}$" for c in TABLE_COLUMNS) + " \\\\" for row in rows]
        return "\n".join(lines + ["\\bottomrule", "\\end{tabular}"]) + "\n"
    cells = [[plain for plain, _ in TABLE_COLUMNS.values()]] + [[sympy.sstr(row[c]) for c in TABLE_COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE_COLUMNS))]
    text = [" | ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in cells]
    text.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(text) + "\n"
