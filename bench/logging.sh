#!/usr/bin/env bash
# make bench, logging: what each forwarding log driver delivers to a receiver on loopback (lines/s and MB/s of
# container output, from the container's start to the receiver's last line), and what the driver costs the container
# itself (its run time beside json-file's, which only conmon's local log has). The container writes LINES lines of
# 100 bytes as fast as it can; the buffer is made large enough (max-buffer-size) that berthd drops none (its count
# is reported beside); over UDP the receiver's own losses show as delivered < LINES. Rounds rotate the drivers'
# order; medians.
# Usage: bench/logging.sh [RESULTS_DIR]     Knobs: BENCH_LOG_ROUNDS (3), BENCH_LOG_LINES (100000), BENCH_LOG_DRIVERS.
# Self-contained: its own berthd (own data root, exec root, socket, bridge) and receivers; all removed at the end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROUNDS=${BENCH_LOG_ROUNDS:-3}
LINES=${BENCH_LOG_LINES:-100000}
DOCKER=/usr/local/bin/docker
say() { echo "bench/logging: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }

. bench/lib.sh   # stop_pid, median
bench_workspace logging bbl "${1:-}"
BERTHD_PID='' SINK_PID=''

cleanup() {
  trap - EXIT INT TERM
  stop_pid "$SINK_PID" 5
  teardown_own_berthd "$BERTHD_PID" "$BSOCK" "$BRUN" "$BRIDGE" "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port (bench/lib.sh) gives each run a fresh port: a removed container's shipper still sends its last lines
# (decision 24), which must not reach the next run's receiver.

say "starting berthd (data $BASE/berth, exec root $BRUN)"
BERTHD_PID=$(bench/start-berthd.sh "$BASE/berth" "$BRUN" "$BASE/berthd.log" "$BRIDGE") || { BERTHD_PID=${BERTHD_PID:-}; exit 1; }
node dist/tools/busybox-rootfs.js >"$BASE/busybox.tar" && bdocker import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null || exit 1

# 99 characters and the newline: a line of 100 bytes, written by busybox's yes as fast as the pipe takes it.
TEXT=$(printf 'log line %090d' 0)
CMD=(sh -c "yes '$TEXT' | head -n $LINES")
HOLD=(--log-opt mode=non-blocking --log-opt max-buffer-size=256m)
driver_args() { # driver port
  local PORT=$2
  case $1 in
    json-file) echo --log-driver json-file ;;
    syslog-udp) echo --log-driver syslog --log-opt "syslog-address=udp://127.0.0.1:$PORT" --log-opt syslog-format=rfc5424 "${HOLD[@]}" ;;
    syslog-tcp) echo --log-driver syslog --log-opt "syslog-address=tcp://127.0.0.1:$PORT" --log-opt syslog-format=rfc5424 "${HOLD[@]}" ;;
    fluentd) echo --log-driver fluentd --log-opt "fluentd-address=127.0.0.1:$PORT" "${HOLD[@]}" ;;
    gelf-udp) echo --log-driver gelf --log-opt "gelf-address=udp://127.0.0.1:$PORT" "${HOLD[@]}" ;;
    gelf-tcp) echo --log-driver gelf --log-opt "gelf-address=tcp://127.0.0.1:$PORT" "${HOLD[@]}" ;;
  esac
}
read -r -a DRIVERS <<<"${BENCH_LOG_DRIVERS:-json-file syslog-udp syslog-tcp fluentd gelf-udp gelf-tcp}"

