#!/usr/bin/env bash
# make bench, the builder: a 20-step Dockerfile (8 RUN, 3 COPY) built cold, rebuilt fully cached, and rebuilt after
# one copied file changed, through the docker CLI v28's classic builder (DOCKER_BUILDKIT=0): Berth, and with PEERS=1
# Debian's dockerd beside it. Prints the medians and the ratios (dockerd's time / Berth's: above 1, Berth is faster).
# Usage: bench/build.sh [RESULTS_DIR]     Knobs: PEERS=1, BENCH_BUILD_RUNS (5).
# Self-contained: its own berthd (own data root, exec root, socket and bridge), its own dockerd under
# flock /run/berth-bench.lock (other benches start dockerds of their own), everything removed at the end.
# RUN steps use --network none on both sides: the bench's dockerd has no bridge (bench/start-dockerd.sh).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PEERS=${PEERS:-}
[ "$PEERS" = 0 ] && PEERS=
RUNS=${BENCH_BUILD_RUNS:-5}
DOCKER=/usr/local/bin/docker
export DOCKER_BUILDKIT=0
say() { echo "bench/build: $*" >&2; }
. bench/lib.sh
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }

BASE=$(mktemp -d /var/tmp/berth-bench-build.XXXXXX)
RES=${1:-$BASE/results}
mkdir -p "$RES"
BRUN=/run/bbb-$$ BSOCK=/run/bbb-$$/berth.sock BRIDGE=bbb$$
DRUN=/run/bench-dockerd-build DSOCK=/run/bench-dockerd-build.sock
export DOCKER_CONFIG=$BASE/docker-config
mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
BERTHD_PID='' DOCKERD_PID='' KEEP=''
note_made_paths /run/docker /run/containerd

