"""Issue 25, the selector language (`frontier fit --fit/--predict`, `export --where`, `merge --where`):
a clause that cannot mean what it says is one error line naming it (at 98c3d10 "n <= 30 or True"
and "init < 5" were `unexpected TypeError`s), and reading a selector is linear in its length (a
120,000-character selector took 69 s: the clause regex backtracked)."""

from __future__ import annotations

import gc
import time

import pytest

from cli_contract import one_error_line
from verify.prediction import parse_selector


@pytest.mark.parametrize("text, words", [
    ("n <= 30 or True", "clauses join with 'and' only"),
    ("init < 5", "init is text; compare it with ==, != or in"),
    ("init == dens", "init is one of dense, sparse"),
    ("n == abc", "n is a number"),
    ("width in 8", "'in' takes a list"),
    ("width in []", "the list is empty"),
    ("width == [8]", "a list goes with 'in' only"),
    ("samples < online", "'online' is a value of samples only"),
    ("n = 3", "unexpected '='"),
    ("n <=", "is not FIELD OP VALUE"),
    ("n == 1 and", "ends with 'and'"),
    ("colour == red", "is not a RunConfig field"),
])
def test_a_bad_clause_is_a_value_error_naming_it(text, words):
    with pytest.raises(ValueError, match="selector") as caught:
        parse_selector(text)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_good_selectors_select_what_they_say():
    import pandas as pd

    frame = pd.DataFrame({"n": [20, 30, 40], "width": [8, 16, 64], "init": ["dense", "sparse", "sparse"],
                          "samples": pd.array([100, None, 300], dtype="Int64")})
    picks = {"": [1, 1, 1], "n <= 30": [1, 1, 0], "n > 20 and init == sparse": [0, 1, 1],
             "width in [8, 64]": [1, 0, 1], "samples == online": [0, 1, 0], "samples != online AND n >= 30": [0, 0, 1],
             "init == 'dense'": [1, 0, 0], "init in [dense, sparse]": [1, 1, 1]}
    for text, expected in picks.items():
        assert parse_selector(text)(frame).astype(int).tolist() == expected, text


def test_fit_reports_a_bad_clause_in_one_line(cli, tmp_path):
    from sim.grid import parse_grid
    from sim.sweep import sweep

    store = tmp_path / "runs.sqlite"
    sweep(parse_grid("n = 8\nk = 2\nwidth = [8, 16]\nmax_steps = 50\ntest_size = 100\nseeds = 2\n"), store,
          backend="numpy", workers=1, progress=False)
    for bad in ("n <= 30 or True", "init < 5"):
        status, _, err = cli("fit", store, "--fit", bad, "--predict", "width == 16", "--no-figures",
                             "--out", tmp_path / "fit")
        assert one_error_line(status, err, "selector"), err
        assert "unexpected" not in err


SHAPES = {
    "a long run of spaces": lambda size: "n == 1" + " " * size + "x",
    "a long word": lambda size: "n == " + "a" * size,
    "many clauses": lambda size: " and ".join(["width >= 8"] * (size // 15)),
    "a long list": lambda size: "width in [" + ", ".join(["8"] * (size // 3)) + "]",
}


def _parse_seconds(text: str) -> float:
    best = float("inf")
    gc.disable()
    try:
        for _ in range(3):
            start = time.perf_counter()
            try:
                parse_selector(text)
            except ValueError:
                pass
            best = min(best, time.perf_counter() - start)
    finally:
        gc.enable()
    return best


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_reading_a_selector_is_linear_in_its_length(shape):
    """8 times the length may cost at most 24 times the time (linear: 8; quadratic: 64). The sizes
    are large enough (16,000 and 128,000 characters) that timer noise does not decide the ratio."""
    make = SHAPES[shape]
    small, large = _parse_seconds(make(16_000)), _parse_seconds(make(128_000))
    assert large <= 24 * max(small, 1e-3), (shape, small, large)
