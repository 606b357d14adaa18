#!/usr/bin/env bash
# make bench: times `run --rm busybox true` through Berth beside a raw-crun floor (and Debian's dockerd and podman
# with PEERS=1), then `exec c true` into a running container, then daemon memory fresh and with idle containers, and
# the daemon's CPU while `docker stats` streams all those idle containers; prints tables and ratios.
# Everything it makes (daemons, containers, mounts, dirs, cgroups) is removed at exit, failed or not.
# Knobs: PEERS=1, SCALE=1 (adds bench/scale.sh, 1,000 containers), BENCH_RUNS (40), BENCH_WARMUP (5), BENCH_IDLE (100), BENCH_EXEC_RUNS (BENCH_RUNS, at least 30),
# BENCH_STATS_SECONDS (20), BENCH_STATS_ROUNDS (2); the dashboard's BENCH_DASH_* (bench/dashboard.sh). See docs/decisions/bench-method.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=${PEERS:-}
[ "$PEERS" = 0 ] && PEERS=
RUNS=${BENCH_RUNS:-40}
WARMUP=${BENCH_WARMUP:-5}
IDLE=${BENCH_IDLE:-100}
EXEC_RUNS=${BENCH_EXEC_RUNS:-$(( RUNS > 30 ? RUNS : 30 ))}
STATS_SECONDS=${BENCH_STATS_SECONDS:-20}
STATS_ROUNDS=${BENCH_STATS_ROUNDS:-2}
STATS_SETTLE=5   # seconds between starting `docker stats` and opening the CPU window
DOCKER=/usr/local/bin/docker   # the docker CLI v28: the client for Berth and for dockerd alike
RUN_ARGS=(run --rm --network none busybox true)

[ "$(id -u)" = 0 ] || { echo "make bench needs root (it mounts overlays and runs containers)" >&2; exit 1; }
say() { echo "bench: $*" >&2; }
. bench/lib.sh

scripts/deps.sh jq curl
if [ -n "$PEERS" ]; then
  say "PEERS=1: Debian's docker.io and podman (installed if missing)"
  scripts/deps.sh docker.io podman || { say "could not install docker.io/podman: the peers will be n/a"; }
  # docker.io ships /usr/bin/docker (20.10); the v28 CLI in /usr/local/bin must be the one used, and untouched.
  "$DOCKER" --version | grep -q 'version 2[89]\.' || { say "$DOCKER is not the docker CLI v28 any more"; exit 1; }
fi

BASE=$(mktemp -d /var/tmp/berth-bench.XXXXXX)
RES=$BASE/results
mkdir -p "$RES/rss" "$RES/idle" "$RES/cpu"
BRUN=/run/berth-bench-$$          # berthd's exec root; short, for conmon's socket paths
BSOCK=$BRUN/berth.sock
BRIDGE=bbe$$                      # berthd's own bridge (never the production daemon's berth0); at most 15 chars
DRUN=/run/bench-dockerd           # dockerd's exec root (its containerd's state lives inside)
DSOCK=/run/bench-dockerd.sock
PRUN=/run/bench-podman-$$         # podman's run root and tmpdir
TAR=$BASE/busybox.tar
FLOOR=$BASE/floor
export DOCKER_CONFIG=$BASE/docker-config   # keep the CLI away from ~/.docker (podman reads it too, so it must exist)
mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
PODMAN=(podman --root "$BASE/podman/root" --runroot "$PRUN/run" --tmpdir "$PRUN/tmp"
  --cgroup-manager cgroupfs --events-backend file --storage-driver overlay)
# Root here lacks CAP_SYS_RESOURCE: podman's default rlimits (raised from the host's) cannot be set.
PODMAN_RUN=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
BERTHD_PID='' DOCKERD_PID='' PODMAN_OK=''
LOCK=/run/berth-bench.lock LOCKED=''   # held while our dockerd runs, as bench/build.sh and bench/network.sh do
note() { echo "$*" >>"$RES/notes.txt"; say "$*"; }

# ---------- what the host had before, so teardown removes only what the bench made ----------
# dockerd's shims and podman's crun use fixed paths under /run; the engines make cgroup parents of their own.
# Only the peers make these, and teardown removes only the empty directories among them (never a file), since
# another user of crun's default root (/run/crun) could have come along meanwhile.
HOST_PATHS=() CGROUP_PARENTS=()
if [ -n "$PEERS" ]; then
  HOST_PATHS=(/run/docker /run/containerd /run/containers /run/crun)
  CGROUP_PARENTS=(docker libpod_parent)
