#!/usr/bin/env bash
# Stops berthd; containers keep running under their conmon and are picked up by the next start.
set -euo pipefail
PIDFILE=/run/berth/berthd.pid
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  echo "berthd stopped"
else
  echo "berthd is not running"
fi
