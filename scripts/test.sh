#!/usr/bin/env bash
# The whole suite: unit tests, then integration tests against real berthd daemons (each test file starts its own).
set -euo pipefail
cd "$(dirname "$0")/.."
# Tests that drive a terminal or compare with independent peers (podman and Debian's docker-registry 2.8 as
# registry clients and servers) need these; install what is missing, as make up does for Berth's own needs.
scripts/deps.sh tmux curl podman docker-registry python3-docker
# TypeScript tests run from their compiled form in dist-test/ (make build); the JavaScript unit tests in test/unit/ use dist/.
# Name only directories that hold tests: node --test runs every .js below a test/ directory it is given, helpers too.
exec node --test --test-concurrency=2 --test-timeout=600000 dist-test/test/unit/ test/unit/ dist-test/test/integration/
