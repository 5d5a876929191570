# Kubeshield developer targets. `make test` is what CI runs (.ci/run).
GO        ?= go
BIN       ?= bin/kubeshield
PKGS      ?= ./...
TEST_FLAGS ?= -race -timeout 45m

.PHONY: all build test test-short bench lint fuzz example clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/kubeshield

# The whole suite: unit, integration (debootstrap rootfs, registry on
# 127.0.0.1, real rpm/dpkg/go tools as oracles) and hostile-input tests.
test:
	$(GO) vet $(PKGS)
	$(GO) test $(TEST_FLAGS) $(PKGS)

# Unit tests only: skips the fixtures that take minutes to build.
test-short:
	$(GO) test -short $(PKGS)

# Side-by-side benchmarks against peer tools (installs them into the tools
# cache first); prints both figures and the ratio. Not run by CI.
bench: build
	bash bench/run.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@sc=$$(command -v staticcheck || echo $${XDG_CACHE_HOME:-$$HOME/.cache}/kubeshield-tools/bin/staticcheck); \
	if [ -x "$$sc" ]; then $$sc $(PKGS); else echo "staticcheck not installed: GOBIN=~/.cache/kubeshield-tools/bin go install honnef.co/go/tools/cmd/staticcheck@latest"; fi

# Runs every fuzz target for FUZZTIME each; failures land in testdata/fuzz,
# and hack/keep-fuzz-corpus.sh keeps a few interesting inputs there too.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 3s $$pkg || exit 1; \
	  done; \
	done
	bash hack/keep-fuzz-corpus.sh

# The quick start, offline: builds the bundled example image (an OCI layout
# made from examples/image), lists what is inside it, builds a vulnerability
# database from the bundled OSV slice (examples/osv) and scans the image.
example: build
	$(GO) run ./hack/exampleimage -o examples/.build/app
	$(BIN) sbom oci:examples/.build/app
	$(BIN) --db examples/.build/vuln.db -q db import examples/osv >/dev/null
	$(BIN) --db examples/.build/vuln.db image scan oci:examples/.build/app

clean:
	rm -rf bin examples/.build
