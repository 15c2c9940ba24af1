"""docs/theory_for_proofs.md: every worked example's code runs and prints exactly the numbers
the page shows.

The page marks each example's code block with ``<!-- example: NAME -->`` (the next
```python block; it must define ``table``) and its output with ``<!-- output: NAME -->`` ...
``<!-- end output -->``. This test executes each code block and compares ``table`` with the
marked output. After an intended change, regenerate the outputs with

    python tests/test_theory_docs.py --write
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "theory_for_proofs.md"
CODE = re.compile(r"<!-- example: (?P<name>[\w-]+) -->\s*```python\n(?P<code>.*?)```", re.S)
# The body may not contain another HTML comment, so an empty block cannot swallow the next one.
OUTPUT = re.compile(r"(<!-- output: (?P<name>[\w-]+) -->\n)(?P<body>(?:(?!<!--).)*?)\n?(<!-- end output -->)", re.S)


def examples(text: str) -> dict[str, str]:
    return {m["name"]: m["code"] for m in CODE.finditer(text)}


def outputs(text: str) -> dict[str, str]:
    return {m["name"]: m["body"] for m in OUTPUT.finditer(text)}


def run_example(code: str) -> str:
    namespace: dict[str, object] = {"__name__": "docs_example"}
    exec(compile(code, str(PAGE), "exec"), namespace)  # the page's own code, as a reader runs it
    table = namespace.get("table")
    assert isinstance(table, str), "an example must leave its output in a string named `table`"
    return table.rstrip("\n")


def test_every_example_has_exactly_one_output_block() -> None:
    text = PAGE.read_text()
    assert set(examples(text)) == set(outputs(text))
    assert {"lemma", "constants", "anticoncentration", "tickets", "symbolic"} <= set(examples(text))


@pytest.mark.parametrize("name", sorted(examples(PAGE.read_text())))
def test_example_output_is_what_the_page_shows(name: str) -> None:
    text = PAGE.read_text()
    assert run_example(examples(text)[name]) == outputs(text)[name].rstrip("\n")


def write_outputs() -> None:
    """Run every example and write its output into the page (for intended changes only)."""
    text = PAGE.read_text()
    code = examples(text)
    text = OUTPUT.sub(lambda m: m.group(1) + run_example(code[m["name"]]) + "\n" + m.group(4), text)
    PAGE.write_text(text)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_theory_docs.py --write")
    write_outputs()
