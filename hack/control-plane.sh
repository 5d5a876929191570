#!/usr/bin/env bash
# Builds the test control plane, kube-apiserver, kube-controller-manager (the
# tests run only its clusterrole-aggregation controller), etcd and kubectl
# (the tests dump objects with it), from the Go module
# proxy into $1 (default: the test cache, control-plane/<version>/bin), for
# the tests that need a real API server (internal/controlplane). No Docker
# and no release downloads: a throw-away wrapper module requires
# k8s.io/kubernetes and etcd's server module and builds the main packages.
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, apiserver,
# client-go, ...) at v0.0.0 with replace lines to ./staging, and Go ignores
# the replace lines of dependencies, so the wrapper replaces each of them
# with the matching v0.X.Y release, read from kubernetes's own go.mod.
#
# The result is reused: delete the directory to rebuild it. A cold build
# takes 5 to 10 minutes on 2 cores (about 700 MB of modules; go build peaks
# at about 2.5 GB of memory); a rebuild with a warm Go cache takes seconds.
set -euo pipefail

k8s_version=${KUBE_VERSION:-v1.37.2}
etcd_version=${ETCD_VERSION:-v3.7.0}
cache=${KUBESHIELD_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeshield-test}
dest=${1:-$cache/control-plane/$k8s_version/bin}

if [ -x "$dest/kube-apiserver" ] && [ -x "$dest/kube-controller-manager" ] && [ -x "$dest/etcd" ] && [ -x "$dest/kubectl" ]; then
  echo "$dest exists"
  exit 0
fi
command -v go >/dev/null || { echo "go is not on PATH" >&2; exit 1; }

staging=v0.${k8s_version#v1.}
work=$(mktemp -d "${TMPDIR:-/tmp}/kubeshield-cp.XXXXXX")
trap 'rm -rf "$work" "${tmp:-}"' EXIT
cd "$work"

cat >go.mod <<EOF
module kubeshield.local/controlplane

go 1.26
EOF
cat >tools.go <<'EOF'
//go:build tools

// Package tools pins the main packages this module builds.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF

echo "resolving k8s.io/kubernetes@$k8s_version and etcd $etcd_version" >&2
export GOFLAGS=-mod=mod
go mod download -json "k8s.io/kubernetes@$k8s_version" >kube.json
kube_gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' kube.json)
[ -f "$kube_gomod" ] || { echo "no go.mod for k8s.io/kubernetes@$k8s_version" >&2; exit 1; }
# Every "k8s.io/X => ./staging/src/k8s.io/X" line becomes a replace with the
# staging release of this Kubernetes version.
awk '/=> \.\/staging\/src\// {print $1}' "$kube_gomod" | sort -u >staging.txt
[ -s staging.txt ] || { echo "no staging replaces in $kube_gomod" >&2; exit 1; }
while read -r mod; do
  go mod edit -replace "$mod=$mod@$staging"
done <staging.txt
go mod edit -require "k8s.io/kubernetes@$k8s_version" -require "go.etcd.io/etcd/server/v3@$etcd_version"
go mod tidy -e >/dev/null 2>tidy.log || { cat tidy.log >&2; exit 1; }

tmp="$dest.tmp.$$"
mkdir -p "$tmp"
major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
echo "building kube-apiserver $k8s_version (minutes when cold)" >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w$stamp" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
echo "building kube-controller-manager $k8s_version" >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w$stamp" -o "$tmp/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
echo "building kubectl $k8s_version" >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w$stamp" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
echo "building etcd $etcd_version" >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
rm -rf "$dest"
mv "$tmp" "$dest"
echo "$dest built"
