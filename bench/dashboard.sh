#!/usr/bin/env bash
# make bench, the dashboard section: `berth dashboard` on a berthd of its own, its page in Debian's chromium headless
# (bench/dashboard-page.js). Measures: the time for the page to show N containers (created, not started: the list is
# what is timed) and to scroll to the last; with M running containers, the CPU of the page's renderer, all of its
# chromium, the dashboard server and berthd while the page shows their live stats, beside berthd's CPU while
# `docker stats` streams the same M (rounds alternate), and berthd's own with no client; the page's memory after
# MINUTES minutes open. Writes RESULTS_DIR/dashboard.json and prints its table.
# Usage: bench/dashboard.sh [RESULTS_DIR]
# Knobs: BENCH_DASH_LIST (1000), BENCH_DASH_LIVE (100), BENCH_DASH_SECONDS (20), BENCH_DASH_ROUNDS (2),
#        BENCH_DASH_MINUTES (2; the issue's figure is 10).
# Self-contained: its daemon (own data root, exec root, socket, bridge), dashboard and chromium go at the end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
LIST=${BENCH_DASH_LIST:-1000}
LIVE=${BENCH_DASH_LIVE:-100}
SECS=${BENCH_DASH_SECONDS:-20}
ROUNDS=${BENCH_DASH_ROUNDS:-2}
MINUTES=${BENCH_DASH_MINUTES:-2}
SETTLE=5
DOCKER=/usr/local/bin/docker
say() { echo "bench/dashboard: $*" >&2; }
. bench/lib.sh
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }
[ -x /usr/bin/chromium ] || { say "Debian's chromium is missing (make deps installs it)"; exit 1; }

bench_workspace dash bda "${1:-}"
BERTHD_PID='' DASH_PID='' HOLD_PID=''

