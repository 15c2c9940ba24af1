"""Issue 13, sweeps keep what they trained and nothing hangs:

- a store locked by another connection for longer than the lock timeout: every trained run ends
  up stored (it used to abort with `database is locked`, losing every run not yet written);
- a store that stays locked, or a full disk: one `error:` line saying how many runs were written
  and that a rerun resumes (it was a traceback);
- a pool worker killed mid-sweep (an OOM kill): its runs are resubmitted (it was a
  BrokenProcessPool traceback); `kill -9` of the client: its workers die too (they lived on);
- a --scheduler that is not a Dask scheduler (an HTTP port) is answered within the timeout
  (it hung forever).
"""

from __future__ import annotations

import http.server
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sim.store
from sim.grid import parse_grid
from sim.store import Store, load, run_id
from sim.sweep import sweep
from stores import SLOW_GRID, count_rows

ROOT = Path(__file__).resolve().parents[1]
BACKEND = "numpy"
QUICK = """
n = 8
k = 2
width = [8, 16]
samples = [64, "online"]
seeds = 4
max_steps = 100
eval_every = 50
test_size = 100
"""
QUICK_RUNS = 16






def lock_store(path: Path) -> sqlite3.Connection:
    """Another connection that holds the store's write lock until it commits or rolls back."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """Every SQLite connection gives up on a lock after 0.2 s (the store's default is 60 s), so a
    lock 'held longer than the timeout' takes seconds, not minutes."""
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        kwargs["timeout"] = 0.2
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(sim.store.sqlite3, "connect", connect)


def test_a_store_locked_longer_than_the_timeout_loses_no_trained_run(tmp_path, short_busy_timeout):
    store = tmp_path / "runs.sqlite"
    Store(store).close()
    holder = lock_store(store)
    threading.Timer(3.0, lambda: holder.execute("COMMIT")).start()  # 15 x the timeout
    configs = parse_grid(QUICK)
    started = time.monotonic()
    summary = sweep(configs, store, backend=BACKEND, workers=1, progress=False)
    assert time.monotonic() - started >= 2.5  # it did wait for the lock
    holder.close()
    assert summary.ran == QUICK_RUNS
    assert sorted(load(store)["run_id"]) == sorted(run_id(c) for c in configs)


def test_a_store_that_stays_locked_is_one_error_line_that_counts_the_runs(tmp_path, cli):
    grid = tmp_path / "quick.toml"
    grid.write_text(QUICK)
    store = tmp_path / "runs.sqlite"
    Store(store).close()
    holder = lock_store(store)
    try:
        started = time.monotonic()
        status, _, err = cli("sweep", grid, "--store", store, "--backend", BACKEND, "--workers", 1, "--quiet",
                             "--lock-timeout", 0.1, "--lock-wait", 1)
        assert time.monotonic() - started < 30
    finally:
        holder.rollback() if holder.in_transaction else None
        holder.close()
    lines = err.splitlines()
    assert status == 2 and lines[-1].startswith("error: ") and "Traceback" not in err
    assert "stayed locked" in lines[-1] and "0 runs of this sweep were written" in lines[-1]
    assert f"{QUICK_RUNS} finished runs could not be written" in lines[-1] and "resume" in lines[-1]
    assert any("is locked by another connection" in line for line in lines[:-1])  # said while waiting


def test_a_full_disk_mid_sweep_is_one_error_line_and_a_rerun_resumes(tmp_path, cli, monkeypatch):
    grid = tmp_path / "quick.toml"
    grid.write_text(QUICK.replace("seeds = 4", "seeds = 40"))
    total = 4 * 40
    store = tmp_path / "runs.sqlite"
    real_init = Store.__init__

    def small_disk(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {pages + 3}")  # SQLite's own "disk is full"

    monkeypatch.setattr(Store, "__init__", small_disk)
    status, _, err = cli("sweep", grid, "--store", store, "--backend", BACKEND, "--workers", 1, "--quiet")
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert "database or disk is full" in err and "rerun the same command to resume" in err
    written = count_rows(store)
    assert 0 < written < total and f"{written} runs of this sweep were written" in err
    monkeypatch.setattr(Store, "__init__", real_init)
    status, out, err = cli("sweep", grid, "--store", store, "--backend", BACKEND, "--workers", 1, "--quiet")
    assert status == 0, err
    assert f"{written} were already in" in out and count_rows(store) == total


def children(pid: int, marker: str = "spawn_main") -> list[int]:
    """Live (not zombie) processes whose parent is ``pid`` and whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z" and marker in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_pool_worker_costs_nothing_but_time(tmp_path):
    store = tmp_path / "runs.sqlite"
    configs = parse_grid(SLOW_GRID)
    killed: list[int] = []

    def kill_one_worker_mid_sweep() -> None:
        deadline = time.monotonic() + 120
        while count_rows(store) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = children(os.getpid())
        if workers:
            os.kill(workers[0], signal.SIGKILL)  # what the kernel's OOM killer does
            killed.append(workers[0])

    killer = threading.Thread(target=kill_one_worker_mid_sweep, daemon=True)
    killer.start()
    summary = sweep(configs, store, backend=BACKEND, workers=2, batch_runs=2, progress=False)
    killer.join()
    assert killed, "no worker was found to kill"
    assert count_rows(store) == len(configs)
    assert summary.already + summary.ran == len(configs)
    assert sorted(load(store)["run_id"]) == sorted(run_id(c) for c in configs)


def test_kill_minus_nine_of_the_client_takes_its_workers_with_it(tmp_path):
    grid = tmp_path / "slow.toml"
    grid.write_text(SLOW_GRID)
    store = tmp_path / "runs.sqlite"
    command = [sys.executable, "-m", "frontier.cli", "sweep", str(grid), "--store", str(store), "--backend", BACKEND,
               "--workers", "2", "--batch-runs", "2", "--quiet"]
    client = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while count_rows(store) < 1:
            assert client.poll() is None and time.monotonic() < deadline, "the sweep wrote nothing"
            time.sleep(0.02)
        workers = children(client.pid)
        assert len(workers) == 2
        os.kill(client.pid, signal.SIGKILL)  # the client only, not its process group
        client.wait()
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in workers if alive(pid)], "workers outlived their client"
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)


class _SilentHttp(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_a_scheduler_address_that_is_not_dask_is_answered_within_the_timeout(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SilentHttp)  # like the dashboard's port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.server_address[1]}"
    try:
        started = time.monotonic()
        process = subprocess.run(
            [sys.executable, "-m", "frontier.cli", "sweep", str(ROOT / "examples" / "ci_tiny.toml"),
             "--store", str(tmp_path / "s.sqlite"), "--backend", BACKEND, "--scheduler", address],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert process.returncode == 2 and process.stderr.count("\n") == 1, process.stderr
    assert process.stderr.startswith("error: ") and "not a Dask scheduler" in process.stderr
    assert elapsed < 30
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize("address, fragment", [
    ("http://127.0.0.1:8787", "cannot use http://"),
    ("inproc://scheduler", "cannot use inproc://"),
    ("tcp://127.0.0.1:99999", "Port out of range"),
    ("tcp://[::1", "Invalid IPv6 URL"),
])
def test_wrong_scheduler_addresses_are_one_line(address, fragment, tmp_path, cli):
    status, _, err = cli("sweep", ROOT / "examples" / "ci_tiny.toml", "--store", tmp_path / "s.sqlite",
                         "--backend", BACKEND, "--scheduler", address)
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err
