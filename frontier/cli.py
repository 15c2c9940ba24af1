"""`frontier`: one console command with subcommands.

Each subcommand lives in ``frontier/commands/<name>.py`` and exposes
``add_arguments(parser)`` and ``run(args) -> int``. Command modules keep heavy
imports (torch, numba, matplotlib) inside ``run`` so ``frontier --help`` stays fast.

Bad input anywhere (a ``ValueError`` from the API, a ``CliError`` here, or an
argparse mistake) becomes one line ``error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn, Sequence

# (name, one-line help). Order is the order shown by `frontier --help`.
COMMANDS: list[tuple[str, str]] = [
    ("bounds", "exact bound tables: ticket odds, Fourier gaps, SQ frontier per (n, k, s)"),
    ("anticoncentration", "exact census of random dense neurons' Fourier coefficients and gaps as n grows"),
    ("train", "train a few runs of one configuration and print a table"),
    ("sweep", "run a grid (TOML) into a results store: resumable, local pool or Dask"),
    ("export", "export a results store to CSV or Parquet"),
    ("bench", "benchmark our backends against torch baselines (run-steps/s, GFLOP/s, speedups)"),
    ("tabular", "tabular study: wide sparse-init MLPs vs tuned random forests on real data"),
    ("figs", "render every paper and theory figure a results store has data for (PNG + PDF)"),
    ("tickets", "lottery-ticket experiment: rewind the top neurons, retrain, compare with random nets"),
    ("verify", "check theory against a results store (the named checks), or run the CI validation (--quick)"),
    ("fit", "fit models of the frontier (parallel search A, collective width B) and predict held-out runs"),
    ("demo", "the main job (make run): bounds, a frontier sweep, all checks, figures, out/report.md"),
]


def add_backend_arguments(parser: argparse.ArgumentParser, device: bool = True, dtype: bool = True) -> None:
    """--backend (and --device, --dtype) from the backend registry, for every training command."""
    from sim.backends import BACKEND_NAMES, DEFAULT_BACKEND, DEVICES, DTYPES

    parser.add_argument("--backend", default=DEFAULT_BACKEND, choices=BACKEND_NAMES,
                        help=f"training backend (default: {DEFAULT_BACKEND})")
    if device:
        parser.add_argument("--device", default="cpu", choices=DEVICES, help="default: cpu")
    if dtype:
        parser.add_argument("--dtype", default="float32", choices=DTYPES, help="default: float32")


class CliError(Exception):
    """A user-facing error: printed as ``error: <message>``, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr, not usage plus message."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {self.prog}: {message}\n")
        raise SystemExit(2)


def build_parser(selected: str | None = None) -> ArgumentParser:
    parser = ArgumentParser(
        prog="frontier",
        description=(
            "Theory and batched simulation of neural feature learning on sparse parities "
            "(Edelman et al. 2023, 'Pareto Frontiers in Neural Feature Learning', arXiv 2309.03800)."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name, help_text in COMMANDS:
        if name != selected:
            # Only the chosen command's module is imported: some pull in torch or sklearn.
            subparsers.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(f"frontier.commands.{name}")
        text = module.description() if hasattr(module, "description") else (module.__doc__ or help_text)
        sub = subparsers.add_parser(
            name, help=help_text, description=text.strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def _selected_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, or None (then every module is loaded)."""
    names = {name for name, _ in COMMANDS}
    for token in argv:
        if token in names:
            return token
        if not token.startswith("-"):
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected_command(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except (CliError, ValueError, FileNotFoundError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.stderr.write(f"error: {message}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