# One run: the container's own time (StartedAt to FinishedAt, as conmon saw it) and the client's (run -d, then wait,
# which includes berthd noticing the exit), then the receiver's count until all LINES arrived (or 120 s).
one() { # driver -> "container_ms deliver_ms delivered dropped wire_bytes client_ms"
  local d=$1 sink="$BASE/sink-$1" t0 t1 t2 id n=0 b=0 dropped=0 own PORT
  PORT=$(free_port)
  if [ "$d" != json-file ]; then
    rm -f "$sink"; : >"$BASE/sink.out"
    node bench/log-sink.js "$d" "$PORT" "$sink" >"$BASE/sink.out" 2>>"$BASE/sink.err" &
    SINK_PID=$!
    for _ in $(seq 1 100); do grep -q listening "$BASE/sink.out" 2>/dev/null && break; sleep 0.05; done
  fi
  # shellcheck disable=SC2046
  t0=$(now_ms)
  id=$(bdocker run -d $(driver_args "$d" "$PORT") busybox "${CMD[@]}") || { say "$d: run failed"; return 1; }
  bdocker wait "$id" >/dev/null
  t1=$(now_ms)
  t2=$t1
  if [ "$d" != json-file ]; then
    # Until all arrived, or berthd holds nothing more and the receiver got nothing new for a second (over UDP a
    # receiver that cannot keep up loses datagrams the sender cannot see: what arrived is what is reported).
    local last=-1 quiet=0 held at
    for _ in $(seq 1 1200); do
      read -r n b at <"$sink" 2>/dev/null || true
      [ "${n:-0}" -ge "$LINES" ] && { t2=$(( $(now_ms) )); break; }
      held=$(bdocker inspect -f '{{.State.LogShipping.Buffered}}' "$id")
      if [ "${n:-0}" = "$last" ] && [ "$held" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; t2=$(now_ms); fi
      [ "$quiet" -ge 10 ] && break
      last=${n:-0}
      sleep 0.1
    done
    dropped=$(bdocker inspect -f '{{.State.LogShipping.Dropped}}' "$id")
    stop_pid "$SINK_PID" 5; SINK_PID=''
  fi
  own=$(bdocker inspect -f '{{.State.StartedAt}} {{.State.FinishedAt}}' "$id" | node -e 'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(" "); console.log(Date.parse(b) - Date.parse(a))')
  bdocker rm -f "$id" >/dev/null
  echo "$own $((t2 - t0)) ${n:-0} ${dropped:-0} ${b:-0} $((t1 - t0))"
}

declare -A ctr deliver got drop wire client
for r in $(seq 1 "$ROUNDS"); do
  say "round $r of $ROUNDS"
  order=("${DRIVERS[@]:$(( (r - 1) % ${#DRIVERS[@]} ))}" "${DRIVERS[@]:0:$(( (r - 1) % ${#DRIVERS[@]} ))}")
  for d in "${order[@]}"; do
    read -r c t n x b w < <(one "$d") || continue
    ctr[$d]+="$c " deliver[$d]+="$t " got[$d]+="$n " drop[$d]+="$x " wire[$d]+="$b " client[$d]+="$w "
  done
done

m() { printf '%s\n' $1 | median int; }
{
  printf '{"lines": %s, "line_bytes": 100, "rounds": %s, "drivers": {' "$LINES" "$ROUNDS"
  sep=''
  for d in "${DRIVERS[@]}"; do
    printf '%s"%s": {"container_ms": %s, "client_ms": %s, "deliver_ms": %s, "delivered": %s, "dropped": %s, "wire_bytes": %s}' "$sep" "$d" \
      "$(m "${ctr[$d]:-}")" "$(m "${client[$d]:-}")" "$(m "${deliver[$d]:-}")" "$(m "${got[$d]:-}")" "$(m "${drop[$d]:-}")" "$(m "${wire[$d]:-}")"
    sep=', '
  done
  printf '}}\n'
} >"$RES/logging.json"
node - "$RES/logging.json" <<'JS'
const r = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const base = r.drivers['json-file'].container_ms;
const cbase = r.drivers['json-file'].client_ms;
const mb = r.lines * r.line_bytes / 1e6;
console.log(`\nlogging: ${r.lines} lines of ${r.line_bytes} bytes (${mb} MB) from one container to a receiver on loopback, median of ${r.rounds}`);
console.log('container s: its own run (StartedAt to FinishedAt); run+wait s: the client\'s `run -d` and `wait`, berthd noticing the exit included');
console.log('| driver | container s | / json-file | run+wait s | / json-file | delivered s | lines/s | MB/s | delivered | dropped |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const [d, x] of Object.entries(r.drivers)) {
  const local = d === 'json-file';
  const s = (ms) => (ms == null ? 'n/a' : (ms / 1000).toFixed(2));
  const rate = (v) => (local || !x.deliver_ms ? '-' : (v / (x.deliver_ms / 1000)).toFixed(0));
  const ratio = (a, b) => (a && b ? (a / b).toFixed(2) + 'x' : 'n/a');
  console.log(`| ${d} | ${s(x.container_ms)} | ${ratio(x.container_ms, base)} | ${s(x.client_ms)} | ${ratio(x.client_ms, cbase)} | ${local ? '-' : s(x.deliver_ms)} | ${rate(x.delivered)} | ${local ? '-' : (x.delivered * r.line_bytes / 1e6 / (x.deliver_ms / 1000)).toFixed(1)} | ${local ? '-' : x.delivered} | ${local ? '-' : x.dropped} |`);
}
JS
