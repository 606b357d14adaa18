# What the bench scripts share: sourced (from the repository's root) by scripts/bench.sh and the sub-benches (bench/*.sh),
# The caller sets DOCKER (the docker CLI v28) and say (its messages on stderr).

# Stops a process we started: SIGTERM, then SIGKILL after `secs` seconds. A zombie counts as stopped.
stop_pid() { # pid secs
  local pid=$1 secs=$2
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null && return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# PIDs of processes whose executable is named `exe` and whose command line holds `text`: the supervisors our own
# daemons started (conmon, containerd, containerd-shim-runc-v2). By the executable's full name (bench/procs.js),
# not /proc/PID/comm, which the kernel cuts to 15 characters.
pids_of() { # exe text
  node -e 'const { parseSelectors, selectPids } = require("./bench/procs");
for (const pid of selectPids(parseSelectors(process.argv.slice(1)))) console.log(pid);' -- --exe "$1" --cmdline-has "$2"
}

# Stops a berthd the bench started: its containers removed while it still answers, then berthd, then the conmons
# left under its exec root.
stop_berthd() { # pid socket exec-root
  local pid=$1 sock=$2 run=$3 p
  [ -n "$pid" ] || return 0
  # A removal that times out (dockerd took over 180 s for 100 idle containers once, 2026-12-06) must not end the
  # bench under `set -e`: the daemon is stopped below either way.
  if kill -0 "$pid" 2>/dev/null; then bench/remove-all.sh env DOCKER_HOST="unix://$sock" "$DOCKER" || say "dockerd: removing its containers before stopping it failed"; fi
  stop_pid "$pid" 5
  for p in $(pids_of conmon "$run"); do stop_pid "$p" 2; done
}

# Stops a dockerd the bench started, likewise: its containers, dockerd, then its containerd's shims and containerd.
stop_dockerd() { # pid socket exec-root
  local pid=$1 sock=$2 run=$3 p
  [ -n "$pid" ] || return 0
  # A removal that times out (dockerd took over 180 s for 100 idle containers once, 2026-12-06) must not end the
  # bench under `set -e`: the daemon is stopped below either way.
  if kill -0 "$pid" 2>/dev/null; then bench/remove-all.sh env DOCKER_HOST="unix://$sock" "$DOCKER" || say "dockerd: removing its containers before stopping it failed"; fi
  stop_pid "$pid" 20
  for p in $(pids_of containerd-shim-runc-v2 "$run") $(pids_of containerd "$run"); do stop_pid "$p" 5; done
}

# Fixed host directories a peer engine makes (dockerd's /run/docker and /run/containerd, podman's...): the ones not
# there yet are kept in made_paths, for remove_made_paths at the end.
note_made_paths() { # path...
  made_paths=()
  local p
  for p in "$@"; do [ -e "$p" ] || made_paths+=("$p"); done
}
# Removes what note_made_paths found missing, if it holds only (empty) directories: never a file, since another user
# of the same fixed path could have come along meanwhile.
remove_made_paths() {
  local p
  for p in "${made_paths[@]}"; do
    [ -d "$p" ] && find "$p" -depth -type d -empty -exec rmdir {} \; 2>/dev/null
    [ -e "$p" ] && say "left $p in place: it holds files that are not the bench's to remove"
  done
  return 0
}

# One contender of a bench/timeit.js spec, as a line of JSON.
contender() { # name env-json argv...
  local name=$1 env=$2
  shift 2
  printf '%s\n' "$@" | jq -R . | jq -cs --arg name "$name" --argjson env "$env" '{name: $name, env: $env, argv: .}'
}

# The median of the numbers on stdin, one a line ("null" when there are none); with `int`, the mean of the two
# middle ones is cut to a whole number.
median() { # [int]
  sort -n | awk -v whole="${1:-}" '{ a[NR] = $1 } END {
    if (NR == 0) print "null"
    else if (NR % 2) print a[(NR + 1) / 2]
    else if (whole != "") print int((a[NR / 2] + a[NR / 2 + 1]) / 2)
    else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Notes the host's netfilter state before dockerd starts (what remove_dockerd_rules puts back): sets IPT_BEFORE
# (a path prefix under $1), NF_BEFORE and FWD_POLICY for the caller.
snapshot_netfilter() { # dir
  IPT_BEFORE=$1/iptables-before
  iptables -S >"$IPT_BEFORE.filter"
  iptables -t nat -S >"$IPT_BEFORE.nat"
  NF_BEFORE=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || true)
  FWD_POLICY=$(iptables -S FORWARD | awk '$1 == "-P" {print $3}')
}

# dockerd's iptables rules and chains that were not there before it started: deleted rule by rule, then the chains.
# Only rules naming a DOCKER chain or one of its own bridges: other daemons (netavark's) add and remove rules meanwhile.
# Uses the caller's IPT_BEFORE.{filter,nat} (iptables -S before dockerd started), FWD_POLICY and NF_BEFORE.
remove_dockerd_rules() { # bridge...
  local table line chain pattern
  pattern=$(printf '|%s' DOCKER "$@")
  pattern=${pattern#|}
  for table in filter nat; do
    iptables -t "$table" -S | grep -E -- "$pattern" | grep '^-A ' | while read -r line; do
      grep -qxF -- "$line" "$IPT_BEFORE.$table" && continue
      eval "iptables -w -t $table ${line/#-A/-D}" 2>/dev/null
    done
    iptables -t "$table" -S | awk '$1 == "-N" && $2 ~ /^DOCKER/ {print $2}' | while read -r chain; do
      grep -qxF -- "-N $chain" "$IPT_BEFORE.$table" && continue
      iptables -w -t "$table" -F "$chain" 2>/dev/null
      iptables -w -t "$table" -X "$chain" 2>/dev/null
    done
  done
  [ -n "$FWD_POLICY" ] && iptables -w -P FORWARD "$FWD_POLICY"
  [ -n "$NF_BEFORE" ] && echo "$NF_BEFORE" >/proc/sys/net/bridge/bridge-nf-call-iptables
}

# Deletes a stopped berthd's default bridge and then the rules of every Berth bridge gone from the host (its rules
# outlive berthd on purpose, decision 19; bridges that exist, anyone's, keep theirs).
remove_berth_bridge() {
  [ -e "/sys/class/net/$1" ] && ip link del "$1" 2>/dev/null
  node dist/tools/remove-stale-bridge-rules.js || true
}

# The teardown of a sub-bench's own berthd (bench/registry.sh, bench/logging.sh): its containers, the daemon, the
# mounts under its directories, its bridge (and stale bridges' rules), the directories.
teardown_own_berthd() { # pid socket exec-root bridge dir...
  local pid=$1 sock=$2 run=$3 bridge=$4
  shift 4
  if [ -n "$pid" ]; then
    kill -0 "$pid" 2>/dev/null && bench/remove-all.sh env DOCKER_HOST="unix://$sock" /usr/local/bin/docker >/dev/null 2>&1
    stop_pid "$pid" 5
  fi
  bench/umount-under.sh "$@" "$run"
  remove_berth_bridge "$bridge"
  rm -rf "$run" "$@"
}

# Stops the bench's dockerd (DOCKERD_PID, DSOCK, DRUN) and removes what it made: its rules and chains (for the
# bridges named), those bridges, the mounts under $BASE/dockerd, its run dirs and the paths note_made_paths saw
# appear; then releases the peer lock (fd 9) if LOCKED. Runs once: DOCKERD_PID is cleared.
teardown_bench_dockerd() { # bridge...
  [ -n "$DOCKERD_PID" ] || return 0
  stop_dockerd "$DOCKERD_PID" "$DSOCK" "$DRUN" >/dev/null 2>&1
  DOCKERD_PID=''
  remove_dockerd_rules "$@"
  local bridge
  for bridge in "$@"; do [ -e "/sys/class/net/$bridge" ] && ip link del "$bridge" 2>/dev/null; done
  bench/umount-under.sh "$BASE/dockerd" "$DRUN"
  rm -rf "$DRUN" "$DSOCK"
  remove_made_paths
  if [ -n "$LOCKED" ]; then flock -u 9; LOCKED=''; fi
}

# CPU milliseconds a process has used, with the children it reaped (utime+stime+cutime+cstime of /proc/PID/stat).
proc_cpu_ms() { # pid
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13 + $14 + $15) * 1000 / hz) }' "/proc/$1/stat"
}

# The workspace of a sub-bench with a berthd of its own: BASE (a fresh directory under /var/tmp), RES (the results
# directory given, else BASE/results), BRUN/BSOCK/BRIDGE (its daemon's exec root, socket and bridge, named from
# TAG and this shell's PID) and a DOCKER_CONFIG of its own (never the host's). Also bdocker (the docker CLI at that
# daemon) and now_ms.
bench_workspace() { # name tag [results-dir]
  BASE=$(mktemp -d "/var/tmp/berth-bench-$1.XXXXXX")
  RES=${3:-$BASE/results}
  mkdir -p "$RES"
  BRUN=/run/$2-$$ BSOCK=/run/$2-$$/berth.sock BRIDGE=$2$$
  export DOCKER_CONFIG=$BASE/docker-config
  mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
}
bdocker() { DOCKER_HOST="unix://$BSOCK" "$DOCKER" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# A TCP port free on ADDRESS (127.0.0.1 unless given) now, for a receiver or a published port.
free_port() { # [address]
  node -e 'const s=require("net").createServer().listen(0,process.argv[1],()=>{console.log(s.address().port);s.close()})' "${1:-127.0.0.1}"
}
