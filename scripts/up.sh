#!/usr/bin/env bash
# Starts berthd in the background if it is not answering, makes busybox:latest if absent, runs a container.
set -euo pipefail
cd "$(dirname "$0")/.."
SOCK=${SOCK:-/run/berth/berth.sock}
LOG=/var/log/berth/berthd.log
ln -sf "$PWD/bin/berth" /usr/local/bin/berth
ln -sf "$PWD/bin/berthd" /usr/local/bin/berthd
# `docker compose`: Berth's plugin for the docker CLI (only in cli-plugins, never on PATH).
scripts/install-compose-plugin.sh /usr/local/lib/docker/cli-plugins/docker-compose
if ! curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null 2>&1; then
  mkdir -p /var/log/berth
  echo "starting berthd (log: $LOG)"
  setsid nohup "$PWD/bin/berthd" >>"$LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf --unix-socket "$SOCK" http://berth/_ping >/dev/null || { echo "berthd did not start:"; tail -n 20 "$LOG"; exit 1; }
fi
export BERTH_HOST=unix://$SOCK
if ! bin/berth image inspect busybox:latest >/dev/null 2>&1; then
  echo "making busybox:latest from Debian's busybox-static"
  node dist/tools/busybox-rootfs.js | bin/berth import --change 'CMD ["sh"]' - busybox:latest >/dev/null
fi
bin/berth run --rm busybox echo "hello from berth"
