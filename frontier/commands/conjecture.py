"""Try hard to break a conjectured inequality of exact theory (docs/theory_for_proofs.md).

EXPR is a comparison between expressions in free variables and theory's public functions by
name (ticket_probability, critical_width, coefficient, gradient_signal(...).gap, ...; also abs,
min, max, floor, ceil, binomial, factorial, ff, sqrt, log, gcd, gap, relevant, irrelevant,
closed_form). It is parsed safely (a whitelist of syntax, no Python eval) and evaluated exactly
(integers and fractions; no floating point in a verdict). Each variable needs a domain: --n,
--k, --s, --bias (the variable b), or --var NAME=SPEC for any other name. A SPEC is A:B
(integers A..B), A:B:STEP (rationals allowed), or a list v1,v2,...; a SPEC starting with a minus
sign needs the = form, --bias=-2:2. Cases where a function refuses
its input (s > n, ...) are counted as undefined, not as counterexamples; --assume drops cases.

Up to --exhaustive-limit cases every case is tried and the smallest counterexample reported
(values nearest 0 first); above it, hypothesis draws --examples cases (--seed) and shrinks a
failure, then each variable is moved to its simplest still-failing value.

exit status: 0 the conjecture held on every case tried; 1 a counterexample (printed with the
exact value of every side); 2 a bad expression or domain (one error line).

example: frontier conjecture "critical_width(n, 3, 2) <= n**2/7" --n 4:300
         frontier conjecture "ticket_probability(n, k, s) == ff(s, k)/ff(n, k)" --n 1:40 --k 1:6 --s 1:10 \\
             --assume "s >= k"
         frontier conjecture "gap(n, 4, s, b) > 0" --n 10:60 --s 5:31:2 --bias 0
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", metavar="EXPR", help="the conjecture, a comparison, in quotes")
    for name, variable in (("n", "n"), ("k", "k"), ("s", "s"), ("bias", "b")):
        parser.add_argument(f"--{name}", default=None, metavar="SPEC",
                            help=f"domain of the variable {variable}: A:B, A:B:STEP or v1,v2,... "
                                 f"(--{name}=-2:2 when it starts with a minus sign)")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=SPEC",
                        help="domain of any other variable, e.g. --var d=0:6 (repeatable)")
    parser.add_argument("--assume", action="append", default=[], metavar="COND",
                        help="only cases where COND holds, e.g. \"s >= k\" (and/or/not allowed; repeatable)")
    parser.add_argument("--exhaustive-limit", type=int, default=None, metavar="N",
                        help="search every case when the domain has at most N (default: 50000)")
    parser.add_argument("--examples", type=int, default=None, metavar="N",
                        help="random cases hypothesis draws above that (default: 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random search (default: 0)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="default: text")


def _domains(args: argparse.Namespace) -> dict[str, str]:
    from frontier.cli import CliError

    domains = {variable: getattr(args, option) for option, variable in (("n", "n"), ("k", "k"), ("s", "s"),
                                                                        ("bias", "b"))
               if getattr(args, option) is not None}
    for item in args.var:
        name, sep, spec = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CliError(f"--var takes NAME=SPEC, got {item!r}")
        if name in domains:
            raise CliError(f"the variable {name} has two domains")
        domains[name] = spec
    return domains


def run(args: argparse.Namespace) -> int:
    from verify import conjecture

    options = {}
    if args.exhaustive_limit is not None:
        options["exhaustive_limit"] = args.exhaustive_limit
    if args.examples is not None:
        options["examples"] = args.examples
    result = conjecture.search(args.expression, _domains(args), args.assume, seed=args.seed, **options)
    if args.format == "json":
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.summary(), end="")
    return result.exit_status
