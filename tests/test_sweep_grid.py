"""sim.grid: TOML grids -> RunConfigs, and every mistake named before anything runs."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sim.config import RunConfig
from sim.grid import load_grid, parse_grid

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_grid_is_the_product_of_axes_times_seeds_in_a_fixed_order():
    configs = parse_grid(
        'n = 10\nk = [2, 3]\nwidth = [4, 8, 16]\nsamples = [50, "online"]\nseeds = 3\n'
        "max_steps = 123\nlr = 0.05\n"
    )
    expected = [
        RunConfig(n=10, k=k, width=w, samples=m, max_steps=123, lr=0.05, seed=s)
        for k, w, m, s in itertools.product([2, 3], [4, 8, 16], [50, None], range(3))
    ]
    assert configs == expected


def test_seed_forms_count_list_and_start_count():
    base = "n = 6\nk = 2\nwidth = 4\n"
    assert [c.seed for c in parse_grid(base)] == [0]
    assert [c.seed for c in parse_grid(base + "seeds = 4")] == [0, 1, 2, 3]
    assert [c.seed for c in parse_grid(base + "seeds = [7, 3]")] == [7, 3]
    assert [c.seed for c in parse_grid(base + "seeds = {start = 50, count = 3}")] == [50, 51, 52]


def test_dense_points_ignore_sparsity_and_are_not_repeated():
    configs = parse_grid(
        'n = 10\nk = 2\nwidth = 8\ninit = ["dense", "sparse"]\nsparsity = [2, 4]\n'
        'sparse_values = ["uniform", "sign"]\nseeds = 2\n'
    )
    dense = [c for c in configs if c.init == "dense"]
    sparse = [c for c in configs if c.init == "sparse"]
    assert len(dense) == 2 and len(sparse) == 2 * 2 * 2
    assert {(c.sparsity, c.sparse_values) for c in dense} == {(2, "uniform")}
    assert len(set(configs)) == len(configs)


def test_shipped_examples_parse():
    sizes = {path.name: len(load_grid(path)) for path in sorted(EXAMPLES.glob("*.toml"))}
    assert {"ci_tiny.toml", "frontier_cpu.toml", "online.toml"} <= set(sizes)
    assert sizes["ci_tiny.toml"] == 2 * 2 * 2 * 2 * 2
    assert all(c.samples is None for c in load_grid(EXAMPLES / "online.toml"))


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("n = 10\nk = 2\nwidth = 8\nwidht = 9\n", ["unknown key", "widht"]),
        ('n = 10\nk = 2\nwidth = "big"\n', ["width", "'big'", "integer"]),
        ("n = 10\nk = 2\nwidth = true\n", ["width", "True", "integer"]),
        ("n = 10\nk = 2\nwidth = 8.5\n", ["width", "8.5"]),
        ('n = 10\nk = 2\nwidth = 8\nsamples = "infinite"\n', ["samples", "'infinite'", "online"]),
        ('n = 10\nk = 2\nwidth = 8\nlr = "fast"\n', ["lr", "'fast'", "number"]),
        ("n = 10\nk = 2\nwidth = 8\ninit = 3\n", ["init", "3", "string"]),
        ('n = 10\nk = 2\nwidth = 8\ninit = "lazy"\n', ["init", "lazy"]),
        ("n = 10\nk = 2\nwidth = []\n", ["width", "empty"]),
        ("n = 10\nk = 2\nwidth = [4, 4]\n", ["width", "repeats"]),
        ("n = 10\nk = 2\nwidth = 8\nmax_steps = [1, 2]\n", ["max_steps", "single value"]),
        ("n = 3\nk = [2, 5]\nwidth = 8\n", ["k=5", "n=3"]),
        ('n = 5\nk = 2\nwidth = 8\ninit = "sparse"\nsparsity = 9\n', ["sparsity", "9"]),
        ("n = 10\nk = 2\nwidth = 0\n", ["width", "0"]),
        ("n = 10\nk = 2\n", ["missing", "width"]),
        ("n = 10\nk = 2\nwidth = 8\nseeds = 0\n", ["seeds", "0"]),
        ("n = 10\nk = 2\nwidth = 8\nseeds = [1, 1]\n", ["seeds", "repeats"]),
        ("n = 10\nk = 2\nwidth = 8\nseeds = {start = 1}\n", ["seeds", "count"]),
        ("n = 10\nk = 2\nwidth = [8\n", ["not valid TOML"]),
    ],
)
def test_mistakes_name_the_key_and_value(text, fragments):
    with pytest.raises(ValueError) as info:
        parse_grid(text, source="g.toml")
    message = str(info.value)
    assert message.startswith("g.toml: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_missing_grid_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        load_grid(tmp_path / "nope.toml")
