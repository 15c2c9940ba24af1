"""The CI validation run (`frontier verify --quick`): decisive (PASS or FAIL) on every check but at
most one, and the checks that test our own code (theory against the simulator's construction)
PASS. Also the report built from its store."""

from __future__ import annotations

import json

import pytest

from frontier.cli import main
from sim.store import load
from verify.checks import CHECK_NAMES, FAIL, INCONCLUSIVE, PASS

OWN_CODE = ("fourier_vs_bruteforce", "init_gradient", "ticket_frequency")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    from jobs.quick import run_quick

    store = tmp_path_factory.mktemp("quick") / "quick.sqlite"
    return run_quick(store, level=0.99, progress=False)


@pytest.mark.slow
def test_quick_checks_are_decisive(quick):
    statuses = {r.name: r.status for r in quick["results"]}
    assert list(statuses) == list(CHECK_NAMES)
    undecided = [name for name, status in statuses.items() if status == INCONCLUSIVE]
    assert len(undecided) <= 1, undecided
    for name in OWN_CODE:
        assert statuses[name] == PASS, (name, [r.summary for r in quick["results"] if r.name == name])
    assert quick["runs"] == 528


@pytest.mark.slow
def test_cli_on_quick_store_json_and_exit_status(quick, capsys):
    code = main(["verify", quick["store"], "--json", "--checks", "width_monotone", "sparse_beats_dense",
                 "ticket_knockout"])
    payload = json.loads(capsys.readouterr().out)
    statuses = [c["status"] for c in payload["checks"]]
    assert code == (1 if FAIL in statuses else 0)
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
