#!/usr/bin/env bash
# Starts N idle containers (`run -d --network none busybox sleep 3600`) through the given client; prints how many started.
# Usage: bench/idle-containers.sh N CLIENT [CLIENT_ARGS...]   e.g. bench/idle-containers.sh 100 docker
# Stops at the third failure, so a broken engine costs seconds, not minutes.
set -uo pipefail
n=$1; shift
ok=0 failed=0
for _ in $(seq 1 "$n"); do
  if "$@" run -d --network none busybox sleep 3600 >/dev/null 2>>"${IDLE_ERRORS:-/dev/stderr}"; then
    ok=$((ok + 1))
  else
    failed=$((failed + 1))
    [ "$failed" -ge 3 ] && break
  fi
done
echo "$ok"
[ "$ok" -eq "$n" ]
