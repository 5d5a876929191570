package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/responses")

// testEngine builds the engine of testdata/config.yaml.
func testEngine(t testing.TB, ns NamespaceLabeler) *Engine {
	t.Helper()
	data, err := os.ReadFile("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	bindings, err := cfg.Bindings(context.Background(), BuildEnv{})
	if err != nil {
		t.Fatalf("Bindings: %v", err)
	}
	e, err := NewEngine(nil, ns, bindings...)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

// TestReviews runs real AdmissionReview requests through the configured
// built-in policies and compares the responses with golden files.
func TestReviews(t *testing.T) {
	e := testEngine(t, nil)
	tests := []struct {
		file     string
		allowed  bool
		deny     []string // substrings of the message
		warnings int
	}{
		{"pod-create-docker-sock", false, []string{
			`runtimeSockets: hostPath volume "sock" (/var/run//docker.sock/) is the container runtime socket /run/docker.sock`,
			`images: container "app": image "nginx" has no tag (latest)`,
		}, 1},
		{"pod-create-compliant", true, nil, 0},
		{"pod-create-generatename", false, []string{`images: container "app": image "nginx:latest" uses the latest tag`}, 0},
		{"pod-create-dryrun", false, []string{"runtimeSockets: ", "images: "}, 1},
		{"pod-update-labels-only", true, nil, 0},
		{"pod-update-image-latest", false, []string{`image "registry.example.com/app:latest" uses the latest tag`}, 0},
		{"pod-delete", true, nil, 0},
		{"pod-status-update", true, nil, 0},
		{"pod-ephemeralcontainers", false, []string{`images: ephemeral container "debugger": image "busybox" has no tag`}, 0},
		{"pod-exec", true, nil, 0},
		{"deployment-scale", true, nil, 0},
		{"pod-exempt-daemonset", true, nil, 0},
		{"pod-exempt-deployment", true, nil, 0},
		{"pod-forged-owner", false, []string{"runtimeSockets: "}, 0},
		{"namespace-create", true, nil, 0},
	}
	for _, kind := range []string{"deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob", "replicationcontroller", "podtemplate"} {
		tests = append(tests,
			struct {
				file     string
				allowed  bool
				deny     []string
				warnings int
			}{kind + "-create-containerd-dir", false, []string{
				`runtimeSockets: hostPath volume "sock" (/run/containerd) holds the container runtime socket /run/containerd/containerd.sock`,
				`images: container "app": image "quay.io/acme/agent:latest" uses the latest tag`,
			}, 0},
			struct {
				file     string
				allowed  bool
				deny     []string
				warnings int
			}{kind + "-create-compliant", true, nil, 0})
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata/reviews", tt.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			review, err := DecodeReview(f, 0)
			if err != nil {
				t.Fatalf("DecodeReview: %v", err)
			}
			d := e.Admit(context.Background(), review.Request)
			if d.Allowed != tt.allowed {
				t.Errorf("Allowed = %v; want %v (message %q)", d.Allowed, tt.allowed, d.Message)
			}
			for _, want := range tt.deny {
				if !strings.Contains(d.Message, want) {
					t.Errorf("Message = %q; want it to contain %q", d.Message, want)
				}
			}
			if len(d.Warnings) != tt.warnings {
				t.Errorf("Warnings = %q; want %d", d.Warnings, tt.warnings)
			}
			for _, r := range d.Results {
				if r.Err != nil {
					t.Errorf("policy %s: %v", r.Policy, r.Err)
				}
			}
			resp := Response(review, d)
			if resp.Response.UID != review.Request.UID {
				t.Errorf("response UID = %q; want %q", resp.Response.UID, review.Request.UID)
			}
			got, err := json.MarshalIndent(resp, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata/responses", tt.file+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
				t.Errorf("response differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestDryRunReachesPolicies checks that a dry-run request is marked as
// such for the policies and in the decision log.
func TestDryRunReachesPolicies(t *testing.T) {
	data, err := os.ReadFile("testdata/reviews/pod-create-dryrun.json")
	if err != nil {
		t.Fatal(err)
	}
	review, err := DecodeReview(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	var sawDryRun bool
	e, err := NewEngine(nil, nil, Binding{Policy: policyFunc("p", func(ctx context.Context, r *Request) (Outcome, error) {
		sawDryRun = r.DryRun
		return Outcome{}, nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRequest(context.Background(), review.Request, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := e.Review(context.Background(), r)
	if !sawDryRun {
		t.Error("the policy did not see DryRun")
	}
	var buf bytes.Buffer
	if err := NewDecisionLog(&buf).Write(r, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"dryRun":true`) {
		t.Errorf("decision log line %s: want dryRun true", buf.String())
	}
}

func TestDecodeReviewErrors(t *testing.T) {
	valid, err := os.ReadFile("testdata/reviews/pod-create-compliant.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	req := func(m map[string]any) map[string]any { return m["request"].(map[string]any) }
	tests := []struct {
		name  string
		body  string
		limit int64
		want  error
	}{
		{"empty", "", 0, ErrInvalidReview},
		{"not JSON", "<xml/>", 0, ErrInvalidReview},
		{"array", "[]", 0, ErrInvalidReview},
		{"null", "null", 0, ErrInvalidReview},
		{"too large", string(valid), 100, ErrReviewTooLarge},
		{"v1beta1", edit(func(m map[string]any) { m["apiVersion"] = "admission.k8s.io/v1beta1" }), 0, ErrInvalidReview},
		{"no apiVersion", edit(func(m map[string]any) { delete(m, "apiVersion") }), 0, ErrInvalidReview},
		{"wrong kind", edit(func(m map[string]any) { m["kind"] = "Pod" }), 0, ErrInvalidReview},
		{"no request", edit(func(m map[string]any) { delete(m, "request") }), 0, ErrInvalidReview},
		{"no uid", edit(func(m map[string]any) { delete(req(m), "uid") }), 0, ErrInvalidReview},
		{"no kind", edit(func(m map[string]any) { delete(req(m), "kind") }), 0, ErrInvalidReview},
		{"bad operation", edit(func(m map[string]any) { req(m)["operation"] = "PATCH" }), 0, ErrInvalidReview},
		{"uid of the wrong type", edit(func(m map[string]any) { req(m)["uid"] = 12 }), 0, ErrInvalidReview},
		{"trailing data", string(valid) + "{}", 0, ErrInvalidReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeReview(strings.NewReader(tt.body), tt.limit)
			if !errors.Is(err, tt.want) {
				t.Errorf("DecodeReview(%.40q) = %v, %v; want %v", tt.body, got, err, tt.want)
			}
		})
	}
	if _, err := DecodeReview(nil, 0); !errors.Is(err, ErrInvalidReview) {
		t.Errorf("DecodeReview(nil) = %v; want %v", err, ErrInvalidReview)
	}
	readErr := errors.New("connection reset")
	if _, err := DecodeReview(iotest.ErrReader(readErr), 0); !errors.Is(err, readErr) {
		t.Errorf("DecodeReview(failing reader) = %v; want %v", err, readErr)
	}
	// Exactly at the limit is fine.
	if _, err := DecodeReview(bytes.NewReader(valid), int64(len(valid))); err != nil {
		t.Errorf("DecodeReview at the limit: %v", err)
	}
}

func TestResponseShape(t *testing.T) {
	review := &admissionv1.AdmissionReview{Request: &admissionv1.AdmissionRequest{UID: "req-1"}}
	t.Run("denied", func(t *testing.T) {
		got := Response(review, Decision{UID: "other", Message: "p: no", AuditAnnotations: map[string]string{"p.violations": "no"}})
		if got.APIVersion != "admission.k8s.io/v1" || got.Kind != "AdmissionReview" {
			t.Errorf("TypeMeta = %+v", got.TypeMeta)
		}
		r := got.Response
		if r.UID != "req-1" || r.Allowed || r.Result == nil || r.Result.Code != 403 || r.Result.Message != "p: no" || r.Result.Reason != "Forbidden" {
			t.Errorf("Response = %+v, result %+v", r, r.Result)
		}
		if r.Patch != nil || r.PatchType != nil {
			t.Errorf("denied response has a patch")
		}
		if r.AuditAnnotations["p.violations"] != "no" {
			t.Errorf("AuditAnnotations = %v", r.AuditAnnotations)
		}
	})
	t.Run("denied without message", func(t *testing.T) {
		r := Response(nil, Decision{UID: "u"}).Response
		if r.UID != "u" || r.Result == nil || r.Result.Message == "" {
			t.Errorf("Response(nil) = %+v", r)
		}
	})
	t.Run("patch", func(t *testing.T) {
		d := Decision{Allowed: true, Patch: []JSONPatchOp{
			{Op: "replace", Path: "/spec/containers/0/image", Value: "nginx@sha256:00"},
			{Op: "add", Path: "/spec/automountServiceAccountToken", Value: false},
			{Op: "remove", Path: "/metadata/labels/x"},
		}}
		r := Response(review, d).Response
		if r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
			t.Fatalf("PatchType = %v", r.PatchType)
		}
		want := `[{"op":"replace","path":"/spec/containers/0/image","value":"nginx@sha256:00"},{"op":"add","path":"/spec/automountServiceAccountToken","value":false},{"op":"remove","path":"/metadata/labels/x"}]`
		if string(r.Patch) != want {
			t.Errorf("Patch = %s; want %s", r.Patch, want)
		}
		if r.Result != nil {
			t.Errorf("Result = %+v; want none", r.Result)
		}
		if v := Response(review, d.WithoutPatch()).Response; v.Patch != nil || v.PatchType != nil {
			t.Errorf("WithoutPatch response has a patch")
		}
	})
	t.Run("unmarshalable patch", func(t *testing.T) {
		r := Response(review, Decision{Allowed: true, Patch: []JSONPatchOp{{Op: "add", Path: "/x", Value: make(chan int)}}}).Response
		if r.Allowed || r.Patch != nil {
			t.Errorf("Response = %+v; want denied without a patch", r)
		}
	})
	t.Run("warnings", func(t *testing.T) {
		var ws []string
		for i := range 40 {
			ws = append(ws, fmt.Sprintf("p: warning %d", i))
		}
		ws = append(ws, "p: warning 0", strings.Repeat("é", 1000), "bell\a and\nnewline", string([]byte{0xff, 'x'}))
		got := Response(review, Decision{Allowed: true, Warnings: ws}).Response.Warnings
		if len(got) != MaxWarnings {
			t.Fatalf("%d warnings; want %d", len(got), MaxWarnings)
		}
		if want := "kubeshield: 28 more warnings not shown"; got[MaxWarnings-1] != want {
			t.Errorf("last warning = %q; want %q", got[MaxWarnings-1], want)
		}
		few := Response(review, Decision{Allowed: true, Warnings: ws[38:]}).Response.Warnings
		want := []string{"p: warning 38", "p: warning 39", "p: warning 0", strings.Repeat("é", MaxWarningRunes-1) + "…", "bell  and newline", "\uFFFDx"}
		if diff := cmp.Diff(want, few); diff != "" {
			t.Errorf("warnings (-want +got):\n%s", diff)
		}
		for _, w := range few {
			if utf8.RuneCountInString(w) > MaxWarningRunes {
				t.Errorf("warning of %d runes", utf8.RuneCountInString(w))
			}
		}
	})
}

// BenchmarkAdmit measures the hot path on a pod that violates every
// built-in policy: decode, review, respond.
func BenchmarkAdmit(b *testing.B) {
	data, err := os.ReadFile("testdata/reviews/pod-create-docker-sock.json")
	if err != nil {
		b.Fatal(err)
	}
	e := testEngine(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		review, err := DecodeReview(bytes.NewReader(data), 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(Response(review, e.Admit(ctx, review.Request))); err != nil {
			b.Fatal(err)
		}
	}
}
