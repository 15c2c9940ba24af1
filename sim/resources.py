"""Size guards: how much memory a run needs, how much the machine has, and a refusal *before*
anything is allocated (``train --width 1000000000`` used to allocate until the kernel killed it).

The estimate of one run, in bytes (``run_memory``; an upper-side estimate, not an accounting):

    test set      3 * test_size * (n + 1)       int8 samples and labels: the run's own array, the
                                                group's stacked copy and the kernel's copy
                  + 72 * test_size * ceil(n/64) the random words and unpacked bits it is made from
    training set  samples * (n + 1)             int8, offline runs only
    weights       32 * width * (n + 2)          float64 initial weights, their stack, the kernel's
                                                copy and its gradients (8 bytes each)
    evaluation    8 * max(test_size, samples) * (n + width)   the numpy reference backend only:
                                                it evaluates a whole set at once in float64

A group of runs trained together (``sim.training.plan_groups``) needs the sum over its runs plus
``BLOCK_BYTES`` for the minibatch blocks and their float copies in the kernel. A run is refused
when its estimate exceeds the memory available now (Linux: MemAvailable, and the cgroup's limit
when a container sets one); groups are cut so each fits in ``GROUP_SHARE`` of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .config import RunConfig

#: Bytes of minibatch blocks (sim.engine.MAX_BLOCK_BYTES, int8) plus a kernel's float copy of one.
BLOCK_BYTES = 5 * 64 * 2**20
#: Share of the available memory one group may plan to use (other workers train at the same time).
GROUP_SHARE = 0.5


class RunTooLargeError(MemoryError, ValueError):
    """A run (or grid) refused before allocation; its message gives the estimate and the memory
    available. A MemoryError (what it prevents) and a ValueError (it is bad input)."""


def run_memory(config: RunConfig, backend: str = "numba") -> int:
    """Estimated bytes one run needs (module docstring)."""
    n, samples = config.n, config.samples or 0
    words = -(-n // 64)  # sim.data.random_sign_rows draws one 64-bit word per 64 entries of a row
    estimate = config.test_size * (3 * (n + 1) + 72 * words) + samples * (n + 1) + 32 * config.width * (n + 2)
    if backend == "numpy":
        estimate += 8 * max(config.test_size, samples) * (n + config.width)
    return estimate


def available_memory() -> int | None:
    """Bytes of memory available to this process now, or None where it cannot be told."""
    candidates = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    limit = _cgroup_room()
    if limit is not None:
        candidates.append(limit)
    return min(candidates) if candidates else None


def _cgroup_room() -> int | None:
    """cgroup v2 memory.max - memory.current, when this process's cgroup sets a limit."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text()))
    except (OSError, ValueError):
        return None


def format_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024 or unit == "PiB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1024
    raise AssertionError  # unreachable


def check_memory(configs: Iterable[RunConfig], backend: str = "numba", available: int | None = None) -> None:
    """RunTooLargeError for the first run whose estimate exceeds the available memory.

    Cheap: each distinct run shape is estimated once. ``available`` defaults to
    :func:`available_memory` (no check where it cannot be told)."""
    available = available_memory() if available is None else available
    if available is None:
        return
    seen = set()
    for config in configs:
        shape = (config.n, config.width, config.samples, config.test_size)
        if shape in seen:
            continue
        seen.add(shape)
        needed = run_memory(config, backend) + BLOCK_BYTES
        if needed > available:
            samples = "online" if config.samples is None else config.samples
            raise RunTooLargeError(
                f"a run with n={config.n}, width={config.width}, samples={samples}, test_size={config.test_size} "
                f"needs about {format_bytes(needed)} of memory (backend {backend}); this machine has "
                f"{format_bytes(available)} available"
            )


def runs_per_group(config: RunConfig, backend: str = "numba", available: int | None = None) -> int | None:
    """How many runs like ``config`` one group may hold within GROUP_SHARE of the memory (None: no limit known)."""
    available = available_memory() if available is None else available
    if available is None:
        return None
    return max(1, int((GROUP_SHARE * available - BLOCK_BYTES) // run_memory(config, backend)))
