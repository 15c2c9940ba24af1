"""The lottery-ticket experiment (docs/science.md 5.5, the paper's Figure 5): train a network with
s-hot sparse init, keep its top neurons by final weight score, rewind them to their initial
weights and retrain with several seeds, and train random networks of the same small width.
Prints, per kept neuron, its initial support and overlap with S; stores the curves and draws
Figure 5.

Defaults are shrunk for a CPU: the paper's setting, --n 50 --k 5 --width 100 --top 5, did not
reach 10% test error within 10^5 steps in 2 of 2 seeds we tried (about 25 s each with numpy),
so the default is k = 4 (learns in a few thousand steps) with T = 20,000 steps. Pass --k 5
--max-steps 100000 for the paper's setting.

Seeds: a seed fixes S as well as the data, so each retrain seed relabels the input
coordinates of the rewound weights to carry S onto that seed's support: only the training
randomness (the online sample stream; offline, the training set and minibatch order) changes.
The random networks use the same seeds, so each rewound/random pair sees the same data.

example: frontier tickets --n 50 --k 4 --width 100 --sparsity 2 --online --top 5 --seeds 10
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from frontier.cli import add_backend_arguments

    parser.add_argument("--n", type=int, default=50, help="input dimension (default: 50)")
    parser.add_argument("--k", type=int, default=4, help="parity degree (default: 4; the paper used 5)")
    parser.add_argument("--width", type=int, default=100, help="width of the full network (default: 100)")
    parser.add_argument("--sparsity", type=int, default=2, help="s of the s-hot init (default: 2)")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--online", action="store_true", help="fresh samples every step (the default)")
    data.add_argument("--samples", type=int, default=None, help="train offline on a fixed set of m samples")
    parser.add_argument("--top", type=int, default=5, help="neurons kept (default: 5)")
    parser.add_argument("--seeds", type=int, default=10, help="retrain seeds of the rewound network (default: 10)")
    parser.add_argument("--random-nets", type=int, default=10, help="random small networks (default: 10)")
    parser.add_argument("--max-steps", type=int, default=20_000, help="SGD steps per run, T (default: 20000)")
    parser.add_argument("--eval-every", type=int, default=100, help="evaluation interval (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the full network (default: 0)")
    parser.add_argument("--rank-by", choices=["contribution", "input-norm"], default="contribution",
                        help="neuron score: ||w_i||*|u_i| (default) or ||w_i||")
    add_backend_arguments(parser, device=False, dtype=False)
    parser.add_argument("--out", default="figs", help="directory for Figure 5 (default: figs)")
    parser.add_argument("--store", default=None,
                        help="SQLite file for the results (default: OUT/tickets.sqlite; may be a runs store)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from paper_figs.fig5 import render_report
    from verify.tickets import TicketSettings, check_tickets_store, run_tickets, write_report

    settings = TicketSettings(
        n=args.n, k=args.k, width=args.width, sparsity=args.sparsity, samples=args.samples, top=args.top,
        seeds=args.seeds, random_nets=args.random_nets, max_steps=args.max_steps, eval_every=args.eval_every,
        seed=args.seed, rank_by=args.rank_by,
    )
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {args.out!r} exists and is not a directory")
    store = Path(args.store) if args.store else out / "tickets.sqlite"
    from frontier.cli import check_matplotlib

    check_matplotlib()
    out.mkdir(parents=True, exist_ok=True)
    check_tickets_store(store)  # before the training: a bad --store must not cost its results
    report = run_tickets(settings, backend=args.backend, progress=lambda m: print(m, file=sys.stderr, flush=True))
    write_report(report, store, backend=args.backend)
    print("\n".join(report.summary_lines()))
    s = settings
    for path in render_report(report, out, f"fig5_n{s.n}_k{s.k}_w{s.width}_s{s.sparsity}_top{s.top}"):
        print(path)
    print(f"results stored in {store}")
    return 0
