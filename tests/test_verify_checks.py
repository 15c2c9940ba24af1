"""Check logic on synthetic stores that must PASS, FAIL or be INCONCLUSIVE; CLI exit codes and JSON."""

from __future__ import annotations

import json
import math

import pytest

from frontier.cli import main
from sim.config import RunConfig, RunResult
from sim.store import Store, load
from verify import checks
from verify.checks import FAIL, INCONCLUSIVE, PASS

from test_verify_estimates import logistic, synthetic_frame


def write_store(path, curve, widths, inits=("sparse",), samples=(100, 200, 400, 800, 1600), seeds=30, n=20, k=3):
    """A real SQLite store whose success probability at (init, width, m) is curve(init, width, m)."""
    import numpy as np

    rng = np.random.default_rng(0)
    with Store(path) as store:
        for init in inits:
            for width in widths:
                for m in samples:
                    for seed in range(seeds):
                        config = RunConfig(n=n, k=k, width=width, samples=m, init=init, seed=seed)
                        ok = bool(rng.random() < curve(init, width, m))
                        store.write(config, RunResult(ok, 500 if ok else None, 500 if ok else 100_000,
                                                      0.05 if ok else 0.5, 0.0, False, 1.0), "numpy", "cpu", "float64")
    return path


def test_width_monotone_pass_fail_inconclusive():
    grows = synthetic_frame(lambda w, m: 0.2 if w == 8 else 0.9, widths=(8, 256), samples=(100,), seeds=40)
    assert checks.check_width_monotone(grows).status == PASS
    drops = synthetic_frame(lambda w, m: 0.95 if w == 8 else 0.05, widths=(8, 256), samples=(100,), seeds=40)
    result = checks.check_width_monotone(drops)
    assert result.status == FAIL and result.details["significant_violations"]
    one_width = synthetic_frame(lambda w, m: 0.5, widths=(8,), samples=(100,), seeds=10)
    assert checks.check_width_monotone(one_width).status == INCONCLUSIVE


def _two_inits(dense_m50: float, sparse_m50: float, width: int = 256, seeds: int = 40):
    import pandas as pd

    dense = synthetic_frame(logistic(dense_m50, 6.0), widths=(width,), init="dense", seeds=seeds, rng_seed=1)
    sparse = synthetic_frame(logistic(sparse_m50, 6.0), widths=(width,), init="sparse", seeds=seeds, rng_seed=2)
    return pd.concat([dense, sparse], ignore_index=True)


def test_sparse_beats_dense_pass_fail_inconclusive():
    assert checks.check_sparse_beats_dense(_two_inits(800, 200), n_bootstrap=400).status == PASS
    assert checks.check_sparse_beats_dense(_two_inits(200, 800), n_bootstrap=400).status == FAIL
    assert checks.check_sparse_beats_dense(_two_inits(300, 300, seeds=6), n_bootstrap=400).status == INCONCLUSIVE
    only_sparse = synthetic_frame(logistic(300), widths=(256,))
    assert checks.check_sparse_beats_dense(only_sparse).status == INCONCLUSIVE


def test_ticket_collapse_pass_fail_inconclusive():
    # n=20, k=3, s=2: r* = 64.
    jump_at_rstar = synthetic_frame(lambda w, m: logistic(800 if w < 64 else 200, 6.0)(w, m), widths=(8, 256))
    result = checks.check_ticket_collapse(jump_at_rstar, n_bootstrap=400)
    assert result.status == PASS
    assert result.details["settings"][0]["critical_width"] == 64
    no_jump = synthetic_frame(lambda w, m: logistic(200, 6.0)(w, m), widths=(8, 256), seeds=60)
    assert checks.check_ticket_collapse(no_jump, n_bootstrap=400).status == FAIL
    jump_above = synthetic_frame(lambda w, m: logistic(800 if w < 1000 else 200, 6.0)(w, m), widths=(8, 128, 2048))
    assert checks.check_ticket_collapse(jump_above, n_bootstrap=400).status == FAIL
    not_bracketed = synthetic_frame(lambda w, m: logistic(800 if w < 200 else 200, 6.0)(w, m), widths=(128, 512))
    assert checks.check_ticket_collapse(not_bracketed, n_bootstrap=400).status == INCONCLUSIVE


