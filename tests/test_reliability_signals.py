"""Issue 25, signals: SIGTERM (what a cluster scheduler sends at the end of a job) and SIGINT end a
sweep with every finished run written, one line that counts them and says a rerun resumes, no
warnings, and no worker left running. At 98c3d10 SIGTERM killed the client at once: the resource
tracker warned of 8 leaked semaphores, no line said what was written, and workers trained on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from stores import SLOW_GRID, count_rows


def live_processes(group: int) -> list[str]:
    """The processes of a process group that are still running (zombies aside)."""
    found = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(group)], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if line.split()[1][0] != "Z"]


@pytest.mark.parametrize("signum, whom", [(signal.SIGTERM, "client"), (signal.SIGTERM, "group"),
                                          (signal.SIGINT, "client")])
def test_a_signal_ends_the_sweep_with_the_runs_written_and_the_resume_line(tmp_path, signum, whom):
    grid = tmp_path / "grid.toml"
    grid.write_text(SLOW_GRID)
    store = tmp_path / "runs.sqlite"
    command = [sys.executable, "-m", "frontier.cli", "sweep", str(grid), "--store", str(store), "--backend", "numpy",
               "--workers", "2", "--batch-runs", "2", "--quiet"]
    # restore_signals + a new session: SIGINT is not ignored as in a background job of a shell
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while count_rows(store) < 2:
            assert process.poll() is None, f"sweep ended before the signal: {process.communicate()}"
            assert time.monotonic() < deadline, "sweep wrote nothing in 120 s"
            time.sleep(0.05)
        (os.killpg if whom == "group" else os.kill)(process.pid, signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 128 + signum, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted by "), err  # no resource-tracker warning
    assert "rerun the same command to resume" in err
    written = count_rows(store)
    assert f": {written} runs of this sweep were written" in err
    time.sleep(0.5)
    assert live_processes(process.pid) == []  # the pool's workers ended with the client

    resumed = subprocess.run(command[:-1] + ["--dry-run"], capture_output=True, text=True, timeout=60)
    assert f", {written} in " in resumed.stdout, resumed.stdout
