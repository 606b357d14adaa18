#!/usr/bin/env bash
# Starts a berthd of the bench's own (own data root, exec root and socket), waits until it answers, prints its PID.
# Usage: bench/start-berthd.sh DATA_ROOT EXEC_ROOT LOGFILE
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
data=$1 exec_root=$2 log=$3
sock=$exec_root/berth.sock
setsid "$ROOT/bin/berthd" --data-root "$data" --exec-root "$exec_root" >>"$log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 100); do
  curl -sf --unix-socket "$sock" http://berth/_ping >/dev/null 2>&1 && { echo "$pid"; exit 0; }
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "berthd did not start:" >&2
tail -n 20 "$log" >&2
echo "$pid"
exit 1
