#!/usr/bin/env bash
# make bench SCALE=1, the scale section: N idle containers (`run -d busybox sleep 1d`, 4 clients at once) on the
# default bridge of a berthd of its own; their start time, berthd's and the conmons' RSS, berthd's open files and the
# bridge's ports, `docker ps`, `run --rm --network none busybox true` at that size against none present and, interleaved
# at the same moment, against an empty berthd beside it (the VM's speed drifts over the minutes the start takes),
# berthd's phase medians of those runs at each size (BERTH_TRACE=1; RESULTS_DIR/scale-trace-empty.txt and
# scale-trace-full.txt: where the extra time goes), `stats --no-stream` (the first, whose CPU base is cold, and the next
# ones), a Prometheus scrape of /metrics (its time and berthd's CPU, each scrape sampling every container afresh: metrics-addr 127.0.0.1:0), a berthd restart with them running (all
# still running after), and their removal. Writes RESULTS_DIR/scale-berth.json and prints its table.
# Usage: bench/scale.sh [RESULTS_DIR]     Knobs: BENCH_SCALE_N (1000), BENCH_SCALE_RUNS (5), BENCH_SCALE_PAIRS (15: the
# interleaved runs against the reference).
# dockerd beside (PEERS=1) is not run: n/a in the table.
# Self-contained: its daemon (own data root, exec root, socket and bridge) and everything it made go at the end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
N=${BENCH_SCALE_N:-1000}
RUNS=${BENCH_SCALE_RUNS:-5}
PAIRS=${BENCH_SCALE_PAIRS:-15}
DOCKER=/usr/local/bin/docker
say() { echo "bench/scale: $*" >&2; }
. bench/lib.sh
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }

bench_workspace scale bsc "${1:-}"
BERTHD_PID=''
# The empty reference berthd beside (own data root, exec root, socket and bridge).
REF_PID='' REF_BASE=$BASE/ref REF_RUN=${BRUN}r REF_SOCK=${BRUN}r/berth.sock REF_BRIDGE=${BRIDGE}r
snapshot_netfilter "$BASE"