cleanup() {
  trap - EXIT INT TERM
  [ -n "$HOLD_PID" ] && stop_pid "$HOLD_PID" 10
  [ -n "$DASH_PID" ] && stop_pid "$DASH_PID" 5
  [ -n "$BERTHD_PID" ] && stop_berthd "$BERTHD_PID" "$BSOCK" "$BRUN" >/dev/null 2>&1
  bench/umount-under.sh "$BASE" "$BRUN"
  remove_berth_bridge "$BRIDGE"
  rm -rf "$BRUN" "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BERTHD_PID=$(bench/start-berthd.sh "$BASE/data" "$BRUN" "$BASE/berthd.log" "$BRIDGE") || { say "berthd did not start"; exit 1; }
node dist/tools/busybox-rootfs.js >"$BASE/busybox.tar"
bdocker import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null
BERTH_HOST="unix://$BSOCK" setsid bin/berth dashboard --addr 127.0.0.1:0 >"$BASE/dashboard.out" 2>"$BASE/dashboard.err" </dev/null &
DASH_PID=$!
for _ in $(seq 1 100); do grep -qs "^Dashboard: " "$BASE/dashboard.out" && break; sleep 0.1; done
URL=$(sed -n 's/^Dashboard: //p' "$BASE/dashboard.out")
[ -n "$URL" ] || { say "berth dashboard printed no URL: $(cat "$BASE/dashboard.err")"; exit 1; }

# ---------- the list: N containers ----------
say "creating $LIST containers (4 clients at once)"
seq 1 "$LIST" | xargs -P4 -I{} env DOCKER_HOST="unix://$BSOCK" "$DOCKER" create --network none --name list{} busybox true >/dev/null
list_json=$(node bench/dashboard-page.js list "$URL" "$BASE/profile-list" "$LIST") || { say "the list measurement failed"; exit 1; }
say "list: $list_json"
bench/remove-all.sh env DOCKER_HOST="unix://$BSOCK" "$DOCKER" >/dev/null

# ---------- live stats: M running containers, the page against docker stats ----------
say "starting $LIVE idle containers"
seq 1 "$LIVE" | xargs -P4 -I{} env DOCKER_HOST="unix://$BSOCK" "$DOCKER" run -d --network none --name live{} busybox sleep 1d >/dev/null
dash_groups=(--group berthd --pid "$BERTHD_PID" --group dashboard --pid "$DASH_PID")
say "berthd with no client (${SECS}s)"
node bench/cpu.js "$SECS" "${dash_groups[@]}" >"$BASE/cpu-baseline.json"
page_window() { # round
  local prof=$BASE/profile-hold-$1
  node bench/dashboard-page.js hold "$URL" "$prof" >/dev/null 2>"$BASE/hold.err" &
  HOLD_PID=$!
  for _ in $(seq 1 600); do [ -s "$prof/ready" ] && break; kill -0 "$HOLD_PID" 2>/dev/null || break; sleep 0.1; done
  [ -s "$prof/ready" ] || { say "the page did not get ready: $(tail -n 2 "$BASE/hold.err")"; return 1; }
  sleep "$SETTLE"
  local renderers all
  renderers=$(sed -n 1p "$prof/ready") all=$(sed -n 2p "$prof/ready")
  # shellcheck disable=SC2046
  node bench/cpu.js "$SECS" "${dash_groups[@]}" --group renderer $(printf -- '--pid %s ' $renderers) --group chromium $(printf -- '--pid %s ' $all) >"$BASE/cpu-page-$1.json"
  stop_pid "$HOLD_PID" 10
  HOLD_PID=''
}
stats_window() { # round
  DOCKER="$DOCKER" DOCKER_HOST="unix://$BSOCK" bench/stats-window.sh stats "$SECS" "$SETTLE" "$BASE/stats-$1" --group berthd --pid "$BERTHD_PID" >"$BASE/cpu-stats-$1.json"
}
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then say "round $r: page, then docker stats"; page_window "$r"; stats_window "$r"
  else say "round $r: docker stats, then page"; stats_window "$r"; page_window "$r"; fi
done

# ---------- memory after MINUTES open ----------
say "the page open for $MINUTES min with $LIVE containers' live stats"
mem_json=$(node bench/dashboard-page.js memory "$URL" "$BASE/profile-mem" "$MINUTES") || { say "the memory measurement failed"; mem_json=null; }

# ---------- report ----------
pct() { # group files... : the median of the group's CPU % over the files
  local g=$1; shift
  # Rounded to 0.01 (the median of two is a sum that prints as 3.9000000000000004 otherwise).
  jq -s --arg g "$g" 'map(.groups[$g].pct) | sort | if length == 0 then null else (if length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end) * 100 | round / 100 end' "$@"
}
jq -n --argjson list "$list_json" --argjson mem "$mem_json" --argjson live "$LIVE" --argjson secs "$SECS" --argjson rounds "$ROUNDS" \
  --argjson base "$(pct berthd "$BASE/cpu-baseline.json")" \
  --argjson page_berthd "$(pct berthd "$BASE"/cpu-page-*.json)" --argjson page_dash "$(pct dashboard "$BASE"/cpu-page-*.json)" \
  --argjson page_renderer "$(pct renderer "$BASE"/cpu-page-*.json)" --argjson page_chromium "$(pct chromium "$BASE"/cpu-page-*.json)" \
  --argjson stats_berthd "$(pct berthd "$BASE"/cpu-stats-*.json)" \
  '{list: $list, live: $live, window_s: $secs, rounds: $rounds, cpu_pct: {berthd_no_client: $base, page: {berthd: $page_berthd, dashboard_server: $page_dash, renderer: $page_renderer, chromium_all: $page_chromium}, docker_stats: {berthd: $stats_berthd}}, memory: $mem}' >"$RES/dashboard.json"
jq -r '"dashboard (median over \(.rounds) rounds of \(.window_s) s; CPU % of one core)",
  "  page shows \(.list.containers) containers: \(.list.load_ms) ms (first row \(.list.first_row_ms) ms), scroll to the last: \(.list.scroll_to_end_ms) ms, \(.list.rows_in_dom) rows in the DOM",
  "  \(.live) containers live: berthd \(.cpu_pct.page.berthd)% with the page (no client: \(.cpu_pct.berthd_no_client)%), docker stats: berthd \(.cpu_pct.docker_stats.berthd)%",
  "  the page: renderer \(.cpu_pct.page.renderer)%, all chromium \(.cpu_pct.page.chromium_all)%, berth dashboard \(.cpu_pct.page.dashboard_server)%",
  (if .memory then "  the page after \(.memory.minutes) min: JS heap \(.memory.start.js_heap_used_mib) → \(.memory.end.js_heap_used_mib) MiB, renderer RSS \(.memory.start.renderer_rss_mib) → \(.memory.end.renderer_rss_mib) MiB, DOM nodes \(.memory.start.dom_nodes) → \(.memory.end.dom_nodes)" else "  memory: n/a" end)' "$RES/dashboard.json"
