package admission

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/signature"
)

// engineOf builds the engine of a configuration, files relative to dir.
func engineOf(t *testing.T, config, dir string, ns NamespaceLabeler) *Engine {
	t.Helper()
	cfg, err := ParseConfig([]byte(config))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	bs, err := cfg.Bindings(context.Background(), BuildEnv{Dir: dir})
	if err != nil {
		t.Fatalf("Bindings: %v", err)
	}
	e, err := NewEngine(nil, ns, bs...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// create is the AdmissionRequest of creating obj (apiVersion, kind,
// metadata, spec) in namespace shop.
func create(t *testing.T, group, version, kind, resource string, obj map[string]any) *admissionv1.AdmissionRequest {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &admissionv1.AdmissionRequest{UID: "u", Kind: metav1.GroupVersionKind{Group: group, Version: version, Kind: kind},
		Resource: metav1.GroupVersionResource{Group: group, Version: version, Resource: resource}, Namespace: "shop", Name: "x",
		Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}}
}

func pod(image string, privileged bool) map[string]any {
	c := map[string]any{"name": "app", "image": image}
	if privileged {
		c["securityContext"] = map[string]any{"privileged": true}
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "x", "namespace": "shop"},
		"spec": map[string]any{"containers": []any{c}}}
}

func deployment(privileged bool) map[string]any {
	p := pod("registry.example.com/app:1", privileged)
	return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "x", "namespace": "shop"},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"a": "b"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}, "spec": p["spec"]}}}
}

// TestPodSecuritySection: the namespace's labels over the configured
// default, warnings from the warn level, workloads denied by their
// templates unless enforceTemplates is false.
func TestPodSecuritySection(t *testing.T) {
	ctx := context.Background()
	labels := map[string]map[string]string{}
	ns := NamespaceLabelsFunc(func(_ context.Context, n string) (map[string]string, error) { return labels[n], nil })
	cfg := "apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\npodSecurity:\n  enforce: baseline\n"
	e := engineOf(t, cfg, "", ns)
	admit := func(e *Engine, ar *admissionv1.AdmissionRequest) Decision {
		t.Helper()
		return e.Admit(ctx, ar)
	}
	if d := admit(e, create(t, "", "v1", "Pod", "pods", pod("nginx:1", true))); d.Allowed || !strings.Contains(d.Message, `violates PodSecurity "baseline:latest"`) {
		t.Errorf("privileged pod at the baseline default: %+v", d)
	}
	if d := admit(e, create(t, "", "v1", "Pod", "pods", pod("nginx:1", false))); !d.Allowed {
		t.Errorf("plain pod at baseline: %s", d.Message)
	}
	if d := admit(e, create(t, "apps", "v1", "Deployment", "deployments", deployment(true))); d.Allowed {
		t.Error("privileged Deployment admitted: templates are enforced by default")
	}
	labels["shop"] = map[string]string{"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted"}
	d := admit(e, create(t, "", "v1", "Pod", "pods", pod("nginx:1", true)))
	if !d.Allowed || len(d.Warnings) == 0 || !strings.Contains(d.Warnings[0], `would violate PodSecurity "restricted:latest"`) {
		t.Errorf("privileged namespace with a restricted warn label: %+v", d)
	}
	delete(labels, "shop")
	e = engineOf(t, cfg+"  enforceTemplates: false\n", "", ns)
	if d := admit(e, create(t, "apps", "v1", "Deployment", "deployments", deployment(true))); !d.Allowed {
		t.Errorf("enforceTemplates false: Deployment denied: %s", d.Message)
	}
	if _, err := ParseConfig([]byte(cfg + "  warn: strict\n")); err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("bad level: %v; want an error on line 5", err)
	}
}

