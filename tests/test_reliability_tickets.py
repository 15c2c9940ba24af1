"""Issue 25: `frontier figs` on a store holding a ticket experiment in which no run succeeded (the
docs' own k = 5 example makes one) crashed with `unexpected TypeError: ufunc 'isnan' not supported`:
a column of only NULL steps_to_success reads back as None, which np.isnan refuses."""

from __future__ import annotations

from verify.tickets import Curve, KeptNeuron, TicketReport, TicketSettings, read_reports, write_report


def failed_report() -> TicketReport:
    settings = TicketSettings(n=20, k=5, width=20, sparsity=2, top=2, seeds=1, random_nets=1, max_steps=200)
    report = TicketReport(settings=settings, support=(1, 4, 7, 9, 13))
    report.neurons.append(KeptNeuron(rank=1, index=3, score=0.5, support=(1, 2), overlap=1, ticket=False,
                                     final_top=(1, 2, 3, 4, 5), final_top_overlap=2))
    for group in ("full", "rewound", "random"):
        report.curves.append(Curve(group=group, seed=1, steps=(100, 200), test_error=(0.5, 0.49),
                                   train_error=(0.5, 0.48), success=False, steps_to_success=None))
    return report


def test_reports_without_a_success_read_back(tmp_path):
    store = tmp_path / "tickets.sqlite"
    write_report(failed_report(), store)
    (report,) = read_reports(store)
    assert [c.steps_to_success for c in report.curves] == [None, None, None]
    assert not any(c.success for c in report.curves)


def test_figs_draws_figure_5_from_such_a_store(cli, tmp_path):
    store = tmp_path / "tickets.sqlite"
    write_report(failed_report(), store)
    status, out, err = cli("figs", store, "--out", tmp_path / "figs", "--only", "fig5")
    assert status == 0, err
    assert "unexpected" not in err
    assert any(p.name.startswith("fig5_") for p in (tmp_path / "figs").iterdir())
