#!/usr/bin/env bash
# Writes Berth's docker CLI plugin (`docker compose`) to $1 (make up: /usr/local/lib/docker/cli-plugins/docker-compose;
# tests: a temporary DOCKER_CONFIG's cli-plugins/). The docker CLI asks a plugin for its metadata before every
# run of it (and on `docker info`, `docker help`): the wrapper answers from the text the entry printed here, so
# a `docker compose` pays for one node start, not two. Never on PATH: Debian's docker-compose 1.29 keeps
# /usr/bin/docker-compose.
set -euo pipefail
dest=$1
root=$(cd "$(dirname "$0")/.." && pwd)
node=$(command -v node)
# The compose-spec validator precompiled (make build does it; a bare tsc build does not): without it every run
# compiles the schema first.
validator=$root/dist/compose/load/compose-spec-validator.js
if [ ! -f "$validator" ] || [ "$root/dist/compose/load/compose-spec.json" -nt "$validator" ]; then
  "$node" "$root/dist/tools/compose-schema-validator.js" "$root/dist/compose/load"
fi
metadata=$("$node" "$root/dist/compose/plugin-main.js" docker-cli-plugin-metadata)
mkdir -p "$(dirname "$dest")"
{
  printf '#!/bin/sh\n# Berth compose plugin from %s (scripts/install-compose-plugin.sh)\n' "$root"
  printf 'if [ "$1" = docker-cli-plugin-metadata ]; then\ncat <<'"'"'METADATA'"'"'\n%s\nMETADATA\nexit 0\nfi\n' "$metadata"
  printf 'exec %s %s "$@"\n' "$node" "$root/dist/compose/plugin-main.js"
} > "$dest.tmp"
chmod 755 "$dest.tmp"
mv -f "$dest.tmp" "$dest"
