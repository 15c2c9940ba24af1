"""Train a few runs of one configuration without a grid file and print one line per seed
plus the success rate with a 95% Clopper-Pearson interval. Every RunConfig field is an
option (defaults: the paper's hyperparameters, docs/science.md section 3). With --store the
runs are also written to a results store, as `frontier sweep` would.

example: frontier train --n 30 --k 3 --width 1000 --samples 2000 --init sparse --seeds 8
"""

from __future__ import annotations

import argparse


def _online_or_int(text: str) -> int | None:
    if text == "online":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither an integer nor 'online'") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    import dataclasses

    from frontier.cli import add_backend_arguments
    from sim.config import FIELD_SPECS, FIELD_TYPES, RunConfig

    # One option per RunConfig field but the seed, from its schema (help, type, choices, default).
    for field in dataclasses.fields(RunConfig):
        spec = FIELD_SPECS[field.name]
        if spec.role == "seed":
            continue
        required = field.default is dataclasses.MISSING
        kind = _online_or_int if spec.nullable else FIELD_TYPES[field.name]
        shown = "online" if spec.nullable and field.default is None else field.default
        parser.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, type=kind, choices=spec.choices,
                            required=required, default=None if required else field.default,
                            help=spec.help + ("" if required else f" (default: {shown})"))
    parser.add_argument("--seeds", type=int, default=1, help="number of seeds (default: 1)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are FIRST..FIRST+SEEDS-1 (default: 0)")
    add_backend_arguments(parser)
    parser.add_argument("--store", default=None, help="also write the runs to this results store")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    from sim.grid import MAX_GRID_RUNS

    parser.add_argument("--max-runs", type=int, default=MAX_GRID_RUNS, metavar="N",
                        help=f"refuse more than N seeds (default: {MAX_GRID_RUNS:,})")


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}" if value == value else "nan"
    return str(value)


def as_flag_message(message: str) -> str:
    """A RunConfig validation message in the words of this command's flags: every
    ``RunConfig.NAME=VALUE`` becomes ``--NAME VALUE`` (``seed`` is ``--first-seed``)."""
    import re

    def flag(match: "re.Match[str]") -> str:
        name = "first-seed" if match[1] == "seed" else match[1].replace("_", "-")
        value = "online" if match[1] == "samples" and match[2] == "None" else match[2].strip("'")
        return f"--{name} {value}"

    return re.sub(r"RunConfig\.(\w+)=('[^']*'|\S+)", flag, message)


def run(args: argparse.Namespace) -> int:
    from scipy.stats import binomtest

    from sim.config import CONFIG_FIELDS, INT64_MAX, RunConfig, unread_values, who_reads
    from sim.grid import check_run_count
    from sim.resources import check_memory
    from sim.store import Store, check_store_path
    from sim.backends import check_backend
    from sim.training import train

    if args.seeds < 1:
        raise ValueError(f"--seeds {args.seeds} must be >= 1")
    if args.first_seed < 0:
        raise ValueError(f"--first-seed {args.first_seed} must be >= 0")
    last_seed = args.first_seed + args.seeds - 1
    if last_seed > INT64_MAX:
        raise ValueError(f"--first-seed {args.first_seed} --seeds {args.seeds} reaches seed {last_seed}, above "
                         f"2**63 - 1 = {INT64_MAX} (the results store's integer range)")
    check_run_count(args.seeds, args.max_runs, "frontier train", what="--seeds asks for")
    requested = {name: getattr(args, name) for name in CONFIG_FIELDS if name != "seed"}
    try:
        base = RunConfig(**requested, seed=args.first_seed)
    except ValueError as exc:  # "RunConfig.width=0 must be >= 1" -> "--width 0 must be >= 1": the flag typed
        raise ValueError(as_flag_message(str(exc))) from None
    unread = unread_values(requested, [base])
    if unread:  # e.g. --label-noise without --target noisy_parity: a plain parity run would be trained
        name, value = unread[0]
        raise ValueError(f"--{name.replace('_', '-')} {value} is read by no run of these options ({who_reads(name)})")
    check_memory([base], args.backend)  # before the store is opened or anything allocated
    configs = [base.replace(seed=args.first_seed + i) for i in range(args.seeds)]
    check_backend(args.backend, args.device, args.dtype, local=True)
    if args.store is not None:
        check_store_path(args.store)

    store = Store(args.store) if args.store is not None else None
    try:
        def write(config: RunConfig, result) -> None:
            if store is not None:
                store.write(config, result, args.backend, args.device, args.dtype)

        results = train(configs, backend=args.backend, device=args.device, dtype=args.dtype,
                        progress=not args.quiet, on_finished=write)
    finally:
        if store is not None:
            store.close()

    from verify.estimates import target_label

    samples = "online" if base.samples is None else base.samples
    target = "" if base.target == "parity" else f" target={target_label(base.to_dict())}"
    print(f"n={base.n} k={base.k}{target} width={base.width} samples={samples} init={base.init}"
          + (f" (s={base.sparsity}, {base.sparse_values})" if base.init == "sparse" else "")
          + f" loss={base.loss} lr={base.lr} wd={base.weight_decay} batch={base.batch_size}"
          f" max_steps={base.max_steps} backend={args.backend}/{args.device}/{args.dtype}")
    header = ["seed", "success", "steps_to_success", "steps_run", "test_error", "train_error", "diverged",
              "wall_s"]
    rows = [
        [str(c.seed), _fmt(r.success), _fmt(r.steps_to_success), str(r.steps_run), _fmt(r.final_test_error),
         _fmt(r.final_train_error), _fmt(r.diverged), f"{r.wall_seconds:.2f}"]
        for c, r in zip(configs, results)
    ]
    if any(r.task_test_errors is not None for r in results):  # a multitask target: each task's test error
        header.append("task_errors")
        for row, r in zip(rows, results):
            row.append("/".join(_fmt(e) for e in r.task_test_errors) if r.task_test_errors else "-")
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    for row in [header] + rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    wins = sum(r.success for r in results)
    ci = binomtest(wins, len(results)).proportion_ci(0.95, method="exact")
    print(f"success {wins}/{len(results)} = {wins / len(results):.2f} "
          f"(95% Clopper-Pearson CI {ci.low:.2f}-{ci.high:.2f})"
          + (f"; written to {args.store}" if args.store else ""))
    return 0
