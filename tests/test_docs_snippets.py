"""Every code block of README.md and docs/*.md runs as pasted (issue 25).

A block's language says what it is: ``python`` (run as a script: ``python snippet.py``), ``sh``
(commands, run as a ``bash -e`` script: each must succeed), ``console`` (``$ command`` lines with the
output they print, compared line by line, ``...`` matching anything), ``toml`` (a grid file: it must
parse), and ``text`` (output or pseudo-code, not run). A block without a language fails this test,
so no command hides from it. The blocks of one page run in order in one temporary folder that holds
copies of ``examples/``, ``paper_figs/grids/`` and ``bench/results/``, as a reader following the
page from the repository root would.

An HTML comment on the line before a block may say, with ``snippet:``:

- ``needs store``: a small results store at ``runs.sqlite`` (what the page's earlier commands make),
  ``needs demo``: a small stand-in for ``make run``'s ``out/runs.sqlite`` (n = 20, 30, 40);
- ``skip REASON: why``: not run here, REASON one of :data:`SKIP_REASONS` (a GPU, a cluster, an
  install from the network, or minutes to hours of work that another test covers in small).

The theory page's worked examples (``<!-- example: NAME -->``) run in tests/test_theory_docs.py,
which also compares their printed tables with the page. :func:`test_skips_are_few_and_justified`
lists every skipped block with its reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_LANGUAGES = ("python", "sh", "console")
OTHER_LANGUAGES = ("toml", "text")
SKIP_REASONS = {
    "gpu": "needs a CUDA GPU",
    "cluster": "needs a Dask scheduler or a Slurm cluster",
    "install": "installs packages from the network or creates an environment",
    "long": "minutes to hours of work; another test runs the same code in small",
}
#: At most this many blocks may be skipped (the list is printed by test_skips_are_few_and_justified).
MAX_SKIPS = 19  # 17 + docs/reproduction.md's pilot (hours) and its cluster recipe
#: Copied into each page's folder: the paths the snippets name relative to the repository root.
COPIED = ("examples", "paper_figs/grids", "bench/results")
BLOCK_TIMEOUT = 600

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[^\s`]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
DIRECTIVE = re.compile(r"<!--\s*(?:snippet:\s*(?P<kind>skip|needs)\s+(?P<arg>.*?)|example:\s*(?P<example>[\w-]+))\s*-->")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    body: str
    skip: str | None      # "REASON: why"
    needs: tuple[str, ...]
    example: str | None   # a theory_for_proofs worked example (tests/test_theory_docs.py)

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").splitlines()
        skip, needs, example = None, [], None
        for previous in reversed(before):  # the comment lines right above the fence
            directive = DIRECTIVE.search(previous)
            if not previous.strip().startswith("<!--") or directive is None:
                break
            if directive["example"]:
                example = directive["example"]
            elif directive["kind"] == "skip":
                skip = directive["arg"]
            else:
                needs += [name.strip() for name in directive["arg"].split(",")]
        indent = match["indent"]
        body = "".join(row[len(indent):] if row.startswith(indent) else row
                       for row in match["body"].splitlines(keepends=True))
        found.append(Block(page, line, match["lang"], body, skip, tuple(needs), example))
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]


def test_every_block_says_what_it_is():
    bare = [b.name for b in ALL_BLOCKS if b.language not in RUN_LANGUAGES + OTHER_LANGUAGES]
    assert not bare, f"blocks without a known language (give python, sh, console, toml or text): {bare}"
    for block in ALL_BLOCKS:
        if block.language == "sh":
            assert not re.search(r"^\s*\$ ", block.body, re.M), f"{block.name}: '$ ' prompts belong in a console block"
        if block.language == "console":
            assert block.body.lstrip().startswith("$ "), f"{block.name}: a console block starts with '$ command'"


def test_skips_are_few_and_justified():
    skipped = [b for b in ALL_BLOCKS if b.skip is not None]
    for block in skipped:
        reason, _, why = block.skip.partition(":")
        assert reason.strip() in SKIP_REASONS and len(why.strip()) > 10, \
            f"{block.name}: skip reason {block.skip!r} must be 'REASON: why', REASON one of {sorted(SKIP_REASONS)}"
        assert block.language in RUN_LANGUAGES, f"{block.name}: only runnable blocks are skipped"
    assert len(skipped) <= MAX_SKIPS, [b.name for b in skipped]
    runnable = [b for b in ALL_BLOCKS if b.language in RUN_LANGUAGES]
    print(f"\n{len(runnable)} runnable blocks: {len(runnable) - len(skipped)} run, {len(skipped)} skipped:")
    for block in skipped:
        print(f"  {block.name} ({block.language}): skip {block.skip}")


@pytest.mark.parametrize("name", [b.name for b in ALL_BLOCKS if b.skip is not None])
def test_skipped_block(name):
    block = next(b for b in ALL_BLOCKS if b.name == name)
    reason = block.skip.partition(":")[0].strip()
    pytest.skip(f"{SKIP_REASONS.get(reason, reason)}: {block.skip.partition(':')[2].strip()}")


def test_worked_examples_are_the_theory_docs_tests():
    """The blocks marked ``example:`` are exactly those tests/test_theory_docs.py runs."""
    from test_theory_docs import PAGE, examples

    marked = {b.example for b in ALL_BLOCKS if b.example}
    assert marked == set(examples(PAGE.read_text())) and marked
    assert all(b.page == PAGE for b in ALL_BLOCKS if b.example)


# ----------------------------------------------------------------------------- fixtures

FIXTURE_GRIDS = {
    # runs.sqlite: what `frontier sweep examples/ci_tiny.toml --store runs.sqlite` makes
    "store": ("runs.sqlite", "examples/ci_tiny.toml"),
    # out/runs.sqlite: a small stand-in for `make run`'s store, with the demo's three n
    "demo": ("out/runs.sqlite", """
