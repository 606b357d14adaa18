#!/usr/bin/env bash
# docker-py's own integration suite as a judge: runs a docker-py checkout's tests/integration against a fresh
# Debian dockerd 20.10 and a fresh berthd, one after the other, and prints both pass counts side by side with the
# tests that pass on one and not on the other (each with its failure's message).
#
# Usage: scripts/docker-py-suite.sh [--swarm] DOCKER_PY_CHECKOUT [PYTEST_ARGS...]
#   --swarm: run exactly the swarm-mode files (SWARM_FILES below: swarm, services, secrets, configs, nodes) instead
#     of everything else; the tests init and leave the swarm themselves (init_swarm: advertise_addr 127.0.0.1,
#     listen_addr 0.0.0.0:<random 10000-25000>), so neither engine needs any set-up for it.
#   DOCKER_PY_CHECKOUT: a work tree of github.com/docker/docker-py outside this repository, e.g.
#     git clone /work/.mirror/docker+docker-py/repo /tmp/docker-py
#   PYTEST_ARGS are passed on (e.g. -k exec). Nothing of docker-py is copied into this repository.
# Knobs: DPY_RESULTS (/tmp/docker-py-results): dockerd.txt and berth.txt (pytest's output, -rA), dockerd.xml and
#   berth.xml (junit), the daemons' logs, summary.txt; DPY_ENGINES ("dockerd berthd"): which engines, in order;
#   DPY_TIMEOUT (60): seconds per test (pytest-timeout); DPY_API (1.41): DOCKER_TEST_API_VERSION.
#
# Choices, for a fair baseline:
# - The API version is pinned to 1.41 for both engines: docker-py's default (1.45) is more than dockerd 20.10
#   serves (1.41 at most), so unpinned every test fails there. The suite's requires_api_version skips then apply
#   to both alike. Berth serves 1.41-1.47.
# - The checkout's own `docker` package is what runs: /usr/bin/python3 -m pytest from the checkout puts it first on
#   sys.path (checked below, before anything starts). Debian's python3-docker is installed only for its
#   dependencies (requests, urllib3, websocket); python3-paramiko because tests/helpers.py imports it. Its
#   docker.__version__ reads 5.0.3 (importlib.metadata finds Debian's package, the checkout has no generated
#   _version.py): only the User-Agent shows it. The pyenv `python3` on PATH is never used.
# - Left out: plugins (they need a registry and managed plugins), and swarm mode (services, secrets, configs, nodes,
#   swarm) unless --swarm, which runs only those; everything else under tests/integration runs, -x off.
# - Swarm mode: berthd gets swarm ports of its own (BERTH_SWARM_PORTS, not 2377/2379/2380, which another daemon on
#   the host, a test's or a bench's, may hold); dockerd keeps 2377's default but the tests give it a random listen
#   port. Each engine is made to leave a swarm a test left it in before it stops, and berthd's etcd member (it
#   outlives berthd by design) is stopped with it.
# - The test image: no registry is reachable, so Debian's busybox-static rootfs (dist/tools/busybox-rootfs.js, as
#   the integration tests' daemons use) is imported into each engine as alpine:3.10 (the suite's TEST_IMG) and
#   tagged alpine:latest and busybox:latest (the other names tests run), with alpine's CMD and PATH. Tests that
#   pull (hello-world, alpine by tag or digest) fail on both engines alike.
# - dockerd runs as Debian ships it networking-wise: its own default bridge (a name of our own, given an unrouted
#   10.216.x.0/24, instead of docker0), iptables rules on, docker-proxy on, because the suite creates bridge
#   networks, links, published ports and connects containers; bench/start-dockerd.sh's fenced-off dockerd
#   (--bridge=none --iptables=false) would fail those for want of networking, not for want of correctness.
#   It runs under flock /run/berth-bench.lock, as the benches that run dockerd do (its containerd and shims use
#   some fixed paths). Its iptables rules and chains, bridge-nf-call-iptables, the FORWARD policy, its bridges
#   (the default one and br-<id> of the networks tests made), cgroup parents and /run dirs are removed after.
# - berthd starts with bench/start-berthd.sh: own data root, exec root, socket and bridge (never the production
#   daemon on /run/berth/berth.sock: the suite prunes containers, images, networks and volumes).
# - The engines run one after the other, not at once: the machine has 2 cores and some tests are timing-bound.
# - Outcomes come from the junit report, counted as pytest counts them (xpassed and xfailed apart; a test whose
#   teardown fails is an error as well as passed or failed), so the table matches pytest's summary line, printed
#   too. The lists of tests passing on one engine only take a pass as the test's body and teardown running through
#   (xpassed included: it ran through).
# - The checkout is left as it was: no bytecode (PYTHONDONTWRITEBYTECODE) and no .pytest_cache (-p no:cacheprovider).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DOCKER=/usr/local/bin/docker   # the docker CLI v28, to load images and clean up on both engines
PY=/usr/bin/python3            # Debian's python: python3-pytest and friends are importable only by it
say() { echo "docker-py-suite: $*" >&2; }
. bench/lib.sh

