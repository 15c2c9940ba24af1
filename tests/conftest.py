"""Fixtures shared by several test modules."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def single_torch_thread():
    """One torch thread for the module: `make test` runs two pytest workers on two cores, and
    torch's default of a thread per core then oversubscribes the machine (measured 1.5-12x slower)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