n = [20, 30, 40]
k = 3
width = [8, 64]
samples = [200, 800, "online"]
init = ["dense", "sparse"]
seeds = 2
max_steps = 600
eval_every = 100
test_size = 300
"""),
}


@pytest.fixture(scope="module")
def fixture_stores(tmp_path_factory):
    from sim.grid import load_grid, parse_grid
    from sim.sweep import sweep

    folder = tmp_path_factory.mktemp("snippet-stores")
    made = {}
    for name, (_, grid) in FIXTURE_GRIDS.items():
        configs = load_grid(ROOT / grid) if grid.endswith(".toml") else parse_grid(grid)
        made[name] = folder / f"{name}.sqlite"
        sweep(configs, made[name], backend="numba", workers=1, progress=False)
    return made


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # frontier, python
    env["MPLBACKEND"] = "Agg"
    env.pop("PYTHONPATH", None)
    # The page's folder holds copies of examples/, bench/results/, paper_figs/grids/: a script there
    # must still import the installed packages bench and paper_figs, not those partial copies.
    env["PYTHONSAFEPATH"] = "1"
    return env


def _console_script(body: str) -> tuple[str, list[list[str]]]:
    """A bash script running each ``$ command`` of a console block, and the expected output of each."""
    commands: list[str] = []
    expected: list[list[str]] = []
    for row in body.splitlines():
        if row.startswith("$ "):
            commands.append(row[2:])
            expected.append([])
        elif commands:
            expected[-1].append(row)
    # After each command: print a separator, keeping the command's status for a following `echo $?`.
    separator = "status=$?; printf '\\n@@end-of-command@@\\n'; (exit $status)\n"
    script = "exec 2>&1\n" + "".join(f"{command}\n{separator}" for command in commands)
    return script, expected


def _matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


def _child_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_block(block: Block, folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run one block; (wall seconds, CPU seconds of its processes)."""
    start, cpu = time.perf_counter(), _child_cpu()
    script = folder / f".snippet_{block.line}"
    if block.language == "python":
        script = script.with_suffix(".py")
        script.write_text(block.body)
        done = subprocess.run([sys.executable, script.name], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT)
        assert done.returncode == 0, f"{block.name} (python) failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    elif block.language == "sh":
        script.write_text(block.body)
        done = subprocess.run(["bash", "-e", script.name], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT)
        assert done.returncode == 0, f"{block.name} (sh) failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    else:
        text, expected = _console_script(block.body)
        script.write_text(text)
        done = subprocess.run(["bash", script.name], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT)
        outputs = done.stdout.split("\n@@end-of-command@@\n")
        for number, lines in enumerate(expected):
            actual = outputs[number].strip("\n").splitlines() if number < len(outputs) else []
            assert len(actual) == len(lines) and all(_matches(e, a) for e, a in zip(lines, actual)), \
                f"{block.name}: command {number + 1} printed\n" + "\n".join(actual) + "\nbut the page shows\n" \
                + "\n".join(lines)
    return time.perf_counter() - start, _child_cpu() - cpu


def _prepare(folder: Path) -> None:
    for relative in COPIED:
        shutil.copytree(ROOT / relative, folder / relative)


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if any(b.language in RUN_LANGUAGES and b.skip is None
                                                         and not b.example for b in blocks(p))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_page_runs_as_pasted(page, tmp_path, fixture_stores):
    _prepare(tmp_path)
    env = _environment()
    timings = {}
    for block in blocks(page):
        if block.skip is not None or block.example or block.language not in RUN_LANGUAGES + ("toml",):
            continue
        if block.language == "toml":
            from sim.grid import parse_grid

            parse_grid(block.body, source=block.name)
            continue
        for name in block.needs:
            assert name in FIXTURE_GRIDS, f"{block.name}: unknown fixture {name!r}"
            target = tmp_path / FIXTURE_GRIDS[name][0]
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(fixture_stores[name], target)
        timings[block.name] = [round(seconds, 1) for seconds in run_block(block, tmp_path, env)]
    record = os.environ.get("SNIPPET_TIMINGS")
    if record:  # where the time goes, [wall, CPU] per block: SNIPPET_TIMINGS=/tmp/t.jsonl pytest ...
        with open(record, "a") as handle:
            handle.write(json.dumps(timings) + "\n")
