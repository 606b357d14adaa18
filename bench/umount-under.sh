#!/usr/bin/env bash
# Unmounts every mount whose mount point lies under one of the given directories, deepest first (lazily if busy).
# Usage: bench/umount-under.sh DIR...
set -uo pipefail
for _ in 1 2 3; do
  mapfile -t points < <(awk '{ print $2 }' /proc/self/mounts | while read -r m; do
    m=$(printf '%b' "${m//\\/\\0}")   # mounts escapes space, tab, newline and backslash as \ooo
    for d in "$@"; do
      [ -n "$d" ] && case "$m" in "$d"|"$d"/*) echo "$m" ;; esac
    done
  done | sort -r)
  [ ${#points[@]} -eq 0 ] && exit 0
  for m in "${points[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
done
