#!/usr/bin/env bash
# Starts Debian's dockerd (and the containerd it spawns) fenced off from the host, waits until it answers, prints its PID.
# Usage: bench/start-dockerd.sh DATA_ROOT EXEC_ROOT SOCKET LOGFILE   (the PID is printed even on failure, for teardown)
# Fenced off: own data root, exec root, socket and pidfile; an empty config file instead of /etc/docker/daemon.json;
# no bridge (so no docker0), no iptables/ip6tables rules, no ip_forward change, no userland proxy.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
data=$1 exec_root=$2 sock=$3 log=$4
mkdir -p "$data" "$exec_root"
echo '{}' >"$data.json"
setsid /usr/sbin/dockerd \
  --config-file "$data.json" \
  --data-root "$data" --exec-root "$exec_root" --pidfile "$exec_root/dockerd.pid" \
  -H "unix://$sock" \
  --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --userland-proxy=false \
  --storage-driver=overlay2 --exec-opt native.cgroupdriver=cgroupfs --log-level=warn \
  >>"$log" 2>&1 </dev/null &
pid=$!
echo "$pid"
"$ROOT/bench/await-daemon.sh" dockerd "$pid" "$sock" "$log" 200
