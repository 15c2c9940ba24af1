"""Conjecture search: state an inequality of exact theory and have the machine try hard to break it.

A *conjecture* is a comparison (``<``, ``<=``, ``==``, ``!=``, ``>=``, ``>``, chains such as
``a <= b < c`` included) between expressions in free variables (n, k, s, b and any other name
given a domain) and the public functions of ``theory`` by name, e.g.

    critical_width(n, 3, 2) <= n**2/7
    ticket_probability(n, k, s) == ff(s, k) / ff(n, k)              (with --assume "s >= k")
    gap(n, 4, s, b) > 0

It is parsed with :mod:`ast` against a whitelist of node types (numbers, strings as call
arguments and indices, names, + - * / // % **, unary -, calls, public attributes and methods of
theory's result objects, indexing, lists and tuples, comparisons; ``and``/``or``/``not`` in assumptions):
no Python ``eval``, no attribute starting with ``_``, no name outside the variables and
:data:`FUNCTIONS`. Every value is exact: Python ints and ``Fraction`` (a decimal literal 0.1 is
1/10), sympy numbers where a function returns an irrational (sqrt(2)); a floating-point value
anywhere in a comparison is refused, so no verdict rests on rounding. Irrational sides are
compared by sympy, which decides the sign of a nonzero difference at guaranteed precision; a
comparison it cannot decide is reported, not guessed.

The domain of each variable is a finite set (``A:B`` integers, ``A:B:STEP``, ``v1,v2,...``); the
search runs over their product. A case where a function refuses its input (``ValueError``: s > n,
k > n, ...) or the expression divides by zero is *undefined* there and counted, not a
counterexample; a case failing an ``--assume`` condition is *excluded*. The search is

* **exhaustive** when the product has at most ``exhaustive_limit`` cases: every case is
  evaluated, and the reported counterexample is the *smallest* failing one: least total rank, each
  variable's values ranked simplest first (the value nearest 0 first, then outwards, positive
  before negative; a list in the order given), ties broken lexicographically;
* **random** otherwise: ``hypothesis.find`` draws up to ``examples`` cases (seeded, no example
  database) and shrinks the first failure with hypothesis's shrinker; then a coordinate-wise pass
  replaces each variable by the simplest value that still fails, until none can be simplified
  (a counterexample minimal in every single variable; a global minimum needs an exhaustive search).

:func:`search` returns a :class:`ConjectureResult` (``holds``, ``counterexample`` with the exact
value of every side, the case counts and the wall time); ``frontier conjecture`` prints it and
exits 0 (held on every case tried), 1 (counterexample) or 2 (bad expression or domain, or no
defined case). Hypothesis strategies for writing one's own property tests are in
:mod:`verify.strategies`.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Union

import sympy

#: Up to this many cases the search is exhaustive (default of :func:`search`).
EXHAUSTIVE_LIMIT = 50_000
#: Random cases drawn by hypothesis when the domain is larger (default of :func:`search`).
EXAMPLES = 2_000
#: Evaluations the coordinate-wise minimisation may spend after hypothesis has shrunk.
MINIMISE_BUDGET = 20_000
#: Largest |exponent| of ``**`` and argument of ``factorial``: beyond, one case could take minutes.
MAX_EXPONENT = 10_000

Exact = Union[int, Fraction, sympy.Expr]


class ConjectureError(ValueError):
    """A bad conjecture, assumption or domain: the CLI prints it as one ``error:`` line, exit 2."""


class _Undefined(Exception):
    """A case outside a function's domain (or a division by zero): not a counterexample."""


# ----------------------------------------------------------------------------- the function namespace
def _falling_factorial(x: object, j: object) -> Exact:
    """ff(x, j) = x (x - 1) ... (x - j + 1), j an integer >= 0."""
    j_i = _integer(j, "ff's second argument")
    if j_i < 0:
        raise ValueError(f"ff needs j >= 0, got {j_i}")
    result: Exact = 1
    for i in range(j_i):
        result = _arith(ast.Mult(), result, _arith(ast.Sub(), x, i))
    return result


def _integer(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)) or Fraction(value).denominator != 1:
        raise ValueError(f"{what} must be an integer, got {value}")
    return int(value)


def _comb(a: object, b: object) -> int:
    a_i, b_i = _integer(a, "binomial's first argument"), _integer(b, "binomial's second argument")
    if a_i < 0:
        raise ValueError(f"binomial needs a >= 0, got {a_i}")
    return math.comb(a_i, b_i) if b_i >= 0 else 0


