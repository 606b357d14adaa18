#!/usr/bin/env bash
# make bench, the registry: push and pull of a 1 GiB image (4 layers of incompressible bytes) through Berth's own
# registry on loopback, by Berth's engine (docker CLI v28 -> berthd), by skopeo under the same conditions (same
# registry, same bytes: push from a docker-archive, pull into a dir:), and a plain copy of the same bytes with
# fsync (the floor). Each round starts the registry on an empty root, so every push uploads everything.
# Beside the floor, the work every verifying pull does whatever its code, by the host's C tools: each blob fetched by
# curl, its SHA-256 taken, gunzipped, the tar's SHA-256 taken (the diff_id) and unpacked by GNU tar, three layers at
# once as Docker's downloads, one sync at the end (the copy above neither decompresses nor verifies).
# Usage: bench/registry.sh [RESULTS_DIR]     Knobs: BENCH_REGISTRY_ROUNDS (3), BENCH_REGISTRY_MIB (1024).
# Self-contained: its own berthd (own data root, exec root, socket, bridge) and registry; all removed at the end.
# Neither dockerd nor podman is used, so it takes no flock.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROUNDS=${BENCH_REGISTRY_ROUNDS:-3}
MIB=${BENCH_REGISTRY_MIB:-1024}
LAYERS=4
DOCKER=/usr/local/bin/docker
say() { echo "bench/registry: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }
command -v skopeo >/dev/null || { say "skopeo is missing (make deps)"; exit 1; }

. bench/lib.sh   # stop_pid, median
bench_workspace registry bbr "${1:-}"
BERTHD_PID='' REG_PID=''

cleanup() {
  trap - EXIT INT TERM
  stop_pid "$REG_PID" 5
  teardown_own_berthd "$BERTHD_PID" "$BSOCK" "$BRUN" "$BRIDGE" "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


PORT=$(free_port)
R=127.0.0.1:$PORT
start_registry() { # fresh root each time
  stop_pid "$REG_PID" 5
  rm -rf "$BASE/reg"
  bin/berth registry serve --addr "$R" --root "$BASE/reg" --quiet >>"$BASE/registry.log" 2>&1 </dev/null &
  REG_PID=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://$R/v2/" && return 0; sleep 0.1; done
  say "the registry did not start: $(tail -n 3 "$BASE/registry.log")"; return 1
}

# ---------- the image: a docker-archive of LAYERS layers of random bytes ----------
say "making a ${MIB} MiB image in $LAYERS layers"
IMG=$BASE/img
mkdir -p "$IMG"
diff_ids=() layer_files=()
for i in $(seq 1 "$LAYERS"); do
  mkdir -p "$BASE/l$i/data"
  head -c $((MIB / LAYERS))M /dev/urandom >"$BASE/l$i/data/blob$i"
  tar -C "$BASE/l$i" -cf "$IMG/layer$i.tar" data
  rm -rf "$BASE/l$i"
  diff_ids+=("\"sha256:$(sha256sum "$IMG/layer$i.tar" | cut -d' ' -f1)\"")
  layer_files+=("\"layer$i.tar\"")
done
join() { local IFS=,; echo "$*"; }
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"created":"2026-01-01T00:00:00Z","rootfs":{"type":"layers","diff_ids":[%s]}}' "$(join "${diff_ids[@]}")" >"$IMG/config.json"
cfg=$(sha256sum "$IMG/config.json" | cut -d' ' -f1)
mv "$IMG/config.json" "$IMG/$cfg.json"
printf '[{"Config":"%s.json","RepoTags":["%s/bench/big:1"],"Layers":[%s]}]' "$cfg" "$R" "$(join "${layer_files[@]}")" >"$IMG/manifest.json"
tar -C "$IMG" -cf "$BASE/big.tar" .
BYTES=$(cat "$IMG"/layer*.tar | wc -c)

say "starting berthd (data $BASE/berth, exec root $BRUN) and loading the image"
# BERTH_TRACE=1: berthd logs each pull's phases (manifest, config, layers streamed, sync, commit, record).
BERTH_TRACE=1 setsid bin/berthd --data-root "$BASE/berth" --exec-root "$BRUN" --bridge "$BRIDGE" >>"$BASE/berthd.log" 2>&1 </dev/null &
BERTHD_PID=$!
bench/await-daemon.sh berthd "$BERTHD_PID" "$BSOCK" "$BASE/berthd.log" 100 || exit 1
# The load is timed once (a fresh store): the same bytes as the pull, from a docker-archive on the local disk.
load_t0=$(now_ms)
bdocker load -i "$BASE/big.tar" >/dev/null || { say "docker load failed"; exit 1; }
load_ms=$(( $(now_ms) - load_t0 ))

# ---------- rounds: every contender in each, the order rotating ----------
push_berth=() push_skopeo=() floor=() pull_berth=() pull_skopeo=() pull_native=()
timed() { # array-name command...
  local name=$1 t0 t1; shift
  t0=$(now_ms)
  "$@" >>"$BASE/commands.log" 2>&1 || { say "failed: $* ($(tail -n 2 "$BASE/commands.log" | tr '\n' ' '))"; return 1; }
  t1=$(now_ms)
  eval "$name+=($((t1 - t0)))"
}
do_floor() { cat "$IMG"/layer*.tar | dd of="$BASE/floor.copy" bs=4M conv=fsync status=none; }
# What a timed step replaces (Berth's image, skopeo's directory, the floor's copy) is removed just before it, outside
# the time, with a sync so the removal's disk work does not land in anyone's time. Berth's image is pulled back in
# every round, so the next round's push has it.
before() { # berth|skopeo|floor
  case $1 in
    berth) bdocker rmi -f "$R/bench/big:1" >/dev/null 2>&1 ;;
    skopeo) rm -rf "$BASE/skopeo-out" ;;
    floor) rm -f "$BASE/floor.copy" ;;
    native) rm -rf "$BASE/native" ;;
  esac
  sync
}
do_pull_berth() { bdocker pull "$R/bench/big:1"; }
# One layer of the native pull: fetched, both digests taken (checked against the manifest's and the config's), unpacked.
native_layer() { # digest diff_id dir
  set -o pipefail
  mkdir -p "$3" && curl -sf "http://$R/v2/bench/big/blobs/$1" | tee >(sha256sum >"$3.blob.sum") | gzip -dc \
    | tee >(sha256sum >"$3.tar.sum") | tar -x -C "$3" || return 1
  # tee's process substitutions may still be writing their sums
  for _ in $(seq 1 200); do [ -s "$3.blob.sum" ] && [ -s "$3.tar.sum" ] && break; sleep 0.01; done
  [ "sha256:$(cut -d' ' -f1 "$3.blob.sum")" = "$1" ] && [ "sha256:$(cut -d' ' -f1 "$3.tar.sum")" = "$2" ] \
    || { echo "native pull: a digest of $1 does not match" >&2; return 1; }
}
export -f native_layer
do_pull_native() {
  local manifest cfg
  manifest=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' "http://$R/v2/bench/big/manifests/1") || return 1
  cfg=$(curl -sf "http://$R/v2/bench/big/blobs/$(jq -r .config.digest <<<"$manifest")") || return 1
  paste <(jq -r '.layers[].digest' <<<"$manifest") <(jq -r '.rootfs.diff_ids[]' <<<"$cfg") | nl -w1 \
    | R=$R xargs -P 3 -L 1 bash -c 'native_layer "$1" "$2" "'"$BASE"'/native/$0"' || return 1
  sync -f "$BASE/native"
}
do_pull_skopeo() { skopeo copy --quiet --src-tls-verify=false "docker://$R/skopeo/big:1" "dir:$BASE/skopeo-out"; }
for r in $(seq 1 "$ROUNDS"); do
  say "round $r of $ROUNDS"
  start_registry || exit 1
  if [ $((r % 2)) = 1 ]; then
    timed push_berth bdocker push "$R/bench/big:1"
    timed push_skopeo skopeo copy --quiet --dest-tls-verify=false "docker-archive:$BASE/big.tar" "docker://$R/skopeo/big:1"
    before floor; timed floor do_floor
    before berth; timed pull_berth do_pull_berth
    before skopeo; timed pull_skopeo do_pull_skopeo
    before native; timed pull_native do_pull_native
  else
    timed push_skopeo skopeo copy --quiet --dest-tls-verify=false "docker-archive:$BASE/big.tar" "docker://$R/skopeo/big:1"
    timed push_berth bdocker push "$R/bench/big:1"
    before floor; timed floor do_floor
    before native; timed pull_native do_pull_native
    before skopeo; timed pull_skopeo do_pull_skopeo
    before berth; timed pull_berth do_pull_berth
  fi
