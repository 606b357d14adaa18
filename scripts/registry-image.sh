#!/usr/bin/env bash
# Makes berth/registry:latest (or the tag given) on the engine DOCKER_HOST/BERTH_HOST points at: Berth's registry as a
# container image (this Node binary and its libraries, Berth's dist/ and runtime node_modules), data in a volume.
# Run it:  docker run -d -p 5000:5000 -v registry:/var/lib/registry berth/registry [serve flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-berth/registry:latest}
[ -f dist/tools/registry-rootfs.js ] || { echo "build first (make build)" >&2; exit 1; }
node dist/tools/registry-rootfs.js | bin/berth import \
  --change 'ENTRYPOINT ["/usr/local/bin/node", "/opt/berth/dist/cli/main.js", "registry", "serve"]' \
  --change 'CMD ["--addr", "0.0.0.0:5000", "--root", "/var/lib/registry"]' \
  --change 'VOLUME /var/lib/registry' \
  --change 'EXPOSE 5000/tcp' \
  - "$TAG"
