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
  Workers send each finished run back through a queue as soon as it stops. A worker that
  dies (an OOM kill) breaks the pool: the runs not yet received are resubmitted to a new pool,
  and the sweep gives up only after ``MAX_FRUITLESS_RESTARTS`` breaks in a row without a new
  run. Workers die with their client, even after ``kill -9`` of it (``_die_with_parent``).
  We measured Dask's LocalCluster and loky as replacements (docs/performance.md): both cost
  more per task on two cores and neither is a dependency of ``[sim]``.
- Nothing finished is dropped while the store is busy: a write that finds the store locked by
  another connection (after ``lock_timeout`` s) keeps the run in memory and retries with backoff
  while training goes on; once training is over the sweep waits up to ``lock_wait`` s more.
  Any other write error (a full disk) stops the sweep with :class:`StoreWriteError`, which says
  how many runs were written and that a rerun resumes.
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
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from .config import RunConfig, RunResult
from .engine import group_key
from .store import DEFAULT_LOCK_TIMEOUT, Store, check_store_path, run_id
from .backends import DEFAULT_BACKEND, check_backend
from .resources import check_memory
from .training import train

# Batches per worker when batch_runs is automatic: enough to balance uneven batches.
BATCHES_PER_WORKER = 4
AUTO_BATCH_CAP = {"cpu": 64, "cuda": 1024}
_THREAD_ENV = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: Once training is over, how long (s) a sweep waits for a store another process keeps locked.
DEFAULT_LOCK_WAIT = 600.0
#: Pool breaks (a worker died) in a row without a single new finished run before a sweep gives up.
MAX_FRUITLESS_RESTARTS = 3
_RETRY_DELAYS = (0.5, 30.0)  # first and longest pause between retries of a locked store
#: While the store is known to be locked, a retry waits this long (s) for the lock, not lock_timeout:
#: in a one-process sweep the training waits while the client waits.
_RETRY_LOCK_WAIT = 0.1
#: How long (s) connecting to a Dask scheduler may take, and how long its first bytes may.
DEFAULT_CONNECT_TIMEOUT = 30.0
HANDSHAKE_TIMEOUT = 5.0
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")

_worker_queue = None  # set in pool workers by _init_worker


