"""`frontier bounds`: golden values computed by hand here, every format, --out, and the error path."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from cli_contract import one_error_line
from frontier.cli import main

COLUMNS = [
    "n", "k", "s", "bias", "ticket_probability", "ticket_probability_exact", "critical_width", "confidence",
    "width_for_confidence", "relevant_coefficient", "irrelevant_coefficient", "gap", "predicted_samples",
    "sq_min_samples", "first_order_ticket_probability", "first_order_ticket_probability_exact",
    "first_order_critical_width",
]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["bounds", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def signal_by_enumeration(target: list[int], support: list[int], coordinate: int, bits: int, bias: int) -> Fraction:
    """E[y x_j step(sum_{i in U} x_i + b)] over all of {-1,1}^bits (the other n - bits inputs
    are independent of everything here, so they do not change the expectation)."""
    total = 0
    for x in itertools.product((-1, 1), repeat=bits):
        y = math.prod(x[i] for i in target)
        total += y * x[coordinate] * (1 if sum(x[i] for i in support) + bias > 0 else 0)
    return Fraction(total, 2**bits)


def test_golden_json_n50_k3_s2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "--n", "50", "--k", "3", "--s", "2", "--format", "json")
    assert status == 0 and err == ""
    payload = json.loads(out)
    assert list(payload) == ["rows"] and len(payload["rows"]) == 1
    row = payload["rows"][0]
    assert list(row) == COLUMNS

    n, k, s = 50, 3, 2
    # s < k: a ticket is U ⊆ S, p = C(k, s) / C(n, s) = 3 / 1225
    p = Fraction(math.comb(k, s), math.comb(n, s))
    assert p == Fraction(3, 1225)
    critical = -(-p.denominator // p.numerator)  # ceil(1/p) = ceil(1225/3)
    assert critical == 409
    width, miss = 0, Fraction(1)
    while 1 - miss < Fraction(99, 100):
        width, miss = width + 1, miss * (1 - p)
    # Ticket neuron: U = {0, 1} inside S = {0, 1, 2}; coordinate 3 stands for every input outside S.
    target, support = [0, 1, 2], [0, 1]
    signals = {j: signal_by_enumeration(target, support, j, 4, 0) for j in range(4)}
    relevant = max((signals[j] for j in target), key=abs)
    irrelevant = signals[3]
    assert relevant == Fraction(1, 4) and irrelevant == 0  # the missing bit 2 gets stephat_2 = 1/4
    gap = abs(relevant) - abs(irrelevant)
    params = critical * (n + 2)
    sq_samples = max(1, math.ceil(Fraction(1, 2) * math.comb(n, k) / (2 * params * 10**5)))

    assert row["n"] == 50 and row["k"] == 3 and row["s"] == 2
    assert row["bias"] == "0"
    assert row["ticket_probability"] == pytest.approx(float(p), rel=1e-15)
    assert row["ticket_probability_exact"] == "3/1225"
    assert row["critical_width"] == critical
    assert row["confidence"] == 0.99
    assert row["width_for_confidence"] == width
    assert row["relevant_coefficient"] == float(relevant)
    assert row["irrelevant_coefficient"] == float(irrelevant)
    assert row["gap"] == float(gap)
    assert row["predicted_samples"] == pytest.approx(math.log(50) / float(gap) ** 2, rel=1e-12)
    assert row["sq_min_samples"] == sq_samples


def test_csv_with_nontrivial_sq_frontier(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--n", "30", "--k", "4", "--s", "2", "--steps", "1",
                             "--success-probability", "1", "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 and list(rows[0]) == COLUMNS
    row = rows[0]
    critical = -(-math.comb(30, 2) // math.comb(4, 2))  # ceil(435 / 6) = 73
    assert int(row["critical_width"]) == critical == 73
    # smallest m with 2 * p * T * m >= C(30, 4), p = 73 * 32, T = 1
    assert int(row["sq_min_samples"]) == math.ceil(Fraction(math.comb(30, 4), 2 * critical * 32)) == 6
    # k - s = 2: an under-sparse ticket gets no gradient signal, so no finite sample estimate
    assert float(row["gap"]) == 0.0 and row["predicted_samples"] == "inf"


def test_one_row_per_combination_in_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--n", "50", "100", "--k", "3", "4", "--s", "2", "4", "8", "--bias", "1")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0] == "| " + " | ".join(COLUMNS) + " |"
    assert set(lines[1]) <= set("|-:")
    body = [line.split("|")[1:-1] for line in lines[2:]]
    assert len(body) == 2 * 2 * 3
    assert [(int(r[0]), int(r[1]), int(r[2])) for r in body] == list(itertools.product([50, 100], [3, 4], [2, 4, 8]))
    assert all(r[3].strip() == "1" for r in body)


def test_latex_table_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--n", "50", "--k", "3", "4", "--s", "2", "--format", "latex")
    assert status == 0
    assert "\\begin{tabular}" in out and "\\toprule" in out and "\\bottomrule" in out and "\\end{tabular}" in out
    rows = [line for line in out.splitlines() if line.endswith("\\\\") and line.startswith("50 &")]
    assert len(rows) == 2 and all(row.count("&") == len(COLUMNS) - 1 for row in rows)
    assert "$3/1225$" in rows[0]


def test_out_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "bounds.json"
    status, out, _ = run_cli(capsys, "--n", "50", "--k", "3", "--s", "2", "--format", "json", "--out", str(target))
    assert status == 0 and str(target) in out
    assert json.loads(target.read_text())["rows"][0]["critical_width"] == 409


@pytest.mark.parametrize(
    "argv",
    [
        ["--n", "50", "--k", "3", "--s", "60"],  # s > n
        ["--n", "5", "--k", "6", "--s", "2"],  # k > n
        ["--n", "50", "--k", "0", "--s", "2"],
        ["--n", "50", "--k", "3", "--s", "2", "--confidence", "1.5"],
        ["--n", "50", "--k", "3", "--s", "2", "--confidence", "lots"],
        ["--n", "50", "--k", "3", "--s", "2", "--bias", "x"],
        ["--n", "50", "--k", "3", "--s", "2", "--success-probability", "0"],
        ["--n", "50", "--k", "3", "--s", "2", "--steps", "0"],
        ["--n", "50", "--k", "3", "--s", "2", "--format", "xml"],
        ["--n", "fifty", "--k", "3", "--s", "2"],
    ],
)
def test_bad_arguments_exit_2_with_one_error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    try:
        status = main(["bounds", *argv])
    except SystemExit as exc:  # argparse mistakes exit from inside parse_args
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_bad_input_leaves_existing_out_file_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "table.md"
    target.write_text("precious\n")
    status, _, err = run_cli(capsys, "--n", "50", "--k", "3", "--s", "99", "--out", str(target))
    assert status == 2 and err.startswith("error: s=99")
    assert target.read_text() == "precious\n"
    status, _, err = run_cli(capsys, "--n", "50", "--k", "3", "--s", "2", "--out", str(tmp_path / "no" / "t.md"))
    assert status == 2 and "does not exist" in err


def test_error_path_in_a_real_process() -> None:
    proc = subprocess.run([sys.executable, "-m", "frontier.cli", "bounds", "--n", "5", "--k", "6", "--s", "2"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: k=6 exceeds n=5") and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_help_explains_every_option_and_column(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bounds", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ["--n", "--k", "--s", "--bias", "--confidence", "--steps", "--success-probability", "--format",
                 "--out", *COLUMNS]:
        assert word in text, word


def test_symbolic_bounds_plain_and_latex(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bounds", "--symbolic", "--k", "3", "--s", "2"]) == 0
    plain = capsys.readouterr().out
    assert "6/(n*(n - 1))" in plain and "n*(n - 1)/6" in plain and "n**2/6" in plain
    assert main(["bounds", "--symbolic", "--k", "4", "--s", "2", "--format", "latex"]) == 0
    assert r"\frac{12}{n \left(n - 1\right)}" in capsys.readouterr().out
    assert main(["bounds", "--symbolic", "--n", "20", "--k", "3", "--s", "2"]) == 2
    assert main(["bounds", "--k", "3", "--s", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 2


def test_anticoncentration_table_and_figure(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["anticoncentration", "--n", "8", "12", "--neurons", "20", "--format", "json",
                 "--figure", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    payload = json.loads(out[:out.rindex("}") + 1])
    assert [row["n"] for row in payload["rows"]] == [8, 12]
    assert (tmp_path / "theory_anticoncentration.png").stat().st_size > 2000
    assert main(["anticoncentration", "--n", "3", "--k", "3"]) == 2


def test_both_ticket_kinds_in_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """First-order tickets (|U n S| >= k - 1), counted here by enumerating all s-subsets of n = 9."""
    status, out, _ = run_cli(capsys, "--n", "9", "30", "--k", "3", "4", "--s", "2", "3", "4", "--format", "json")
    assert status == 0
    rows = {(r["n"], r["k"], r["s"]): r for r in json.loads(out)["rows"]}
    for (n, k, s), row in rows.items():
        if n != 9:
            continue
        supports = list(itertools.combinations(range(n), s))
        first_order = Fraction(sum(len(set(u) & set(range(k))) >= k - 1 for u in supports), len(supports))
        assert row["first_order_ticket_probability_exact"] == str(first_order)
        assert row["first_order_critical_width"] == (math.ceil(1 / first_order) if first_order else None)
    assert [rows[(30, 3, s)]["first_order_critical_width"] for s in (2, 3, 4)] == [145, 50, 26]
    assert rows[(30, 4, 2)]["first_order_critical_width"] is None  # p1 = 0: no 2-hot neuron gets signal at k = 4


def test_symbolic_uses_steps_and_refuses_options_it_cannot_use(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bounds", "--symbolic", "--k", "3", "--s", "2", "--steps", "100"]) == 0
    with_steps = capsys.readouterr().out
    assert "(n - 2)/(400*(n + 2))" in with_steps and "*T*" not in with_steps.splitlines()[2]
    assert main(["bounds", "--symbolic", "--k", "3", "--s", "2", "--success-probability", "1"]) == 0
    assert "(n - 2)/(2*T*(n + 2))" in capsys.readouterr().out
    for argv, fragment in [(["--bias", "1"], "--bias"), (["--confidence", "0.9"], "--confidence"),
                           (["--success-probability", "2"], "--success-probability"), (["--steps", "0"], "--steps")]:
        status = main(["bounds", "--symbolic", "--k", "3", "--s", "2", *argv])
        err = capsys.readouterr().err
        assert one_error_line(status, err, fragment), (argv, err)
