#!/usr/bin/env bash
# Copies up to N (default 8) of the smallest inputs the fuzzer found
# interesting for each fuzz target from Go's fuzz cache into the package's
# testdata/fuzz/<Target>/, so they run as seeds in every `go test`.
# Targets that already keep N or more entries are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-8}
cache="$(go env GOCACHE)/fuzz"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    src="$cache/$pkg/$target"
    [ -d "$src" ] || continue
    dst="$dir/testdata/fuzz/$target"
    have=$({ ls "$dst" 2>/dev/null || true; } | wc -l)
    [ "$have" -ge "$n" ] && continue
    mkdir -p "$dst"
    { ls -S -r "$src" || true; } | head -n $((n - have)) | while read -r f; do cp "$src/$f" "$dst/$f"; done || true
    echo "$pkg $target: kept $(ls "$dst" | wc -l)"
  done
done
