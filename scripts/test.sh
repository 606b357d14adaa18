#!/usr/bin/env bash
# The whole suite: unit tests, then integration tests against real berthd daemons (each test file starts its own).
set -euo pipefail
cd "$(dirname "$0")/.."
# Tests that drive a terminal or compare with independent peers (podman and Debian's docker-registry 2.8 as
# registry clients and servers) need these; install what is missing, as make up does for Berth's own needs.
scripts/deps.sh tmux curl podman docker-registry python3-docker
# The tests are TypeScript, run from their compiled form in dist-test/ (make build).
# Name the directories of test files, not dist-test/test/ itself: below a test/ it is given, node --test runs every .js, helpers too.
# --test-timeout bounds each test file (and each test without its own): 25 minutes, for build-seed on a new machine,
# whose first run makes debian:bookworm-slim from Debian's mirror and installs nodejs and npm (10-15 minutes when the
# mirror is slow; it went past 10 twice on 2026-12-07). A stuck file still ends well inside CI's 90 minutes.
exec node --test --test-concurrency=2 --test-timeout=1500000 dist-test/test/unit/ dist-test/test/integration/
