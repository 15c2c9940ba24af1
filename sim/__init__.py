"""sim: sparse-parity data, initialisation and batched training of many 2-layer MLPs.

Public API: :class:`RunConfig`, :class:`RunResult`, :func:`train`, :func:`train_history`,
:class:`History`; submodules ``sim.config`` (the run schema), ``sim.data``, ``sim.init``,
``sim.engine`` (the backend-independent driver), ``sim.backends`` (numpy reference, numba,
torch, triton; one registry), ``sim.grid`` (TOML grids), ``sim.store`` (the SQLite results
store, ``load``), ``sim.sweep`` (local pool / Dask), ``sim.training`` (``train``, ``train_history``),
``sim.files`` (atomic output), ``sim.resources`` (memory estimates and size guards).

Names are loaded on first use (PEP 562), so ``import sim.files`` needs no numpy.
"""

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "RunConfig": "config", "RunResult": "config", "History": "engine", "train": "training",
    "train_history": "training",
}
_SUBMODULES = ("backends", "config", "data", "engine", "files", "grid", "init", "resources", "store", "sweep",
               "training")
__all__ = sorted(_EXPORTS) + list(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"sim.{_EXPORTS[name]}"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"sim.{name}")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
