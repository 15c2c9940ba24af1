"""The layer rule (DEVELOPERS.md, docs/architecture in README): who may import whom.

:func:`violations` reads every module of every package statically (``import``, ``from ...
import`` and ``importlib.import_module("...")`` with a literal or f-string prefix) and reports
each import of one of our packages that the rule does not allow, and each third-party import
that ``theory`` may not make. Used by tests/test_layers.py on the real tree and on a planted
violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGES: tuple[str, ...] = ("theory", "sim", "tabular", "verify", "bench", "paper_figs", "jobs", "frontier")
ALLOWED: dict[str, frozenset[str]] = {
    "theory": frozenset(),
    "sim": frozenset(),
    "tabular": frozenset(),
    "verify": frozenset({"theory", "sim"}),
    "bench": frozenset({"sim"}),
    "paper_figs": frozenset({"theory", "sim", "verify", "tabular"}),
    "jobs": frozenset(PACKAGES) - {"frontier", "jobs"},
    "frontier": frozenset(PACKAGES) - {"frontier"},
}
#: theory/ is pure Python + sympy (a base install has nothing else).
THEORY_THIRD_PARTY: frozenset[str] = frozenset({"sympy", "mpmath"})


def _imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted name) of every absolute import and every importlib.import_module literal."""
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.append((node.lineno, first.value))
            elif isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
                names.append((node.lineno, str(first.values[0].value)))
    return names


def _is_stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names or name == "__future__"


def violations(root: Path) -> list[str]:
    """Every import under ``root`` that breaks the layer rule, as 'path:line: message'."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, name in _imported_names(tree):
                top = name.split(".")[0]
                where = f"{path.relative_to(root)}:{line}"
                if top in PACKAGES and top != package and top not in ALLOWED[package]:
                    found.append(f"{where}: {package} imports {name}")
                if package == "theory" and top not in PACKAGES and not _is_stdlib(top) \
                        and top not in THEORY_THIRD_PARTY:
                    found.append(f"{where}: theory imports the third-party package {top}")
    return found
