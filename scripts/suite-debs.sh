#!/usr/bin/env bash
# Downloads .debs of another Debian suite (trixie) into a directory without touching the system's apt configuration,
# dpkg database or package lists: apt runs with a private sources list and state directory, so each archive's
# signature is still checked against Debian's keyring as for any apt download. Used by scripts/criu.sh and
# scripts/signers.sh, which unpack what it fetched into private prefixes.
# Usage: scripts/suite-debs.sh SUITE MIRROR DESTDIR PACKAGE...
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: scripts/suite-debs.sh SUITE MIRROR DESTDIR PACKAGE..." >&2; exit 2; }
suite=$1 mirror=$2 dest=$3
shift 3
tmp=$(mktemp -d /var/tmp/berth-suite-debs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/sources.list.d" "$tmp/preferences.d" "$dest"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$tmp/sources.list"
: > "$tmp/status"
apt_opts=(
  -o "Dir::Etc::sourcelist=$tmp/sources.list" -o "Dir::Etc::sourceparts=$tmp/sources.list.d"
  -o "Dir::Etc::preferencesparts=$tmp/preferences.d" -o "Dir::State::Lists=$tmp/lists"
  -o "Dir::State::status=$tmp/status" -o "Dir::Cache=$tmp/cache" -o "APT::Architectures::=amd64"
  -o "Acquire::Languages=none" -o "APT::Sandbox::User=root"
)
apt-get "${apt_opts[@]}" -qq update
(cd "$dest" && apt-get "${apt_opts[@]}" -qq download "$@" >/dev/null)
