#!/usr/bin/env bash
# Starts a berthd of the bench's own (own data root, exec root and socket), waits until it answers, prints its PID.
# Usage: bench/start-berthd.sh DATA_ROOT EXEC_ROOT LOGFILE   (the PID is printed even on failure, for teardown)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
data=$1 exec_root=$2 log=$3
setsid "$ROOT/bin/berthd" --data-root "$data" --exec-root "$exec_root" >>"$log" 2>&1 </dev/null &
pid=$!
echo "$pid"
"$ROOT/bench/await-daemon.sh" berthd "$pid" "$exec_root/berth.sock" "$log" 100
