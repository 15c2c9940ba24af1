"""`frontier`: one console command with subcommands.

Each subcommand lives in ``frontier/commands/<name>.py`` and exposes
``add_arguments(parser)`` and ``run(args) -> int``. Command modules keep heavy
imports (torch, numba, matplotlib) inside ``run`` so ``frontier --help`` stays fast.

The error contract (docs/cli.md): every *expected* failure (bad input: a ``ValueError``
from the API, a ``CliError`` here, an argparse mistake; and the world saying no: ``OSError``
such as a full disk or a refused connection, ``TimeoutError``, ``sqlite3.Error``, a
``MemoryError`` from a refused size) becomes one line ``error: ...`` on stderr and exit
status 2. Anything else is a bug of ours: one line naming it plus "rerun with --debug for
the traceback"; ``--debug`` prints the traceback as well.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sqlite3
import sys
import traceback
from typing import NoReturn, Sequence

# (name, one-line help). Order is the order shown by `frontier --help`.
COMMANDS: list[tuple[str, str]] = [
    ("bounds", "exact bound tables: ticket odds, Fourier gaps, SQ frontier per (n, k, s)"),
    ("conjecture", "search exact theory for a counterexample to a conjectured inequality (exit 1 if found)"),
    ("anticoncentration", "exact census of random dense neurons' Fourier coefficients and gaps as n grows"),
    ("train", "train a few runs of one configuration and print a table"),
    ("sweep", "run a grid (TOML) into a results store: resumable, local pool or Dask"),
    ("export", "export a results store to CSV or Parquet, optionally only the runs a selector picks"),
    ("merge", "merge results stores (one per job) into a new store: each run once, conflicts refused"),
    ("info", "summarise a results store: runs, settings (widths, m, seeds, cells), backends, versions"),
    ("bench", "benchmark our backends against torch baselines (run-steps/s, GFLOP/s, speedups)"),
    ("tabular", "tabular study: wide sparse-init MLPs vs tuned random forests on real data"),
    ("figs", "render every paper and theory figure a results store has data for (PNG + PDF)"),
    ("tickets", "lottery-ticket experiment: rewind the top neurons, retrain, compare with random nets"),
    ("verify", "check theory against a results store (the named checks), or run the CI validation (--quick)"),
    ("calibrate", "measure each check's PASS / FAIL / INCONCLUSIVE rates on stores simulated from a fitted model"),
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


class CliError(ValueError):
    """A user-facing error: printed as ``error: <message>``, exit status 2. A ValueError, so it is
    caught as bad input whichever copy of this module raised it (``python -m frontier.cli`` runs
    this file as ``__main__`` while the commands import ``frontier.cli``)."""


def check_matplotlib() -> None:
    """CliError before any output folder is made when matplotlib cannot start: not installed, or
    ``MPLBACKEND`` names a backend it does not know (its own error lists all of them, and the
    command used to leave an empty output folder behind)."""
    try:
        import matplotlib  # noqa: F401  (reads MPLBACKEND when imported)
    except ImportError:
        raise CliError("figures need matplotlib: install the [figs] extra (pip install '.[figs]')") from None
    except ValueError:
        raise CliError(f"matplotlib does not know the backend MPLBACKEND={os.environ.get('MPLBACKEND', '')!r}: "
                       "unset MPLBACKEND (the figures need none) or set it to Agg") from None


#: Failures that are the user's input or the machine's state, not a bug: one ``error:`` line, status 2.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    CliError, ValueError, OSError, sqlite3.Error, MemoryError,
)


def package_version() -> str:
    """The installed parity-frontier version ("unknown" in a source tree never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("parity-frontier")
    except PackageNotFoundError:
        return "unknown"


def describe_error(exc: BaseException) -> str:
    """The one line printed for ``exc``: its message's first line, with the file an OSError names."""
    if isinstance(exc, OSError) and exc.strerror:  # a system error: "[Errno 28] ..." without the number
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    text = str(exc).strip()
    if isinstance(exc, MemoryError) and not text:
        return "out of memory"
    return text.splitlines()[0] if text else type(exc).__name__


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr, not usage plus message."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {self.prog}: {message}\n")
        raise SystemExit(2)


def _debug_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--debug", action="store_true", default=default,
                        help="on an error, print the Python traceback too")


def build_parser(selected: str | None = None) -> ArgumentParser:
    parser = ArgumentParser(
        prog="frontier",
        description=(
            "Theory and batched simulation of neural feature learning on sparse parities "
            "(Edelman et al. 2023, 'Pareto Frontiers in Neural Feature Learning', arXiv 2309.03800)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"frontier (parity-frontier) {package_version()}")
    _debug_option(parser, default=False)
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
        # SUPPRESS: `frontier --debug CMD` and `frontier CMD --debug` both work.
        _debug_option(sub, default=argparse.SUPPRESS)
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
    if sys.stdout is None:  # started with stdout closed (`>&-`): every line printed would vanish, exit 0
        if sys.stderr is not None:
            sys.stderr.write("error: standard output is closed: nothing could be printed; redirect it to a file "
                             "or /dev/null instead of closing it\n")
        return 2
    try:
        status = int(args._module.run(args) or 0)
        sys.stdout.flush()  # a full disk under a redirected stdout is an error, not a silent loss
        return status
    except BrokenPipeError:
        # The reader went away (`frontier info S | head`): not an error. Point stdout at devnull so
        # the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except EXPECTED_ERRORS as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"error: {describe_error(exc)}\n")
        return 2
    except KeyboardInterrupt as exc:
        # A sweep says how many runs it wrote and that a rerun resumes (sim.sweep.SweepInterrupted).
        sys.stderr.write(f"error: {describe_error(exc) if str(exc) else 'interrupted'}\n")
        return 128 + int(getattr(exc, "signum", signal.SIGINT))
    except Exception as exc:  # a bug of ours: say so in one line, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {describe_error(exc)} "
                         "(rerun with --debug for the traceback)\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    # The canonical module's main, not this __main__ copy: one CliError class, one parser.
    from frontier.cli import main as canonical_main

    raise SystemExit(canonical_main())
