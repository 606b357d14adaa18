#!/usr/bin/env bash
# Force-removes every container an engine knows, through its own client; bounded in time so teardown always ends.
# Usage: bench/remove-all.sh CLIENT [CLIENT_ARGS...]   e.g. bench/remove-all.sh docker   (DOCKER_HOST set by the caller)
set -uo pipefail
ids=$(timeout 30 "$@" ps -aq 2>/dev/null) || exit 1
[ -z "$ids" ] && exit 0
# shellcheck disable=SC2086
timeout 180 "$@" rm -f $ids >/dev/null
