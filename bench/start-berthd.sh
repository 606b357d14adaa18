#!/usr/bin/env bash
# Starts a berthd of the bench's own (own data root, exec root, socket and bridge), waits until it answers, prints
# its PID. The bridge is its own (never the production daemon's berth0): name it uniquely per run, at most 15 chars.
# Usage: bench/start-berthd.sh DATA_ROOT EXEC_ROOT LOGFILE BRIDGE [BERTHD_FLAGS...]
#   (the PID is printed even on failure, for teardown; BERTHD_FLAGS are passed on, e.g. --swarm-control-port N)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 4 ] || { echo "usage: bench/start-berthd.sh DATA_ROOT EXEC_ROOT LOGFILE BRIDGE [BERTHD_FLAGS...]" >&2; exit 2; }
data=$1 exec_root=$2 log=$3 bridge=$4
shift 4
[ ${#bridge} -le 15 ] || { echo "bench/start-berthd.sh: bridge name '$bridge' is longer than 15 characters" >&2; exit 2; }
setsid "$ROOT/bin/berthd" --data-root "$data" --exec-root "$exec_root" --bridge "$bridge" "$@" >>"$log" 2>&1 </dev/null &
pid=$!
echo "$pid"
"$ROOT/bench/await-daemon.sh" berthd "$pid" "$exec_root/berth.sock" "$log" 100
