package admission

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// testPolicy is a Policy made of a function.
type testPolicy struct {
	name  string
	check func(ctx context.Context, r *Request) (Outcome, error)
}

func (p testPolicy) Name() string { return p.name }
func (p testPolicy) Check(ctx context.Context, r *Request) (Outcome, error) {
	return p.check(ctx, r)
}

func policyFunc(name string, check func(ctx context.Context, r *Request) (Outcome, error)) Policy {
	return testPolicy{name, check}
}

// violates returns a policy with the given violations.
func violates(name string, msgs ...string) Policy {
	return policyFunc(name, func(context.Context, *Request) (Outcome, error) { return Outcome{Violations: msgs}, nil })
}

// patches returns a compliant policy with the given patch.
func patches(name string, ops ...JSONPatchOp) Policy {
	return policyFunc(name, func(context.Context, *Request) (Outcome, error) { return Outcome{Patch: ops}, nil })
}

// fails returns a policy returning err.
func fails(name string, err error) Policy {
	return policyFunc(name, func(context.Context, *Request) (Outcome, error) { return Outcome{}, err })
}

func mustEngine(t *testing.T, logger *slog.Logger, bindings ...Binding) *Engine {
	t.Helper()
	e, err := NewEngine(logger, nil, bindings...)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

var testRequest = &Request{UID: "uid-1", Operation: admissionv1.Create}

func TestPanicRecovery(t *testing.T) {
	panics := policyFunc("boom", func(context.Context, *Request) (Outcome, error) { panic("secret detail") })
	for _, fp := range []FailurePolicy{Fail, Ignore} {
		t.Run(string(fp), func(t *testing.T) {
			var logs bytes.Buffer
			e := mustEngine(t, slog.New(slog.NewJSONHandler(&logs, nil)), Binding{Policy: panics, FailurePolicy: fp}, Binding{Policy: violates("ok")})
			review := &admissionv1.AdmissionReview{Request: &admissionv1.AdmissionRequest{UID: "uid-1"}}
			d := e.Review(context.Background(), testRequest)
			resp := Response(review, d).Response
			if resp.UID != "uid-1" {
				t.Errorf("UID = %q; want uid-1", resp.UID)
			}
			var pe *PanicError
			if !errors.As(d.Results[0].Err, &pe) || pe.Value != "secret detail" || len(pe.Stack) == 0 {
				t.Errorf("Results[0].Err = %v; want a *PanicError with value and stack", d.Results[0].Err)
			}
			switch fp {
			case Fail:
				if resp.Allowed || resp.Result.Message != "boom: could not be evaluated: internal error (panic)" {
					t.Errorf("Response = allowed %v, %+v; want denied with the policy's name", resp.Allowed, resp.Result)
				}
			case Ignore:
				if !resp.Allowed || resp.AuditAnnotations["boom.failed-open"] == "" {
					t.Errorf("Response = %+v; want allowed with a failed-open annotation", resp)
				}
			}
			if strings.Contains(resp.String(), "secret detail") {
				t.Error("the response shows the panic value")
			}
			if !strings.Contains(logs.String(), `"msg":"policy panicked"`) || !strings.Contains(logs.String(), `"policy":"boom"`) || !strings.Contains(logs.String(), "secret detail") {
				t.Errorf("log = %s; want the panic with policy and value", logs.String())
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	ignoresCtx := policyFunc("stuck", func(context.Context, *Request) (Outcome, error) {
		<-block
		return Outcome{}, nil
	})
	honoursCtx := policyFunc("slow", func(ctx context.Context, _ *Request) (Outcome, error) {
		<-ctx.Done()
		return Outcome{}, nil // returns nil on cancellation: still a timeout
	})
	tests := []struct {
		name    string
		b       Binding
		ctxWait time.Duration // request deadline; 0 none
		allowed bool
	}{
		{"ignores ctx, Fail", Binding{Policy: ignoresCtx, Timeout: 20 * time.Millisecond}, 0, false},
		{"ignores ctx, Ignore", Binding{Policy: ignoresCtx, Timeout: 20 * time.Millisecond, FailurePolicy: Ignore}, 0, true},
		{"honours ctx, Fail", Binding{Policy: honoursCtx, Timeout: 20 * time.Millisecond}, 0, false},
		{"request deadline first", Binding{Policy: ignoresCtx, Timeout: time.Hour}, 20 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEngine(t, nil, tt.b)
			ctx := context.Background()
			if tt.ctxWait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxWait)
				defer cancel()
			}
			start := time.Now()
			d := e.Review(ctx, testRequest)
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("Review took %s", el)
			}
			if !errors.Is(d.Results[0].Err, ErrTimeout) {
				t.Errorf("Err = %v; want %v", d.Results[0].Err, ErrTimeout)
			}
			if d.Allowed != tt.allowed {
				t.Errorf("Allowed = %v; want %v (%q)", d.Allowed, tt.allowed, d.Message)
			}
			if !tt.allowed && !strings.Contains(d.Message, "could not be evaluated: timed out") {
				t.Errorf("Message = %q", d.Message)
			}
			if d.UID != "uid-1" {
				t.Errorf("UID = %q", d.UID)
			}
		})
	}
}

func TestConcurrentPolicies(t *testing.T) {
	a, b := make(chan struct{}), make(chan struct{})
	// Each waits for the other: only concurrent runs finish in time.
	pa := policyFunc("a", func(ctx context.Context, _ *Request) (Outcome, error) {
		close(a)
		select {
		case <-b:
			return Outcome{}, nil
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		}
	})
	pb := policyFunc("b", func(ctx context.Context, _ *Request) (Outcome, error) {
		close(b)
		select {
		case <-a:
			return Outcome{}, nil
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		}
	})
	d := mustEngine(t, nil, Binding{Policy: pa}, Binding{Policy: pb}).Review(context.Background(), testRequest)
	if !d.Allowed {
		t.Errorf("Allowed = false (%q); the policies did not run concurrently", d.Message)
	}
}

func TestMerge(t *testing.T) {
	errDown := errors.New("registry down")
	p1 := JSONPatchOp{Op: "replace", Path: "/spec/containers/0/image", Value: "a@sha256:1"}
	p2 := JSONPatchOp{Op: "add", Path: "/metadata/labels/x", Value: "y"}
	inside := JSONPatchOp{Op: "replace", Path: "/spec/containers/0/image/x", Value: "z"}
	moveFrom := JSONPatchOp{Op: "move", From: "/spec/containers/0", Path: "/spec/initContainers/0"}
	tests := []struct {
		name     string
		bindings []Binding
		want     Decision // UID, Allowed, Message, Warnings, Patch, AuditAnnotations
		errs     []error  // per result
	}{
		{
			name:     "nothing",
			bindings: []Binding{{Policy: violates("a")}},
			want:     Decision{Allowed: true},
		},
		{
			name:     "enforce denies with every message in policy order",
			bindings: []Binding{{Policy: violates("a", "one", "two")}, {Policy: violates("b")}, {Policy: violates("c", "three")}},
			want:     Decision{Message: "a: one; a: two; c: three"},
		},
		{
			name:     "warn and audit admit",
			bindings: []Binding{{Policy: violates("w", "careful"), Mode: ModeWarn}, {Policy: violates("au", "noted", "twice"), Mode: ModeAudit}},
			want:     Decision{Allowed: true, Warnings: []string{"w: careful"}, AuditAnnotations: map[string]string{"au.violations": "noted; twice"}},
		},
		{
			name:     "error with Fail in each mode",
			bindings: []Binding{{Policy: fails("e", errDown), Mode: ModeEnforce}, {Policy: fails("w", errDown), Mode: ModeWarn}, {Policy: fails("a", errDown), Mode: ModeAudit}},
			want: Decision{Message: "e: could not be evaluated: registry down", Warnings: []string{"w: could not be evaluated: registry down"},
				AuditAnnotations: map[string]string{"a.violations": "could not be evaluated: registry down"}},
			errs: []error{errDown, errDown, errDown},
		},
		{
			name:     "error with Ignore",
			bindings: []Binding{{Policy: fails("e", errDown), FailurePolicy: Ignore}},
			want:     Decision{Allowed: true, AuditAnnotations: map[string]string{"e.failed-open": "registry down"}},
			errs:     []error{errDown},
		},
		{
			name:     "patches in policy order",
			bindings: []Binding{{Policy: patches("p", p1)}, {Policy: patches("q", p2)}},
			want:     Decision{Allowed: true, Patch: []JSONPatchOp{p1, p2}},
		},
		{
			name:     "warn and audit patches are not applied",
			bindings: []Binding{{Policy: patches("p", p1), Mode: ModeWarn}, {Policy: patches("q", p2), Mode: ModeAudit}},
			want:     Decision{Allowed: true},
		},
		{
			name:     "denied: no patch",
			bindings: []Binding{{Policy: patches("p", p1)}, {Policy: violates("v", "no")}},
			want:     Decision{Message: "v: no"},
		},
		{
			name:     "conflict, Fail",
			bindings: []Binding{{Policy: patches("p", p1)}, {Policy: patches("q", p2, inside)}},
			want:     Decision{Message: "q: could not be evaluated: patch conflict: /spec/containers/0/image/x touches /spec/containers/0/image, patched by an earlier policy"},
			errs:     []error{nil, ErrPatchConflict},
		},
		{
			name:     "conflict through from, Ignore",
			bindings: []Binding{{Policy: patches("p", p1)}, {Policy: patches("q", moveFrom), FailurePolicy: Ignore}},
			want: Decision{Allowed: true, Patch: []JSONPatchOp{p1},
				AuditAnnotations: map[string]string{"q.failed-open": "patch conflict: /spec/containers/0 touches /spec/containers/0/image, patched by an earlier policy"}},
			errs: []error{nil, ErrPatchConflict},
		},
		{
			name:     "invalid patch",
			bindings: []Binding{{Policy: patches("p", JSONPatchOp{Op: "merge", Path: "/x"})}},
			want:     Decision{Message: `p: could not be evaluated: patch: unknown op "merge"`},
			errs:     []error{errors.New("any")},
		},
		{
			name: "details become audit annotations",
			bindings: []Binding{{Policy: policyFunc("d", func(context.Context, *Request) (Outcome, error) {
				return Outcome{Details: map[string]string{"digest/x y": "sha256:1"}}, nil
			})}},
			want: Decision{Allowed: true, AuditAnnotations: map[string]string{"d.digest-x-y": "sha256:1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustEngine(t, nil, tt.bindings...).Review(context.Background(), testRequest)
			got := Decision{UID: d.UID, Allowed: d.Allowed, Message: d.Message, Warnings: d.Warnings, Patch: d.Patch, AuditAnnotations: d.AuditAnnotations}
			tt.want.UID = "uid-1"
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			if len(d.Results) != len(tt.bindings) {
				t.Fatalf("%d results; want %d", len(d.Results), len(tt.bindings))
			}
			for i, r := range d.Results {
				var want error
				if i < len(tt.errs) {
					want = tt.errs[i]
				}
				switch {
				case want == nil && r.Err != nil:
					t.Errorf("Results[%d].Err = %v; want nil", i, r.Err)
				case want != nil && r.Err == nil:
					t.Errorf("Results[%d].Err = nil; want %v", i, want)
				case want != nil && want.Error() != "any" && !errors.Is(r.Err, want):
					t.Errorf("Results[%d].Err = %v; want %v", i, r.Err, want)
				}
				if r.Policy != tt.bindings[i].Policy.Name() || r.Mode == "" || r.FailurePolicy == "" {
					t.Errorf("Results[%d] = %+v", i, r)
				}
			}
		})
	}
}

func TestNewEngineErrors(t *testing.T) {
	tests := map[string][]Binding{
		"nil policy":      {{}},
		"empty name":      {{Policy: violates("")}},
		"duplicate":       {{Policy: violates("a")}, {Policy: violates("a")}},
		"bad mode":        {{Policy: violates("a"), Mode: "deny"}},
		"bad failure pol": {{Policy: violates("a"), FailurePolicy: "fail"}},
	}
	for name, bs := range tests {
		if _, err := NewEngine(nil, nil, bs...); err == nil {
			t.Errorf("NewEngine(%s) = nil error", name)
		}
	}
	e := mustEngine(t, nil, Binding{Policy: violates("a")})
	if got := e.Bindings()[0]; got.Mode != ModeEnforce || got.FailurePolicy != Fail || got.Timeout != DefaultTimeout {
		t.Errorf("Bindings()[0] = %+v; want the defaults", got)
	}
}

func TestAdmitNamespaceLabels(t *testing.T) {
	errGone := errors.New("lister not synced")
	ns := NamespaceLabelsFunc(func(_ context.Context, name string) (map[string]string, error) {
		if name == "broken" {
			return nil, errGone
		}
		return map[string]string{"team": name}, nil
	})
	var got *Request
	e, err := NewEngine(nil, ns, Binding{Policy: policyFunc("ns", func(_ context.Context, r *Request) (Outcome, error) {
		got = r
		return Outcome{}, r.NamespaceErr
	})})
	if err != nil {
		t.Fatal(err)
	}
	ar := &admissionv1.AdmissionRequest{UID: "u", Namespace: "a", Operation: admissionv1.Create,
		Kind:   metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
		Object: runtime.RawExtension{Raw: []byte(`{"metadata":{"name":"cm","namespace":"a"},"data":{"password":"hunter2"}}`)}}
	if d := e.Admit(context.Background(), ar); !d.Allowed {
		t.Errorf("Admit = %q", d.Message)
	}
	if got.NamespaceLabels["team"] != "a" || got.Name != "cm" || got.Pod != nil {
		t.Errorf("Request = %+v", got)
	}
	ar.Namespace = "broken"
	d := e.Admit(context.Background(), ar)
	if d.Allowed || !errors.Is(d.Results[0].Err, errGone) {
		t.Errorf("Admit in a broken namespace = %v, %v; want denied with %v", d.Allowed, d.Results[0].Err, errGone)
	}
	if d := e.Admit(context.Background(), nil); d.Allowed {
		t.Error("Admit(nil) allowed")
	}
}

func TestPodErrFollowsFailurePolicy(t *testing.T) {
	ar := &admissionv1.AdmissionRequest{UID: "u", Namespace: "a", Operation: admissionv1.Create,
		Kind:   metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
		Object: runtime.RawExtension{Raw: []byte(`{"metadata":{"name":"d"},"spec":{}}`)}}
	for _, fp := range []FailurePolicy{Fail, Ignore} {
		cfg := &RuntimeSocketsConfig{}
		p, err := cfg.policy()
		if err != nil {
			t.Fatal(err)
		}
		d := mustEngine(t, nil, Binding{Policy: p, FailurePolicy: fp}).Admit(context.Background(), ar)
		if d.Allowed != (fp == Ignore) || d.Results[0].Err == nil {
			t.Errorf("%s: Allowed = %v, Err = %v", fp, d.Allowed, d.Results[0].Err)
		}
	}
}

func TestNamespaceObjectLabels(t *testing.T) {
	data, err := os.ReadFile("testdata/reviews/namespace-create.json")
	if err != nil {
		t.Fatal(err)
	}
	review, err := DecodeReview(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	lookups := 0
	ns := NamespaceLabelsFunc(func(context.Context, string) (map[string]string, error) {
		lookups++
		return nil, errors.New("not found")
	})
	r, err := NewRequest(context.Background(), review.Request, ns)
	if err != nil {
		t.Fatal(err)
	}
	if r.NamespaceLabels["pod-security.kubernetes.io/enforce"] != "restricted" || r.NamespaceErr != nil || lookups != 0 {
		t.Errorf("Request of a Namespace: labels %v, err %v, %d lookups; want the object's labels", r.NamespaceLabels, r.NamespaceErr, lookups)
	}
	if r.Name != "team-a" || r.Pod != nil || r.PodErr != nil {
		t.Errorf("Request = %+v", r)
	}
}
