"""The lottery-ticket experiment (docs/science.md 5.5): rewinding, storage, Figure 5, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import fisher_exact

from frontier.cli import main as frontier_main
from paper_figs import fig5
from verify.tickets import TicketSettings, neuron_scores, read_reports, relabel_columns, run_tickets, write_report
from sim.data import draw_support, parity_labels

# Small enough for the numpy reference backend in a few CPU-seconds; the full width-200 net
# learns the (40, 3) parity to the paper's 10% in ~900 steps. "Low error" is 20% test error:
# 4 neurons rarely get below 10% within 3000 steps, rewound or not.
SMALL = TicketSettings(n=40, k=3, width=200, top=4, seeds=10, random_nets=10, max_steps=3000,
                       eval_every=100, test_size=2000, seed=0)
LOW_ERROR = 0.2


@pytest.fixture(scope="module")
def report():
    return run_tickets(SMALL, backend="numpy")


def test_rewound_tickets_beat_random_small_networks(report):
    rewound, n_rewound = report.reached("rewound", LOW_ERROR)
    random, n_random = report.reached("random", LOW_ERROR)
    assert (n_rewound, n_random) == (10, 10)
    assert report.successes("full") == (1, 1)
    # One-sided Fisher exact test at the 95% level (fixed seeds, so deterministic in CI).
    _, p_value = fisher_exact([[rewound, n_rewound - rewound], [random, n_random - random]], alternative="greater")
    assert rewound > random and p_value < 0.05, (rewound, random, p_value)


def test_kept_neurons_report_supports_and_overlaps(report):
    S = set(report.support)
    assert report.support == draw_support(SMALL.n, SMALL.k, SMALL.seed)
    assert [kn.rank for kn in report.neurons] == [1, 2, 3, 4]
    assert len({kn.index for kn in report.neurons}) == 4
    scores = [kn.score for kn in report.neurons]
    assert scores == sorted(scores, reverse=True)
    for kn in report.neurons:
        assert len(kn.support) == SMALL.sparsity and kn.overlap == len(S & set(kn.support))
        assert kn.ticket == (set(kn.support) <= S)
    # The kept neurons overlap S far more than random 2-subsets of [40] (expected overlap 0.15 each).
    assert sum(kn.overlap for kn in report.neurons) >= 3
    # ...and after training their largest weights sit on S.
    assert np.mean([kn.final_top_overlap for kn in report.neurons]) >= 2


def test_relabel_columns_carries_the_target_with_it():
    rng = np.random.default_rng(1)
    n, source, target = 9, (1, 4, 7), (0, 2, 8)
    W = rng.normal(size=(3, n))
    moved = relabel_columns(W, source, target)
    X = rng.choice([-1, 1], size=(50, n)).astype(np.int8)
    # Relabelling x by the same permutation maps the old problem onto the new one exactly.
    pi = np.empty(n, dtype=int)
    pi[list(source) + [j for j in range(n) if j not in source]] = list(target) + [j for j in range(n) if j not in target]
    X_new = np.empty_like(X)
    X_new[:, pi] = X
    np.testing.assert_allclose(X_new @ moved.T, X @ W.T)
    np.testing.assert_array_equal(parity_labels(X_new, target), parity_labels(X, source))


def test_neuron_scores():
    W = np.array([[3.0, 4.0], [1.0, 0.0]])
    u = np.array([0.1, -2.0])
    np.testing.assert_allclose(neuron_scores((W, np.zeros(2), u), "contribution"), [0.5, 2.0])
    np.testing.assert_allclose(neuron_scores((W, np.zeros(2), u), "input-norm"), [5.0, 1.0])
    with pytest.raises(ValueError, match="rank_by"):
        neuron_scores((W, np.zeros(2), u), "bogus")


def test_store_round_trip_and_figure5(report, tmp_path):
    path = tmp_path / "tickets.sqlite"
    write_report(report, path, backend="numpy")
    write_report(report, path, backend="numpy")  # the same settings replace, not duplicate
    (back,) = read_reports(path)
    assert back.settings == report.settings and back.support == report.support
    assert back.neurons == report.neurons
    assert [(c.group, c.seed, c.success) for c in back.curves] == sorted(
        [(c.group, c.seed, c.success) for c in report.curves], key=lambda t: (("full", "rewound", "random").index(t[0]), t[1]))
    paths = fig5.render(path, tmp_path / "figs")
    assert {p.suffix for p in paths} == {".png", ".pdf"} and all(p.stat().st_size > 2000 for p in paths)


def test_bad_settings_are_value_errors():
    with pytest.raises(ValueError, match="top"):
        TicketSettings(width=4, top=5)
    with pytest.raises(ValueError, match="k="):
        TicketSettings(n=3, k=5)


def test_cli_tiny_run_prints_neurons_and_writes_figure(tmp_path, capsys):
    code = frontier_main([
        "tickets", "--n", "12", "--k", "2", "--width", "16", "--top", "2", "--seeds", "1", "--random-nets", "1",
        "--max-steps", "200", "--eval-every", "100", "--backend", "numpy", "--out", str(tmp_path),
    ])
    assert code == 0
    out = capsys.readouterr().out
    assert "kept neurons" in out and "U=[" in out and "rewound:" in out and "random:" in out
    assert (tmp_path / "tickets.sqlite").exists() and list(tmp_path.glob("fig5_*.png"))
    assert frontier_main(["tickets", "--top", "0", "--out", str(tmp_path)]) == 2
