#!/usr/bin/env bash
# Installs Debian trixie's criu (with trixie's glibc beside it) into a private prefix for checkpoint/restore.
#
# Why: bookworm's criu 3.17.1 cannot run on kernels that map [vvar_vclock] (6.18 here): `criu check` fails with
# "vdso: Unexpected rt vDSO area bounds". criu learnt that mapping in 4.1. trixie's criu 4.1.1 needs glibc 2.38
# and bookworm has 2.36, so the trixie .debs of criu and libc6 are unpacked under $PREFIX/root (nothing in the
# system's dpkg database or apt configuration changes) and $PREFIX/bin/criu runs criu through trixie's dynamic
# loader, trixie's libc first and bookworm's libraries (DEB_PACKAGES in the Makefile) for the rest. runc is
# given that wrapper with its --criu flag. The packages come through scripts/suite-debs.sh (apt with a private
# sources list and state directory, so the archive signature is checked against Debian's keyring as for any apt download).
# See docs/decisions/0007-checkpoint-restore.md.
set -euo pipefail
PREFIX=${BERTH_CRIU_PREFIX:-/usr/local/lib/berth/criu}
SUITE=${BERTH_CRIU_SUITE:-trixie}
MIRROR=${BERTH_CRIU_MIRROR:-http://deb.debian.org/debian}

if [ -x "$PREFIX/bin/criu" ] && "$PREFIX/bin/criu" check >/dev/null 2>&1; then exit 0; fi

tmp=$(mktemp -d /var/tmp/berth-criu.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "installing criu from Debian $SUITE into $PREFIX"
"$(dirname "$0")/suite-debs.sh" "$SUITE" "$MIRROR" "$tmp/debs" criu libc6

new="$PREFIX.new"
rm -rf "$new"
mkdir -p "$new/bin"
for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$new/root"; done
lib="$PREFIX/root/usr/lib/x86_64-linux-gnu"
cat > "$new/bin/criu" <<EOF
#!/bin/sh
# criu from Debian $SUITE run with $SUITE's glibc; written by scripts/criu.sh.
exec $lib/ld-linux-x86-64.so.2 --library-path $lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu $PREFIX/root/usr/sbin/criu "\$@"
EOF
chmod 755 "$new/bin/criu"
(cd "$tmp/debs" && ls *.deb) > "$new/PACKAGES"
rm -rf "$PREFIX.old"
[ -e "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"
mv "$new" "$PREFIX"
rm -rf "$PREFIX.old"

# Every symbol resolved now, not at first use: a library too old for this criu fails here, not mid-dump.
if ! LD_BIND_NOW=1 "$PREFIX/bin/criu" --version >/dev/null || ! out=$("$PREFIX/bin/criu" check 2>&1); then
  echo "warning: $PREFIX/bin/criu does not work on this kernel; checkpoint/restore will be refused:" >&2
  "$PREFIX/bin/criu" check >&2 || true
  exit 0
fi
echo "criu $("$PREFIX/bin/criu" --version | sed -n 's/^Version: //p'): $out"
