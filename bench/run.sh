#!/usr/bin/env bash
# Side-by-side benchmarks (make bench). Installs the peer tools into the tools
# cache from the Go module proxy, builds the inputs, and runs each comparison.
# Not run by CI.
set -euo pipefail
# A benchmark that misses its target exits 1; the others still run, and
# this script exits 1 at the end naming them.
missed=()
cd "$(dirname "$0")/.."
tools=${KUBESHIELD_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeshield-tools}
mkdir -p "$tools/bin"
if [ ! -x "$tools/bin/syft" ]; then
  echo "installing syft v1.57.1 into $tools/bin (takes several minutes)" >&2
  GOBIN="$tools/bin" go install github.com/anchore/syft/cmd/syft@v1.57.1
fi
if [ ! -x "$tools/bin/osv-scanner" ]; then
  echo "installing osv-scanner v2.5.0 into $tools/bin (takes 2-4 minutes)" >&2
  GOBIN="$tools/bin" go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.5.0
fi
if [ ! -x "$tools/bin/cosign" ]; then
  echo "installing cosign v2.6.5 into $tools/bin (takes several minutes)" >&2
  GOBIN="$tools/bin" go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
fi
if [ ! -x "$tools/bin/cosign3" ]; then
  echo "installing cosign v3.1.3 into $tools/bin as cosign3 (takes several minutes)" >&2
  GOBIN="$tools/cosign3.tmp" go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3
  mv "$tools/cosign3.tmp/cosign" "$tools/bin/cosign3" && rmdir "$tools/cosign3.tmp"
fi
if [ ! -x "$tools/bin/opa" ]; then
  echo "installing opa v1.22.3 into $tools/bin (takes 2-4 minutes)" >&2
  GOBIN="$tools/bin" go install github.com/open-policy-agent/opa@v1.22.3
fi
if [ ! -x "$tools/bin/gator" ]; then
  echo "installing gator v3.23.1 into $tools/bin (takes several minutes)" >&2
  GOBIN="$tools/bin" go install github.com/open-policy-agent/gatekeeper/v3/cmd/gator@v3.23.1
fi
if [ ! -x "$tools/bin/kubectl-kyverno" ]; then
  # go install refuses kyverno's module (its go.mod has replace
  # directives): build it from a copy of the module's source. Optional: the
  # admission bench skips kyverno when this fails.
  echo "building kubectl-kyverno v1.19.1 into $tools/bin (takes 10 minutes or more)" >&2
  kyverno_src=$(go mod download -json github.com/kyverno/kyverno@v1.19.1 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  kyverno_tmp=$(mktemp -d)
  if [ -n "$kyverno_src" ] && cp -r "$kyverno_src/." "$kyverno_tmp" && chmod -R u+w "$kyverno_tmp" &&
    (cd "$kyverno_tmp" && go build -o "$tools/bin/kubectl-kyverno" ./cmd/cli/kubectl-kyverno); then :; else
    echo "kubectl-kyverno did not build: the admission bench skips it" >&2
  fi
  rm -rf "$kyverno_tmp"
fi
cache=${KUBESHIELD_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeshield-test}
bash hack/debian-rootfs.sh "$cache/debian12-rootfs" >&2
tarball=$(go run ./hack/debianimage -rootfs "$cache/debian12-rootfs")
bash hack/mixed-rootfs.sh "$cache/mixed-rootfs" >&2
mixed=$(go run ./hack/debianimage -rootfs "$cache/mixed-rootfs" -o "$cache/images/mixed")
go build -trimpath -o bin/kubeshield ./cmd/kubeshield

echo "== kubeshield sbom vs syft v1.57.1, Debian 12 minbase, $(nproc) cores"
go run ./bench/sbom -kubeshield bin/kubeshield -syft "$tools/bin/syft" -runs "${RUNS:-5}" \
  -input "dir=dir:$cache/debian12-rootfs" \
  -input "tarball=archive:$tarball" \
  -input "layout=oci:$cache/images/debian12/layout" || missed+=(sbom)
echo "== kubeshield sbom vs syft, mixed-language image (Debian 12 + npm, Python, Java, Ruby, Go, Rust, PHP, .NET)"
go run ./bench/sbom -kubeshield bin/kubeshield -syft "$tools/bin/syft" -runs "${RUNS:-5}" \
  -input "mixed-dir=dir:$cache/mixed-rootfs" \
  -input "mixed-tar=archive:$mixed" || missed+=(sbom)
echo "== kubeshield db import of ../shared/data/osv; image scan vs osv-scanner v2.5.0 (offline, the same records), Debian 12 and mixed images"
go run ./bench/scan -kubeshield bin/kubeshield -osv-scanner "$tools/bin/osv-scanner" -runs "${RUNS:-5}" \
  -data "${OSV_DATA:-../shared/data/osv}" \
  -input "debian=$tarball" \
  -input "mixed=$mixed" || missed+=(scan)
echo "== kubeshield verify vs cosign v2.6.5 and v3.1.3 verify (key pair, no transparency log; v3: Sigstore bundle referrer), registry on 127.0.0.1; in-process cold and warm Cache.Verify"
go run ./bench/verify -kubeshield bin/kubeshield -cosign "$tools/bin/cosign" -cosign3 "$tools/bin/cosign3" -runs "${RUNS:-5}" -calls 10000 || missed+=(verify)
echo "== kubeshield rbac (who-can, risks, paths) vs the API server (SubjectAccessReviews, kubectl auth can-i) on a generated cluster of 10,000 roles and bindings, 1,000 subjects"
bash hack/control-plane.sh "$cache/control-plane/v1.37.2/bin" >&2
go run ./bench/rbac -bin "$cache/control-plane/v1.37.2/bin" -runs "${RUNS:-10}" || missed+=(rbac)
echo "== kubeshield admission webhook (Pod Security + signed images + 10 Rego constraints) vs opa run --server v1.22.3 (the Rego), gator test v3.23.1, kubectl-kyverno apply v1.19.1 (Pod Security), TLS on 127.0.0.1"
kyverno_bin=""
if [ -x "$tools/bin/kubectl-kyverno" ]; then kyverno_bin="$tools/bin/kubectl-kyverno"; fi
go run ./bench/admission -kubeshield bin/kubeshield -opa "$tools/bin/opa" -gator "$tools/bin/gator" -kyverno "$kyverno_bin" -runs "${RUNS:-3}" || missed+=(admission)
if [ ${#missed[@]} -gt 0 ]; then
  echo "targets missed: ${missed[*]}" >&2
  exit 1
fi
