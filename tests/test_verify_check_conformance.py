"""One conformance suite over every registered check (verify.registry.CHECKS): adding a check
adds no test module. Each check has a kind, a design and operating-characteristic scenarios;
every verdict is reachable on synthetic stores (seeds correlated as in the demo store); its
result survives a JSON round trip; its report sentences are rendered from its own result.

frontier_prediction's and parallel_search_slope's verdicts need a model refit per store (tens of
seconds each): they are tested in tests/test_verify_models.py and their operating characteristics
measured by `frontier calibrate`; here they are run on the empty store only."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest

from sim.config import CONFIG_FIELDS, RESULT_FIELDS
from test_verify_operating import demo_like_model
from verify import operating as oc
from verify.checks import CHECKS
from verify.designs import DESIGNS
from verify.registry import FAIL, INCONCLUSIVE, KINDS, PASS, STATUSES, CheckResult

#: Checks refitted per store (tens of seconds each): their verdicts are tested in
#: tests/test_verify_models.py (test_frontier_prediction_pass_fail_inconclusive,
#: test_parallel_search_slope_pass_fail_inconclusive) and measured by `frontier calibrate`.
SLOW = {"frontier_prediction", "parallel_search_slope"}
#: Stores tried per scenario before a verdict counts as unreachable (fixed seeds).
TRIES = 3


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=list(CONFIG_FIELDS) + list(RESULT_FIELDS))


@pytest.mark.parametrize("name", list(CHECKS))
def test_registration(name):
    check = CHECKS[name]
    assert check.kind in KINDS and check.design in DESIGNS and check.effect
    assert name in oc.SCENARIOS
    assert check.claim.endswith(".")


@pytest.mark.parametrize("name", list(CHECKS))
def test_an_empty_store_is_inconclusive_or_exact(name):
    result = CHECKS[name].function(_empty())
    expected = PASS if name == "fourier_vs_bruteforce" else INCONCLUSIVE  # exact arithmetic needs no runs
    assert result.status == expected and result.name == name


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in CHECKS if n not in SLOW])
def test_every_verdict_is_reachable_and_round_trips(name):
    model = demo_like_model()
    reached: dict[str, CheckResult] = {}
    for scenario in oc.SCENARIOS[name](name, model):
        rng = np.random.default_rng(7)
        for _ in range(TRIES):
            kwargs = scenario.make(rng)
            defect, frame = kwargs.pop("_defect", None), kwargs.pop("frame")
            accepted = set(inspect.signature(CHECKS[name].function).parameters)
            kwargs = {k: v for k, v in kwargs.items() if k in accepted}
            if "n_bootstrap" in accepted:
                kwargs["n_bootstrap"] = 300
            if defect is not None:
                with defect():
                    result = CHECKS[name].function(frame, **kwargs)
            else:
                result = CHECKS[name].function(frame, **kwargs)
            reached.setdefault(result.status, result)
    reached.setdefault(INCONCLUSIVE, CHECKS[name].function(_empty()))
    if name == "fourier_vs_bruteforce":  # exact: INCONCLUSIVE only when nothing is compared
        reached[INCONCLUSIVE] = CHECKS[name].function(_empty(), max_s=0)
    assert set(reached) == set(STATUSES), (name, sorted(reached))
    for status, result in reached.items():
        payload = json.loads(json.dumps(result.to_dict()))
        assert payload["kind"] == CHECKS[name].kind
        back = CheckResult.from_dict(payload)
        assert (back.name, back.status, back.summary) == (result.name, result.status, result.summary)
        assert json.loads(json.dumps(back.to_dict())) == payload
        sentences = CHECKS[name].describe(result)
        assert all(s in STATUSES and isinstance(text, str) and text for s, text in sentences)
        if status != INCONCLUSIVE or result.details:
            assert sentences, (name, status)
