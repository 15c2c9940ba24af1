#!/usr/bin/env bash
# The distributed path, as a cluster user types it (docs/reproduction.md): a Dask scheduler and two
# workers as separate processes, a sweep of results/fig2_n100/dask_k3.toml through the scheduler,
# one worker killed (SIGKILL) mid-sweep; the sweep must finish with every run stored.
# Usage: results/fig2_n100/dask_demo.sh [STORE]   (default results/fig2_n100/runs.sqlite)
set -u
STORE=${1:-results/fig2_n100/runs.sqlite}
BIN=${BIN:-.venv/bin}
LOG=${LOG:-/tmp/frontier-dask-demo}
mkdir -p "$LOG"
stamp() { date -u +%H:%M:%S; }
count() { "$BIN/python" -c "import sqlite3,sys; db=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(db.execute(\"select count(*) from runs where n=100 and width=300 and seed between 6 and 11 and samples in (2000, 3000, 4500, 6000)\").fetchone()[0])" "$STORE"; }
echo "$(stamp) before: $(count) of 48 runs of the Dask part stored"
"$BIN/dask" scheduler --host 127.0.0.1 --port 8786 --no-dashboard > "$LOG/scheduler.log" 2>&1 &
SCHED=$!
sleep 4
for i in 1 2; do
  NUMBA_NUM_THREADS=1 "$BIN/dask" worker tcp://127.0.0.1:8786 --nworkers 1 --nthreads 1 --name "w$i" \
      > "$LOG/worker$i.log" 2>&1 &
  eval "W$i=$!"
done
sleep 6
echo "$(stamp) scheduler pid $SCHED, workers pids $W1 $W2"
"$BIN/frontier" sweep results/fig2_n100/dask_k3.toml --store "$STORE" --scheduler tcp://127.0.0.1:8786 \
    --batch-runs 2 --quiet > "$LOG/sweep.log" 2>&1 &
SWEEP=$!
START=$(count)
# Kill while the sweep is training: once it has stored a few runs of its own.
while kill -0 "$SWEEP" 2>/dev/null && [ "$(count)" -lt $((START + ${KILL_AFTER_RUNS:-4})) ]; do sleep 1; done
echo "$(stamp) $(count) of 48 stored, the sweep still running: $(kill -0 "$SWEEP" 2>/dev/null && echo yes || echo no); killing worker w1 (pid $W1 and its children) with SIGKILL"
pkill -9 -P "$W1"; kill -9 "$W1"
wait $SWEEP; RC=$?
echo "$(stamp) sweep exit status $RC; $(count) of 48 runs stored"
tail -3 "$LOG/sweep.log"
kill "$W2" "$SCHED" 2>/dev/null; wait 2>/dev/null
exit $RC
