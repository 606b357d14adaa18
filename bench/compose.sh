#!/usr/bin/env bash
# make bench, Compose: `up -d`, a no-change `up -d` and `down -v` of a 20-service app (busybox `sleep 3600` services
# on two networks, a named volume each) through Berth's docker CLI plugin (`docker compose`, the docker CLI v28) and
# through Debian's docker-compose 1.29, both against the same berthd; then the plugin's start-up (`docker compose
# version`) beside `docker version` and `docker-compose version`. Rounds alternate which client goes first.
# Usage: bench/compose.sh [RESULTS_DIR]     Knobs: BENCH_COMPOSE_ROUNDS (3), BENCH_COMPOSE_SERVICES (20),
# BENCH_COMPOSE_STARTUP_RUNS (20).
# Self-contained: its own berthd (own data root, exec root, socket, bridge, address pool); all removed at the end.
# Neither dockerd nor podman is used, so it takes no flock. A client that is missing or fails is n/a.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
ROUNDS=${BENCH_COMPOSE_ROUNDS:-3}
SERVICES=${BENCH_COMPOSE_SERVICES:-20}
STARTUP_RUNS=${BENCH_COMPOSE_STARTUP_RUNS:-20}
DOCKER=/usr/local/bin/docker
COMPOSE_V1=/usr/bin/docker-compose
say() { echo "bench/compose: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }

. bench/lib.sh   # stop_pid, median, contender
# The plugin is found where the docker CLI looks first: $DOCKER_CONFIG/cli-plugins (never the host's install).
bench_workspace compose bbc "${1:-}"
export DOCKER_HOST=unix://$BSOCK
BERTHD_PID=''

cleanup() {
  trap - EXIT INT TERM
  if [ -n "$BERTHD_PID" ]; then
    kill -0 "$BERTHD_PID" 2>/dev/null && bench/remove-all.sh env DOCKER_HOST="unix://$BSOCK" "$DOCKER" >/dev/null 2>&1
    stop_pid "$BERTHD_PID" 5
    for p in $(pids_of conmon "$BRUN"); do stop_pid "$p" 2; done
  fi
  bench/umount-under.sh "$BASE" "$BRUN"
  remove_berth_bridge "$BRIDGE"
  rm -rf "$BRUN" "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- the app: SERVICES busybox services on two networks, a named volume each ----------
APP=$BASE/app
mkdir -p "$APP"
{
  echo 'services:'
  for i in $(seq -w 1 "$SERVICES"); do
    # init: tini passes SIGTERM on, so `down` stops each service at once rather than after its 10 s grace period.
    printf '  s%s:\n    image: busybox\n    command: ["sleep", "3600"]\n    init: true\n    networks: [front, back]\n    volumes: ["v%s:/data"]\n' "$i" "$i"
  done
  printf 'networks:\n  front: {}\n  back: {}\nvolumes:\n'
  for i in $(seq -w 1 "$SERVICES"); do printf '  v%s: {}\n' "$i"; done
} >"$APP/docker-compose.yml"

say "starting berthd (data $BASE/berth, exec root $BRUN, bridge $BRIDGE)"
setsid bin/berthd --data-root "$BASE/berth" --exec-root "$BRUN" --bridge "$BRIDGE" \
  --default-address-pool "base=10.$((192 + $$ % 32)).0.0/16,size=24" >>"$BASE/berthd.log" 2>&1 </dev/null &
BERTHD_PID=$!
bench/await-daemon.sh berthd "$BERTHD_PID" "$BSOCK" "$BASE/berthd.log" 100 || exit 1
node dist/tools/busybox-rootfs.js >"$BASE/busybox.tar"
"$DOCKER" import --change 'CMD ["sh"]' "$BASE/busybox.tar" busybox:latest >/dev/null || { say "import failed"; exit 1; }

# ---------- the clients ----------
# Each client has its own project name: Compose v2 and v1 would otherwise both claim the same labelled containers.
clients=() notes=()
if [ -x "$COMPOSE_V1" ]; then
  clients+=(v1)
else
  notes+=("docker-compose 1.29: $COMPOSE_V1 is missing (make deps installs it): n/a")
fi
# The Berth plugin, installed as make up installs it, but into this bench's DOCKER_CONFIG.
if [ -x scripts/install-compose-plugin.sh ] && [ -f dist/compose/plugin-main.js ] &&
  scripts/install-compose-plugin.sh "$DOCKER_CONFIG/cli-plugins/docker-compose" 2>>"$BASE/plugin.err" &&
  "$DOCKER" compose version >>"$BASE/plugin.err" 2>&1; then
  clients+=(plugin)
else
  notes+=("Berth's plugin (docker compose): not installable or \`docker compose version\` failed: n/a ($(tail -n 1 "$BASE/plugin.err" 2>/dev/null))")
fi
dc() { # client args...
  local client=$1; shift
  case $client in
    v1) (cd "$APP" && "$COMPOSE_V1" -p benchv1 "$@") ;;
    plugin) (cd "$APP" && "$DOCKER" compose -p benchplugin "$@") ;;
  esac
}