done

m() { printf '%s\n' "$@" | median int; }
printf '{"bytes": %s, "layers": %s, "rounds": %s, "load_berth": %s, "push_berth": %s, "push_skopeo": %s, "floor": %s, "pull_berth": %s, "pull_skopeo": %s, "pull_native": %s}\n' \
  "$BYTES" "$LAYERS" "$ROUNDS" "$load_ms" "$(m "${push_berth[@]}")" "$(m "${push_skopeo[@]}")" "$(m "${floor[@]}")" "$(m "${pull_berth[@]}")" "$(m "${pull_skopeo[@]}")" "$(m "${pull_native[@]}")" >"$RES/registry.json"
node - "$RES/registry.json" <<'JS'
const r = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const s = (ms) => (ms == null ? "n/a" : (ms / 1000).toFixed(1));
const mibs = (ms) => (ms ? (r.bytes / 1048576 / (ms / 1000)).toFixed(0) : "n/a");
const x = (a, b) => (a && b ? (a / b).toFixed(2) + "x" : "n/a");
console.log(`\nregistry: ${(r.bytes / 1048576).toFixed(0)} MiB image in ${r.layers} layers of random bytes, Berth's registry on loopback, median of ${r.rounds}`);
console.log("| | s | MiB/s | Berth / it |");
console.log("|---|---|---|---|");
console.log(`| push, Berth (docker push via berthd) | ${s(r.push_berth)} | ${mibs(r.push_berth)} | 1 |`);
console.log(`| push, skopeo (docker-archive -> registry) | ${s(r.push_skopeo)} | ${mibs(r.push_skopeo)} | ${x(r.push_berth, r.push_skopeo)} |`);
console.log(`| pull, Berth (docker pull via berthd, unpacked) | ${s(r.pull_berth)} | ${mibs(r.pull_berth)} | 1 |`);
console.log(`| pull, skopeo (registry -> dir:, not unpacked) | ${s(r.pull_skopeo)} | ${mibs(r.pull_skopeo)} | ${x(r.pull_berth, r.pull_skopeo)} |`);
console.log(`| pull by C tools: curl, sha256sum of the blob and of the tar, gunzip, tar -x, 3 layers at once, one sync (the same work by C tools) | ${s(r.pull_native)} | ${mibs(r.pull_native)} | ${x(r.pull_berth, r.pull_native)} |`);
console.log(`| plain copy of the same bytes with fsync (the floor) | ${s(r.floor)} | ${mibs(r.floor)} | push ${x(r.push_berth, r.floor)}, pull ${x(r.pull_berth, r.floor)} |`);
console.log(`| docker load of the same image from a docker-archive (once, first) | ${s(r.load_berth)} | ${mibs(r.load_berth)} | ${x(r.load_berth, r.floor)} of the floor |`);
JS
node bench/trace-table.js "$BASE/berthd.log" pull | tee "$RES/trace-pull.txt"
