#!/usr/bin/env bash
# make bench, the cluster: `docker service create -d --replicas R busybox sleep 1d` until R tasks run, on a swarm of 3
# berthd nodes (all managers, each in its own network namespace) and on 1; on the 3 nodes also kill -9 of one node's
# berthd and etcd member (one running tasks, not the leader) until R run again on the others (bench/cluster.js does
# both); with PEERS=1 the same service on Debian's dockerd 20.10 in swarm mode on one node, beside. Medians of
# BENCH_CLUSTER_ROUNDS rounds, and the ratio Berth / dockerd on one node.
# Usage: bench/cluster.sh [RESULTS_DIR]     Knobs: PEERS=1, BENCH_CLUSTER_ROUNDS (3), BENCH_CLUSTER_REPLICAS (30).
# Self-contained: its nodes (netns, veths, a bridge) come from the test harness and go at the end; with PEERS=1 its own
# dockerd (own data root, exec root, socket, a bridge it is given) under `flock /run/berth-bench.lock`, which leaves
# the swarm and is stopped at the end, its bridges, docker_gwbridge and iptables rules removed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PEERS=${PEERS:-}
[ "$PEERS" = 0 ] && PEERS=
ROUNDS=${BENCH_CLUSTER_ROUNDS:-3}
REPLICAS=${BENCH_CLUSTER_REPLICAS:-30}
DOCKER=/usr/local/bin/docker
LOCK=/run/berth-bench.lock
say() { echo "bench/cluster: $*" >&2; }
. bench/lib.sh
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }
[ -f dist-test/test/helpers/cluster.js ] || { say "dist-test/test/helpers/cluster.js is missing: run make build"; exit 1; }

BASE=$(mktemp -d /var/tmp/berth-bench-cluster.XXXXXX)
RES=${1:-$BASE/results}
mkdir -p "$RES"
DRUN=/run/bcld-$$ DSOCK=/run/bcld-$$.sock DBRIDGE=bcld$$
export DOCKER_CONFIG=$BASE/docker-config
mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
DOCKERD_PID='' LOCKED='' GWBRIDGE_BEFORE=''
[ -e /sys/class/net/docker_gwbridge ] && GWBRIDGE_BEFORE=1
snapshot_netfilter "$BASE"
note_made_paths /run/docker /run/containerd

