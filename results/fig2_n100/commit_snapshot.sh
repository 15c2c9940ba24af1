#!/usr/bin/env bash
# Stage a consistent snapshot of the live store (a sweep may be writing it) as
# results/fig2_n100/runs.sqlite, without touching the file the sweep writes: SQLite's online
# backup into a temporary file, whose bytes are staged at the store's path (git update-index).
set -eu
STORE=results/fig2_n100/runs.sqlite
TMP=$(mktemp -d)/runs.sqlite
.venv/bin/python -c "
import sqlite3, sys
src = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True); dst = sqlite3.connect(sys.argv[2])
src.backup(dst); dst.execute('PRAGMA journal_mode=DELETE'); dst.execute('VACUUM'); dst.close()
print(sqlite3.connect(sys.argv[2]).execute('select count(*) from runs').fetchone()[0], 'runs in the snapshot')
" "$STORE" "$TMP"
git update-index --add --cacheinfo 100644,"$(git hash-object -w "$TMP")","$STORE"
rm -f "$TMP"