SWARM=''
[ "${1:-}" = --swarm ] && { SWARM=1; shift; }
[ $# -ge 1 ] || { echo "usage: scripts/docker-py-suite.sh [--swarm] DOCKER_PY_CHECKOUT [PYTEST_ARGS...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { say "needs root (it runs daemons, mounts overlays, makes bridges)"; exit 1; }
CHECKOUT=$(cd "$1" 2>/dev/null && pwd) || { say "no such directory: $1"; exit 2; }
shift
PYTEST_EXTRA=("$@")
[ -d "$CHECKOUT/tests/integration" ] && [ -f "$CHECKOUT/docker/__init__.py" ] || { say "$CHECKOUT is not a docker-py work tree"; exit 2; }
case "$CHECKOUT/" in "$ROOT"/*) say "the docker-py checkout must be outside this repository"; exit 2 ;; esac
RESULTS=${DPY_RESULTS:-/tmp/docker-py-results}
ENGINES=${DPY_ENGINES:-dockerd berthd}
TEST_TIMEOUT=${DPY_TIMEOUT:-60}
API=${DPY_API:-1.41}
LOCK=/run/berth-bench.lock

scripts/deps.sh python3-pytest python3-pytest-timeout python3-docker python3-paramiko docker.io iptables jq curl || exit 1
"$DOCKER" --version | grep -q 'version 2[89]\.' || { say "$DOCKER is not the docker CLI v28"; exit 1; }
# The checkout's own docker package must be the one the tests import, not Debian's python3-docker.
imported=$(cd "$CHECKOUT" && PYTHONDONTWRITEBYTECODE=1 "$PY" -c 'import docker; print(docker.__file__)') || exit 1
[ "$imported" = "$CHECKOUT/docker/__init__.py" ] || { say "python imports docker from $imported, not from the checkout"; exit 1; }
say "docker-py $(git -C "$CHECKOUT" describe --always --tags 2>/dev/null || echo '?') from $CHECKOUT; results in $RESULTS"

mkdir -p "$RESULTS"
BASE=$(mktemp -d /var/tmp/berth-docker-py.XXXXXX)
# The CLI's and docker-py's config (and docker-py's contexts), away from ~/.docker; a fresh one per engine, as
# tests leave contexts behind.
use_docker_config() { # name
  export DOCKER_CONFIG=$BASE/docker-config-$1
  mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
}
use_docker_config host
BRUN=/run/dpy-$$ BSOCK=/run/dpy-$$/berth.sock BRIDGE=dpy$$
DRUN=/run/dpyd-$$ DSOCK=/run/dpyd-$$.sock DBRIDGE=dpyd$$
BERTHD_PID='' DOCKERD_PID='' LOCKED='' NET_LINKS=()
BERTH_SWARM_PORTS=(--swarm-control-port 12377 --etcd-client-port 12379 --etcd-peer-port 12380)

# ---------- what the host had before dockerd, so its teardown removes only what it made ----------
IPT_BEFORE=$BASE/iptables-before
iptables -S >"$IPT_BEFORE.filter"
iptables -t nat -S >"$IPT_BEFORE.nat"
NF_BEFORE=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || true)
FWD_POLICY=$(iptables -S FORWARD | awk '$1 == "-P" {print $3}')
note_made_paths /run/docker /run/containerd /etc/docker
KEY_BEFORE=''; [ -e /etc/docker/key.json ] && KEY_BEFORE=1
made_cgroups=()
for h in /sys/fs/cgroup/*/; do [ -d "${h}docker" ] || [ ! -e "${h}cgroup.procs" ] || made_cgroups+=("${h}docker"); done

# A swarm a test left the engine in is left (its networks, ingress included, go with it); true either way.
leave_swarm() { # socket
  timeout 60 env DOCKER_HOST="unix://$1" "$DOCKER" swarm leave --force >/dev/null 2>&1
  return 0
}

# The bridges of an engine's networks (the default one and those the tests made and did not remove), noted while it
# still answers, so that what the engine leaves behind after it stops can be deleted by name.
note_network_links() { # socket
  local id name
  NET_LINKS=()
  for id in $(timeout 30 env DOCKER_HOST="unix://$1" "$DOCKER" network ls -q --no-trunc --filter driver=bridge 2>/dev/null); do
    name=$(timeout 30 env DOCKER_HOST="unix://$1" "$DOCKER" network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$id" 2>/dev/null)
    NET_LINKS+=("br-${id:0:12}")
    [ -n "$name" ] && NET_LINKS+=("$name")
  done
  timeout 60 env DOCKER_HOST="unix://$1" "$DOCKER" network prune -f >/dev/null 2>&1
}
delete_links() { # name...
  local l
  for l in "$@"; do [ -e "/sys/class/net/$l" ] && ip link del "$l" 2>/dev/null; done
  return 0
}

teardown_dockerd() {
  [ -n "$DOCKERD_PID$LOCKED" ] || return 0
  NET_LINKS=()
  [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null && leave_swarm "$DSOCK" && note_network_links "$DSOCK"
  [ -f "$BASE/dockerd.log" ] && cp "$BASE/dockerd.log" "$RESULTS/dockerd.log"
  stop_dockerd "$DOCKERD_PID" "$DSOCK" "$DRUN" >/dev/null 2>&1
  DOCKERD_PID=''
  delete_links "${NET_LINKS[@]}" "$DBRIDGE"
  remove_dockerd_rules "${NET_LINKS[@]}" "$DBRIDGE"
  bench/umount-under.sh "$BASE/dockerd" "$DRUN"
  rm -rf "$BASE/dockerd" "$DRUN" "$DSOCK"
  # dockerd 20.10 writes a trust key into /etc/docker even with --config-file elsewhere.
  [ -n "$KEY_BEFORE" ] || rm -f /etc/docker/key.json
  remove_made_paths
  for c in "${made_cgroups[@]}"; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  if [ -n "$LOCKED" ]; then flock -u 9; LOCKED=''; fi
}

teardown_berthd() {
  [ -n "$BERTHD_PID" ] || return 0
  local r id p
  NET_LINKS=()
  kill -0 "$BERTHD_PID" 2>/dev/null && leave_swarm "$BSOCK" && note_network_links "$BSOCK"
  [ -f "$BASE/berthd.log" ] && cp "$BASE/berthd.log" "$RESULTS/berthd.log"
  stop_berthd "$BERTHD_PID" "$BSOCK" "$BRUN" >/dev/null 2>&1
  BERTHD_PID=''
  for r in crun runc; do
    for id in $("$r" --root="$BRUN/runtime/$r" list -q 2>/dev/null); do "$r" --root="$BRUN/runtime/$r" delete -f "$id" >/dev/null 2>&1; done
  done
  for p in $(pgrep -f "aardvark-dns --config $BRUN/" || true); do stop_pid "$p" 2; done
  for p in $(pids_of etcd "$BASE/berth/"); do stop_pid "$p" 5; done
  bench/umount-under.sh "$BASE/berth" "$BRUN"
  delete_links "${NET_LINKS[@]}"
  # bench/lib.sh's: the default bridge, then the rules of every Berth bridge gone (they outlive berthd, decision 19).
  remove_berth_bridge "$BRIDGE"
  rm -rf "$BASE/berth" "$BRUN"
}

cleanup() {
  local rc=$? left
  set +e
  trap - EXIT INT TERM
  [ -n "${PYTEST_PID:-}" ] && stop_pid "$PYTEST_PID" 5
  teardown_dockerd
  teardown_berthd
  bench/umount-under.sh "$BASE"
  left=$( { iptables -S; iptables -t nat -S; } | grep -E "DOCKER|$DBRIDGE|$BRIDGE" | grep -vxF -f <(cat "$IPT_BEFORE.filter" "$IPT_BEFORE.nat");
    ip -o link | grep -E ": ($BRIDGE|$DBRIDGE)[:@]|master ($BRIDGE|$DBRIDGE) ")
  [ -z "$left" ] || { say "WARNING: left behind:"; echo "$left" >&2; }
  rm -rf "$BASE"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A /24 under 10.216.0.0/16 that the host routes nowhere, for dockerd's bridge.
free_subnet() {
  local i routes
  routes=$(ip -4 route; ip -4 -o addr)
  for i in $(seq 0 255); do grep -q "10\.216\.$i\." <<<"$routes" || { echo "10.216.$i"; return 0; }; done
  return 1
}

start_dockerd() {
  local sub
  exec 9>"$LOCK"
  say "waiting for $LOCK (a bench may be running dockerd)"
  flock 9 && LOCKED=1
  sub=$(free_subnet) || { say "no free 10.216.x.0/24 for dockerd's bridge"; return 1; }
  ip link add "$DBRIDGE" type bridge && ip addr add "$sub.1/24" dev "$DBRIDGE" && ip link set "$DBRIDGE" up || return 1
  mkdir -p "$BASE/dockerd" "$DRUN"
  echo '{}' >"$BASE/dockerd.json"
  say "starting dockerd (data $BASE/dockerd, exec root $DRUN, bridge $DBRIDGE $sub.0/24, iptables on)"
  setsid /usr/sbin/dockerd --config-file "$BASE/dockerd.json" --data-root "$BASE/dockerd" --exec-root "$DRUN" \
    --pidfile "$DRUN/dockerd.pid" -H "unix://$DSOCK" --bridge "$DBRIDGE" --storage-driver=overlay2 \
    --exec-opt native.cgroupdriver=cgroupfs --log-level=warn >>"$BASE/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  bench/await-daemon.sh dockerd "$DOCKERD_PID" "$DSOCK" "$BASE/dockerd.log" 200
}

start_berthd() {
  say "starting berthd (data $BASE/berth, exec root $BRUN, bridge $BRIDGE)"
  BERTHD_PID=$(bench/start-berthd.sh "$BASE/berth" "$BRUN" "$BASE/berthd.log" "$BRIDGE" "${BERTH_SWARM_PORTS[@]}")
  local rc=$?
  BERTHD_PID=$(head -n 1 <<<"$BERTHD_PID")
  return $rc
}

# The suite's images, all the same busybox rootfs: alpine:3.10 (TEST_IMG), alpine:latest, busybox:latest.
load_images() { # socket
  local d=(env DOCKER_HOST="unix://$1" "$DOCKER")
  "${d[@]}" import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$BASE/busybox.tar" alpine:3.10 >/dev/null &&
    "${d[@]}" tag alpine:3.10 alpine:latest && "${d[@]}" tag alpine:3.10 busybox:latest
}

SWARM_FILES=(api_swarm_test api_service_test api_secret_test api_config_test models_nodes_test models_services_test
  models_swarm_test)
TESTS=()
if [ -n "$SWARM" ]; then
  for f in "${SWARM_FILES[@]}"; do TESTS+=("tests/integration/$f.py"); done
else
  TESTS=(tests/integration)
  for f in "${SWARM_FILES[@]}" api_plugin_test; do TESTS+=("--ignore=tests/integration/$f.py"); done
fi

run_suite() { # engine-name out-name socket
  local name=$1 out=$2 sock=$3 rc
  say "$name: running docker-py's integration tests (API $API, ${TEST_TIMEOUT}s per test): $RESULTS/$out.txt"
  rm -f "$RESULTS/$out.txt" "$RESULTS/$out.xml"
  (cd "$CHECKOUT" && exec env DOCKER_HOST="unix://$sock" DOCKER_TEST_API_VERSION="$API" PYTHONDONTWRITEBYTECODE=1 \
    timeout -k 60 14400 "$PY" -m pytest "${TESTS[@]}" -p no:cacheprovider \
    --timeout "$TEST_TIMEOUT" -rA --junitxml "$RESULTS/$out.xml" "${PYTEST_EXTRA[@]}") >"$RESULTS/$out.txt" 2>&1 &
  PYTEST_PID=$!
  wait "$PYTEST_PID"
  rc=$?
  PYTEST_PID=''
  say "$name: $(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$RESULTS/$out.txt" | tail -n 1) (pytest exited $rc)"
}

node dist/tools/busybox-rootfs.js >"$BASE/busybox.tar" || { say "could not make the busybox rootfs"; exit 1; }
ran=()
for engine in $ENGINES; do
  use_docker_config "$engine"
  case $engine in
    dockerd)
      if start_dockerd && load_images "$DSOCK"; then run_suite dockerd dockerd "$DSOCK"; ran+=(dockerd)
      else say "dockerd did not start or take the images: see $RESULTS/dockerd.log"; fi
      teardown_dockerd ;;
    berthd)
      if start_berthd && load_images "$BSOCK"; then run_suite berthd berth "$BSOCK"; ran+=(berth)
      else say "berthd did not start or take the images: see $RESULTS/berthd.log"; fi
      teardown_berthd ;;
    *) say "unknown engine $engine (dockerd or berthd)" ;;
  esac
