"""Benchmark our batched backends against the baselines researchers use.

Measures in one process, on the same workload (n=50, batch 32, hinge loss, SGD lr 0.1 with
weight decay 0.01, R independent runs, fixed steps, no early stopping) at widths 10, 100,
1000, 10000: (a) naive: R separate torch.nn models with torch.optim.SGD in a Python loop,
(b) torch.func ensemble (vmap of grad over stacked params), (b') a JAX ensemble
(vmap(jit(lax.scan)), when jax is installed), (c) our backends (numba on the CPU; torch, and
triton on CUDA). Reports run-steps/s, achieved GFLOP/s
(4Bnr + 9Br + 4B + 4(nr + 2r) per run-step), the fraction of a float32 matmul peak measured
in the same process, speedups of ours over the baselines and, on CUDA, achieved bytes/s
against a device-to-device copy. Ends with an estimate of the hours the paper's full grid
would take with our best backend (GPU-hours on CUDA; CPU-hours, labelled so, on the CPU); not
with --quick, a smoke test whose table says it measures nothing.
Minibatches are generated before timing for all contenders alike.
"""

from __future__ import annotations

import argparse
import json
import sys


def description() -> str:
    """The --help text: this docstring and the contenders, from bench.harness's registry."""
    from bench.harness import BASELINES, OURS

    return (f"{__doc__.strip()}\n\ncontenders (bench.harness):\n  baselines {', '.join(BASELINES)} (jax only with the "
            f"[bench] extra installed)\n  ours      {', '.join(OURS)} (each where its device is available)")


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"widths={text!r} must be comma-separated integers") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"widths={text!r} must be positive integers")
    return widths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where to run (cuda adds the copy-bandwidth measurement; numba is CPU only)")
    parser.add_argument("--json", action="store_true", help="print every number as JSON on stdout")
    parser.add_argument("--quick", action="store_true",
                        help="tiny R and steps: a smoke test in seconds, labelled so; it measures nothing and "
                             "prints no grid estimate")
    parser.add_argument("--widths", type=_widths, default=None, metavar="W1,W2,...",
                        help="widths to measure (default 10,100,1000,10000; on cuda also 30000,100000)")


def run(args: argparse.Namespace) -> int:
    import torch

    from frontier.cli import CliError
    import bench

    if args.device == "cuda" and not torch.cuda.is_available():
        raise CliError("CUDA is not available")
    widths = args.widths or (bench.CUDA_WIDTHS if args.device == "cuda" else bench.WIDTHS)
    settings = (bench.quick_settings if args.quick else bench.full_settings)(args.device, widths)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = bench.run_benchmark(settings, progress=progress)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(bench.format_table(result))
    return 0
