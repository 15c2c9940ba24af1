"""sim: sparse-parity data, initialisation and batched training of many 2-layer MLPs.

Public API: :class:`RunConfig`, :class:`RunResult`, :func:`train`, :func:`train_history`;
submodules ``sim.data``, ``sim.init``, ``sim.engine`` (the backend-independent driver),
``sim.backend_numpy`` (reference), ``sim.backend_numba``, ``sim.backend_torch``;
sweeps: ``sim.grid`` (TOML grids), ``sim.store`` (the SQLite results store, ``load``),
``sim.sweep`` (local pool / Dask).
"""

from . import data, init
from . import grid, store, sweep
from .config import RunConfig, RunResult
from .engine import History
from .train import train, train_history

__all__ = [
    "RunConfig", "RunResult", "History", "train", "train_history", "data", "init", "grid", "store", "sweep",
]