def _factorial(a: object) -> int:
    a_i = _integer(a, "factorial's argument")
    if a_i < 0:
        raise ValueError(f"factorial needs a >= 0, got {a_i}")
    if a_i > MAX_EXPONENT:
        raise ConjectureError(f"factorial({a_i}) is above the limit {MAX_EXPONENT}")
    return math.factorial(a_i)


def _gradient_field(field: str) -> Callable[..., Exact]:
    def quantity(n: object, k: object, s: object, b: object = 0, overlap: object = None) -> Exact:
        from theory.fourier import gradient_signal

        return getattr(gradient_signal(n, k, s, b, overlap), field)

    quantity.__doc__ = f"gradient_signal(n, k, s, b, overlap).{field} (docs/science.md 4.3)"
    return quantity


def _closed_form(quantity: str, k: object, s: object, n: object, **values: object) -> Exact:
    """formula(quantity, k, s).at(n): the closed form of the bound table at n, refused outside its domain."""
    return _cached_formula(quantity, _integer(k, "k"), _integer(s, "s")).at(_integer(n, "n"), **values)


def _cached_formula(quantity: str, k: int, s: int) -> Any:
    key = (quantity, k, s)
    if key not in _FORMULAS:
        from theory.symbolic import formula

        _FORMULAS[key] = formula(quantity, k, s)
    return _FORMULAS[key]


_FORMULAS: dict[tuple[str, int, int], Any] = {}

#: theory's public names left out of the namespace: they draw random numbers, print tables or
#: return symbolic or floating-point objects, none of which a verdict can rest on.
EXCLUDED: frozenset[str] = frozenset({
    "anticoncentration_table", "neuron_census", "draw_grid_neuron", "quantile_band", "clopper_pearson",
    "symbolic_table", "symbolic_rows", "asymptotic", "resolve_activation", "leaky_relu", "gaussian_limit",
})


def _math_namespace() -> dict[str, Callable[..., Any]]:
    return {
        "abs": lambda x: _arith(ast.Mult(), x, -1) if _compare(ast.Lt(), x, 0) else x,
        "min": lambda *xs: min(_ordered(xs)),
        "max": lambda *xs: max(_ordered(xs)),
        "floor": lambda x: math.floor(x) if isinstance(x, (int, Fraction)) else int(sympy.floor(x)),
        "ceil": lambda x: math.ceil(x) if isinstance(x, (int, Fraction)) else int(sympy.ceiling(x)),
        "binomial": _comb,
        "comb": _comb,
        "factorial": _factorial,
        "ff": _falling_factorial,
        "sqrt": lambda x: _normalise(sympy.sqrt(_sympy(x))),
        "log": lambda x: _normalise(sympy.log(_sympy(x))),
        "gcd": lambda *xs: math.gcd(*(_integer(x, "gcd's argument") for x in xs)),
        "gap": _gradient_field("gap"),
        "relevant": _gradient_field("relevant"),
        "irrelevant": _gradient_field("irrelevant"),
        "closed_form": _closed_form,
    }


def _functions() -> dict[str, Callable[..., Any]]:
    import theory

    names = {name: getattr(theory, name) for name in theory.__all__
             if name not in EXCLUDED and callable(getattr(theory, name)) and not isinstance(getattr(theory, name), type)}
    return {**names, **_math_namespace()}


#: Every function a conjecture may call: theory's public functions (less :data:`EXCLUDED`) and
#: abs, min, max, floor, ceil, binomial (= comb), factorial, ff (falling factorial), sqrt, log, gcd,
#: gap / relevant / irrelevant (fields of theory.gradient_signal(n, k, s, b, overlap)) and
#: closed_form(quantity, k, s, n) (theory.formula(quantity, k, s).at(n)).
FUNCTIONS: dict[str, Callable[..., Any]] = _functions()