# ---------- rounds: up -d, no-change up -d, down -v; the clients' order alternating ----------
declare -A times=()   # "<client> <step>" -> space-separated ms
failed=()
timed() { # client step args...
  local client=$1 step=$2 t0 t1; shift 2
  t0=$(now_ms)
  if ! dc "$client" "$@" >>"$BASE/$client.log" 2>&1; then
    say "$client $step failed: $(tail -n 2 "$BASE/$client.log" | tr '\n' ' ')"
    return 1
  fi
  t1=$(now_ms)
  times["$client $step"]+="$((t1 - t0)) "
}
life() { # client
  local c=$1
  timed "$c" up up -d && timed "$c" noop up -d && timed "$c" down down -v -t 2 && return 0
  dc "$c" down -v -t 1 >/dev/null 2>&1   # leave nothing for the next round, whatever failed
  return 1
}
ok_clients=()
for c in "${clients[@]}"; do
  say "warm-up: $c"
  if life "$c"; then ok_clients+=("$c"); else failed+=("$c"); notes+=("$c: failed during warm-up: n/a (see above)"); fi
done
times=()
for r in $(seq 1 "$ROUNDS"); do
  order=("${ok_clients[@]}")
  [ $((r % 2)) = 0 ] && mapfile -t order < <(printf '%s\n' "${ok_clients[@]}" | tac)
  say "round $r of $ROUNDS: ${order[*]}"
  for c in "${order[@]}"; do life "$c" || notes+=("$c: failed in round $r"); done
done

# ---------- start-up: the client alone, no project ----------
say "start-up: $STARTUP_RUNS rounds of \`docker compose version\`, \`docker version\`, \`docker-compose version\`"
{
  [[ " ${clients[*]} " == *" plugin "* ]] && contender plugin-version '{}' "$DOCKER" compose version
  contender docker-version '{}' "$DOCKER" version
  [[ " ${clients[*]} " == *" v1 "* ]] && contender v1-version '{}' "$COMPOSE_V1" version
  true
} | jq -s --argjson runs "$STARTUP_RUNS" '{runs: $runs, warmup: 3, contenders: .}' >"$BASE/startup-spec.json"
node bench/timeit.js "$BASE/startup-spec.json" >"$RES/compose-startup.json"

# ---------- report ----------
m() { [ -n "${times[$1]:-}" ] && printf '%s\n' ${times[$1]} | median int || echo null; }
printf '{"services": %s, "rounds": %s, "v1": {"up": %s, "noop": %s, "down": %s}, "plugin": {"up": %s, "noop": %s, "down": %s}, "notes": %s}\n' \
  "$SERVICES" "$ROUNDS" "$(m 'v1 up')" "$(m 'v1 noop')" "$(m 'v1 down')" "$(m 'plugin up')" "$(m 'plugin noop')" "$(m 'plugin down')" \
  "$(printf '%s\n' "${notes[@]}" | jq -R . | jq -cs 'map(select(. != ""))')" >"$RES/compose.json"
node - "$RES/compose.json" "$RES/compose-startup.json" <<'JS'
const fs = require("fs");
const r = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const st = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const s = (ms) => (ms == null ? "n/a" : (ms / 1000).toFixed(2));
const x = (a, b) => (a != null && b ? (a / b).toFixed(2) + "x" : "n/a");
console.log(`\ncompose: ${r.services} busybox services on two networks, a named volume each, against one berthd; median of ${r.rounds}`);
console.log("| | Berth plugin (docker compose), s | docker-compose 1.29, s | plugin / 1.29 | target |");
console.log("|---|---|---|---|---|");
const row = (label, k, target) => console.log(`| ${label} | ${s(r.plugin[k])} | ${s(r.v1[k])} | ${x(r.plugin[k], r.v1[k])} | ${target} |`);
row("`up -d`", "up", "≤ 0.3x");
row("`up -d`, nothing changed", "noop", "≤ 0.5x");
row("`down -v`", "down", "");
const ms = (name) => (st[name] && st[name].median != null ? st[name].median : null);
const fig = (name) => (st[name] ? (st[name].error ? `n/a (${st[name].error})` : `${ms(name).toFixed(0)} ms`) : "n/a");
console.log(`\ncompose start-up (median of ${st["docker-version"]?.n ?? "?"}): \`docker compose version\` ${fig("plugin-version")}, ` +
  `\`docker version\` ${fig("docker-version")} (plugin / it: ${x(ms("plugin-version"), ms("docker-version"))}), ` +
  `\`docker-compose version\` (1.29) ${fig("v1-version")}`);
for (const n of r.notes) console.log(`note: ${n}`);
JS
[ ${#failed[@]} -eq 0 ]