fi
note_made_paths "${HOST_PATHS[@]}"
made_cgroups=()
for h in /sys/fs/cgroup/*/; do
  for c in "${CGROUP_PARENTS[@]}"; do [ -d "$h$c" ] || [ ! -e "$h/cgroup.procs" ] || made_cgroups+=("$h$c"); done
done
net_state() { { iptables -S; iptables -t nat -S; ip -o link show; } 2>/dev/null | sed 's/^[0-9]*: //' | sort; }
NET_BEFORE=$(net_state)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  say "cleaning up"
  if [ -n "$PODMAN_OK" ]; then timeout 120 "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1; fi
  stop_dockerd "$DOCKERD_PID" "$DSOCK" "$DRUN"
  if [ -n "$LOCKED" ]; then flock -u 9; LOCKED=''; fi
  if [ -n "$BERTHD_PID" ]; then
    # A berthd that died during the bench leaves its log where the next person can read it.
    if ! kill -0 "$BERTHD_PID" 2>/dev/null && [ -f "$BASE/berthd.log" ]; then
      cp "$BASE/berthd.log" "/var/tmp/berth-bench-berthd-died-$$.log" && say "berthd died during the bench: its log is /var/tmp/berth-bench-berthd-died-$$.log"
    fi
    stop_berthd "$BERTHD_PID" "$BSOCK" "$BRUN"
    for id in $(crun --root="$BRUN/runtime/crun" list -q 2>/dev/null); do crun --root="$BRUN/runtime/crun" delete -f "$id"; done
  fi
  for s in state state-plain; do crun --root="$FLOOR/$s" delete -f bench-floor >/dev/null 2>&1; done
  bench/umount-under.sh "$BASE" "$BRUN" "$DRUN" "$PRUN"
  remove_berth_bridge "$BRIDGE"
  rm -rf "$BASE" "$BRUN" "$DRUN" "$DSOCK" "$PRUN"
  remove_made_paths
  for c in "${made_cgroups[@]}"; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  if [ "$(net_state)" != "$NET_BEFORE" ]; then
    say "WARNING: links or iptables rules differ from before the bench:"
    diff <(echo "$NET_BEFORE") <(net_state) >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- Berth ----------
say "building the busybox rootfs tar (Debian's busybox-static), the same bytes for every engine"
node dist/tools/busybox-rootfs.js >"$TAR"
say "starting berthd (data $BASE/berth, exec root $BRUN, bridge $BRIDGE)"
# BERTH_TRACE=1: berthd logs each container's and exec's phase timings; the report prints their medians.
BERTHD_PID=$(BERTH_TRACE=1 bench/start-berthd.sh "$BASE/berth/data" "$BRUN" "$BASE/berthd.log" "$BRIDGE") || { BERTHD_PID=${BERTHD_PID:-}; exit 1; }
bdocker() { DOCKER_HOST="unix://$BSOCK" "$DOCKER" "$@"; }
bdocker import --change 'CMD ["sh"]' "$TAR" busybox:latest >/dev/null

# The floor's bundle is Berth's own config.json for this very command, pointed at a rootfs of its own.
say "making the raw-crun floor's bundle from Berth's spec"
floor_ok=''
# From berthd's second container: its spec carries the seccomp filter crun compiled for the first (the
# run.oci.seccomp_bpf_data annotation, runtime/seccomp-bpf-cache.ts), as every later run's does; the floor pays no compile either.
bdocker run --rm --network none busybox true >/dev/null || true
if cid=$(bdocker run -d --network none busybox true) && bdocker wait "$cid" >/dev/null &&
  node bench/floor-bundle.js "$BASE/berth/data/containers/$cid" "$TAR" "$FLOOR" && bench/floor-run.sh "$FLOOR"; then
  floor_ok=1
else
  note "floor: could not make the bundle from Berth's container $cid: the floor is n/a"
fi
[ -n "${cid:-}" ] && bdocker rm -f "$cid" >/dev/null 2>&1 || true

# ---------- peers ----------
ddocker() { DOCKER_HOST="unix://$DSOCK" "$DOCKER" "$@"; }
start_dockerd() {
  command -v dockerd >/dev/null || { note "dockerd: not installed: n/a"; return 1; }
  # Other benches (bench/build.sh, bench/network.sh, another make bench) run dockerds of their own on the same fixed
  # paths: one at a time, under the lock, until ours is stopped (before the sub-benches, which take it themselves).
  exec 9>"$LOCK"
  say "dockerd: waiting for $LOCK (other benches use dockerd too)"
  flock 9 && LOCKED=1
  if curl -sf --unix-socket "$DSOCK" http://docker/_ping >/dev/null 2>&1; then note "dockerd: $DSOCK already answers (another bench?): n/a"; return 1; fi
  rm -f "$DSOCK"
  say "starting Debian's dockerd (data $BASE/dockerd, exec root $DRUN, no bridge, no iptables)"
  DOCKERD_PID=$(bench/start-dockerd.sh "$BASE/dockerd" "$DRUN" "$DSOCK" "$BASE/dockerd.log" 9>&-) || { note "dockerd: did not start: n/a ($(tail -n 1 "$BASE/dockerd.log"))"; return 1; }
  ddocker import --change 'CMD ["sh"]' "$TAR" busybox:latest >/dev/null || { note "dockerd: import failed: n/a"; return 1; }
  ddocker "${RUN_ARGS[@]}" >/dev/null 2>"$BASE/dockerd-run.err" || { note "dockerd: run failed: n/a ($(tail -n 1 "$BASE/dockerd-run.err"))"; return 1; }
}
start_podman() {
  command -v podman >/dev/null || { note "podman: not installed: n/a"; return 1; }
  mkdir -p "$BASE/podman" "$PRUN"
  PODMAN_OK=1   # from here on, teardown asks podman to remove its containers
  "${PODMAN[@]}" import --change 'CMD ["sh"]' "$TAR" busybox:latest >/dev/null 2>"$BASE/podman.err" || { note "podman: import failed: n/a ($(tail -n 1 "$BASE/podman.err"))"; return 1; }
  "${PODMAN[@]}" run --rm --network none "${PODMAN_RUN[@]}" busybox true >/dev/null 2>"$BASE/podman.err" || { note "podman: run failed: n/a ($(tail -n 1 "$BASE/podman.err"))"; return 1; }
}
dockerd_ok='' podman_ok=''
if [ -n "$PEERS" ]; then
  start_dockerd && dockerd_ok=1 || true
  start_podman && podman_ok=1 || true
fi

# ---------- memory, fresh ----------
rss_of() { # label phase rss.js-args...
  local label=$1 phase=$2; shift 2
  node bench/rss.js "$@" >"$RES/rss/$label-$phase.json"
}
measure_rss() { # phase
  sleep 2   # let the daemons settle (timers, GC) before reading
  rss_of berthd "$1" --pid "$BERTHD_PID"
  rss_of conmon "$1" --exe conmon --cmdline-has "$BRUN"
  if [ -n "$dockerd_ok" ]; then
    rss_of dockerd "$1" --pid "$DOCKERD_PID"
    rss_of containerd "$1" --exe containerd --cmdline-has "$DRUN"
    rss_of shim "$1" --exe containerd-shim-runc-v2 --cmdline-has "$DRUN"
  fi
}
measure_rss fresh

# ---------- timing: every contender in every round ----------
say "timing \`${RUN_ARGS[*]}\`: $WARMUP warm-up + $RUNS rounds, contenders interleaved"
trace_from=$(wc -l <"$BASE/berthd.log")
{
  contender berth-docker "{\"DOCKER_HOST\":\"unix://$BSOCK\"}" "$DOCKER" "${RUN_ARGS[@]}"
  contender berth-cli "{\"BERTH_HOST\":\"unix://$BSOCK\"}" "$ROOT/bin/berth" "${RUN_ARGS[@]}"
  # The client's own share: the v28 CLI starting and making two trivial API calls (/_ping, /version) to berthd.
  contender docker-cli "{\"DOCKER_HOST\":\"unix://$BSOCK\"}" "$DOCKER" version
  [ -n "$dockerd_ok" ] && contender dockerd "{\"DOCKER_HOST\":\"unix://$DSOCK\"}" "$DOCKER" "${RUN_ARGS[@]}"
  [ -n "$podman_ok" ] && contender podman '{}' "${PODMAN[@]}" run --rm --network none "${PODMAN_RUN[@]}" busybox true
  if [ -n "$floor_ok" ]; then
    contender floor '{}' "$ROOT/bench/floor-run.sh" "$FLOOR"
    contender crun-only '{}' "$FLOOR/bin/crun" --root="$FLOOR/state-plain" run --bundle "$FLOOR/bundle-plain" bench-floor
  fi
} | jq -s --argjson runs "$RUNS" --argjson warmup "$WARMUP" '{runs: $runs, warmup: $warmup, contenders: .}' >"$BASE/timing-spec.json"
node bench/timeit.js "$BASE/timing-spec.json" >"$RES/timing.json"
node bench/trace-table.js "$BASE/berthd.log" container "$trace_from" >"$RES/trace-run.txt" || true
measure_rss after

# ---------- exec into a running container: every contender in every round ----------
# One long-running container per engine, started here and removed before the idle step (so it is not counted there).
say "starting one \`sleep 3600\` container per engine for \`exec\`"
exec_ok_berth='' exec_ok_dockerd='' exec_ok_podman=''
bdocker run -d --name bench-exec --network none busybox sleep 3600 >/dev/null 2>"$BASE/exec.err" && exec_ok_berth=1 ||
  note "Berth: could not start the exec container: exec is n/a ($(tail -n 1 "$BASE/exec.err"))"
if [ -n "$dockerd_ok" ]; then
  ddocker run -d --name bench-exec --network none busybox sleep 3600 >/dev/null 2>"$BASE/exec.err" && exec_ok_dockerd=1 ||
    note "dockerd: could not start the exec container: exec is n/a ($(tail -n 1 "$BASE/exec.err"))"
fi
if [ -n "$podman_ok" ]; then
  "${PODMAN[@]}" run -d --name bench-exec --network none "${PODMAN_RUN[@]}" busybox sleep 3600 >/dev/null 2>"$BASE/exec.err" && exec_ok_podman=1 ||
    note "podman: could not start the exec container: exec is n/a ($(tail -n 1 "$BASE/exec.err"))"
fi
EXEC_ARGS=(exec bench-exec true)
say "timing \`${EXEC_ARGS[*]}\`: $WARMUP warm-up + $EXEC_RUNS rounds, contenders interleaved"
{
  if [ -n "$exec_ok_berth" ]; then
    contender berth-docker "{\"DOCKER_HOST\":\"unix://$BSOCK\"}" "$DOCKER" "${EXEC_ARGS[@]}"
    contender berth-cli "{\"BERTH_HOST\":\"unix://$BSOCK\"}" "$ROOT/bin/berth" "${EXEC_ARGS[@]}"
  fi
  [ -n "$exec_ok_dockerd" ] && contender dockerd "{\"DOCKER_HOST\":\"unix://$DSOCK\"}" "$DOCKER" "${EXEC_ARGS[@]}"
  [ -n "$exec_ok_podman" ] && contender podman '{}' "${PODMAN[@]}" "${EXEC_ARGS[@]}"
  true
} | jq -s --argjson runs "$EXEC_RUNS" --argjson warmup "$WARMUP" '{runs: $runs, warmup: $warmup, contenders: .}' >"$BASE/exec-spec.json"
if [ "$(jq '.contenders | length' "$BASE/exec-spec.json")" -gt 0 ]; then
  trace_from=$(wc -l <"$BASE/berthd.log")
  node bench/timeit.js "$BASE/exec-spec.json" >"$RES/exec.json"
  node bench/trace-table.js "$BASE/berthd.log" exec "$trace_from" >"$RES/trace-exec.txt" || true
fi
bdocker rm -f bench-exec >/dev/null 2>&1 || true
[ -n "$exec_ok_dockerd" ] && { ddocker rm -f bench-exec >/dev/null 2>&1 || true; }
[ -n "$exec_ok_podman" ] && { "${PODMAN[@]}" rm -f -t 0 bench-exec >/dev/null 2>&1 || true; }

cp -r "$RES" /tmp/bench-core-res
cp "$BASE/berthd.log" /tmp/bench-core-res/
