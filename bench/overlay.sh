#!/usr/bin/env bash
# make bench, cluster networking (bench/overlay.js): throughput between two tasks on different nodes over the overlay
# against the same two nodes' namespaces over the underlay directly (target ≥ 0.8x), through the routing mesh against
# straight to the task (target ≥ 0.7x), and the time to resolve a service's name. Berth only: Debian's dockerd 20.10
# needs IPVS for VIPs and the mesh, which this kernel lacks. Knobs: BENCH_OVERLAY_MIB (512), BENCH_OVERLAY_ROUNDS (3).
# Usage: bench/overlay.sh [RESULTS_DIR]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
MIB=${BENCH_OVERLAY_MIB:-512}
ROUNDS=${BENCH_OVERLAY_ROUNDS:-3}
say() { echo "bench/overlay: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }
[ -f dist-test/test/helpers/cluster.js ] || { say "dist-test/test/helpers/cluster.js is missing: run make build"; exit 1; }
RES=${1:-$(mktemp -d /var/tmp/berth-bench-overlay.XXXXXX)}
mkdir -p "$RES"
node bench/overlay.js $((MIB * 1024 * 1024)) "$ROUNDS" >"$RES/overlay.json" || exit 1
jq -r --arg mib "$MIB" '
  "## Cluster networking (2 nodes, \($mib) MiB per transfer, median of \(.rounds))",
  "",
  "| path | ms | Mbit/s |", "|---|---|---|",
  (.ms | to_entries[] | "| \(.key) | \(.value) | \($ARGS.named.mbps[.key] // "") |"),
  "",
  "overlay / underlay: \(.ratios.overlayVsUnderlay)x (target ≥ 0.8x); mesh / straight to the task: \(.ratios.meshVsStraight)x (target ≥ 0.7x)",
  "resolving a service name from a task: \(.resolveMs) ms (median of 200)",
  ""' --argjson mbps "$(jq .mbps "$RES/overlay.json")" "$RES/overlay.json"