def test_sq_consistent_vacuous_and_violated():
    small = synthetic_frame(lambda w, m: 1.0, widths=(8,), samples=(100,), seeds=5)
    assert checks.check_sq_consistent(small).status == INCONCLUSIVE  # bound is 1: cannot fail
    # n=60, k=30: C(60,30) ~ 1.2e17 >> 2 p T m, so always succeeding is impossible.
    big = synthetic_frame(lambda w, m: 1.0, widths=(8,), samples=(100,), seeds=5, n=60, k=30)
    result = checks.check_sq_consistent(big)
    assert result.status == FAIL and result.details["smallest_bound"] < 1e-6
    rare = synthetic_frame(lambda w, m: 0.0, widths=(8,), samples=(100,), seeds=5, n=60, k=30)
    assert checks.check_sq_consistent(rare).status == INCONCLUSIVE  # no successes to test


def test_fourier_check_detects_a_wrong_coefficient(monkeypatch):
    assert checks.check_fourier_vs_bruteforce(max_s=3).status == PASS
    real = checks.bruteforce_coefficient
    monkeypatch.setattr(checks, "bruteforce_coefficient",
                        lambda s, d, b, a: real(s, d, b, a) + (1 if (s, d) == (2, 1) else 0))
    assert checks.check_fourier_vs_bruteforce(max_s=3).status == FAIL


def test_exact_step_signal_against_enumeration():
    """The Krawtchouk sum over the dense epsilon part equals full enumeration of {-1,1}^n."""
    import itertools

    import numpy as np

    n, U, values, eps, bias = 6, (1, 4), [0.9, -0.4], 0.11, 0.05
    w = np.full(n, eps)
    w[list(U)] = values
    for T in ([1, 4], [0, 1], [2, 3, 4], [], [0, 2, 3, 5]):
        brute = np.mean([math.prod(x[i] for i in T) * (np.dot(w, x) + bias > 0)
                         for x in itertools.product((1, -1), repeat=n)])
        assert checks.exact_step_signal(n, U, values, eps, bias, T) == pytest.approx(brute, abs=1e-12)


@pytest.mark.parametrize("values", ["sign", "ones-eps"])
def test_init_gradient_passes_for_other_sparse_values_and_fails_on_a_wrong_prediction(values, monkeypatch):
    frame = synthetic_frame(lambda w, m: 0.5, widths=(128,), samples=(100,), seeds=2, n=12)
    frame["sparse_values"] = values
    kwargs = dict(neurons_per_kind=3, batches=24, batch_size=512)
    result = checks.check_init_gradient(frame, 0.99, **kwargs)
    assert result.status == PASS, result.summary
    if values == "sign":
        assert result.details["max_abs_difference_exact_vs_theory_gradient_signal"] < 1e-12
        real = checks.exact_step_signal
        monkeypatch.setattr(checks, "exact_step_signal", lambda *a: 1.5 * real(*a))  # a 50% wrong prediction
        assert checks.check_init_gradient(frame, 0.99, **kwargs).status == FAIL


def test_ticket_frequency_pass_and_fail(monkeypatch):
    frame = synthetic_frame(lambda w, m: 0.5, widths=(64,), samples=(100,), seeds=2)
    assert checks.check_ticket_frequency(frame, min_neurons=50_000).status == PASS
    import theory.lottery

    monkeypatch.setattr(theory.lottery, "ticket_probability", lambda n, k, s: 2 * 3 / 190)
    assert checks.check_ticket_frequency(frame, min_neurons=50_000).status == FAIL


def test_cli_verify_exit_codes_and_json(tmp_path, capsys):
    good = write_store(tmp_path / "good.sqlite", lambda i, w, m: 0.1 if w == 8 else 0.9, widths=(8, 256),
                       samples=(100,))
    bad = write_store(tmp_path / "bad.sqlite", lambda i, w, m: 0.95 if w == 8 else 0.05, widths=(8, 256),
                      samples=(100,))
    assert len(load(good)) == 60
    names = ["--checks", "width_monotone", "sq_consistent"]
    assert main(["verify", str(good), "--json", *names]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in payload["checks"]] == ["width_monotone", "sq_consistent"]
    assert {"name", "status", "details"} <= set(payload["checks"][0])
    assert payload["checks"][0]["status"] == PASS
    assert main(["verify", str(bad), *names]) == 1
    out = capsys.readouterr().out
    assert "width_monotone" in out and "FAIL" in out
    assert main(["verify", str(good), "--level", "1.5"]) == 2
    assert main(["verify", str(tmp_path / "missing.sqlite")]) == 2
    assert main(["verify"]) == 2
    assert "error:" in capsys.readouterr().err
