"""The cost of targets other than the parity in a sweep (issue 18): their labels are a numpy pass.

    python -m bench.target_labels [--widths 8,128] [--repeats 5] [--steps 4000]

prints one JSON object. Online runs pay it every block: the compiled group stream fills X and the
parity of the run's support, then :class:`sim.group_stream.GroupStream` relabels the block with
the target's numpy function (:mod:`sim.targets`) and a noisy target's flips. Offline runs pay it
once, over their training and test sets. Measured: ``sim.train`` (numba) on 16 online runs that
never learn (lr 1e-9, so every run trains all ``steps``; n = 30, k = 3, batch 32, a 400-sample test
set at the end), once per target on the same seeds; rounds interleave the targets and each
target's time is the minimum over ``repeats`` rounds (the least disturbed on a shared machine).
Reported: seconds and the ratio to the parity (whose labels the compiled fill computes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

KINDS: tuple[dict, ...] = ({"target": "parity"}, {"target": "noisy_parity", "label_noise": 0.1},
                           {"target": "staircase"}, {"target": "sparse_majority"},
                           {"target": "multitask_parity", "tasks": 2})


def label_costs(widths: tuple[int, ...] = (8, 128), repeats: int = 5, steps: int = 4000, runs: int = 16) -> dict:
    """{width: {target: {"seconds", "vs_parity"}}} (module docstring)."""
    import sim
    from sim import RunConfig

    results = {}
    for width in widths:
        base = [RunConfig(n=30, k=3, width=width, lr=1e-9, max_steps=steps, test_size=400, seed=s) for s in range(runs)]
        for kind in KINDS:  # compile and warm up every path first
            sim.train([base[0].replace(**kind)], backend="numba")
        times: dict[str, list[float]] = {kind["target"]: [] for kind in KINDS}
        for _ in range(repeats):
            for kind in KINDS:
                configs = [config.replace(**kind) for config in base]
                start = time.perf_counter()
                sim.train(configs, backend="numba")
                times[kind["target"]].append(time.perf_counter() - start)
        best = {target: min(values) for target, values in times.items()}
        results[width] = {target: {"seconds": round(value, 4), "vs_parity": round(value / best["parity"], 2)}
                          for target, value in best.items()}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="8,128", help="comma-separated widths (default: 8,128)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds; the minimum counts (default: 5)")
    parser.add_argument("--steps", type=int, default=4000, help="SGD steps per run (default: 4000)")
    args = parser.parse_args(argv)
    try:
        widths = tuple(int(w) for w in args.widths.split(","))
        if args.repeats < 1 or args.steps < 1 or min(widths) < 1:
            raise ValueError(f"--widths {args.widths}, --repeats {args.repeats}, --steps {args.steps} must be >= 1")
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    print(json.dumps({"online_runs": 16, "steps": args.steps, "n": 30, "k": 3,
                      "widths": label_costs(widths, args.repeats, args.steps)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
