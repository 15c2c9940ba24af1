"""The training backends: one module per backend, one registry, one validator.

Every backend module exposes ``make_kernel(W, b, u, *, lr, weight_decay, loss_ids, test_X,
test_y, dtype, device)`` returning a :class:`sim.engine.Kernel` (the arithmetic of one group of
runs); :mod:`sim.engine` owns everything else (data, init, schedule, stopping), so a run is the
same run on every backend. Adding a backend = one module here + one :class:`Backend` entry in
:data:`BACKENDS` + its equivalence tests against the numpy reference.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass
from functools import partial
from typing import Callable

DEVICES: tuple[str, ...] = ("cpu", "cuda")
DTYPES: tuple[str, ...] = ("float32", "float64")


@dataclass(frozen=True)
class Backend:
    """One registered backend: its module, the devices it runs on and what it is for."""

    name: str
    module: str
    devices: tuple[str, ...]
    summary: str
    needs: tuple[str, ...] = ()  # importable packages it needs beyond the [sim] extra
    benchmarked: bool = True  # a contender of `frontier bench` (the reference is an oracle, not a speed)


BACKENDS: dict[str, Backend] = {b.name: b for b in (
    Backend("numba", "sim.backends.numba", ("cpu",), "CPU, the default: compiled, runs in SIMD lanes"),
    Backend("torch", "sim.backends.torch", ("cpu", "cuda"), "batched matrix products on CPU or CUDA"),
    Backend("numpy", "sim.backends.numpy", ("cpu",), "the slow, readable float64 reference",
            benchmarked=False),
    # On the CPU only under Triton's interpreter (TRITON_INTERPRET=1), which is how tests run it.
    Backend("triton", "sim.backends.triton", ("cuda",), "CUDA: fused kernels, one pass over W per step",
            needs=("triton",)),
)}
BACKEND_NAMES: tuple[str, ...] = tuple(BACKENDS)
DEFAULT_BACKEND = "numba"


def _interpreted(backend: Backend) -> bool:
    return backend.name == "triton" and os.environ.get("TRITON_INTERPRET", "0") == "1"


def check_backend_names(backend: str, device: str, dtype: str) -> Backend:
    """The registry entry; ValueError naming the value unless backend, device and dtype are
    known and the backend runs on the device."""
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} must be one of {list(BACKENDS)}")
    if device not in DEVICES:
        raise ValueError(f"device={device!r} must be one of {DEVICES}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r} must be one of {DTYPES}")
    entry = BACKENDS[backend]
    if device not in entry.devices and not (device == "cpu" and _interpreted(entry)):
        hint = " (on the CPU only under TRITON_INTERPRET=1)" if backend == "triton" else ""
        raise ValueError(f"backend={backend!r} runs on {' or '.join(entry.devices)}, not device={device!r}{hint}")
    return entry


def check_backend(backend: str, device: str, dtype: str, local: bool) -> None:
    """ValueError unless the backend can run here: known names, its packages installed and, for
    local runs (not on a remote Dask cluster), the device present."""
    entry = check_backend_names(backend, device, dtype)
    for package in entry.needs:
        if importlib.util.find_spec(package) is None:
            raise ValueError(f"backend={backend!r} needs the {package} package (CUDA builds of torch bring it)")
    if local and device == "cuda":
        if importlib.util.find_spec("torch") is None:
            raise ValueError("device='cuda' needs torch")
        import torch

        if not torch.cuda.is_available():
            raise ValueError("device='cuda' but torch sees no CUDA device here")


def kernel_factory(backend: str, device: str = "cpu", dtype: str = "float32") -> Callable:
    """The ``make_kernel`` of a backend with device and dtype bound; ValueError if unknown."""
    entry = check_backend_names(backend, device, dtype)
    try:
        module = importlib.import_module(entry.module)
    except ImportError as error:
        raise ValueError(f"backend={backend!r} cannot be loaded ({error})") from None
    return partial(module.make_kernel, dtype=dtype, device=device)
