#!/usr/bin/env bash
# make bench, the network: (1) `run --rm busybox true` on the default bridge against `--network none` — the
# network's share of start-up (netns, veth, addresses, the bridge driver's work) — through Berth, and with PEERS=1
# through Debian's dockerd with its own bridge and iptables rules; (2) the throughput of a 1 GiB transfer from the
# host into a container through a published port (127.0.0.1:P, DNAT) against the same transfer to the container's
# own IP (routed over the bridge), through Berth and with PEERS=1 through dockerd (whose 127.0.0.1 goes through
# docker-proxy). Usage: bench/network.sh [RESULTS_DIR]
# Knobs: PEERS=1, BENCH_NET_RUNS (30), BENCH_WARMUP (3), BENCH_NET_ROUNDS (5), BENCH_NET_MIB (1024).
# Self-contained: its own berthd (own data root, exec root, socket, bridge); with PEERS=1 its own dockerd (own data
# root, exec root, socket, and a bridge it is given), run under `flock /run/berth-bench.lock` since other benches may
# run dockerd too. Everything either made — containers, bridges, veths, iptables rules and chains — goes at the end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
PEERS=${PEERS:-}
[ "$PEERS" = 0 ] && PEERS=
RUNS=${BENCH_NET_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
ROUNDS=${BENCH_NET_ROUNDS:-5}
MIB=${BENCH_NET_MIB:-1024}
BYTES=$((MIB * 1048576))
DOCKER=/usr/local/bin/docker
LOCK=/run/berth-bench.lock
say() { echo "bench/network: $*" >&2; }
. bench/lib.sh
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }

BASE=$(mktemp -d /var/tmp/berth-bench-network.XXXXXX)
RES=${1:-$BASE/results}
mkdir -p "$RES"
BRUN=/run/bnw-$$ BSOCK=/run/bnw-$$/berth.sock BRIDGE=bnw$$
DRUN=/run/bnwd-$$ DSOCK=/run/bnwd-$$.sock DBRIDGE=bnwd$$
export DOCKER_CONFIG=$BASE/docker-config
mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
BERTHD_PID='' DOCKERD_PID='' LOCKED=''
snapshot_netfilter "$BASE"
# dockerd and its containerd make these fixed directories; the ones that were not there go again (if empty).
note_made_paths /run/docker /run/containerd

