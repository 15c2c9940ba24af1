"""Sweeps: run every run of a grid that is not yet in a store, on a local process pool
or a Dask cluster, writing each finished run at once (see :mod:`sim.store`).

- Resume is free: a run's id is the hash of its config (:func:`sim.store.run_id`), so a
  sweep first drops every run already stored and only the rest is scheduled. A killed
  sweep loses only the runs that were still training.
- Pending runs are sorted by :func:`sim.engine.group_key` before they are cut into
  batches of ``batch_runs``, so the runs of a batch can share one kernel (the backend
  trains a whole group with stacked weights).
- Local execution: with ``workers == 1`` the client trains in-process; otherwise a
  ``ProcessPoolExecutor`` with the *spawn* start method (forking a process that already
  runs numba/torch thread pools is unsafe) and ``cores // workers`` threads per worker.
  Workers send each finished run back through a queue as soon as it stops.
- Dask (``scheduler="tcp://host:port"``): each batch is one task (``pure=False``);
  results come back to the client, which alone writes the store. If a worker dies,
  Dask reruns its batch elsewhere; the store never sees half a batch of half-written rows.
"""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from .config import RunConfig, RunResult
from .engine import group_key
from .store import Store, check_store_path, run_id
from .backends import DEFAULT_BACKEND, check_backend
from .training import train

# Batches per worker when batch_runs is automatic: enough to balance uneven batches.
BATCHES_PER_WORKER = 4
AUTO_BATCH_CAP = {"cpu": 64, "cuda": 1024}
_THREAD_ENV = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_worker_queue = None  # set in pool workers by _init_worker


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep did: ``total`` runs in the grid, ``already`` found in the store,
    ``ran`` trained and written now, ``succeeded`` of those, in ``seconds``."""

    total: int
    already: int
    ran: int
    succeeded: int
    seconds: float


def pending_runs(configs: Sequence[RunConfig], store: Store) -> list[RunConfig]:
    """The configs whose run id is not in the store, de-duplicated, in input order."""
    done = store.finished_ids()
    pending, seen = [], set()
    for config in configs:
        key = run_id(config)
        if key not in done and key not in seen:
            seen.add(key)
            pending.append(config)
    return pending


def make_batches(configs: Sequence[RunConfig], batch_runs: int) -> list[list[RunConfig]]:
    """Cut configs into batches of at most ``batch_runs``, group-compatible runs adjacent."""
    if batch_runs < 1:
        raise ValueError(f"batch_runs={batch_runs} must be >= 1")
    ordered = sorted(configs, key=group_key)  # stable: grid order within a group
    return [ordered[i:i + batch_runs] for i in range(0, len(ordered), batch_runs)]


def auto_batch_runs(pending: int, slots: int, device: str) -> int:
    """About BATCHES_PER_WORKER batches per worker slot, at most AUTO_BATCH_CAP[device]."""
    return max(1, min(AUTO_BATCH_CAP[device], math.ceil(pending / (BATCHES_PER_WORKER * max(1, slots)))))


def run_batch(
    configs: Sequence[RunConfig], backend: str, device: str, dtype: str, threads: int | None = None,
) -> list[tuple[RunConfig, RunResult]]:
    """Train one batch (the task a pool or Dask worker runs); (config, result) pairs.

    In a pool worker each finished run is also sent to the client's queue at once."""
    if threads is not None:
        _limit_threads(backend, threads)
    send = _worker_queue.put if _worker_queue is not None else None
    results = train(
        list(configs), backend=backend, device=device, dtype=dtype,
        on_finished=(lambda config, result: send((config, result))) if send else None,
    )
    return list(zip(configs, results))


def _limit_threads(backend: str, threads: int) -> None:
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
    elif backend == "numba":
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _init_worker(result_queue) -> None:
    global _worker_queue
    _worker_queue = result_queue
    # Ctrl-C reaches the whole process group: the client alone handles it (and stops us),
    # instead of every worker printing its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _thread_env(threads: int) -> Iterator[None]:
    """Environment inherited by spawned workers: thread pools sized before they start."""
    saved = {name: os.environ.get(name) for name in _THREAD_ENV}
    os.environ.update({name: str(threads) for name in _THREAD_ENV})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _Writer:
    """Writes results to the store once each and drives the progress bar."""

    def __init__(self, store: Store, backend: str, device: str, dtype: str, bar) -> None:
        self.store, self.backend, self.device, self.dtype, self.bar = store, backend, device, dtype, bar
        self.written: set[str] = set()
        self.succeeded = 0

    def __call__(self, config: RunConfig, result: RunResult) -> None:
        key = run_id(config)
        if key in self.written:
            return
        self.store.write(config, result, self.backend, self.device, self.dtype)
        self.written.add(key)
        self.succeeded += bool(result.success)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(success=f"{self.succeeded}/{len(self.written)}", refresh=False)