# ----------------------------------------------------------------------------- exact values
def _normalise(value: object) -> object:
    """int / Fraction for rationals, a sympy number for irrationals; refuse floats and symbols."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Fraction)):
        return value
    if isinstance(value, float):
        raise ConjectureError(f"a function returned the floating-point number {value!r}: the verdict must be exact")
    if isinstance(value, sympy.Basic):
        if isinstance(value, sympy.Integer):
            return int(value)
        if isinstance(value, sympy.Rational):
            return Fraction(int(value.p), int(value.q))
        if value.free_symbols:
            raise ConjectureError(f"{value} is a symbolic expression, not a number")
        if value in (sympy.oo, -sympy.oo) or (value.is_number and value.is_real):
            return value
        if value.is_number and value.is_real is False:
            raise ConjectureError(f"{value} is not a real number")
    return value


def _is_number(value: object) -> bool:
    return (isinstance(value, (int, Fraction)) and not isinstance(value, bool)) or (
        isinstance(value, sympy.Basic) and value.is_number)


def _sympy(value: object) -> sympy.Expr:
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value)
    if isinstance(value, sympy.Basic):
        return value  # type: ignore[return-value]
    raise ConjectureError(f"{value!r} is not a number")


def _arith(op: ast.operator, a: object, b: object) -> object:
    if not (_is_number(a) and _is_number(b)):
        bad = a if not _is_number(a) else b
        raise ConjectureError(f"arithmetic on {type(bad).__name__} {bad!r}: use one of its numeric attributes")
    rational = isinstance(a, (int, Fraction)) and isinstance(b, (int, Fraction))
    if isinstance(op, ast.Pow) and isinstance(b, (int, Fraction)) and abs(b) > MAX_EXPONENT:
        raise ConjectureError(f"exponent {b} is above the limit {MAX_EXPONENT}")
    try:
        if rational:
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, ast.Mult):
                return a * b
            if isinstance(op, ast.Div):
                return _tidy(Fraction(a) / b)
            if isinstance(op, ast.FloorDiv):
                return a // b
            if isinstance(op, ast.Mod):
                return _tidy(Fraction(a) % b)
            if isinstance(op, ast.Pow) and Fraction(b).denominator == 1:
                return _tidy(Fraction(a) ** int(b))
        x, y = _sympy(a), _sympy(b)
        if isinstance(op, ast.Div) and y == 0 or isinstance(op, ast.Pow) and x == 0 and y.is_negative:
            raise ZeroDivisionError("division by zero")
        result = {ast.Add: lambda: x + y, ast.Sub: lambda: x - y, ast.Mult: lambda: x * y, ast.Div: lambda: x / y,
                  ast.Pow: lambda: x**y, ast.FloorDiv: lambda: sympy.floor(x / y),
                  ast.Mod: lambda: x - y * sympy.floor(x / y)}[type(op)]()
    except ZeroDivisionError as error:
        raise _Undefined(f"division by zero ({error})") from None
    return _normalise(result)


def _tidy(value: Fraction) -> int | Fraction:
    return int(value) if value.denominator == 1 else value


_PYTHON_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
}


def _compare(op: ast.cmpop, a: object, b: object) -> bool:
    """a op b, exactly: Python for rationals, sympy's sign decision otherwise."""
    for side in (a, b):
        if not _is_number(side):
            raise ConjectureError(f"a comparison needs numbers, got {type(side).__name__} {side!r}: "
                                  "use one of its numeric attributes (e.g. .gap)")
    if isinstance(a, (int, Fraction)) and isinstance(b, (int, Fraction)):
        return _PYTHON_COMPARE[type(op)](a, b)
    x, y = _sympy(a), _sympy(b)
    if x.is_infinite or y.is_infinite:
        relation = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge,
                    ast.Eq: sympy.Eq, ast.NotEq: sympy.Ne}[type(op)](x, y)
        if relation in (sympy.true, sympy.false):
            return bool(relation)
        raise ConjectureError(f"cannot decide {x} {_OPERATOR_TEXT[type(op)]} {y}")
    difference = sympy.nsimplify(x - y) if (x - y).is_rational else sympy.simplify(x - y)
    sign = 0 if difference.is_zero else 1 if difference.is_positive else -1 if difference.is_negative else None
    if sign is None:
        raise ConjectureError(f"sympy cannot decide the sign of {x} - {y} exactly")
    return _PYTHON_COMPARE[type(op)](sign, 0)


def _ordered(values: Sequence[object]) -> list[object]:
    """Wrap values so Python's min/max use the exact comparison."""
    return [_Key(v) for v in values]  # type: ignore[misc]


class _Key:
    def __init__(self, value: object) -> None:
        self.value = value

    def __lt__(self, other: _Key) -> bool:
        return _compare(ast.Lt(), self.value, other.value)

    def __gt__(self, other: _Key) -> bool:
        return _compare(ast.Gt(), self.value, other.value)


_OPERATOR_TEXT: dict[type, str] = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


# ----------------------------------------------------------------------------- parsing
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_ALLOWED = (ast.Expression, ast.Compare, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Attribute,
            ast.Subscript, ast.List, ast.Tuple, ast.keyword, ast.Load, ast.USub, ast.UAdd, *_ARITHMETIC,
            *(_OPERATOR_TEXT))
_BOOLEAN = (ast.BoolOp, ast.And, ast.Or, ast.Not)