teardown_dockerd() { teardown_bench_dockerd "$DBRIDGE"; }
cleanup() {
  trap - EXIT INT TERM
  teardown_dockerd
  if [ -n "$BERTHD_PID" ]; then
    stop_berthd "$BERTHD_PID" "$BSOCK" "$BRUN" >/dev/null 2>&1
    for p in $(pgrep -f "aardvark-dns --config $BRUN/" || true); do stop_pid "$p" 2; done
  fi
  bench/umount-under.sh "$BASE" "$BRUN"
  remove_berth_bridge "$BRIDGE"
  local left
  left=$( { iptables -S; iptables -t nat -S; } | grep -E "DOCKER|$DBRIDGE" | grep -vxF -f <(cat "$IPT_BEFORE.filter" "$IPT_BEFORE.nat"); ip -o link | grep -E ": ($BRIDGE|$DBRIDGE)[:@]|master ($BRIDGE|$DBRIDGE) ")
  [ -z "$left" ] || { say "WARNING: left behind:"; echo "$left" >&2; }
  rm -rf "$BRUN" "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bdocker() { DOCKER_HOST="unix://$BSOCK" "$DOCKER" "$@"; }
ddocker() { DOCKER_HOST="unix://$DSOCK" "$DOCKER" "$@"; }
# A /24 under 10.216.0.0/16 that the host routes nowhere, for dockerd's bridge.
free_subnet() {
  local i routes
  routes=$(ip -4 route; ip -4 -o addr)
  for i in $(seq 0 255); do grep -q "10\.216\.$i\." <<<"$routes" || { echo "10.216.$i"; return 0; }; done
  return 1
}

node dist/tools/busybox-rootfs.js >"$BASE/busybox.tar"
say "starting berthd (data $BASE/berth, exec root $BRUN, bridge $BRIDGE)"
setsid bin/berthd --data-root "$BASE/berth" --exec-root "$BRUN" -H "unix://$BSOCK" --bridge "$BRIDGE" >>"$BASE/berthd.log" 2>&1 </dev/null &
BERTHD_PID=$!
bench/await-daemon.sh berthd "$BERTHD_PID" "$BSOCK" "$BASE/berthd.log" 100 || exit 1
bdocker import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null || { say "import into berthd failed"; exit 1; }
# A container that stays, so the bridge and its per-network rules exist throughout, as on a host in use.
bdocker run -d --name bench-keep busybox sleep 3600 >/dev/null || { say "berthd: run on the bridge failed"; exit 1; }

dockerd_ok=''
if [ -n "$PEERS" ]; then
  if ! command -v dockerd >/dev/null; then
    say "dockerd: not installed: n/a"
  else
    exec 9>"$LOCK"
    say "waiting for $LOCK (another bench may be running dockerd)"
    flock 9 && LOCKED=1
    sub=$(free_subnet) || sub=''
    if [ -z "$sub" ]; then
      say "dockerd: no free 10.216.x.0/24 for its bridge: n/a"
    else
      # dockerd with its bridge and iptables as shipped; the bridge is given (a name of our own instead of docker0).
      ip link add "$DBRIDGE" type bridge && ip addr add "$sub.1/24" dev "$DBRIDGE" && ip link set "$DBRIDGE" up
      mkdir -p "$BASE/dockerd" "$DRUN"
      echo '{}' >"$BASE/dockerd.json"
      setsid /usr/sbin/dockerd --config-file "$BASE/dockerd.json" --data-root "$BASE/dockerd" --exec-root "$DRUN" \
        --pidfile "$DRUN/dockerd.pid" -H "unix://$DSOCK" --bridge "$DBRIDGE" --storage-driver=overlay2 \
        --exec-opt native.cgroupdriver=cgroupfs --log-level=warn >>"$BASE/dockerd.log" 2>&1 </dev/null &
      DOCKERD_PID=$!
      if bench/await-daemon.sh dockerd "$DOCKERD_PID" "$DSOCK" "$BASE/dockerd.log" 200 &&
        ddocker import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null &&
        ddocker run -d --name bench-keep busybox sleep 3600 >/dev/null; then
        dockerd_ok=1
      else
        say "dockerd: did not start or run: n/a ($(tail -n 2 "$BASE/dockerd.log" | tr '\n' ' '))"
      fi
    fi
  fi
fi

# ---------- (1) start-up: the default bridge against --network none ----------
say "timing \`run --rm busybox true\` on the bridge and with --network none: $WARMUP warm-up + $RUNS rounds, interleaved"
{
  contender berth-bridge "{\"DOCKER_HOST\":\"unix://$BSOCK\"}" "$DOCKER" run --rm busybox true
  contender berth-none "{\"DOCKER_HOST\":\"unix://$BSOCK\"}" "$DOCKER" run --rm --network none busybox true
  if [ -n "$dockerd_ok" ]; then
    contender dockerd-bridge "{\"DOCKER_HOST\":\"unix://$DSOCK\"}" "$DOCKER" run --rm busybox true
    contender dockerd-none "{\"DOCKER_HOST\":\"unix://$DSOCK\"}" "$DOCKER" run --rm --network none busybox true
  fi
} | jq -s --argjson runs "$RUNS" --argjson warmup "$WARMUP" '{runs: $runs, warmup: $warmup, contenders: .}' >"$BASE/net-spec.json"
node bench/timeit.js "$BASE/net-spec.json" >"$RES/network-start.json"

# ---------- (2) 1 GiB into a container: through a published port, and to its own IP ----------
SINK=(nc -ll -p 80 -e sh -c 'dd of=/dev/null bs=1M 2>/dev/null; echo done')
bport=$(free_port 0.0.0.0)
bdocker run -d --name bench-sink -p "$bport:80" busybox "${SINK[@]}" >/dev/null || { say "berthd: the sink container did not start"; exit 1; }
bip=$(bdocker inspect -f '{{.NetworkSettings.IPAddress}}' bench-sink)
targets=("berth-port 127.0.0.1 $bport" "berth-ip $bip 80")
if [ -n "$dockerd_ok" ]; then
  dport=$(free_port 0.0.0.0)
  if ddocker run -d --name bench-sink -p "$dport:80" busybox "${SINK[@]}" >/dev/null; then
    dip=$(ddocker inspect -f '{{.NetworkSettings.IPAddress}}' bench-sink)
    targets+=("dockerd-port 127.0.0.1 $dport" "dockerd-ip $dip 80")
  else
    say "dockerd: the sink container did not start: its throughput is n/a"
  fi
fi
sleep 1
say "sending $MIB MiB $ROUNDS times to each of: ${targets[*]}"
declare -A times=()
for r in $(seq 1 "$ROUNDS"); do
  for k in $(seq 0 $((${#targets[@]} - 1))); do
    read -r name host port <<<"${targets[$(((k + r) % ${#targets[@]}))]}"
    if ms=$(node bench/net-send.js "$host" "$port" "$BYTES" 2>>"$BASE/send.err"); then
      times[$name]="${times[$name]:-} $ms"
    else
      say "$name: transfer failed ($(tail -n 1 "$BASE/send.err"))"
    fi
  done
done
{
  echo '{'
  first=1
  for t in "${targets[@]}"; do
    read -r name _ _ <<<"$t"
    m=$(printf '%s\n' ${times[$name]:-} | median)
    [ -n "$first" ] || echo ','
    first=''
    printf '"%s": %s' "$name" "$m"
  done
  printf '\n}\n'
} >"$RES/network-throughput.json"
teardown_dockerd

# ---------- report ----------
node - "$RES/network-start.json" "$RES/network-throughput.json" "$BYTES" "$RUNS" "$ROUNDS" <<'JS'
const fs = require('fs');
const [start, thr] = [2, 3].map((i) => JSON.parse(fs.readFileSync(process.argv[i], 'utf8')));
const [bytes, runs, rounds] = process.argv.slice(4).map(Number);
const med = (k) => start[k]?.median;
const d = (a, b) => (a != null && b != null ? (a - b).toFixed(0) : 'n/a');
const x = (a, b) => (a && b ? (a / b).toFixed(2) + 'x' : 'n/a');
const ms = (k) => (med(k) == null ? `n/a${start[k]?.error ? ` (${start[k].error.slice(0, 60)})` : ''}` : med(k).toFixed(0));
console.log(`\nnetwork: \`run --rm busybox true\`, median of ${runs}, interleaved`);
console.log('| | bridge ms | --network none ms | the network\'s share ms | bridge / none |');
console.log('|---|---|---|---|---|');
console.log(`| Berth | ${ms('berth-bridge')} | ${ms('berth-none')} | ${d(med('berth-bridge'), med('berth-none'))} | ${x(med('berth-bridge'), med('berth-none'))} |`);
if (start['dockerd-bridge']) console.log(`| Debian's dockerd (libnetwork) | ${ms('dockerd-bridge')} | ${ms('dockerd-none')} | ${d(med('dockerd-bridge'), med('dockerd-none'))} | ${x(med('dockerd-bridge'), med('dockerd-none'))} |`);
if (med('berth-bridge') && med('dockerd-bridge')) console.log(`Berth / dockerd on the bridge: ${x(med('berth-bridge'), med('dockerd-bridge'))}`);
const mibs = (v) => (v ? (bytes / 1048576 / (v / 1000)).toFixed(0) : 'n/a');
console.log(`\nnetwork: ${(bytes / 1048576).toFixed(0)} MiB from the host into a container, median of ${rounds}`);
console.log('| | via 127.0.0.1:published port MiB/s | to the container\'s IP MiB/s | port / IP |');
console.log('|---|---|---|---|');
console.log(`| Berth (DNAT) | ${mibs(thr['berth-port'])} | ${mibs(thr['berth-ip'])} | ${x(thr['berth-ip'], thr['berth-port'])} |`);
if ('dockerd-port' in thr) console.log(`| Debian's dockerd (docker-proxy) | ${mibs(thr['dockerd-port'])} | ${mibs(thr['dockerd-ip'])} | ${x(thr['dockerd-ip'], thr['dockerd-port'])} |`);
JS
