"""The CI validation run: a small sweep into a temporary store, then every check.

Its exit status (``frontier verify --quick``) is decided by the gates alone (the checks that
FAIL only when code is wrong, verify.registry.GATE): green on a healthy checkout, red on a
planted bug (tests/test_verify_quick.py plants two). The findings' verdicts are printed: at
this size several are INCONCLUSIVE or FAIL as a matter of science, not of code.

``frontier verify --quick`` (and the test suite) runs :data:`QUICK_GRID`: n = 20, k = 3,
2-hot sparse init (uniform values, the paper's default) at one width well below and one
well above the critical width r* = ceil(1/p) = ceil(C(20,2)/C(3,2)) = 64 (docs/science.md 4.4),
dense init at the wide width, and a grid of training-set sizes m around the threshold
that both inits have at this scale. The reductions against the paper's settings are stated
in :data:`QUICK_REDUCTIONS` and printed with the results: ``max_steps`` 3000 instead of
10^5 and a test set of 1000 instead of 10^4 (a 10%-error decision on 1000 samples has a
standard error under 1%), so the thresholds measured here are thresholds *within 3000
steps*.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

QUICK_GRID: list[dict[str, Any]] = [
    # The frontier: both inits at one width well below r* = 64 (<= r*/4) and one at 4 r*.
    {"n": 20, "k": 3, "init": ["dense", "sparse"], "width": [8, 256],
     "samples": [150, 200, 250, 300, 400, 600], "seeds": 16},
    # Knock-out (and its sham) at 4 r* and knock-in (a natively valued ticket and its control) at
    # r*/8, m in the transition window.
    {"n": 20, "k": 3, "init": "sparse", "width": 256, "samples": [200, 250, 300],
     "intervention": ["knock_out_redrawn", "knock_out_sham"], "seeds": 16},
    {"n": 20, "k": 3, "init": "sparse", "width": 8, "samples": [250, 300, 400],
     "intervention": ["plant_native_ticket", "plant_native_control"], "seeds": 16},
]
QUICK_SCALARS: dict[str, Any] = {"max_steps": 3000, "eval_every": 100, "test_size": 1000}
QUICK_REDUCTIONS = ("max_steps = 3000 (paper: 10^5), test_size = 1000 (paper: 10^4), eval_every = 100; "
                    "n = 20, k = 3, 16 seeds per cell")


def quick_configs() -> list:
    """The RunConfigs of the quick validation sweep."""
    from sim.grid import grid_configs

    configs = []
    for part in QUICK_GRID:
        configs.extend(grid_configs({**part, **QUICK_SCALARS}, source="verify --quick"))
    return configs


def run_quick(store_path: str | Path | None = None, level: float = 0.99, backend: str = "numba",
              progress: bool = True, log: Callable[[str], None] | None = None,
              names: list[str] | None = None) -> dict[str, Any]:
    """Sweep :func:`quick_configs` into ``store_path`` (default: a temporary file), run the checks
    (``names``, default all).

    Returns {"store", "runs", "sweep_seconds", "check_seconds", "results" (CheckResult list),
    "reductions"}."""
    from sim.store import load
    from sim.sweep import sweep

    from verify.checks import run_checks

    log = log or (lambda message: None)
    tmp = None
    if store_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="frontier-quick-")
        store_path = Path(tmp.name) / "quick.sqlite"
    try:
        configs = quick_configs()
        log(f"quick validation sweep: {len(configs)} runs ({QUICK_REDUCTIONS})")
        start = time.perf_counter()
        sweep(configs, store_path, backend=backend, workers=1, progress=progress, description="verify --quick")
        sweep_seconds = time.perf_counter() - start
        frame = load(store_path)
        start = time.perf_counter()
        results = run_checks(frame, level=level, backend=backend, names=names,
                             progress=lambda name: log(f"check {name}"))
        return {"store": str(store_path), "runs": len(frame), "sweep_seconds": sweep_seconds,
                "check_seconds": time.perf_counter() - start, "results": results,
                "reductions": QUICK_REDUCTIONS}
    finally:
        if tmp is not None:
            tmp.cleanup()
