"""Issue 13, outputs: every file is written atomically, and an export never destroys data.

- `frontier export S --out S` used to overwrite the store with CSV; a suffix that disagrees with
  --format used to be written without a word;
- a `kill -9` in the middle of an export used to leave a truncated CSV (that pandas reads without
  an error) in place of the previous good file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cli_contract import one_error_line
from sim.files import atomic_path, write_text
from sim.grid import parse_grid
from sim.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = """
n = 8
k = 2
width = 8
samples = [64, "online"]
seeds = 3
max_steps = 100
eval_every = 50
test_size = 100
"""




@pytest.fixture
def store(tmp_path):
    path = tmp_path / "runs.sqlite"
    sweep(parse_grid(TINY), path, backend="numpy", workers=1, progress=False)
    return path




def test_export_onto_the_store_is_refused_and_the_store_is_untouched(store, cli, tmp_path):
    before = store.read_bytes()
    status, _, err = cli("export", store, "--format", "csv", "--out", store)
    assert one_error_line(status, err, "is the store"), err
    # The same file under another spelling of its path.
    status, _, err = cli("export", store, "--format", "csv", "--out", tmp_path / "." / store.name)
    assert one_error_line(status, err, "is the store"), err
    assert store.read_bytes() == before
    # Another SQLite database is not overwritten by an export either.
    other = tmp_path / "other.sqlite"
    other.write_bytes(before)
    status, _, err = cli("export", store, "--format", "csv", "--out", other)
    assert one_error_line(status, err, "SQLite database"), err
    assert other.read_bytes() == before


def test_a_suffix_that_disagrees_with_the_format_is_refused(store, cli, tmp_path):
    out = tmp_path / "x.parquet"
    status, _, err = cli("export", store, "--format", "csv", "--out", out)
    assert one_error_line(status, err, "x.csv"), err
    assert not out.exists()
    status, _, err = cli("export", store, "--format", "csv", "--out", tmp_path / "x.txt")
    assert status == 0, err  # a suffix that names no format does not disagree


DYING_EXPORT = """
import os, signal, sys
import pandas as pd
original = pd.DataFrame.to_csv
def to_csv_then_die(self, path, *args, **kwargs):
    text = original(self, None, *args, **kwargs)
    with open(path, "w") as handle:       # half of the new file reaches the disk ...
        handle.write(text[: len(text) // 2])
    os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies (kill -9, OOM, power)
pd.DataFrame.to_csv = to_csv_then_die
import frontier.cli
frontier.cli.main(sys.argv[1:])
"""


def test_kill_minus_nine_mid_export_leaves_the_previous_file(store, cli, tmp_path):
    out = tmp_path / "runs.csv"
    status, _, err = cli("export", store, "--out", out)
    assert status == 0, err
    good = out.read_bytes()
    assert len(pd.read_csv(out)) == 6
    process = subprocess.run([sys.executable, "-c", DYING_EXPORT, "export", str(store), "--out", str(out)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert out.read_bytes() == good
    orphans = list(tmp_path.glob(".runs.csv.*.tmp"))
    assert len(orphans) == 1  # the killed writer's partial file, never read
    status, _, err = cli("export", store, "--out", out)
    assert status == 0, err
    assert not list(tmp_path.glob(".runs.csv.*.tmp"))  # the next write removed it


def test_the_temporary_file_of_a_live_writer_is_kept(tmp_path):
    live = tmp_path / f".table.md.{os.getppid()}.tmp"  # the parent process: alive
    live.write_text("being written")
    write_text(tmp_path / "table.md", "done\n")
    assert live.exists()


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "table.md"
    write_text(path, "old\n")
    with pytest.raises(OSError, match="No space"):
        with atomic_path(path) as tmp:
            tmp.write_text("new, but the disk fills up")
            raise OSError(28, "No space left on device")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["table.md"]  # no temporary file left behind