cleanup() {
  trap - EXIT INT TERM
  stop_dockerd "$DOCKERD_PID" "$DSOCK" "$DRUN" >/dev/null 2>&1
  stop_berthd "$BERTHD_PID" "$BSOCK" "$BRUN" >/dev/null 2>&1
  bench/umount-under.sh "$BASE" "$BRUN" "$DRUN"
  remove_berth_bridge "$BRIDGE"
  rm -rf "$BRUN" "$DRUN" "$DSOCK"
  if [ -n "${KEEP:-}" ]; then say "kept $BASE for a look (logs)"; else rm -rf "$BASE"; fi
  remove_made_paths
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- the context: 20 steps; src/ holds the file that changes ----------
CTX=$BASE/ctx
mkdir -p "$CTX/deps" "$CTX/src"
for i in $(seq -w 1 40); do head -c 4096 /dev/urandom | base64 >"$CTX/deps/dep$i.txt"; done
for i in $(seq -w 1 40); do echo "source file $i" >"$CTX/src/file$i.txt"; done
echo '{"mode":"bench"}' >"$CTX/config.json"
cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ENV APP=/app
WORKDIR /app
COPY deps/ /app/deps/
RUN cat deps/* | wc -c > /app/deps.size
LABEL org.example.bench=build
ARG LEVEL=1
RUN mkdir -p /app/data && seq 1 20000 > /app/data/seq
COPY src/ /app/src/
RUN ls -R /app/src > /app/src.list
ENV MODE=prod
RUN echo "$MODE $LEVEL" > /app/mode
COPY config.json /app/
RUN wc -c /app/config.json > /app/config.size
EXPOSE 8080
RUN sha256sum /app/src/* > /app/src.sums
RUN find /app -type f | sort > /app/manifest
RUN du -s /app > /app/du
HEALTHCHECK CMD true
CMD ["sh"]
EOF
node dist/tools/busybox-rootfs.js >"$BASE/busybox.tar" || { say "cannot make the busybox rootfs (make build first)"; exit 1; }

# ---------- timing ----------
ms() { # command...: runs it, prints its wall time in ms (nothing and status 1 when it fails)
  local t0 t1
  t0=$(date +%s%N)
  "$@" >>"$BASE/out.log" 2>&1 || return 1
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

# bench_engine NAME HOST: fills $RES/build-NAME.json with the medians of the three cases
bench_engine() {
  local name=$1 host=$2 first=() cached=() changed=() t i
  local d=(env DOCKER_HOST="$host" "$DOCKER")
  "${d[@]}" import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null || { say "$name: import busybox failed"; return 1; }
  local build=("${d[@]}" build --network none -t bench/build "$CTX")
  "${build[@]}" >>"$BASE/out.log" 2>&1 || { say "$name: the build failed (see $BASE/out.log)"; KEEP=1; return 1; }
  for i in $(seq 1 "$RUNS"); do
    # Cold: the image and its untagged parents removed, the cache index emptied (the base image stays).
    "${d[@]}" rmi -f bench/build >/dev/null 2>&1
    "${d[@]}" builder prune -a -f >/dev/null 2>&1
    t=$(ms "${build[@]}") && first+=("$t")
    t=$(ms "${build[@]}") && cached+=("$t")
    echo "changed in round $i of $name $RANDOM" >"$CTX/src/file20.txt"
    t=$(ms "${build[@]}") && changed+=("$t")
    say "  $name round $i: first ${first[-1]:-?} ms, cached ${cached[-1]:-?} ms, one file changed ${changed[-1]:-?} ms"
  done
  printf '{"first": %s, "cached": %s, "changed": %s, "runs": %s}\n' \
    "$(printf '%s\n' "${first[@]}" | median int)" "$(printf '%s\n' "${cached[@]}" | median int)" \
    "$(printf '%s\n' "${changed[@]}" | median int)" "$RUNS" >"$RES/build-$name.json"
}

say "Berth: its own berthd"
mkdir -p "$BRUN"
setsid bin/berthd --data-root "$BASE/berth" --exec-root "$BRUN" --bridge "$BRIDGE" >>"$BASE/berthd.log" 2>&1 </dev/null &
BERTHD_PID=$!
bench/await-daemon.sh berthd "$BERTHD_PID" "$BSOCK" "$BASE/berthd.log" 100 || exit 1
bench_engine berth "unix://$BSOCK"

if [ -n "$PEERS" ]; then
  scripts/deps.sh docker.io >/dev/null 2>&1 || say "could not install docker.io: dockerd is n/a"
  if command -v dockerd >/dev/null; then
    exec 9>/run/berth-bench.lock
    say "dockerd: waiting for /run/berth-bench.lock (other benches use dockerd too)"
    flock 9
    DOCKERD_PID=$(bench/start-dockerd.sh "$BASE/dockerd" "$DRUN" "$DSOCK" "$BASE/dockerd.log") || { say "dockerd did not start"; DOCKERD_PID=${DOCKERD_PID%%[^0-9]*}; }
    DOCKERD_PID=$(echo "$DOCKERD_PID" | head -n 1)
    curl -sf --unix-socket "$DSOCK" http://d/_ping >/dev/null && bench_engine dockerd "unix://$DSOCK"
  fi
fi

# ---------- report ----------
node - "$RES" <<'EOF'
const fs = require('fs');
const dir = process.argv[2];
const read = (n) => { try { return JSON.parse(fs.readFileSync(`${dir}/build-${n}.json`, 'utf8')); } catch { return undefined; } };
const b = read('berth'), d = read('dockerd');
const rows = [['first build', 'first'], ['cached rebuild', 'cached'], ['one file changed', 'changed']];
const fmt = (v) => (v == null ? 'n/a' : `${v} ms`);
console.log(`\nbuild of a 20-step Dockerfile (classic builder, median of ${b?.runs ?? '?'}; ratio = dockerd / Berth, above 1 Berth is faster)`);
console.log(`${'case'.padEnd(20)}${'Berth'.padStart(12)}${'dockerd'.padStart(12)}${'ratio'.padStart(9)}`);
const out = {};
for (const [label, k] of rows) {
  const ratio = b?.[k] && d?.[k] ? d[k] / b[k] : undefined;
  out[k] = { berth: b?.[k] ?? null, dockerd: d?.[k] ?? null, ratio: ratio ?? null };
  console.log(`${label.padEnd(20)}${fmt(b?.[k]).padStart(12)}${fmt(d?.[k]).padStart(12)}${(ratio ? `${ratio.toFixed(2)}x` : 'n/a').padStart(9)}`);
}
fs.writeFileSync(`${dir}/build.json`, JSON.stringify(out, null, 2) + '\n');
EOF
