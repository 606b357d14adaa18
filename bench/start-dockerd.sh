#!/usr/bin/env bash
# Starts Debian's dockerd (and the containerd it spawns) fenced off from the host, waits until it answers, prints its PID.
# Usage: bench/start-dockerd.sh DATA_ROOT EXEC_ROOT SOCKET LOGFILE
# Fenced off: own data root, exec root, socket and pidfile; an empty config file instead of /etc/docker/daemon.json;
# no bridge (so no docker0), no iptables/ip6tables rules, no ip_forward change, no userland proxy.
set -euo pipefail
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
for _ in $(seq 1 200); do
  curl -sf --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1 && { echo "$pid"; exit 0; }
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "dockerd did not start:" >&2
tail -n 20 "$log" >&2
echo "$pid"
exit 1