cleanup() {
  trap - EXIT INT TERM
  if [ -n "$BERTHD_PID" ]; then
    stop_berthd "$BERTHD_PID" "$BSOCK" "$BRUN" >/dev/null 2>&1
    for p in $(pids_of aardvark-dns "$BRUN/"); do stop_pid "$p" 2; done
  fi
  [ -n "$REF_PID" ] && stop_berthd "$REF_PID" "$REF_SOCK" "$REF_RUN" >/dev/null 2>&1
  bench/umount-under.sh "$BASE" "$BRUN"
  bench/umount-under.sh "$REF_BASE" "$REF_RUN"
  remove_berth_bridge "$BRIDGE"
  remove_berth_bridge "$REF_BRIDGE"
  local left
  left=$( { iptables -S; iptables -t nat -S; } | grep -F -- "$BRIDGE" | grep -vxF -f <(cat "$IPT_BEFORE.filter" "$IPT_BEFORE.nat"); ip -o link | grep -E ": $BRIDGE[:@]|master $BRIDGE ")
  [ -z "$left" ] || { say "WARNING: left behind:"; echo "$left" >&2; }
  rm -rf "$BRUN" "$REF_RUN" "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The median of RUNS timings (ms) of a command, its output dropped.
median_ms() { # command...
  local i s
  for i in $(seq 1 "$RUNS"); do s=$(now_ms); "$@" >/dev/null 2>&1; echo $(( $(now_ms) - s )); done | median int
}
start_berthd() {
  BERTHD_PID=$(BERTH_TRACE=1 bench/start-berthd.sh "$BASE/data" "$BRUN" "$BASE/berthd.log" "$BRIDGE" --metrics-addr 127.0.0.1:0) || { say "berthd did not start: $(tail -n 3 "$BASE/berthd.log" | tr '\n' ' ')"; return 1; }
}
rdocker() { DOCKER_HOST="unix://$REF_SOCK" "$DOCKER" "$@"; }
# PAIRS timings of `run --rm --network none busybox true` on berthd and on the reference, alternating: their medians.
interleaved_runs() {
  local i s
  : >"$BASE/runs.full"; : >"$BASE/runs.ref"
  for i in $(seq 1 "$PAIRS"); do
    s=$(now_ms); bdocker run --rm --network none busybox true >/dev/null 2>&1; echo $(( $(now_ms) - s )) >>"$BASE/runs.full"
    s=$(now_ms); rdocker run --rm --network none busybox true >/dev/null 2>&1; echo $(( $(now_ms) - s )) >>"$BASE/runs.ref"
  done
  echo "$(median int <"$BASE/runs.full") $(median int <"$BASE/runs.ref")"
}
running() { bdocker ps -q | wc -l; }
berthd_rss() { node bench/rss.js --pid "$BERTHD_PID" | jq .kib; }

start_berthd || exit 1
mkdir -p "$REF_BASE"
REF_PID=$(bench/start-berthd.sh "$REF_BASE/data" "$REF_RUN" "$REF_BASE/berthd.log" "$REF_BRIDGE" | head -n 1)
rdocker version >/dev/null 2>&1 || { say "the reference berthd did not start: $(tail -n 3 "$REF_BASE/berthd.log" | tr '\n' ' ')"; exit 1; }
node dist/tools/busybox-rootfs.js >"$BASE/busybox.tar" && bdocker import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null || { say "busybox import failed"; exit 1; }
rdocker import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null || { say "busybox import (reference) failed"; exit 1; }
bdocker run --rm --network none busybox true >/dev/null || { say "a first run failed"; exit 1; }
rdocker run --rm --network none busybox true >/dev/null || { say "a first run (reference) failed"; exit 1; }
say "run --rm --network none with none present: $RUNS runs"
since=$(wc -l <"$BASE/berthd.log")
run_empty=$(median_ms bdocker run --rm --network none busybox true)
node bench/trace-table.js "$BASE/berthd.log" container "$since" >"$RES/scale-trace-empty.txt"
# The kernel's share: every container start makes a mount namespace, a copy of the host's mount table, which holds
# one overlay mount per running container (dockerd's and podman's too).
mounts_empty=$(wc -l </proc/self/mountinfo)
mntns_empty=$(median_ms unshare -m true)
subnet=$(bdocker network inspect bridge --format '{{(index .IPAM.Config 0).Subnet}}')

say "starting $N idle containers on the default bridge ($subnet), 4 clients at once"
s=$(now_ms)
seq 1 "$N" | xargs -P 4 -I{} env DOCKER_HOST="unix://$BSOCK" "$DOCKER" run -d busybox sleep 1d >"$BASE/start.out" 2>"$BASE/start.err"
start_ms=$(( $(now_ms) - s ))
started=$(running)
[ -s "$BASE/start.err" ] && say "start errors ($(grep -c . "$BASE/start.err")), the first: $(head -n 1 "$BASE/start.err")"
say "$started running after $start_ms ms"
rss_berthd=$(berthd_rss)
rss_conmon=$(node bench/rss.js --exe conmon --cmdline-has "$BRUN" | jq -c '{count, kib}')
fds=$(ls "/proc/$BERTHD_PID/fd" | wc -l)
ports=$(ls "/sys/class/net/$BRIDGE/brif" 2>/dev/null | wc -l)
neigh=$(ip neigh show dev "$BRIDGE" 2>/dev/null | wc -l)

say "ps, run --rm --network none and stats --no-stream at $started containers"
ps_ms=$(median_ms bdocker ps)
since=$(wc -l <"$BASE/berthd.log")
read -r run_full run_ref < <(interleaved_runs)
node bench/trace-table.js "$BASE/berthd.log" container "$since" >"$RES/scale-trace-full.txt"
mounts_full=$(wc -l </proc/self/mountinfo)
mntns_full=$(median_ms unshare -m true)
sleep 6   # past the last samples' age: the first stats below has a cold CPU base
s=$(now_ms); bdocker stats --no-stream >"$BASE/stats.out" 2>&1; stats_cold=$(( $(now_ms) - s ))
stats_rows=$(( $(grep -c . "$BASE/stats.out") - 1 ))
stats_warm=$(median_ms bdocker stats --no-stream)
# Whose CPU one warm `stats --no-stream` is: the docker CLI's own (it makes one request per container) and berthd's.
b0=$(proc_cpu_ms "$BERTHD_PID")
# (a subshell's reaped children are the CLI: its cutime+cstime once the CLI has exited)
stats_cli_cpu=$(DOCKER_HOST="unix://$BSOCK" "$DOCKER" stats --no-stream >/dev/null 2>&1; proc_cpu_ms "$BASHPID")
stats_berthd_cpu=$(( $(proc_cpu_ms "$BERTHD_PID") - b0 ))
# berthd's own part of it: the same requests, all at once, from a small Node client (bench/stats-burst.js); the CLI
# adds its start, its list, its own CPU per request and its 500 ms ticker after the last answer before it prints.
stats_burst=$(for i in $(seq 1 "$RUNS"); do node bench/stats-burst.js "$BSOCK"; done | median int)

# A scrape as Prometheus makes it, RUNS times, each more than the sampler's reuse age (2 s) after the last, so each
# samples every container: its wall time and berthd's CPU (the median of each), the series it gave.
say "metrics: $RUNS scrapes of /metrics at $started containers, 3 s apart"
murl=$(sed -n 's/.*metrics: serving GET \(http:[^ ]*\).*/\1/p' "$BASE/berthd.log" | tail -n 1)
for i in $(seq 1 "$RUNS"); do
  sleep 3
  c=$(proc_cpu_ms "$BERTHD_PID"); s=$(now_ms)
  curl -sf "$murl" >"$BASE/scrape.out" || say "scrape of $murl failed"
  echo "$(( $(now_ms) - s )) $(( $(proc_cpu_ms "$BERTHD_PID") - c ))"
done >"$BASE/scrapes"
scrape_ms=$(cut -d' ' -f1 "$BASE/scrapes" | median int)
scrape_cpu=$(cut -d' ' -f2 "$BASE/scrapes" | median int)
scrape_series=$(grep -c '^berth_container_cpu_usage_seconds_total{' "$BASE/scrape.out")
scrape_kib=$(( $(wc -c <"$BASE/scrape.out") / 1024 ))
# The part of the last scrape spent in the sampler (the cgroup and procfs reads `docker stats` makes too), in ms.
scrape_sampling=$(awk '/^berth_container_sampling_seconds /{ print int($2 * 1000) }' "$BASE/scrape.out")
scrape_valid=$(if ! command -v promtool >/dev/null; then echo '"n/a"'; elif promtool check metrics <"$BASE/scrape.out" >/dev/null 2>&1; then echo true; else echo false; fi)

say "berthd restart with $started running"
stop_pid "$BERTHD_PID" 10
s=$(now_ms)
start_berthd || exit 1
restart_ms=$(( $(now_ms) - s ))
after_restart=$(running)
sleep 2
rss_after=$(berthd_rss)

say "removing them"
s=$(now_ms)
# As users do it: `docker rm -f $(docker ps -aq)`, one CLI call removing them all at once (each removal waits for
# its container's exit to be handled behind the others', which a killed process no longer bounds at 15 s).
bdocker rm -f $(bdocker ps -aq) >/dev/null 2>"$BASE/rm.err"
remove_ms=$(( $(now_ms) - s ))
left=$(bdocker ps -aq | wc -l)
[ -s "$BASE/rm.err" ] && say "removal errors ($(grep -c . "$BASE/rm.err")), the first: $(head -n 1 "$BASE/rm.err")"

jq -n --argjson n "$N" --argjson started "$started" --argjson start_ms "$start_ms" --argjson rss_berthd "$rss_berthd" \
  --argjson rss_conmon "$rss_conmon" --argjson fds "$fds" --argjson ports "$ports" --argjson neigh "$neigh" --argjson ps_ms "$ps_ms" \
  --argjson run_empty "$run_empty" --argjson run_full "$run_full" --argjson run_ref "$run_ref" --argjson stats_cold "$stats_cold" --argjson stats_warm "$stats_warm" \
  --argjson stats_cli_cpu "${stats_cli_cpu:-0}" --argjson stats_berthd_cpu "$stats_berthd_cpu" --argjson stats_burst "${stats_burst:-null}" \
  --argjson scrape_ms "$scrape_ms" --argjson scrape_cpu "$scrape_cpu" --argjson scrape_series "$scrape_series" \
  --argjson scrape_kib "$scrape_kib" --argjson scrape_valid "$scrape_valid" --argjson scrape_sampling "${scrape_sampling:-null}" \
  --argjson mounts_empty "$mounts_empty" --argjson mntns_empty "$mntns_empty" --argjson mounts_full "$mounts_full" --argjson mntns_full "$mntns_full" \
  --argjson stats_rows "$stats_rows" --argjson restart_ms "$restart_ms" --argjson after_restart "$after_restart" \
  --argjson rss_after "$rss_after" --argjson remove_ms "$remove_ms" --argjson left "$left" --arg subnet "$subnet" \
  '$ARGS.named' >"$RES/scale-berth.json"

node - "$RES/scale-berth.json" <<'JS'
const r = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const s = (ms) => (ms / 1000).toFixed(2);
const mib = (kib) => (kib / 1024).toFixed(0);
const x = (a, b) => (b ? `${(a / b).toFixed(2)}x` : 'n/a');
console.log(`\nscale: ${r.n} idle containers (\`run -d busybox sleep 1d\`, 4 clients) on the default bridge (${r.subnet}); dockerd beside: n/a (not run)`);
console.log('| work | Berth | target |');
console.log('|---|---|---|');
console.log(`| ${r.n} started | ${s(r.start_ms)} s, ${r.started} running | ${r.n} running |`);
console.log(`| berthd RSS with them / after a restart | ${mib(r.rss_berthd)} / ${mib(r.rss_after)} MiB | |`);
console.log(`| conmons' RSS | ${mib(r.rss_conmon.kib)} MiB for ${r.rss_conmon.count} (${(r.rss_conmon.kib / Math.max(1, r.rss_conmon.count) / 1024).toFixed(1)} MiB each) | |`);
console.log(`| berthd open files; bridge ports; neighbours | ${r.fds}; ${r.ports} (the kernel's cap: 1023); ${r.neigh} | |`);
console.log(`| \`docker ps\` | ${r.ps_ms} ms | |`);
console.log(`| \`run --rm --network none busybox true\` at ${r.started} / an empty berthd beside, interleaved | ${r.run_full} / ${r.run_ref} ms = ${x(r.run_full, r.run_ref)} | ≤ 1.2x |`);
console.log(`| the same at ${r.started} / on this berthd before they started | ${r.run_full} / ${r.run_empty} ms = ${x(r.run_full, r.run_empty)} (the VM's speed drifts between the two) | |`);
console.log(`| the kernel's part: \`unshare -m true\` with ${r.mounts_full} / ${r.mounts_empty} host mounts | ${r.mntns_full} / ${r.mntns_empty} ms | |`);
console.log(`| \`stats --no-stream\` (${r.stats_rows} rows): first (cold CPU base) / next | ${s(r.stats_cold)} / ${s(r.stats_warm)} s | ≤ 0.5 s |`);
console.log(`| one \`stats --no-stream\`: CPU of the docker CLI / of berthd | ${s(r.stats_cli_cpu)} / ${s(r.stats_berthd_cpu)} s | |`);
console.log(`| berthd's answer to its ${r.stats_rows} requests at once (bench/stats-burst.js); the CLI then waits its 500 ms ticker | ${r.stats_burst === null ? 'n/a' : s(r.stats_burst)} s | |`);
console.log(`| one Prometheus scrape of /metrics (${r.scrape_series} containers' series, ${r.scrape_kib} KiB; promtool: ${r.scrape_valid}): time (its sampling) / berthd CPU | ${s(r.scrape_ms)} (${r.scrape_sampling === null ? 'n/a' : s(r.scrape_sampling)}) / ${s(r.scrape_cpu)} s | |`);
console.log(`| berthd restart with them running | ${s(r.restart_ms)} s, ${r.after_restart} running after | all running |`);
console.log(`| removal (one \`rm -f\` of them all) | ${s(r.remove_ms)} s, ${r.left} left | |`);
JS
echo; echo "berthd's phases of \`run --rm --network none\` with none present, then at $started:"
paste "$RES/scale-trace-empty.txt" "$RES/scale-trace-full.txt" | sed 's/\t/  |  /'
[ "$started" -eq "$N" ] && [ "$after_restart" -eq "$started" ] && [ "$left" -eq 0 ]
