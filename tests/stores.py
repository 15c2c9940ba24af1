"""Store helpers shared by the sweep tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

#: Runs that take a while (target 0: every run trains to max_steps), so a kill lands mid-sweep.
SLOW_GRID = """
n = 12
k = 3
width = [16, 32]
samples = [100, "online"]
seeds = 8
max_steps = 1000
eval_every = 100
test_size = 300
target_error = 0.0
"""


def count_rows(path: Path) -> int:
    """Runs in a store, read without disturbing a sweep that writes it (0 before the table exists)."""
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # the table is not created yet
        return 0
