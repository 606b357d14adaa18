# Berth: `make up` installs, builds, prepares the host, starts berthd and runs a container; `make test` runs the suite.
SHELL := /bin/bash
DEB_PACKAGES := crun conmon runc iptables busybox-static skopeo attr socat util-linux procps curl tini netavark aardvark-dns iproute2 zstd mmdebstrap docker-compose etcd-server rsyslog prometheus patchelf chromium
# The libraries of trixie's criu that bookworm provides (scripts/criu.sh installs criu itself).
CRIU_LIBS := libbsd0 libgnutls30 libnftables1 libnet1 libnl-3-200 libprotobuf-c1 libuuid1 tar
SOCK ?= /run/berth/berth.sock
export BERTH_HOST ?= unix://$(SOCK)

.PHONY: up down test bench deps build clean

up: build
	@scripts/up.sh

down:
	@scripts/down.sh

test: build
	@scripts/test.sh

bench: build
	@PEERS=$(PEERS) SCALE=$(SCALE) scripts/bench.sh

# Debian packages: installed once, only those missing.
deps:
	@scripts/deps.sh $(DEB_PACKAGES) $(CRIU_LIBS)
	@scripts/criu.sh
	@scripts/signers.sh

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: deps node_modules/.package-lock.json
	@npx tsc -p tsconfig.json
	@npx tsc -p tsconfig.test.json
	@node dist/tools/bundle-cli.js
	@npx tsc -p src/dashboard/web/tsconfig.json
	@node dist/tools/bundle-dashboard.js
	@node dist/tools/compose-schema-validator.js dist/compose/load dist-test/src/compose/load

clean:
	rm -rf dist dist-test