done

# ---------- the comparison, from the junit reports ----------
"$PY" - "$RESULTS" "$CHECKOUT" "${SWARM:+swarm}" "${ran[@]}" <<'PY' | tee "$RESULTS/summary.txt"
import os, re, sys
import xml.etree.ElementTree as ET

results, checkout, swarm, engines = sys.argv[1], sys.argv[2], sys.argv[3] == 'swarm', sys.argv[4:]

def test_id(classname, name):
    # "tests.integration.api_container_test.CreateContainerTest" -> tests/integration/api_container_test.py::CreateContainerTest
    parts = classname.split('.')
    for i in range(len(parts), 0, -1):
        if os.path.isfile(os.path.join(checkout, *parts[:i]) + '.py'):
            return '::'.join(['/'.join(parts[:i]) + '.py'] + parts[i:] + [name])
    return f'{classname}::{name}'

def one_line(text):
    text = ' '.join((text or '').split())
    return text if len(text) <= 400 else text[:397] + '...'

def outcomes(engine):
    """test id -> (verdict, message, teardown error or '') as pytest counts them: a test whose teardown fails after
    it passed or failed is that and an error too; one whose setup fails is an error only."""
    out = {}
    path = os.path.join(results, engine + '.xml')
    if not os.path.exists(path):
        return out
    for case in ET.parse(path).iter('testcase'):
        tid = test_id(case.get('classname', ''), case.get('name', ''))
        # A teardown error after a failure comes as a second testcase of the same name.
        verdict, msg, teardown = out.get(tid, ('passed', '', ''))
        for el in case:
            if el.tag not in ('failure', 'error', 'skipped'):
                continue
            lines = (el.text or '').strip().splitlines()
            text = one_line(el.get('message') or (lines[-1] if lines else ''))
            if el.tag == 'error' and text.startswith('failed on teardown'):
                teardown = text
            elif verdict == 'passed':
                verdict, msg = {'failure': 'failed', 'error': 'error', 'skipped': 'skipped'}[el.tag], text
        out[tid] = (verdict, msg, teardown)
    # junit shows an unexpected pass as a pass and an expected failure as a skip; pytest's -rA lines tell them apart.
    try:
        for line in open(os.path.join(results, engine + '.txt'), errors='replace'):
            m = re.match(r'^(XPASS|XFAIL) (\S+)', line)
            if m and m.group(2) in out:
                v = out[m.group(2)]
                out[m.group(2)] = ('xpassed' if m.group(1) == 'XPASS' else 'xfailed', v[1], v[2])
    except OSError:
        pass
    return out

