#!/usr/bin/env bash
# Installs Debian trixie's skopeo and podman (with trixie's glibc and the libraries bookworm lacks) into a private
# prefix, for the signed-image interop tests (test/integration/trust-interop.test.ts).
#
# Why: bookworm's skopeo 1.9.3 and podman 4.3.1 are built with sigstore disabled ("Debian-local change: sigstore
# disabled" from both `--sign-by-sigstore-private-key` and a sigstoreSigned policy), so neither can sign nor verify a
# sigstore signature. trixie's skopeo 1.18 and podman 5.4 (containers/image 5.34) do both. Their binaries are copied
# with patchelf pointing them at trixie's dynamic loader and libraries (an RPATH, which reaches the libraries' own
# dependencies too), bookworm's for the rest; a patched binary, unlike a loader wrapper, stays itself when podman
# re-executes /proc/self/exe to unpack layers. Nothing in the system's dpkg database or apt configuration changes.
# See docs/decisions/0023-signed-images.md.
set -euo pipefail
PREFIX=${BERTH_SIGNERS_PREFIX:-/usr/local/lib/berth/signers}
SUITE=${BERTH_SIGNERS_SUITE:-trixie}
MIRROR=${BERTH_SIGNERS_MIRROR:-http://deb.debian.org/debian}
PACKAGES=(skopeo podman libc6 libgpgme11t64 libassuan9 libgpg-error0 libsubid5)

works() { "$PREFIX/bin/skopeo" --version >/dev/null 2>&1 && "$PREFIX/bin/podman" --version >/dev/null 2>&1; }
if works; then exit 0; fi

tmp=$(mktemp -d /var/tmp/berth-signers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "installing skopeo and podman from Debian $SUITE into $PREFIX"
"$(dirname "$0")/suite-debs.sh" "$SUITE" "$MIRROR" "$tmp/debs" "${PACKAGES[@]}"

new="$PREFIX.new"
rm -rf "$new"
mkdir -p "$new/bin"
for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$new/root"; done
lib="$PREFIX/root/usr/lib/x86_64-linux-gnu"
for tool in skopeo podman; do
  cp "$new/root/usr/bin/$tool" "$new/bin/$tool"
  patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" "$new/bin/$tool"
done
(cd "$tmp/debs" && ls *.deb) > "$new/PACKAGES"
rm -rf "$PREFIX.old"
[ -e "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"
mv "$new" "$PREFIX"
rm -rf "$PREFIX.old"

# Every symbol resolved now, not at first use: a library too old fails here, not mid-test.
if ! LD_BIND_NOW=1 works; then
  echo "warning: $PREFIX/bin/skopeo or podman does not run; the signed-image interop tests will fail:" >&2
  "$PREFIX/bin/skopeo" --version >&2 || true
  "$PREFIX/bin/podman" --version >&2 || true
  exit 0
fi
echo "$("$PREFIX/bin/skopeo" --version), $("$PREFIX/bin/podman" --version) in $PREFIX"