teardown_dockerd() {
  [ -n "$DOCKERD_PID" ] || return 0
  DOCKER_HOST="unix://$DSOCK" timeout 60 "$DOCKER" swarm leave --force >/dev/null 2>&1
  # docker_gwbridge is removed only if dockerd made it (it was not there before).
  if [ -z "$GWBRIDGE_BEFORE" ]; then teardown_bench_dockerd "$DBRIDGE" docker_gwbridge
  else teardown_bench_dockerd "$DBRIDGE"; remove_dockerd_rules docker_gwbridge; fi
}
cleanup() {
  trap - EXIT INT TERM
  teardown_dockerd
  rm -rf "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---------- Berth: 3 nodes (with failover), then 1 ----------
failed=()
for n in 3 1; do
  say "Berth on $n node(s): $ROUNDS rounds of $REPLICAS replicas"
  node bench/cluster.js "$n" "$REPLICAS" "$ROUNDS" >"$RES/cluster-berth$n.json" 2>"$BASE/berth$n.log" || {
    failed+=("berth$n"); say "Berth on $n node(s) failed: $(tail -n 3 "$BASE/berth$n.log" | tr '\n' ' ')"; rm -f "$RES/cluster-berth$n.json"; }
done

# ---------- dockerd 20.10 in swarm mode, one node ----------
dockerd_rounds() {
  local r t0 t1 name times=()
  export DOCKER_HOST="unix://$DSOCK"
  "$DOCKER" swarm init --advertise-addr 127.0.0.1 >/dev/null || return 1
  for r in $(seq 1 "$ROUNDS"); do
    name=bench$r
    t0=$(now_ms)
    "$DOCKER" service create -d --no-resolve-image --stop-grace-period 1s --name "$name" --replicas "$REPLICAS" busybox sleep 1d >/dev/null || return 1
    # the same probe as bench/cluster.js: tasks desired and observed running, through the API, every 100 ms
    until [ "$(curl -s --unix-socket "$DSOCK" "http://d/tasks?filters=%7B%22service%22%3A%5B%22$name%22%5D%7D" |
      jq '[.[] | select(.DesiredState == "running" and .Status.State == "running")] | length')" = "$REPLICAS" ]; do
      [ $(( $(now_ms) - t0 )) -lt 180000 ] || { say "dockerd: $name did not converge"; return 1; }
      sleep 0.1
    done
    t1=$(now_ms)
    times+=("$((t1 - t0))")
    say "dockerd round $r: $REPLICAS running $((t1 - t0)) ms after service create"
    "$DOCKER" service rm "$name" >/dev/null
    until [ -z "$("$DOCKER" ps -aq --filter "label=com.docker.swarm.service.name=$name")" ]; do sleep 0.5; done
  done
  printf '{"nodes": 1, "replicas": %s, "converge": [%s], "failover": []}\n' "$REPLICAS" "$(IFS=,; echo "${times[*]}")" >"$RES/cluster-dockerd.json"
}
if [ -n "$PEERS" ]; then
  if ! command -v dockerd >/dev/null; then
    say "dockerd: not installed: n/a"
  else
    exec 9>"$LOCK"
    say "waiting for $LOCK (another bench may be running dockerd)"
    flock 9 && LOCKED=1
    # A /24 under 10.217.0.0/16 that the host routes nowhere, for dockerd's bridge.
    subnet=''
    for i in $(seq 1 250); do ip route show | grep -q "^10\.217\.$i\." || { subnet=10.217.$i; break; }; done
    if [ -n "$subnet" ]; then
      ip link add "$DBRIDGE" type bridge && ip addr add "$subnet.1/24" dev "$DBRIDGE" && ip link set "$DBRIDGE" up
      mkdir -p "$BASE/dockerd" "$DRUN"
      echo '{}' >"$BASE/dockerd.json"
      # its bridge and iptables as shipped (the tasks get the default network, as Berth's do); the bridge is given
      setsid /usr/sbin/dockerd --config-file "$BASE/dockerd.json" --data-root "$BASE/dockerd" --exec-root "$DRUN" \
        --pidfile "$DRUN/dockerd.pid" -H "unix://$DSOCK" --bridge "$DBRIDGE" --storage-driver=overlay2 \
        --exec-opt native.cgroupdriver=cgroupfs --log-level=warn >>"$BASE/dockerd.log" 2>&1 </dev/null 9>&- &
      DOCKERD_PID=$!
      if bench/await-daemon.sh dockerd "$DOCKERD_PID" "$DSOCK" "$BASE/dockerd.log" 200 &&
        node dist/tools/busybox-rootfs.js >"$BASE/busybox.tar" &&
        DOCKER_HOST="unix://$DSOCK" "$DOCKER" import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null; then
        say "dockerd 20.10 in swarm mode: $ROUNDS rounds of $REPLICAS replicas"
        dockerd_rounds || { failed+=(dockerd); rm -f "$RES/cluster-dockerd.json"; say "dockerd: failed: n/a ($(tail -n 2 "$BASE/dockerd.log" | tr '\n' ' '))"; }
      else
        say "dockerd: did not start: n/a ($(tail -n 2 "$BASE/dockerd.log" | tr '\n' ' '))"
      fi
    else
      say "dockerd: no free 10.217.x.0/24 for its bridge: n/a"
    fi
    teardown_dockerd
  fi
fi

# ---------- report ----------
node - "$RES" "$REPLICAS" <<'JS'
const fs = require('fs');
const [dir, replicas] = process.argv.slice(2);
const read = (n) => { try { return JSON.parse(fs.readFileSync(`${dir}/cluster-${n}.json`, 'utf8')); } catch { return undefined; } };
const median = (a) => { if (!a?.length) return undefined; const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const b3 = read('berth3'), b1 = read('berth1'), d = read('dockerd');
const s = (ms) => (ms === undefined ? 'n/a' : (ms / 1000).toFixed(2));
const all = (r, k) => (r?.[k]?.length ? ` (${r[k].map((x) => (x / 1000).toFixed(1)).join(', ')})` : '');
const x = (a, b) => (a !== undefined && b ? `${(a / b).toFixed(2)}x` : 'n/a');
console.log(`\ncluster: \`docker service create -d --replicas ${replicas} busybox sleep 1d\` until all run; kill -9 of a node's berthd+etcd until all run again; medians, s (every round)`);
console.log('| | Berth, 3 managers | Berth, 1 node | dockerd 20.10, 1 node | Berth / dockerd, 1 node | target |');
console.log('|---|---|---|---|---|---|');
console.log(`| ${replicas} replicas running | ${s(median(b3?.converge))}${all(b3, 'converge')} | ${s(median(b1?.converge))}${all(b1, 'converge')} | ${s(median(d?.converge))}${all(d, 'converge')} | ${x(median(b1?.converge), median(d?.converge))} | ≤ 0.5x |`);
console.log(`| kill -9 of a node → all running again | ${s(median(b3?.failover))}${all(b3, 'failover')} | | | | < 10 s |`);
JS
if [ ${#failed[@]} -gt 0 ]; then say "failed: ${failed[*]}"; exit 1; fi