class StoreWriteError(OSError):
    """A sweep could not write its results (a full disk, a store locked for too long); the message
    says how many runs of the sweep were written, and that a rerun resumes."""


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by SIGINT (Ctrl-C) or SIGTERM (what a cluster scheduler sends at the end of
    a job's time): its workers are stopped, every run that had finished is written, and the message
    says how many and that a rerun resumes. ``signum`` is the signal (exit status 128 + signum)."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum


class _Terminated(KeyboardInterrupt):
    """Raised in the client's main thread by the SIGTERM handler a sweep installs."""


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While a sweep runs, SIGTERM stops it as Ctrl-C does (an exception in the main thread, so
    the pool is shut down and finished runs are written) instead of killing the process at once,
    which left the pool's semaphores to the resource tracker's warnings and no resume line."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):  # noqa: ARG001
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class WorkersDiedError(ChildProcessError):
    """Workers kept dying (killed, out of memory) without finishing a run: the local pool's, or a
    batch Dask gave up on. An OSError: the machine said no, the input may be fine."""


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


def _init_worker(result_queue, parent_pid: int) -> None:
    global _worker_queue
    _worker_queue = result_queue
    # Ctrl-C reaches the whole process group: the client alone handles it (and stops us),
    # instead of every worker printing its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Likewise SIGTERM sent to the whole job (a cluster scheduler's): the client stops us.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent_pid)


def _die_with_parent(parent_pid: int) -> None:
    """End this worker when the client dies, even by ``kill -9`` (no chance to stop us), instead
    of training on as an orphan. Linux: the kernel sends SIGKILL at once (PR_SET_PDEATHSIG); the
    parent here is the client's thread that started the pool, which lives as long as the sweep.
    Elsewhere (and as a second line): a thread that polls the parent id."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the client died before we could ask
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="watch-client").start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


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


def _is_locked(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


class _Writer:
    """Writes results to the store once each and drives the progress bar.

    A result goes to ``backlog`` first and leaves it once stored: a store locked by another
    connection delays writes (retried with backoff, see :meth:`flush`), it never drops them."""

    def __init__(self, store: Store, backend: str, device: str, dtype: str, bar,
                 lock_wait: float = DEFAULT_LOCK_WAIT, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.store, self.backend, self.device, self.dtype, self.bar = store, backend, device, dtype, bar
        self.lock_wait, self.lock_timeout = lock_wait, lock_timeout
        self.received: set[str] = set()  # finished runs, stored or in the backlog
        self.written: set[str] = set()
        self.backlog: list[tuple[RunConfig, RunResult]] = []
        self.succeeded = 0
        self.locked_since: float | None = None
        self.retry_at = 0.0
        self.delay = _RETRY_DELAYS[0]

    def __call__(self, config: RunConfig, result: RunResult) -> None:
        key = run_id(config)
        if key in self.received:
            return
        self.received.add(key)
        self.backlog.append((config, result))
        self.flush()

    def flush(self) -> None:
        """Write the backlog in order; on a locked store stop and retry later (doubling pauses)."""
        if self.locked_since is not None and time.monotonic() < self.retry_at:
            return
        while self.backlog:
            config, result = self.backlog[0]
            try:
                self.store.write(config, result, self.backend, self.device, self.dtype)
            except sqlite3.Error as exc:
                if not _is_locked(exc):
                    raise self._write_error(str(exc)) from None
                self._note_locked()
                return
            except OSError as exc:
                raise self._write_error(exc.strerror or str(exc)) from None
            self.backlog.pop(0)
            self._count(config, result)
        if self.locked_since is not None:  # the lock is gone: back to the patient timeout
            self.store.wait_for_locks(self.lock_timeout)
        self.locked_since = None
        self.delay = _RETRY_DELAYS[0]

    def finish(self) -> None:
        """Training is over: keep retrying a locked store for up to ``lock_wait`` s, then give up."""
        while self.backlog:
            waited = time.monotonic() - (self.locked_since or time.monotonic())
            if waited >= self.lock_wait:
                raise self._write_error(f"it stayed locked by another connection for {waited:.0f} s")
            time.sleep(max(0.0, min(self.retry_at - time.monotonic(), self.lock_wait - waited)))
            self.retry_at = 0.0
            self.flush()

    def _note_locked(self) -> None:
        now = time.monotonic()
        if self.locked_since is None:
            self.locked_since = now
            self.store.wait_for_locks(_RETRY_LOCK_WAIT)
            self.log(f"store {self.store.path} is locked by another connection: finished runs wait in memory "
                     "and are written once it is free")
        self.retry_at = now + self.delay
        self.delay = min(2 * self.delay, _RETRY_DELAYS[1])

    def _count(self, config: RunConfig, result: RunResult) -> None:
        self.written.add(run_id(config))
        self.succeeded += bool(result.success)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(success=f"{self.succeeded}/{len(self.written)}", refresh=False)

    def interrupted(self, signum: int) -> SweepInterrupted:
        """The error for a sweep stopped by ``signum``, once what finished is written (if the
        store lets us now: a locked store keeps the rest in the count of runs not written)."""
        try:
            self.flush()
        except StoreWriteError:
            pass
        name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C (SIGINT)"
        lost = f"; {len(self.backlog)} finished runs could not be written" if self.backlog else ""
        return SweepInterrupted(f"interrupted by {name}: {len(self.written)} runs of this sweep were written to "
                                f"{str(self.store.path)!r}{lost}; rerun the same command to resume", signum)

    def _write_error(self, reason: str) -> StoreWriteError:
        lost = f"; {len(self.backlog)} finished runs could not be written" if self.backlog else ""
        return StoreWriteError(f"cannot write to store {str(self.store.path)!r}: {reason}; {len(self.written)} runs "
                               f"of this sweep were written{lost}; rerun the same command to resume")

    def log(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)


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
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    lock_wait: float = DEFAULT_LOCK_WAIT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> SweepSummary:
    """Run every config not yet in the store at ``store_path`` and write each result at once.

    ``workers``: local processes (default: all cores on CPU, 1 on CUDA); ignored with
    ``scheduler``, the address of a Dask scheduler (``tcp://host:port``), which must answer
    within ``connect_timeout`` s. ``batch_runs``: runs per task (default: automatic, see
    :func:`auto_batch_runs`). ``lock_timeout``/``lock_wait``: how long one write waits for
    another connection's lock, and how long the sweep keeps retrying once training is over
    (module docstring). Everything is validated before the first run starts (ValueError); every
    run is checked against the machine's memory (:func:`sim.resources.check_memory`, MemoryError)."""
    start = time.perf_counter()
    check_store_path(store_path)
    check_backend(backend, device, dtype, local=scheduler is None)
    for name, value in (("workers", workers), ("batch_runs", batch_runs)):
        if value is not None and value < 1:
            raise ValueError(f"{name}={value} must be >= 1")
    for name, value in (("lock_timeout", lock_timeout), ("lock_wait", lock_wait), ("connect_timeout", connect_timeout)):
        if not value > 0:
            raise ValueError(f"{name}={value} must be > 0 seconds")
    if workers is None:
        workers = 1 if device == "cuda" else (os.cpu_count() or 1)
    if scheduler is None:
        check_memory(configs, backend)  # a Dask worker checks its own memory when it trains
        _check_main_guard(workers)

    client = _connect(scheduler, connect_timeout) if scheduler is not None else None
    try:
        with Store(store_path, lock_timeout=lock_timeout) as store:
            pending = pending_runs(configs, store)
            total = len({run_id(c) for c in configs})
            already = total - len(pending)
            if not pending:
                return SweepSummary(total, already, 0, 0, time.perf_counter() - start)
            bar = _progress_bar(total, already, description) if progress else None
            writer = _Writer(store, backend, device, dtype, bar, lock_wait, lock_timeout)
            try:
                with _terminate_as_interrupt():
                    try:
                        if client is not None:
                            _sweep_dask(pending, writer, client, batch_runs)
                        elif workers == 1:
                            train(make_batches(pending, len(pending))[0], backend=backend, device=device,
                                  dtype=dtype, on_finished=writer)
                        else:
                            _sweep_pool(pending, writer, workers, batch_runs)
                    except KeyboardInterrupt as exc:
                        raise writer.interrupted(signal.SIGTERM if isinstance(exc, _Terminated)
                                                 else signal.SIGINT) from None
                writer.finish()
            finally:
                if bar is not None:
                    bar.close()
            return SweepSummary(total, already, len(writer.written), writer.succeeded,
                                time.perf_counter() - start)
    finally:
        if client is not None:
            client.close()


def main_script_without_guard() -> str | None:
    """The path of the script this process runs if it has no ``if __name__ == "__main__":`` block
    (None for a guarded script, ``python -c``, a notebook or the interactive prompt).

    A local pool starts its workers with *spawn*: each imports the main script again, so an
    unguarded script would start a sweep in every worker, which multiprocessing refuses, and the
    pool would break as if its workers had been killed."""
    import ast

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path:
        return None
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test):
            return None
    return str(path)


def _check_main_guard(workers: int) -> None:
    """ValueError, before any process starts, for a local pool started from an unguarded script."""
    if workers <= 1 or multiprocessing.current_process().name != "MainProcess":
        return
    script = main_script_without_guard()
    if script is not None:
        raise ValueError(
            f"sweep(workers={workers}) was called from the script {script!r}, which has no "
            "'if __name__ == \"__main__\":' block: every worker process imports the script again (spawn start "
            "method) and would start a sweep of its own. Put the script's work under that block (docs/api.md, "
            "'sim'), or pass workers=1")


def _progress_bar(total: int, already: int, description: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=already, unit="run", desc=description, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def _sweep_pool(pending: list[RunConfig], writer: _Writer, workers: int, batch_runs: int | None) -> None:
    """Train ``pending`` on a local pool; a pool broken by a dead worker is replaced and the runs
    not yet received are resubmitted (up to MAX_FRUITLESS_RESTARTS breaks in a row without progress)."""
    if batch_runs is None:
        batch_runs = auto_batch_runs(len(pending), workers, writer.device)
    fruitless = 0
    remaining = pending
    while remaining:
        received_before = len(writer.received)
        try:
            _pool_round(remaining, writer, workers, batch_runs)
        except concurrent.futures.process.BrokenProcessPool:
            fruitless = 0 if len(writer.received) > received_before else fruitless + 1
            remaining = [c for c in remaining if run_id(c) not in writer.received]
            if fruitless >= MAX_FRUITLESS_RESTARTS:
                raise WorkersDiedError(
                    f"worker processes died {fruitless} times in a row without finishing a run (killed, or out of "
                    f"memory?); {len(writer.written)} runs of this sweep were written, {len(remaining)} were not; "
                    "rerun the same command to resume (fewer --workers or --batch-runs need less memory)"
                ) from None
            writer.log(f"a worker process died (killed, or out of memory?): restarting the pool for the "
                       f"{len(remaining)} runs not finished yet")
            continue
        return


def _pool_round(pending: list[RunConfig], writer: _Writer, workers: int, batch_runs: int) -> None:
    """One process pool for ``pending``; raises BrokenProcessPool if a worker dies."""
    batches = make_batches(pending, batch_runs)
    workers = min(workers, len(batches))
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    result_queue = context.Queue()  # a fresh queue each round: a killed worker may have held its lock

    def drain() -> None:
        while True:
            try:
                config, result = result_queue.get_nowait()
            except (queue_module.Empty, OSError, EOFError):
                return
            writer(config, result)

    with _thread_env(threads):
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker,
            initargs=(result_queue, os.getpid()),
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
                writer.flush()  # retries a locked store when its pause is over
                for future in done:
                    # The batch's return value is complete even if queue messages lag.
                    for config, result in future.result():
                        writer(config, result)
        except BaseException as exc:
            # Interrupted, a worker died or the store failed: drop queued batches and stop running
            # ones now; what finished is stored (or, after a dead worker, received below).
            workers_alive = list(getattr(executor, "_processes", {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            for process in workers_alive:
                process.kill()  # SIGKILL: workers ignore SIGINT and SIGTERM (_init_worker)
            for process in workers_alive:
                process.join(5.0)
            if isinstance(exc, concurrent.futures.process.BrokenProcessPool):
                drain()  # runs the other workers sent before the pool broke are kept
            raise
        else:
            executor.shutdown(wait=True)
        finally:
            result_queue.close()


def scheduler_endpoint(scheduler: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a Dask scheduler address; ValueError naming it when it is not one."""
    from urllib.parse import urlsplit

    text = scheduler.strip()
    try:
        parts = urlsplit(text if "://" in text else f"tcp://{text}")
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"scheduler {scheduler!r} is not an address like tcp://HOST:PORT ({exc})") from None
    if parts.scheme not in SCHEDULER_SCHEMES:
        raise ValueError(f"scheduler {scheduler!r}: a sweep cannot use {parts.scheme}://; give tcp://HOST:PORT "
                         f"(or {', '.join(s + '://' for s in SCHEDULER_SCHEMES[1:])})")
    if not parts.hostname or not port:
        raise ValueError(f"scheduler {scheduler!r} must look like tcp://HOST:PORT")
    return parts.scheme, parts.hostname, port


def _probe_scheduler(scheduler: str, timeout: float) -> None:
    """ValueError unless something at ``scheduler`` accepts a connection and, for tcp://, speaks
    first as a Dask scheduler does (its handshake arrives at once; an HTTP server such as the
    dashboard waits for a request, which made distributed wait forever)."""
    import socket

    scheme, host, port = scheduler_endpoint(scheduler)
    try:
        connection = socket.create_connection((host, port), timeout=min(timeout, 10.0))
    except OSError as exc:
        raise ValueError(f"cannot reach Dask scheduler {scheduler!r}: {exc.strerror or exc}") from None
    with connection:
        if scheme != "tcp":
            return
        wait = min(timeout, HANDSHAKE_TIMEOUT)
        connection.settimeout(wait)
        try:
            first = connection.recv(1)
        except TimeoutError:
            raise ValueError(f"{scheduler!r} accepted the connection but sent no Dask handshake within {wait:g} s: "
                             "not a Dask scheduler (the dashboard's port? a scheduler listens on 8786 by default)"
                             ) from None
        except OSError as exc:
            raise ValueError(f"cannot reach Dask scheduler {scheduler!r}: {exc.strerror or exc}") from None
        if not first:
            raise ValueError(f"{scheduler!r} closed the connection at once: not a Dask scheduler")


def _connect(scheduler: str, timeout: float = DEFAULT_CONNECT_TIMEOUT):
    """A Dask client for ``scheduler`` within ``timeout`` s: ValueError for an address that is not a
    reachable Dask scheduler, TimeoutError if it does not complete the connection in time.

    The client is made in a daemon thread we can stop waiting for: distributed's own timeout
    does not cover every way a wrong server can stall it."""
    _probe_scheduler(scheduler, timeout)
    from distributed import Client

    outcome: dict[str, object] = {}

    def connect() -> None:
        try:
            outcome["client"] = Client(scheduler, timeout=f"{timeout}s")
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=connect, daemon=True, name="connect-dask-scheduler")
    thread.start()
    thread.join(timeout + 5.0)
    if thread.is_alive():
        raise TimeoutError(f"Dask scheduler {scheduler!r} did not answer within {timeout:g} s")
    error = outcome.get("error")
    if error is not None:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(f"cannot connect to Dask scheduler {scheduler!r}: {type(error).__name__}"
                         + (f": {detail}" if detail else "")) from None
    return outcome["client"]


def _sweep_dask(pending: list[RunConfig], writer: _Writer, client, batch_runs: int | None) -> None:
    from distributed import KilledWorker, as_completed

    if batch_runs is None:
        slots = sum(client.nthreads().values())
        batch_runs = auto_batch_runs(len(pending), slots, writer.device)
    futures = [
        client.submit(run_batch, batch, writer.backend, writer.device, writer.dtype, pure=False)
        for batch in make_batches(pending, batch_runs)
    ]
    for future in as_completed(futures):
        try:
            pairs = future.result()
        except KilledWorker as exc:  # a refused size or a bug on a worker keeps its own type and message
            raise WorkersDiedError(
                f"Dask gave up on a batch whose workers kept dying ({str(exc).splitlines()[0]}); "
                f"{len(writer.written)} runs of this sweep were written; rerun the same command to resume"
            ) from None
        for config, result in pairs:
            writer(config, result)
        future.release()
