"""The CI validation run (`frontier verify --quick`): green (exit 0) on a healthy checkout, every
gate PASSing; red (exit 1) with each planted defect (a ticket probability off by a factor 1.1,
s-hot neurons with s - 1 nonzero values); findings reported whatever they say. Also the report
built from its store."""

from __future__ import annotations

import json

import pytest

from frontier.cli import main
from sim.store import load
from verify.checks import CHECK_NAMES, FAIL, INCONCLUSIVE, PASS

from verify.registry import CHECKS

GATES = tuple(name for name, check in CHECKS.items() if check.gate)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    from jobs.quick import run_quick

    store = tmp_path_factory.mktemp("quick") / "quick.sqlite"
    return run_quick(store, level=0.99, progress=False)


@pytest.mark.slow
def test_quick_gates_pass_and_the_run_is_green(quick, capsys):
    statuses = {r.name: r.status for r in quick["results"]}
    assert list(statuses) == list(CHECK_NAMES)
    assert GATES == ("fourier_vs_bruteforce", "init_gradient", "ticket_frequency")
    for name in GATES:
        assert statuses[name] == PASS, (name, [r.summary for r in quick["results"] if r.name == name])
    assert quick["runs"] == 576
    assert main(["verify", "--quick", "--keep-store", quick["store"]]) == 0  # findings' FAILs do not redden it
    assert "gate" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("defect", ["ticket_frequency", "init_gradient"])
def test_quick_is_red_on_a_planted_defect(quick, defect, capsys):
    """The planted defect is active while the quick run's gates recompute from its store (the
    store's runs are reused: the sweep has nothing left to train)."""
    from verify.operating import PLANTED_DEFECTS

    with PLANTED_DEFECTS[defect]():
        assert main(["verify", "--quick", "--keep-store", quick["store"], "--checks", *GATES]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith(defect) and "FAIL" in line for line in out.splitlines()), out


@pytest.mark.slow
def test_cli_on_quick_store_json_and_exit_status(quick, capsys):
    code = main(["verify", quick["store"], "--json", "--checks", "width_monotone", "sparse_beats_dense",
                 "ticket_knockout"])
    payload = json.loads(capsys.readouterr().out)
    statuses = [c["status"] for c in payload["checks"]]
    assert code == 0 and statuses  # findings only: a FAIL among them is reported, not an exit 1
    assert all(set(c) >= {"name", "status", "details"} for c in payload["checks"])


@pytest.mark.slow
def test_report_from_quick_store(quick, tmp_path):
    from verify import estimates as est
    from jobs.report import write_report

    frame = load(quick["store"])
    report = write_report(tmp_path, frame=frame, results=quick["results"], level=0.99, bounds_markdown="| n |\n|---|",
                          figures=[], figure_notes=["figures skipped in this test"], run_description="quick grid",
                          timings={"sweep": quick["sweep_seconds"]}, store_path=quick["store"],
                          m50=est.m50_estimates(frame, 0.99, n_bootstrap=200))
    text = report.read_text()
    for name in CHECK_NAMES:
        assert f"`{name}`" in text
    assert "What matched the theory" in text and "Success per cell" in text and "m_50" in text
    statuses = {r.status for r in quick["results"]}
    assert ("**Did not match:**" in text) == (FAIL in statuses)
    assert ("**Not decided by this run:**" in text) == (INCONCLUSIVE in statuses)
