#!/bin/sh
# One run of the raw-crun floor: what Berth must do at the least for `run --rm busybox true`, with no engine around it.
# Usage: bench/floor-run.sh FLOOR_DIR   (made by bench/floor-bundle.js)
# Per run, as Berth does per container: fresh upper/work dirs, overlay mounted with mount(8), `crun run` (create,
# start, wait, delete), umount(8), upper/work removed. Not included: conmon, the API, config.json writing, logs.
# POSIX sh (dash), not bash: the wrapper's own start-up is part of the figure, so keep it small.
set -eu
d=$1
mkdir "$d/upper" "$d/work"
trap 'umount "$d/merged" 2>/dev/null || true; rm -rf "$d/upper" "$d/work"' EXIT
mount -t overlay overlay -o "lowerdir=$d/rootfs,upperdir=$d/upper,workdir=$d/work,index=off" "$d/merged"
# crun from the read-only view floor-bundle.js made, as Berth runs it (no re-exec of a copy of itself).
"$d/bin/crun" --root="$d/state" run --bundle "$d/bundle" bench-floor </dev/null