def sweep(
    configs: Sequence[RunConfig],
    store_path: str | Path,
    backend: str = DEFAULT_BACKEND,
    device: str = "cpu",
    dtype: str = "float32",
    workers: int | None = None,
    scheduler: str | None = None,
    batch_runs: int | None = None,
    progress: bool = True,
    description: str = "sweep",
) -> SweepSummary:
    """Run every config not yet in the store at ``store_path`` and write each result at once.

    ``workers``: local processes (default: all cores on CPU, 1 on CUDA); ignored with
    ``scheduler``, the address of a Dask scheduler (``tcp://host:port``).
    ``batch_runs``: runs per task (default: automatic, see :func:`auto_batch_runs`).
    Everything is validated before the first run starts (ValueError)."""
    start = time.perf_counter()
    check_store_path(store_path)
    check_backend(backend, device, dtype, local=scheduler is None)
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers} must be >= 1")
    if batch_runs is not None and batch_runs < 1:
        raise ValueError(f"batch_runs={batch_runs} must be >= 1")
    if workers is None:
        workers = 1 if device == "cuda" else (os.cpu_count() or 1)

    client = _connect(scheduler) if scheduler is not None else None
    try:
        with Store(store_path) as store:
            pending = pending_runs(configs, store)
            total = len({run_id(c) for c in configs})
            already = total - len(pending)
            if not pending:
                return SweepSummary(total, already, 0, 0, time.perf_counter() - start)
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=total, initial=already, unit="run", desc=description, file=sys.stderr,
                           dynamic_ncols=True, smoothing=0.1)
            writer = _Writer(store, backend, device, dtype, bar)
            try:
                if client is not None:
                    _sweep_dask(pending, writer, client, batch_runs)
                elif workers == 1:
                    train(make_batches(pending, len(pending))[0], backend=backend, device=device, dtype=dtype,
                          on_finished=writer)
                else:
                    _sweep_pool(pending, writer, workers, batch_runs)
            finally:
                if bar is not None:
                    bar.close()
            return SweepSummary(total, already, len(writer.written), writer.succeeded,
                                time.perf_counter() - start)
    finally:
        if client is not None:
            client.close()


def _sweep_pool(pending: list[RunConfig], writer: _Writer, workers: int, batch_runs: int | None) -> None:
    if batch_runs is None:
        batch_runs = auto_batch_runs(len(pending), workers, writer.device)
    batches = make_batches(pending, batch_runs)
    workers = min(workers, len(batches))
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    result_queue = context.Queue()

    def drain() -> None:
        while True:
            try:
                config, result = result_queue.get_nowait()
            except queue_module.Empty:
                return
            writer(config, result)

    with _thread_env(threads):
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(result_queue,),
        )
        try:
            not_done = {
                executor.submit(run_batch, batch, writer.backend, writer.device, writer.dtype, threads)
                for batch in batches
            }
            while not_done:
                done, not_done = concurrent.futures.wait(
                    not_done, timeout=0.2, return_when=concurrent.futures.FIRST_COMPLETED,
                )
                drain()
                for future in done:
                    # The batch's return value is complete even if queue messages lag.
                    for config, result in future.result():
                        writer(config, result)
        except BaseException:
            # Interrupted or a batch failed: drop queued batches and stop running ones now;
            # what finished is already in the store.
            workers_alive = list(getattr(executor, "_processes", {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            for process in workers_alive:
                process.terminate()
            raise
        else:
            executor.shutdown(wait=True)
        finally:
            result_queue.close()


def _connect(scheduler: str):
    """A Dask client for the scheduler at ``scheduler``; ValueError if it cannot be reached.

    A plain TCP probe first: distributed itself retries a refused connection until its
    timeout, which turns a typo in the address into a long silent wait."""
    import socket
    from urllib.parse import urlsplit

    from distributed import Client

    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if parts.scheme == "tcp":
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise ValueError(f"scheduler {scheduler!r} must look like tcp://HOST:PORT")
        try:
            socket.create_connection((parts.hostname, port), timeout=10).close()
        except OSError as exc:
            raise ValueError(f"cannot reach Dask scheduler {scheduler!r}: {exc}") from None
    try:
        return Client(scheduler, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"cannot reach Dask scheduler {scheduler!r}: {exc}") from None


def _sweep_dask(pending: list[RunConfig], writer: _Writer, client, batch_runs: int | None) -> None:
    from distributed import as_completed

    if batch_runs is None:
        slots = sum(client.nthreads().values())
        batch_runs = auto_batch_runs(len(pending), slots, writer.device)
    futures = [
        client.submit(run_batch, batch, writer.backend, writer.device, writer.dtype, pure=False)
        for batch in make_batches(pending, batch_runs)
    ]
    for future in as_completed(futures):
        for config, result in future.result():
            writer(config, result)
        future.release()
