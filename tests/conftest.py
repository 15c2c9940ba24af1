"""Fixtures shared by several test modules."""

from __future__ import annotations

import os

import pytest
import torch

# Without a GPU the triton backend's kernels run in Triton's CPU interpreter, which must be
# chosen before sim.backends.triton is imported (triton.jit reads it at decoration time).
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")


@pytest.fixture(scope="module")
def single_torch_thread():
    """One torch thread for the module: `make test` runs two pytest workers on two cores, and
    torch's default of a thread per core then oversubscribes the machine (measured 1.5-12x slower)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def cli(capsys):
    """Run `frontier ARGS...` in-process; returns (exit status, stdout, stderr)."""
    import frontier.cli

    def invoke(*args: object) -> tuple[int, str, str]:
        try:
            status = frontier.cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse mistakes
            status = exc.code
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke


@pytest.fixture(scope="module")
def base_store(request, tmp_path_factory):
    """A store swept once per module (numpy backend) from the module's ``TINY`` grid text."""
    from sim.grid import parse_grid
    from sim.sweep import sweep

    path = tmp_path_factory.mktemp("base") / "runs.sqlite"
    sweep(parse_grid(request.module.TINY), path, backend="numpy", workers=1, progress=False)
    return path


@pytest.fixture
def store(base_store, tmp_path):
    """A fresh copy of the module's ``base_store`` for one test to change."""
    import shutil

    path = tmp_path / "runs.sqlite"
    shutil.copy(base_store, path)
    return path
