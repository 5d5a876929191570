package admission

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const header = "apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\n"

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(header + `
defaults:
  mode: warn
  failurePolicy: Ignore
  timeout: 500ms
runtimeSockets:
  mode: enforce
  failurePolicy: Fail
  exempt: ["monitoring/node-exporter"]
images:
  requireDigest: true
registries:
  timeout: 3s
  allow: [ghcr.io/acme]
serviceAccountTokens:
  mode: audit
  needAPI: ["kube-system/*"]
`))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	bs, err := cfg.Bindings(context.Background(), BuildEnv{})
	if err != nil {
		t.Fatalf("Bindings: %v", err)
	}
	type row struct {
		name string
		mode Mode
		fp   FailurePolicy
		to   time.Duration
	}
	want := []row{
		{RuntimeSocketsPolicy, ModeEnforce, Fail, 500 * time.Millisecond},
		{ImagesPolicy, ModeWarn, Ignore, 500 * time.Millisecond},
		{RegistriesPolicy, ModeWarn, Ignore, 3 * time.Second},
		{ServiceAccountTokensPolicy, ModeAudit, Ignore, 500 * time.Millisecond},
	}
	if len(bs) != len(want) {
		t.Fatalf("%d bindings; want %d", len(bs), len(want))
	}
	for i, b := range bs {
		if got := (row{b.Policy.Name(), b.Mode, b.FailurePolicy, b.Timeout}); got != want[i] {
			t.Errorf("binding %d = %+v; want %+v", i, got, want[i])
		}
	}
	if !bs[1].Policy.(*images).requireDigest || !bs[1].Policy.(*images).forbidLatest {
		t.Errorf("images = %+v; want requireDigest and forbidLatest", bs[1].Policy)
	}

	// JSON is YAML; no sections means no policies; the defaults apply.
	cfg, err = ParseConfig([]byte(`{"apiVersion": "kubeshield.dev/v1alpha1", "kind": "AdmissionConfig", "images": {}}`))
	if err != nil {
		t.Fatalf("ParseConfig(JSON): %v", err)
	}
	bs, err = cfg.Bindings(context.Background(), BuildEnv{})
	if err != nil || len(bs) != 1 || bs[0].Mode != ModeEnforce || bs[0].FailurePolicy != Fail || bs[0].Timeout != DefaultTimeout {
		t.Errorf("Bindings(JSON) = %+v, %v", bs, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line int
		want string // substring of the message
	}{
		{"empty", "", 0, "empty document"},
		{"not a mapping", "- a\n", 1, "want a mapping"},
		{"syntax", header + "images:\n\tmode: warn\n", 4, "cannot start any token"},
		{"no apiVersion", "kind: AdmissionConfig\n", 1, "apiVersion"},
		{"wrong kind", header[:strings.Index(header, "\n")+1] + "kind: Config\n", 2, `kind: want "AdmissionConfig"`},
		{"unknown top field", header + "podSecurty: {}\n", 3, `unknown field "podSecurty"`},
		{"unknown section field", header + "images:\n  mode: warn\n  requireDigests: true\n", 5, `unknown field "requireDigests"`},
		{"bad mode", header + "images:\n  mode: deny\n", 4, `images.mode: unknown mode "deny"`},
		{"bad default mode", header + "defaults:\n  mode: Enforce\n", 4, `defaults.mode: unknown mode`},
		{"bad failure policy", header + "registries:\n  failurePolicy: fail\n", 4, "registries.failurePolicy"},
		{"bad timeout", header + "images:\n  timeout: 2\n", 4, "timeout"},
		{"negative timeout", header + "images:\n  timeout: -1s\n", 4, "positive duration"},
		{"wrong type", header + "images:\n  requireDigest: yes please\n", 4, "bool"},
		{"bad exemption", header + "runtimeSockets:\n  exempt:\n    - monitoring/x\n    - nonamespace\n", 6, "runtimeSockets.exempt.1"},
		{"bad needAPI", header + "serviceAccountTokens:\n  needAPI: [\"a/b\", \"/b\"]\n", 4, "serviceAccountTokens.needAPI.1"},
		{"bad registry", header + "registries:\n  allow:\n    - ghcr.io\n    - \"not a host\"\n", 6, "registries.allow.1"},
		{"empty socket path", header + "runtimeSockets:\n  paths: [\"\"]\n", 4, "runtimeSockets.paths.0"},
		{"two documents", header + "---\n" + header, 3, "more than one"},
		{"alias", header + "images: &a {}\nregistries: *a\n", 3, "anchors"},
		{"section not a mapping", header + "images: [1]\n", 3, "cannot unmarshal"},
		{"too large", header + "#" + strings.Repeat("x", MaxConfigSize), 0, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tt.doc))
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("ParseConfig = %v, %v; want a *ConfigError", cfg, err)
			}
			if ce.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseConfig error = %q (line %d); want line %d and %q", err, ce.Line, tt.line, tt.want)
			}
			if testing.Verbose() {
				t.Log(err)
			}
		})
	}
}
