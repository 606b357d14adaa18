#!/usr/bin/env bash
# Waits until a daemon answers /_ping on its unix socket, or has died; on failure shows its log's tail.
# Usage: bench/await-daemon.sh NAME PID SOCKET LOGFILE [TENTHS_OF_SECONDS]   (exit 0 once it answers)
set -uo pipefail
name=$1 pid=$2 sock=$3 log=$4 tries=${5:-200}
for _ in $(seq 1 "$tries"); do
  curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && exit 0
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "$name did not start:" >&2
tail -n 20 "$log" >&2
exit 1
