#!/usr/bin/env bash
# Builds a mixed-language root filesystem for the accuracy comparison with
# syft (bench/run.sh): the Debian 12 minbase rootfs plus, in /app and /opt,
# a real npm install, Python, Ruby and Java packages from this machine's
# Debian packages, two Go binaries and the lock-file fixtures of the
# inventory tests. Needs the npm registry for the node project.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${KUBESHIELD_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeshield-test}
dest=${1:-$cache/mixed-rootfs}
[ -f "$dest/.done" ] && { echo "$dest exists" >&2; exit 0; }
bash hack/debian-rootfs.sh "$cache/debian12-rootfs" >&2
rm -rf "$dest" && cp -a "$cache/debian12-rootfs" "$dest"

# npm: a real install (node_modules and package-lock.json v3).
mkdir -p "$dest/app/node"
cat > "$dest/app/node/package.json" <<'JSON'
{"name": "mixed-app", "version": "1.0.0", "private": true,
 "dependencies": {"express": "4.17.1", "lodash": "4.17.20"},
 "devDependencies": {"minimist": "1.2.5"}}
JSON
(cd "$dest/app/node" && npm install --ignore-scripts --no-audit --no-fund >/dev/null)

# Python, Ruby, Java: what Debian installed on this machine, if present.
mkdir -p "$dest/usr/lib/python3/dist-packages" "$dest/opt/java" "$dest/usr/share/rubygems-integration/all/specifications"
cp -r /usr/lib/python3/dist-packages/*.dist-info /usr/lib/python3/dist-packages/*.egg-info "$dest/usr/lib/python3/dist-packages/" 2>/dev/null || true
cp /usr/share/java/*.jar "$dest/opt/java/" 2>/dev/null || true
cp /usr/share/rubygems-integration/all/specifications/*.gemspec "$dest/usr/share/rubygems-integration/all/specifications/" 2>/dev/null || true

# Go binaries: kubeshield itself and one with replaced modules.
mkdir -p "$dest/usr/local/bin"
go build -o "$dest/usr/local/bin/kubeshield" ./cmd/kubeshield

# Lock files of other ecosystems from the inventory fixtures.
for f in rust/src/ks/Cargo.lock php/var/www/app/composer.lock dotnet/app/WebApi.deps.json; do
  mkdir -p "$dest/app/$(dirname "$f")"
  cp "internal/inventory/testdata/$f" "$dest/app/$f"
done
touch "$dest/.done"
echo "$dest built" >&2