// TestRegoSection runs a Gatekeeper library policy from the policy
// package's test data through the engine.
func TestRegoSection(t *testing.T) {
	lib := "../policy/testdata/gatekeeper-library/pod-security-policy/privileged-containers"
	cfg := "apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\nrego:\n  paths: [template.yaml, samples/psp-privileged-container/constraint.yaml]\n"
	e := engineOf(t, cfg, lib, nil)
	d := e.Admit(context.Background(), create(t, "", "v1", "Pod", "pods", pod("nginx:1", true)))
	if d.Allowed || !strings.Contains(d.Message, "rego: K8sPSPPrivilegedContainer/psp-privileged-container: Privileged container is not allowed") {
		t.Errorf("privileged pod: %+v", d)
	}
	if d := e.Admit(context.Background(), create(t, "", "v1", "Pod", "pods", pod("nginx:1", false))); !d.Allowed {
		t.Errorf("plain pod: %s", d.Message)
	}
	cfg, _ = strings.CutSuffix(cfg, "  paths: [template.yaml, samples/psp-privileged-container/constraint.yaml]\n")
	if _, err := ParseConfig([]byte(cfg + "  paths: []\n")); err == nil {
		t.Error("rego without paths: no error")
	}
	bad := "apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\nrego:\n  paths: [missing.yaml]\n"
	parsed, err := ParseConfig([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parsed.Bindings(context.Background(), BuildEnv{Dir: t.TempDir()}); err == nil {
		t.Error("rego with a missing file: no error")
	}
}

// TestSignedImagesSection configures keys by file and inline and checks
// the configuration's validation.
func TestSignedImagesSection(t *testing.T) {
	ctx := context.Background()
	host := fixture.Registry(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubPEM, err := signature.MarshalPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "team.pub"), pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(64, 1)
	tag := fixture.Push(t, host, "team/app:1", img)
	ref, _ := name.ParseReference(tag)
	if _, err := signature.Sign(ctx, ref, key, signature.SignOptions{Annotations: map[string]string{"env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	other, _ := random.Image(64, 1)
	unsignedTag := fixture.Push(t, host, "team/other:1", other)

	cfg := `apiVersion: kubeshield.dev/v1alpha1
kind: AdmissionConfig
signedImages:
  rules:
  - name: team
    images: ["` + host + `/team/*"]
    keyFile: team.pub
    annotations: {env: prod}
`
	e := engineOf(t, cfg, dir, nil)
	d := e.Admit(ctx, create(t, "", "v1", "Pod", "pods", pod(tag, false)))
	digest, _ := img.Digest()
	if !d.Allowed || len(d.Patch) != 1 || d.Patch[0].Value != tag+"@"+digest.String() {
		t.Errorf("signed image: %+v", d)
	}
	if d := e.Admit(ctx, create(t, "", "v1", "Pod", "pods", pod(unsignedTag, false))); d.Allowed || !strings.Contains(d.Message, "not signed") {
		t.Errorf("unsigned image: %+v", d)
	}
	inline := strings.Replace(cfg, "    keyFile: team.pub\n", "    key: |\n      "+strings.ReplaceAll(strings.TrimSpace(string(pubPEM)), "\n", "\n      ")+"\n", 1)
	if d := engineOf(t, inline, "", nil).Admit(ctx, create(t, "", "v1", "Pod", "pods", pod(tag, false))); !d.Allowed {
		t.Errorf("inline key: %s", d.Message)
	}

	for _, tt := range []struct {
		name, rules, want string
	}{
		{"no rules", "  rules: []\n", "no rules"},
		{"two ways", "  rules:\n  - name: a\n    images: [x]\n    key: k\n    keyless: {trustedRoot: r.json, identities: [{subject: s, issuer: i}]}\n", "exactly one"},
		{"no way", "  rules:\n  - name: a\n    images: [x]\n", "exactly one"},
		{"bad key", "  rules:\n  - name: a\n    images: [x]\n    key: not a key\n", "line 7: signedImages.rules.0.key"},
		{"duplicate", "  rules:\n  - name: a\n    images: [x]\n    keyFile: k\n  - name: a\n    images: [y]\n    keyFile: k\n", "twice"},
		{"notation annotations", "  rules:\n  - name: a\n    images: [x]\n    notation: {trustPolicy: p, trustStore: s}\n    annotations: {a: b}\n", "not checked"},
	} {
		_, err := ParseConfig([]byte("apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\nsignedImages:\n" + tt.rules))
		if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error with %q", tt.name, err, tt.want)
		}
	}
}