def pytest_summary(engine):
    try:
        lines = open(os.path.join(results, engine + '.txt'), errors='replace').read().splitlines()
    except OSError:
        return 'no output'
    found = [l.strip('= ') for l in lines if re.match(r'^=+ .*(passed|failed|error).* in [0-9.]+s', l)]
    return found[-1] if found else 'no summary line (interrupted?)'

res = {e: outcomes(e) for e in engines}
kinds = ['passed', 'xpassed', 'failed', 'skipped', 'xfailed']
def count(e, k):
    if k == 'total':
        return len(res[e])
    if k == 'errors':   # setup errors, and teardown errors of tests counted above too
        return sum(1 for v in res[e].values() if v[0] == 'error' or v[2])
    return sum(1 for v in res[e].values() if v[0] == k)
def ok(v):   # the test ran through, teardown included
    return v[0] in ('passed', 'xpassed') and not v[2]
print(f"docker-py tests/integration, {'swarm-mode files only' if swarm else 'swarm and plugins left out'}; {', '.join(engines)}")
print(f"{'':10}" + ''.join(f'{e:>10}' for e in engines))
for k in kinds + ['errors', 'total']:
    print(f'{k:10}' + ''.join(f'{count(e, k):>10}' for e in engines))
for e in engines:
    print(f'pytest {e}: {pytest_summary(e)}')

if 'dockerd' in res and 'berth' in res:
    d, b = res['dockerd'], res['berth']
    for title, x, y, yname in (('Pass on dockerd, not on berthd', d, b, 'berthd'), ('Pass on berthd, not on dockerd', b, d, 'dockerd')):
        diff = sorted(t for t, v in x.items() if ok(v) and not ok(y.get(t, ('absent', '', ''))))
        print(f'\n{title} ({len(diff)}):')
        for t in diff:
            verdict, msg, teardown = y.get(t, ('absent', 'not run', ''))
            print(f'  {t}\n      {yname} {verdict}' + (f': {msg}' if msg else '') + (f'\n      {yname} teardown error: {teardown}' if teardown else ''))
PY