@dataclass(frozen=True)
class Expression:
    """A parsed conjecture or assumption: its text, tree and free variables (first use first)."""

    text: str
    tree: ast.Expression
    variables: tuple[str, ...]
    is_assumption: bool

    @property
    def sides(self) -> tuple[str, ...]:
        """The operands of the top comparison, as text (a conjecture's sides)."""
        body = self.tree.body
        assert isinstance(body, ast.Compare)
        return tuple(ast.unparse(node) for node in [body.left, *body.comparators])


def _check_tree(tree: ast.Expression, text: str, assumption: bool) -> tuple[str, ...]:
    variables: list[str] = []
    string_arguments = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            string_arguments.update(id(a) for a in node.args if isinstance(a, ast.Constant))
            string_arguments.update(id(k.value) for k in node.keywords if isinstance(k.value, ast.Constant))
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            string_arguments.add(id(node.slice))  # a key of a result dict, e.g. .at(e)['in_target_only']
    allowed = _ALLOWED + (_BOOLEAN if assumption else ())
    for node in ast.walk(tree):  # the whitelist first, so the first complaint names the construct
        if not isinstance(node, allowed):
            what = type(node).__name__
            hint = " (and/or/not only in --assume)" if isinstance(node, _BOOLEAN) else ""
            raise ConjectureError(f"{what} is not allowed in a conjecture{hint}: {text!r}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)):
                raise ConjectureError(f"the constant {value!r} is not allowed (numbers, and strings as arguments)")
            if isinstance(value, str) and id(node) not in string_arguments:
                raise ConjectureError(f"the string {value!r} may only be an argument of a call or an index")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                raise ConjectureError(f"the attribute {node.attr!r} is private")
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            raise ConjectureError("slices are not allowed; index one element")
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                if node.func.id not in FUNCTIONS:
                    raise ConjectureError(f"unknown function {node.func.id!r}: call theory's public functions "
                                          "or abs, min, max, floor, ceil, binomial, factorial, ff, sqrt, log, gcd, "
                                          "gap, relevant, irrelevant, closed_form")
            elif not isinstance(node.func, ast.Attribute):
                raise ConjectureError(f"only functions and methods can be called: {ast.unparse(node.func)!r}")
            if any(k.arg is None for k in node.keywords):
                raise ConjectureError("**keyword unpacking is not allowed")
        elif isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ConjectureError(f"the name {node.id!r} is private")
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called:
            if node.id in FUNCTIONS:
                raise ConjectureError(f"{node.id} is a function: call it, e.g. {node.id}(n, k, s)")
            if node.id not in variables:
                variables.append(node.id)
    return tuple(variables)


def parse(text: str, assumption: bool = False) -> Expression:
    """Parse a conjecture (a comparison at the top) or an assumption (any condition).

    Raises:
        ConjectureError: a syntax error, a node outside the whitelist, an unknown function, a
            private name or attribute, or a conjecture that is not a comparison.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConjectureError(f"the {'assumption' if assumption else 'conjecture'} is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ConjectureError(f"cannot parse {text!r}: {error.msg}{where}") from None
    if not assumption and not isinstance(tree.body, ast.Compare):
        raise ConjectureError(f"a conjecture must be a comparison (<, <=, ==, !=, >=, >), got {text!r}")
    return Expression(text.strip(), tree, _check_tree(tree, text, assumption), assumption)


# ----------------------------------------------------------------------------- evaluation
def _evaluate(node: ast.AST, values: Mapping[str, object]) -> object:
    if isinstance(node, ast.Constant):
        value = node.value
        return Fraction(repr(value)) if isinstance(value, float) else value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        if isinstance(node.op, ast.Not):
            return not _truth(operand)
        return operand if isinstance(node.op, ast.UAdd) else _arith(ast.Mult(), operand, -1)
    if isinstance(node, ast.BinOp):
        return _arith(node.op, _evaluate(node.left, values), _evaluate(node.right, values))
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_truth(_evaluate(v, values)) for v in node.values)
        return any(_truth(_evaluate(v, values)) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, values)
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, values)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_evaluate(e, values) for e in node.elts]
    if isinstance(node, ast.Subscript):
        container, index = _evaluate(node.value, values), _evaluate(node.slice, values)
        if not isinstance(container, (list, tuple, dict)):
            raise ConjectureError(f"cannot index {type(container).__name__}")
        try:
            return _normalise(container[index] if isinstance(container, dict) else container[_integer(index, "index")])
        except (KeyError, IndexError):
            raise _Undefined(f"no element {index}") from None
    if isinstance(node, ast.Attribute):
        return _attribute(_evaluate(node.value, values), node.attr)
    if isinstance(node, ast.Call):
        return _call(node, values)
    raise ConjectureError(f"{type(node).__name__} is not allowed")  # unreachable after parse


def _truth(value: object) -> bool:
    if not isinstance(value, bool):
        raise ConjectureError(f"a condition must be a comparison, got {value!r}")
    return value


def _theory_object(value: object) -> bool:
    return type(value).__module__.startswith("theory.") and dataclasses.is_dataclass(value)


def _attribute(obj: object, name: str) -> object:
    if not _theory_object(obj):
        raise ConjectureError(f"attributes only of theory's result objects, not of {type(obj).__name__}")
    fields = {f.name for f in dataclasses.fields(obj)}  # type: ignore[arg-type]
    if name in fields or isinstance(getattr(type(obj), name, None), property):
        return _normalise(getattr(obj, name))
    raise ConjectureError(f"{type(obj).__name__} has no field {name!r} (fields: {', '.join(sorted(fields))})")


def _call(node: ast.Call, values: Mapping[str, object]) -> object:
    if isinstance(node.func, ast.Name):
        function, label = FUNCTIONS[node.func.id], node.func.id
    else:
        obj = _evaluate(node.func.value, values)
        member = getattr(type(obj), node.func.attr, None)
        if not _theory_object(obj) or not callable(member) or isinstance(member, property):
            raise ConjectureError(f"{ast.unparse(node.func)} is not a method of a theory result object")
        function, label = getattr(obj, node.func.attr), ast.unparse(node.func)
    args = [_evaluate(a, values) for a in node.args]
    kwargs = {k.arg: _evaluate(k.value, values) for k in node.keywords}
    try:
        result = function(*args, **kwargs)
    except ConjectureError:
        raise
    except TypeError as error:
        raise ConjectureError(f"bad call {label}(...): {error}") from None
    except (ValueError, ZeroDivisionError, ArithmeticError) as error:
        raise _Undefined(f"{label}: {str(error).splitlines()[0] if str(error) else type(error).__name__}") from None
    return _normalise(result)


# ----------------------------------------------------------------------------- domains
@dataclass(frozen=True)
class Domain:
    """The finite set of values of one variable, ranked simplest first (module docstring).

    ``spec``: ``A:B`` (integers A..B), ``A:B:STEP`` (A, A+STEP, ... <= B; rationals allowed),
    ``v1,v2,...`` (a list, in that order) or one value; numbers as ``3``, ``-1/2``, ``0.25``.
    """

    name: str
    spec: str
    start: Fraction | None
    step: Fraction | None
    count: int
    listed: tuple[int | Fraction, ...]

    @property
    def size(self) -> int:
        return self.count if self.start is not None else len(self.listed)

    def value(self, rank: int) -> int | Fraction:
        """The rank-th simplest value (rank 0 is the simplest): by |value|, positive first on a tie."""
        if self.start is None:
            return self.listed[rank]
        assert self.step is not None
        first, step = self.start, self.step
        last = first + (self.count - 1) * step
        if first >= 0:
            return _tidy(first + rank * step)
        if last <= 0:
            return _tidy(last - rank * step)
        # The grid crosses 0: merge its non-negative values (ascending from P0) with its negative ones
        # (descending from P0 - step) by |value|, positive first on a tie. They alternate: a 0 comes
        # first and then +step, -step, +2 step, ...; otherwise the side nearer 0 leads each pair.
        below = math.ceil(-first / step)  # how many values are < 0: first + i step < 0 iff i < -first/step
        p0 = first + below * step
        positives, negatives = self.count - below, below
        if p0 == 0:
            if rank == 0:
                return 0
            rank, positive_start, positives, positive_first = rank - 1, step, positives - 1, True
        else:
            positive_start, positive_first = p0, 2 * p0 <= step
        pairs = min(positives, negatives)
        if rank < 2 * pairs:
            j, positive = rank // 2, (rank % 2 == 0) == positive_first
        else:
            j, positive = rank - pairs, positives > negatives
        return _tidy(positive_start + j * step if positive else p0 - step - j * step)

    def values(self) -> Iterable[int | Fraction]:
        return (self.value(i) for i in range(self.size))

    def describe(self) -> str:
        if self.start is None:
            return f"{self.name} in {{{', '.join(str(v) for v in self.listed)}}}"
        assert self.step is not None
        last = self.start + (self.count - 1) * self.step
        step = "" if self.step == 1 else f" step {self.step}"
        return f"{self.name} in {_tidy(self.start)}..{_tidy(last)}{step} ({self.count} values)"


def _number(text: str, name: str) -> Fraction:
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ConjectureError(f"the domain of {name} has {text.strip()!r}, not a number like 3, -1/2 or 0.25") from None


def parse_domain(name: str, spec: object) -> Domain:
    """A :class:`Domain` from ``spec`` (a string as above, a ``range``, or a list of numbers).

    Raises:
        ConjectureError: an empty range, a step <= 0, repeated values, a malformed number.
    """
    if isinstance(spec, range):
        if len(spec) == 0 or spec.step <= 0:
            raise ConjectureError(f"the domain of {name} is empty: {spec}")
        return Domain(name, f"{spec.start}:{spec[-1]}:{spec.step}", Fraction(spec.start), Fraction(spec.step),
                      len(spec), ())
    if isinstance(spec, (list, tuple)):
        spec = ",".join(str(v) for v in spec)
    if not isinstance(spec, str) or not spec.strip():
        raise ConjectureError(f"the domain of {name} is empty")
    text = spec.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ConjectureError(f"the domain of {name} must be A:B or A:B:STEP, got {text!r}")
        low, high = _number(parts[0], name), _number(parts[1], name)
        step = _number(parts[2], name) if len(parts) == 3 else Fraction(1)
        if step <= 0:
            raise ConjectureError(f"the step of {name}'s domain must be positive, got {step}")
        if high < low:
            raise ConjectureError(f"the domain of {name} is empty: {text!r} ({high} < {low})")
        count = int((high - low) // step) + 1
        return Domain(name, text, low, step, count, ())
    listed = tuple(_tidy(_number(part, name)) for part in text.split(","))
    if len(set(listed)) != len(listed):
        raise ConjectureError(f"the domain of {name} repeats a value: {text!r}")
    return Domain(name, text, None, None, len(listed), listed)


# ----------------------------------------------------------------------------- the search
@dataclass(frozen=True)
class Counterexample:
    """A case where the conjecture fails: the variables' values and the exact value of every side."""

    values: dict[str, int | Fraction]
    sides: tuple[tuple[str, object], ...]
    operators: tuple[str, ...]

    def __str__(self) -> str:
        at = ", ".join(f"{name} = {value}" for name, value in self.values.items())
        lines = [f"at {at}"]
        for text, value in self.sides:
            lines.append(f"  {text} = {_show(value)}")
        return "\n".join(lines)


def _show(value: object) -> str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value} (= {float(value):.6g})"
    if isinstance(value, sympy.Basic) and value.is_number and not value.is_infinite:
        return f"{value} (= {sympy.N(value, 8)})"
    return str(value)


