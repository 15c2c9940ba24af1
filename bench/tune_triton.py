"""Tune the triton backend on a GPU: training rate (% of copy bandwidth) and evaluation time per
run for several (BLOCK_WIDTH, NUM_WARPS, UPDATE_WAVES) and (BLOCK_WIDTH, BLOCK_SAMPLES, NUM_WARPS),
beside the torch backend, at the bench's widths and at n = 300.

    python -m bench.tune_triton --out bench/results/tune_triton_<device>.json

Needs CUDA (the tests run a tiny case on the CPU under Triton's interpreter); set the winners as
the defaults in sim/backends/triton.py and commit the JSON that chose them.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from bench.costs import bytes_per_run_step
from bench.harness import _synchronizer, copy_bandwidth_bytes_per_s, time_calls
from bench.workload import kernel_for, make_workload

#: (width, runs R, inputs n) measured.
CASES: tuple[tuple[int, int, int], ...] = (
    (30000, 32, 50), (100000, 8, 50), (30000, 8, 300), (10000, 64, 50), (1000, 512, 50), (10, 4096, 50),
)
#: (BLOCK_WIDTH, NUM_WARPS, UPDATE_WAVES) of the training kernels.
TRAIN_VARIANTS: tuple[tuple[int, int, int], ...] = ((64, 8, 0), (64, 8, 1), (64, 8, 2), (32, 4, 0), (32, 4, 2),
                                                    (64, 4, 0))
#: (BLOCK_WIDTH, BLOCK_SAMPLES, NUM_WARPS) of the evaluation kernel.
EVAL_VARIANTS: tuple[tuple[int, int, int], ...] = ((64, 64, 4), (64, 128, 8), (128, 64, 8), (32, 128, 4))
BLOCK_STEPS = 50


@dataclass(frozen=True)
class TuneRow:
    """One measurement: a contender/variant at one case, training or evaluation."""

    width: int
    runs: int
    n: int
    contender: str
    kind: str  # "train" or "eval"
    variant: dict
    run_steps_per_s: float | None
    fraction_of_copy: float | None
    eval_ms_per_run: float | None


def _set_defaults(module, **values: int) -> None:
    for name, value in values.items():
        setattr(module, name, value)


def tune(cases: Sequence[tuple[int, int, int]] = CASES, device: str = "cuda", eval_samples: int = 10_000,
         min_seconds: float = 0.3, log: Callable[[str], None] = print) -> dict:
    """Measure every variant at every case; a JSON-ready dict with the copy bandwidth and the rows."""
    from sim.backends import triton as bt

    defaults = {name: getattr(bt, name) for name in ("BLOCK_WIDTH", "NUM_WARPS", "UPDATE_WAVES", "BLOCK_SAMPLES")}
    sync = _synchronizer(device)
    copy = copy_bandwidth_bytes_per_s(device)
    log(f"copy {copy / 1e9:.0f} GB/s")
    rng = np.random.default_rng(1)
    rows: list[TuneRow] = []
    try:
        for width, R, n in cases:
            work = make_workload(width, R, BLOCK_STEPS, None, n=n)
            X, y = work.blocks[0]
            runs = np.arange(R)
            Xe = (1 - 2 * rng.integers(0, 2, size=(min(R, 16), eval_samples, n))).astype(np.int8)
            ye = np.prod(Xe[..., :3], axis=-1, dtype=np.int8)
            erun = np.arange(len(Xe))
            for name, variant in [("torch", None)] + [("triton", v) for v in TRAIN_VARIANTS]:
                if variant is not None:
                    _set_defaults(bt, BLOCK_WIDTH=variant[0], NUM_WARPS=variant[1], UPDATE_WAVES=variant[2])
                kernel = kernel_for(name, work, device)
                calls, seconds = time_calls(lambda k=kernel: k.train(runs, X, y), sync, min_seconds, 3)
                rate = R * BLOCK_STEPS * calls / seconds
                fraction = rate * bytes_per_run_step(width, n=n) / copy
                keys = ("BLOCK_WIDTH", "NUM_WARPS", "UPDATE_WAVES")
                rows.append(TuneRow(width, R, n, name, "train", dict(zip(keys, variant)) if variant else {},
                                    rate, fraction, None))
                log(f"w {width:>6} n {n} R {R:>4} {name:>6} train {rows[-1].variant}: {rate:10.4g} run-steps/s "
                    f"{100 * fraction:5.1f}% of copy")
                if name == "torch":
                    calls, seconds = time_calls(lambda k=kernel: k.evaluate(erun, Xe, ye), sync, min_seconds / 3, 2)
                    rows.append(TuneRow(width, R, n, name, "eval", {}, None, None, seconds / calls / len(Xe) * 1e3))
                _set_defaults(bt, **defaults)
            for variant in EVAL_VARIANTS:
                _set_defaults(bt, BLOCK_WIDTH=variant[0], BLOCK_SAMPLES=variant[1], NUM_WARPS=variant[2])
                kernel = kernel_for("triton", work, device)
                calls, seconds = time_calls(lambda k=kernel: k.evaluate(erun, Xe, ye), sync, min_seconds / 3, 2)
                keys = ("BLOCK_WIDTH", "BLOCK_SAMPLES", "NUM_WARPS")
                rows.append(TuneRow(width, R, n, "triton", "eval", dict(zip(keys, variant)), None, None,
                                    seconds / calls / len(Xe) * 1e3))
                log(f"   triton eval {rows[-1].variant}: {rows[-1].eval_ms_per_run:.4g} ms/run")
                _set_defaults(bt, **defaults)
    finally:
        _set_defaults(bt, **defaults)
    return {"device": device, "copy_bytes_per_s": copy, "rows": [asdict(r) for r in rows]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="write the JSON here (atomically) instead of stdout")
    args = parser.parse_args(argv)
    result = tune(log=lambda message: print(message, file=sys.stderr, flush=True))
    text = json.dumps(result, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        from sim.files import write_text

        write_text(args.out, text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
