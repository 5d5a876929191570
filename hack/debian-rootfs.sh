#!/usr/bin/env bash
# Builds the Debian 12 (bookworm) minbase root filesystem the integration
# tests and benchmarks scan, into $1 (default: the test cache). It needs root,
# debootstrap (apt-get install debootstrap) and Debian's package mirror.
# The result is reused: delete the directory to rebuild it.
set -euo pipefail
cache=${KUBESHIELD_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeshield-test}
dest=${1:-$cache/debian12-rootfs}
if [ -f "$dest/var/lib/dpkg/status" ]; then
  echo "$dest exists"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install -y debootstrap" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
tmp="$dest.tmp.$$"
rm -rf "$tmp"
debootstrap --variant=minbase bookworm "$tmp" >&2
rm -f "$tmp"/var/cache/apt/archives/*.deb
mv "$tmp" "$dest"
echo "$dest built"