@dataclass(frozen=True)
class ConjectureResult:
    """What :func:`search` found (module docstring for the counts and the order of cases).

    ``holds`` is True when no tried case failed (a proof only when ``method`` is ``"exhaustive"``,
    and then only on the domain searched). ``cases`` counts distinct cases evaluated, of which
    ``held`` held, ``failed`` failed, ``undefined`` were outside a function's domain and
    ``excluded`` failed an assumption. ``shrunk_from`` is the first failing case hypothesis drew,
    before shrinking (random search only).
    """

    conjecture: str
    domains: tuple[str, ...]
    assumptions: tuple[str, ...]
    method: str
    domain_size: int
    cases: int
    held: int
    failed: int
    undefined: int
    excluded: int
    counterexample: Counterexample | None
    shrunk_from: dict[str, int | Fraction] | None
    undefined_example: str | None
    seconds: float
    seed: int | None

    @property
    def holds(self) -> bool:
        return self.counterexample is None

    @property
    def exit_status(self) -> int:
        """0 when it held on every case tried, 1 with a counterexample (the CLI's status)."""
        return 0 if self.holds else 1

    def summary(self) -> str:
        """The report ``frontier conjecture`` prints."""
        how = (f"exhaustively: all {self.domain_size} cases of the domain" if self.method == "exhaustive"
               else f"at random (hypothesis, seed {self.seed}): {self.cases} distinct cases of {self.domain_size}")
        counts = (f"{self.held} held, {self.failed} failed, {self.undefined} undefined, "
                  f"{self.excluded} excluded by --assume")
        lines = [("holds: " if self.holds else "counterexample: ") + self.conjecture,
                 "  domain: " + "; ".join(self.domains)]
        lines += [f"  assuming: {a}" for a in self.assumptions]
        if self.counterexample is not None:
            lines += ["  " + line for line in str(self.counterexample).splitlines()]
            if self.method == "exhaustive":
                lines.append(f"  the smallest of {self.failed} failing cases")
            elif self.shrunk_from is not None:
                first = ", ".join(f"{k} = {v}" for k, v in self.shrunk_from.items())
                lines.append(f"  first failure drawn: {first}; shrunk by hypothesis, then each variable to its simplest "
                             "failing value")
        lines.append(f"  tried {how} in {self.seconds:.2f} s: {counts}")
        if self.undefined_example:
            lines.append(f"  undefined, e.g. {self.undefined_example}")
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready record (numbers as exact strings)."""
        example = None if self.counterexample is None else {
            "values": {k: str(v) for k, v in self.counterexample.values.items()},
            "sides": [{"expression": t, "value": str(v)} for t, v in self.counterexample.sides],
            "operators": list(self.counterexample.operators),
        }
        return {"conjecture": self.conjecture, "holds": self.holds, "method": self.method,
                "domains": list(self.domains), "assumptions": list(self.assumptions),
                "domain_size": self.domain_size, "cases": self.cases, "held": self.held, "failed": self.failed,
                "undefined": self.undefined, "excluded": self.excluded, "counterexample": example,
                "shrunk_from": None if self.shrunk_from is None else {k: str(v) for k, v in self.shrunk_from.items()},
                "seconds": self.seconds, "seed": self.seed}


class _Case:
    HELD, FAILED, UNDEFINED, EXCLUDED = range(4)


class _Evaluator:
    """Evaluates cases by rank tuple, once each, and counts them."""

    def __init__(self, conjecture: Expression, assumptions: Sequence[Expression], domains: Sequence[Domain]) -> None:
        self.conjecture, self.assumptions, self.domains = conjecture, assumptions, domains
        self.outcomes: dict[tuple[int, ...], int] = {}
        self.undefined_example: str | None = None
        self.first_failure: tuple[int, ...] | None = None

    def values(self, ranks: tuple[int, ...]) -> dict[str, int | Fraction]:
        return {d.name: d.value(r) for d, r in zip(self.domains, ranks)}

    def outcome(self, ranks: tuple[int, ...]) -> int:
        if ranks not in self.outcomes:
            self.outcomes[ranks] = self._evaluate(ranks)
            if self.outcomes[ranks] == _Case.FAILED and self.first_failure is None:
                self.first_failure = ranks
        return self.outcomes[ranks]

    def _evaluate(self, ranks: tuple[int, ...]) -> int:
        values = self.values(ranks)
        try:
            for assumption in self.assumptions:
                if not _truth(_evaluate(assumption.tree.body, values)):
                    return _Case.EXCLUDED
            return _Case.HELD if _evaluate(self.conjecture.tree.body, values) else _Case.FAILED
        except _Undefined as reason:
            if self.undefined_example is None:
                at = ", ".join(f"{k} = {v}" for k, v in values.items())
                self.undefined_example = f"{at}: {reason}"
            return _Case.UNDEFINED

    def sides(self, ranks: tuple[int, ...]) -> Counterexample:
        values = self.values(ranks)
        body = self.conjecture.tree.body
        assert isinstance(body, ast.Compare)
        nodes = [body.left, *body.comparators]
        sides = tuple((ast.get_source_segment(self.conjecture.text, node) or ast.unparse(node), _evaluate(node, values))
                      for node in nodes)
        return Counterexample(values, sides, tuple(_OPERATOR_TEXT[type(op)] for op in body.ops))

    def count(self, kind: int) -> int:
        return sum(1 for v in self.outcomes.values() if v == kind)


def _minimise(evaluator: _Evaluator, ranks: tuple[int, ...], budget: int) -> tuple[int, ...]:
    """Replace each variable by its simplest value that still fails, until none changes."""
    spent = 0
    changed = True
    while changed:
        changed = False
        for i in range(len(ranks)):
            for candidate in range(ranks[i]):
                if spent >= budget:
                    return ranks
                trial = ranks[:i] + (candidate,) + ranks[i + 1:]
                spent += trial not in evaluator.outcomes
                if evaluator.outcome(trial) == _Case.FAILED:
                    ranks, changed = trial, True
                    break
    return ranks


def _option(variable: str) -> str:
    """The command-line option that gives ``variable`` its domain (for error messages)."""
    return {"n": "--n ", "k": "--k ", "s": "--s ", "b": "--bias "}.get(variable, f"--var {variable}=")


def search(conjecture: str | Expression, domains: Mapping[str, object], assume: Iterable[str] = (), *,
           exhaustive_limit: int = EXHAUSTIVE_LIMIT, examples: int = EXAMPLES, seed: int = 0,
           minimise_budget: int = MINIMISE_BUDGET) -> ConjectureResult:
    """Search ``domains`` (variable -> spec, see :class:`Domain`) for a counterexample (module docstring).

    Example: ``search("critical_width(n, 3, 2) <= n**2/7", {"n": "4:300"})`` finds that it fails
    first at n = 5 (ceil(20/6) = 4 > 25/7).

    Raises:
        ConjectureError (a ValueError): a bad conjecture, assumption or domain, a variable without
            a domain or a domain without a variable, no case that is defined and meets the
            assumptions, limits below 1, or a function that returns no exact number.
    """
    started = time.perf_counter()
    parsed = conjecture if isinstance(conjecture, Expression) else parse(conjecture)
    assumptions = [parse(a, assumption=True) for a in assume]
    for name, value in (("exhaustive_limit", exhaustive_limit), ("examples", examples),
                        ("minimise_budget", minimise_budget)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConjectureError(f"{name} must be an integer >= 1, got {value!r}")
    used = list(parsed.variables) + [v for a in assumptions for v in a.variables if v not in parsed.variables]
    missing = [v for v in used if v not in domains]
    if missing:
        raise ConjectureError(f"no domain for {', '.join(missing)}: give one, e.g. {_option(missing[0])}1:30")
    unused = [v for v in domains if v not in used]
    if unused:
        raise ConjectureError(f"the conjecture does not use {', '.join(unused)}: leave out "
                              f"{_option(unused[0]).rstrip(' =')}")
    for name in domains:
        if not name.isidentifier() or name.startswith("_") or name in FUNCTIONS:
            raise ConjectureError(f"{name!r} cannot be a variable (a function's name, private, or not a name)")
    parsed_domains = [parse_domain(name, domains[name]) for name in used]
    size = math.prod(d.size for d in parsed_domains)
    evaluator = _Evaluator(parsed, assumptions, parsed_domains)
    shrunk_from = None
    if size <= exhaustive_limit:
        method = "exhaustive"
        failing = [ranks for ranks in itertools.product(*(range(d.size) for d in parsed_domains))
                   if evaluator.outcome(ranks) == _Case.FAILED]
        found = min(failing, key=lambda r: (sum(r), r)) if failing else None
    else:
        method = "random"
        found = _random_search(evaluator, parsed_domains, examples, seed)
        if found is not None:
            assert evaluator.first_failure is not None
            shrunk_from = evaluator.values(evaluator.first_failure)
            found = _minimise(evaluator, found, minimise_budget)
    defined = evaluator.count(_Case.HELD) + evaluator.count(_Case.FAILED)
    if defined == 0:
        why = f"; e.g. {evaluator.undefined_example}" if evaluator.undefined_example else ""
        raise ConjectureError(f"no case of the domain is defined and meets the assumptions "
                              f"({len(evaluator.outcomes)} tried{why})")
    return ConjectureResult(
        conjecture=parsed.text, domains=tuple(d.describe() for d in parsed_domains),
        assumptions=tuple(a.text for a in assumptions), method=method, domain_size=size,
        cases=len(evaluator.outcomes), held=evaluator.count(_Case.HELD), failed=evaluator.count(_Case.FAILED),
        undefined=evaluator.count(_Case.UNDEFINED), excluded=evaluator.count(_Case.EXCLUDED),
        counterexample=None if found is None else evaluator.sides(found), shrunk_from=shrunk_from,
        undefined_example=evaluator.undefined_example, seconds=time.perf_counter() - started,
        seed=seed if method == "random" else None,
    )


def _random_search(evaluator: _Evaluator, domains: Sequence[Domain], examples: int, seed: int
                   ) -> tuple[int, ...] | None:
    """hypothesis.find over rank tuples: the first failure, shrunk (None if none in ``examples`` draws)."""
    try:
        from hypothesis import HealthCheck, Phase, find, settings
        from hypothesis import strategies as st
        from hypothesis.errors import NoSuchExample
    except ImportError:  # pragma: no cover - hypothesis ships with the [proofs] extra
        raise ConjectureError("a random search needs hypothesis: pip install 'parity-frontier[proofs]' "
                              "(or shrink the domain below the exhaustive limit)") from None
    strategy = st.tuples(*(st.integers(0, d.size - 1) for d in domains))
    options = settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate, Phase.shrink],
                       suppress_health_check=list(HealthCheck))
    try:
        return find(strategy, lambda ranks: evaluator.outcome(ranks) == _Case.FAILED, settings=options,
                    random=random.Random(seed))
    except NoSuchExample:
        return None
