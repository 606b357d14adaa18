#!/usr/bin/env bash
# One CPU window on one engine: optionally streams `docker stats` for all its running containers, and meanwhile
# measures its daemon's processes with bench/cpu.js over a fixed window. Prints cpu.js's JSON plus
# { streamed: <containers in the client's command>, lines: <stats lines it printed during the window>, client_ok }.
# Usage: bench/stats-window.sh MODE SECONDS SETTLE WORKDIR CPU_JS_GROUPS...
#   MODE   stats (stream while measuring) or none (measure with no client: the daemon's own baseline)
#   SETTLE seconds between starting the client and opening the window (the first sample, connection set-up)
# The client is $DOCKER (default docker) with the caller's DOCKER_HOST: one `docker stats --format '{{.ID}}'` with
# every running container's ID, which opens one GET /containers/{id}/stats?stream=1 per container.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mode=$1 secs=$2 settle=$3 work=$4; shift 4
DOCKER=${DOCKER:-docker}
mkdir -p "$work"
client='' ids=()
if [ "$mode" = stats ]; then
  mapfile -t ids < <(timeout 30 "$DOCKER" ps -q)
  [ ${#ids[@]} -gt 0 ] || { echo "stats-window: no running containers" >&2; exit 1; }
  "$DOCKER" stats --format '{{.ID}}' "${ids[@]}" >"$work/stream.out" 2>"$work/stream.err" </dev/null &
  client=$!
  sleep "$settle"
  kill -0 "$client" 2>/dev/null || { echo "stats-window: docker stats ended before the window: $(tail -n 1 "$work/stream.err")" >&2; exit 1; }
fi
lines0=$(wc -l <"$work/stream.out" 2>/dev/null || echo 0)
cpu=$(node "$ROOT/bench/cpu.js" "$secs" "$@") || exit 1
lines1=$(wc -l <"$work/stream.out" 2>/dev/null || echo 0)
client_ok=true
if [ -n "$client" ]; then
  kill -0 "$client" 2>/dev/null || client_ok=false
  # SIGKILL: the docker CLI catches SIGTERM and SIGINT, and `docker stats` does not end on them.
  kill -KILL "$client" 2>/dev/null
  wait "$client" 2>/dev/null
fi
jq -c --argjson streamed "${#ids[@]}" --argjson lines "$((lines1 - lines0))" --argjson ok "$client_ok" \
  '. + {streamed: $streamed, lines: $lines, client_ok: $ok}' <<<"$cpu"
