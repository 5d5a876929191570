package policy

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// templateYAML returns a ConstraintTemplate of kind K8sTest with rego.
func templateYAML(rego string) string {
	var b strings.Builder
	b.WriteString(`apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8stest
spec:
  crd:
    spec:
      names:
        kind: K8sTest
      validation:
        openAPIV3Schema:
          type: object
          properties:
            names:
              type: array
              items:
                type: string
            max:
              type: integer
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
`)
	for _, l := range strings.Split(strings.TrimSpace(rego), "\n") {
		b.WriteString("        " + l + "\n")
	}
	return b.String()
}

const constraintYAML = `
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sTest
metadata:
  name: test
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
`

// engineFor parses and compiles a template and constraints.
func engineFor(t testing.TB, yamlText string) *Engine {
	t.Helper()
	p, err := Parse("test.yaml", []byte(yamlText))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	e, err := New(context.Background(), p)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	return e
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantIs   error
		wantText string // a part of the message, for errors without a sentinel
	}{
		{"bad yaml", "apiVersion: v1\nkind: [\n", 2, nil, "invalid YAML"},
		{"template without kind", "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: x\nspec:\n  crd: {}\n  targets: []\n", 6, nil, "names.kind"},
		{"two targets", strings.Replace(templateYAML(`package x
violation[{"msg": "m"}] { true }`), "  targets:\n", "  targets:\n    - target: other\n      rego: 'package y'\n", 1), 20, nil, "exactly one"},
		{"rego syntax error", templateYAML("package x\n\nviolation[{\"msg\": m}] {\n  m := \n}"), 27, nil, "parse rego"},
		{"no violation", templateYAML("package x\n\ndeny[m] { m := 1 }"), 23, ErrNoViolation, ""},
		{"http.send", templateYAML(`package x
violation[{"msg": m}] {
  r := http.send({"method": "get", "url": "http://127.0.0.1:1/"})
  m := r.body
}`), 25, ErrDisallowedBuiltin, ""},
		{"net.lookup_ip_addr", templateYAML(`package x
violation[{"msg": m}] {
  net.lookup_ip_addr("example.com")
  m := "x"
}`), 25, ErrDisallowedBuiltin, ""},
		{"opa.runtime", templateYAML(`package x
violation[{"msg": m}] {
  m := opa.runtime().env.HOME
}`), 25, ErrDisallowedBuiltin, ""},
		{"bad enforcementAction", templateYAML("package x\nviolation[{\"msg\": \"m\"}] { true }") + constraintYAML + "  enforcementAction: block\n", 36, nil, "enforcementAction"},
		{"unknown match field", templateYAML("package x\nviolation[{\"msg\": \"m\"}] { true }") + constraintYAML + "    namespace: [a]\n", 32, nil, "unknown field"},
		{"bad label selector", templateYAML("package x\nviolation[{\"msg\": \"m\"}] { true }") + constraintYAML + "    labelSelector:\n      matchExpressions: [{key: a, operator: Near}]\n", 32, nil, "spec.match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.in))
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v; want a *PolicyError", tt.name, err)
			}
			if pe.File != "p.yaml" || pe.Line != tt.wantLine {
				t.Errorf("Parse(%q) = %v; want file p.yaml line %d", tt.name, err, tt.wantLine)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Parse(%q) = %v; want %v", tt.name, err, tt.wantIs)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Parse(%q) = %v; want it to say %q", tt.name, err, tt.wantText)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	ok := templateYAML("package x\nviolation[{\"msg\": \"m\"}] { true }")
	tests := []struct {
		name   string
		in     string
		wantIs error
	}{
		{"unknown template", strings.Replace(constraintYAML, "K8sTest", "K8sOther", 1), ErrUnknownTemplate},
		{"parameter of wrong type", ok + constraintYAML + "  parameters:\n    max: many\n", ErrInvalidParameters},
		{"item of wrong type", ok + constraintYAML + "  parameters:\n    names: [1]\n", ErrInvalidParameters},
		{"undefined function", templateYAML("package x\nviolation[{\"msg\": m}] { m := no.such(1) }"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			_, err = New(context.Background(), p)
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.File != "p.yaml" {
				t.Fatalf("New(%q) = %v; want a *PolicyError in p.yaml", tt.name, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("New(%q) = %v; want %v", tt.name, err, tt.wantIs)
			}
		})
	}
	// Unknown parameters are allowed, as Kubernetes prunes them.
	engineFor(t, ok+constraintYAML+"  parameters:\n    max: 3\n    other: {a: 1}\n")
}

// TestDisallowedBuiltinsCapabilities checks that the capabilities, not
// only the explicit check, keep network builtins out.
func TestDisallowedBuiltinsCapabilities(t *testing.T) {
	caps := capabilities()
	for _, b := range caps.Builtins {
		for _, d := range disallowedBuiltins {
			if b.Name == d {
				t.Errorf("capabilities() has builtin %s", d)
			}
		}
	}
	// Bypass parseModules' check: the compiler must still refuse.
	tmpl := &Template{Name: "k8stest", Kind: "K8sTest", Rego: `package x
violation[{"msg": m}] { f := http.send; m := "x" }`}
	if _, err := compile(context.Background(), tmpl); err == nil {
		t.Errorf("compile(http.send) = nil; want an error")
	}
}

func pod(name, namespace string, labels map[string]string, privileged bool) map[string]any {
	md := map[string]any{"name": name}
	if namespace != "" {
		md["namespace"] = namespace
	}
	if labels != nil {
		l := map[string]any{}
		for k, v := range labels {
			l[k] = v
		}
		md["labels"] = l
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": md,
		"spec": map[string]any{"containers": []any{map[string]any{
			"name": "c", "image": "nginx:1.27",
			"securityContext": map[string]any{"privileged": privileged},
		}}},
	}
}

func rawObject(t testing.TB, m map[string]any) runtime.RawExtension {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: data}
}

// TestReviewInput checks input.review is the AdmissionRequest, with
// namespaceObject, and input.parameters the constraint's.
func TestReviewInput(t *testing.T) {
	e := engineFor(t, templateYAML(`package x
violation[{"msg": msg, "details": {"ns": ns}}] {
  r := input.review
  ns := object.get(r.namespaceObject, ["metadata", "labels", "env"], "none")
  msg := sprintf("%s %s %s/%s by %s dry=%v max=%v", [r.operation, r.kind.kind, r.namespace, r.name, r.userInfo.username, object.get(r, "dryRun", false), input.parameters.max])
}`)+constraintYAML+"  parameters:\n    max: 3\n")
	dry := true
	req := &admissionv1.AdmissionRequest{
		UID:       "u1",
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Name:      "p",
		Namespace: "prod",
		Operation: admissionv1.Update,
		UserInfo:  authenticationv1.UserInfo{Username: "alice"},
		Object:    rawObject(t, pod("p", "prod", nil, false)),
		OldObject: rawObject(t, pod("p", "prod", nil, true)),
		DryRun:    &dry,
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prod", Labels: map[string]string{"env": "production"}}}
	got, err := e.Review(context.Background(), Object{Request: req, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	want := []Violation{{
		ConstraintKind: "K8sTest", ConstraintName: "test", Template: "k8stest",
		Msg:     "UPDATE Pod prod/p by alice dry=true max=3",
		Details: map[string]any{"ns": "production"}, EnforcementAction: Deny,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Review mismatch (-want +got):\n%s", diff)
	}
}

// TestReviewOperations covers DELETE (reviewed on oldObject, as in
// Gatekeeper) and requests without objects.
func TestReviewOperations(t *testing.T) {
	e := engineFor(t, templateYAML(`package x
violation[{"msg": msg}] {
  input.review.object.spec.containers[_].securityContext.privileged
  msg := sprintf("%s privileged", [input.review.operation])
}`)+constraintYAML)
	ctx := context.Background()
	del := &admissionv1.AdmissionRequest{Operation: admissionv1.Delete, OldObject: rawObject(t, pod("p", "a", nil, true))}
	vs, err := e.Review(ctx, Object{Request: del})
	if err != nil || len(vs) != 1 || vs[0].Msg != "DELETE privileged" {
		t.Errorf("Review(DELETE) = %v, %v; want one violation", vs, err)
	}
	for _, req := range []*admissionv1.AdmissionRequest{nil, {Operation: admissionv1.Delete}, {Operation: admissionv1.Create}} {
		if _, err := e.Review(ctx, Object{Request: req}); !errors.Is(err, ErrNoObject) {
			t.Errorf("Review(%v) = %v; want ErrNoObject", req, err)
		}
	}
	// An UPDATE matches when the old object matches, even if the new one
	// does not (here: the label selector).
	e = engineFor(t, templateYAML(`package x
violation[{"msg": "matched"}] { true }`)+constraintYAML+"    labelSelector:\n      matchLabels: {app: web}\n")
	upd := &admissionv1.AdmissionRequest{
		Operation: admissionv1.Update,
		Object:    rawObject(t, pod("p", "a", nil, false)),
		OldObject: rawObject(t, pod("p", "a", map[string]string{"app": "web"}, false)),
	}
	if vs, err := e.Review(ctx, Object{Request: upd}); err != nil || len(vs) != 1 {
		t.Errorf("Review(UPDATE) = %v, %v; want one violation", vs, err)
	}
}

func TestMatch(t *testing.T) {
	nsProd := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prod", Labels: map[string]string{"env": "prod"}}}
	clusterRole := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": map[string]any{"name": "r"}}
	namespace := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "kube-system", "labels": map[string]any{"env": "sys"}}}
	generated := pod("", "prod", nil, false)
	generated["metadata"].(map[string]any)["generateName"] = "web-"
	sel := func(k, v string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
	}
	tests := []struct {
		name    string
		match   Match
		obj     map[string]any
		ns      *corev1.Namespace
		want    bool
		wantErr error
	}{
		{"empty matches all", Match{}, clusterRole, nil, true, nil},
		{"kind", Match{Kinds: []Kinds{{APIGroups: []string{""}, Kinds: []string{"Pod"}}}}, pod("a", "b", nil, false), nil, true, nil},
		{"kind other group", Match{Kinds: []Kinds{{APIGroups: []string{"apps"}, Kinds: []string{"Pod"}}}}, pod("a", "b", nil, false), nil, false, nil},
		{"group wildcard", Match{Kinds: []Kinds{{APIGroups: []string{"*"}, Kinds: []string{"ClusterRole"}}}}, clusterRole, nil, true, nil},
		{"namespace prefix", Match{Namespaces: []string{"pro*"}}, pod("a", "prod", nil, false), nil, true, nil},
		{"namespace prefix miss", Match{Namespaces: []string{"dev-*"}}, pod("a", "prod", nil, false), nil, false, nil},
		{"namespaces ignore cluster-scoped", Match{Namespaces: []string{"dev"}}, clusterRole, nil, true, nil},
		{"namespaces apply to Namespace", Match{Namespaces: []string{"dev"}}, namespace, nil, false, nil},
		{"excluded suffix", Match{ExcludedNamespaces: []string{"*-system"}}, namespace, nil, false, nil},
		{"excluded by Namespace arg", Match{ExcludedNamespaces: []string{"prod"}}, pod("a", "", nil, false), nsProd, false, nil},
		{"label selector", Match{LabelSelector: sel("app", "web")}, pod("a", "b", map[string]string{"app": "web"}, false), nil, true, nil},
		{"label selector miss", Match{LabelSelector: sel("app", "web")}, pod("a", "b", nil, false), nil, false, nil},
		{"namespace selector", Match{NamespaceSelector: sel("env", "prod")}, pod("a", "prod", nil, false), nsProd, true, nil},
		{"namespace selector on Namespace", Match{NamespaceSelector: sel("env", "prod")}, namespace, nil, false, nil},
		{"namespace selector cluster-scoped", Match{NamespaceSelector: sel("env", "prod")}, clusterRole, nil, true, nil},
		{"namespace selector without Namespace", Match{NamespaceSelector: sel("env", "prod")}, pod("a", "prod", nil, false), nil, false, ErrNoNamespace},
		{"scope cluster", Match{Scope: "Cluster"}, clusterRole, nil, true, nil},
		{"scope cluster Namespace", Match{Scope: "Cluster"}, namespace, nil, true, nil},
		{"scope cluster pod", Match{Scope: "Cluster"}, pod("a", "b", nil, false), nil, false, nil},
		{"scope namespaced", Match{Scope: "Namespaced"}, pod("a", "b", nil, false), nil, true, nil},
		{"scope namespaced Namespace", Match{Scope: "Namespaced"}, namespace, nil, false, nil},
		{"name glob", Match{Name: "web-*"}, pod("web-1", "b", nil, false), nil, true, nil},
		{"name exact miss", Match{Name: "web"}, pod("web-1", "b", nil, false), nil, false, nil},
		{"generateName", Match{Name: "web-*"}, generated, nil, true, nil},
		{"source generated", Match{Source: "Generated"}, clusterRole, nil, false, nil},
		{"source original", Match{Source: "Original"}, clusterRole, nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newMatcher(tt.match)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := NewObject(tt.obj, tt.ns)
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(obj.Request.Object.Raw); err != nil {
				t.Fatal(err)
			}
			got, err := m.matches(u, tt.ns)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("matches(%+v, %s) = %v, %v; want %v, %v", tt.match, tt.name, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"kube-*", "kube-system", true},
		{"kube-*", "kube", false},
		{"*-system", "kube-system", true},
		{"*sys*", "kube-system", true},
		{"*", "", true},
		{"**", "x", true},
		{"a*b", "a*b", true},
		{"a*b", "axb", false},
		{"default", "default", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// loopYAML is a policy that would run for hours: 20000³ iterations.
var loopYAML = templateYAML(`package x
violation[{"msg": "never"}] {
  r := numbers.range(1, 20000)
  x := r[_]
  y := r[_]
  z := r[_]
  x + y + z < 0
}`) + constraintYAML

func TestReviewDeadline(t *testing.T) {
	e := engineFor(t, loopYAML)
	obj, err := NewObject(pod("p", "a", nil, false), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = e.Review(ctx, obj)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Review(loop) = %v; want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Review(loop) took %v; want it stopped near the 100ms deadline", d)
	}
}

// TestReviewConcurrent reviews the library samples from 8 goroutines
// with one Engine (run with -race) and checks each gets the sequential
// answer.
func TestReviewConcurrent(t *testing.T) {
	e := libraryEngine(t)
	var objs []Object
	var want [][]Violation
	for _, c := range libraryCases(t) {
		obj, err := NewObject(readObject(t, c.object), nil)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := e.Review(context.Background(), obj)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, obj)
		want = append(want, vs)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for round := range 5 {
				for i := range objs {
					j := (i + g + round) % len(objs)
					got, err := e.Review(context.Background(), objs[j])
					if err != nil || !cmp.Equal(want[j], got) {
						errs <- cmp.Diff(want[j], got)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for d := range errs {
		t.Errorf("concurrent Review differs from sequential (-want +got):\n%s", d)
	}
}

// TestLoadDirectory loads every library policy at once: templates and
// constraints from many files, skipping the sample objects.
func TestLoadDirectory(t *testing.T) {
	p, err := Load(context.Background(), libraryDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Templates) != 6 || len(p.Constraints) < 9 {
		t.Errorf("Load(%s) = %d templates, %d constraints; want 6, at least 9", libraryDir, len(p.Templates), len(p.Constraints))
	}
	_, err = Load(context.Background(), filepath.Join(libraryDir, "no-such-file.yaml"))
	if err == nil {
		t.Errorf("Load(missing file) = nil; want an error")
	}
}

// libraryEngine compiles every library template with the constraint of
// each suite test (the first of those sharing a name).
func libraryEngine(t testing.TB) *Engine {
	t.Helper()
	files := map[string]bool{}
	var paths []string
	for _, c := range libraryCases(t) {
		for _, f := range []string{c.template, c.constraint} {
			if !files[f] {
				files[f] = true
				paths = append(paths, f)
			}
		}
	}
	p, err := Load(context.Background(), paths...)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	p.Constraints = slices.DeleteFunc(p.Constraints, func(c *Constraint) bool {
		dup := seen[c.Kind+"/"+c.Name]
		seen[c.Kind+"/"+c.Name] = true
		return dup
	})
	e, err := New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func BenchmarkReview(b *testing.B) {
	dir := filepath.Join(libraryDir, "pod-security-policy", "privileged-containers")
	one := loadEngine(b, filepath.Join(dir, "template.yaml"), filepath.Join(dir, "samples", "psp-privileged-container", "constraint.yaml"))
	obj, err := NewObject(readObject(b, filepath.Join(dir, "samples", "psp-privileged-container", "example_disallowed.yaml")), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("privileged-container", func(b *testing.B) {
		for b.Loop() {
			if vs, err := one.Review(context.Background(), obj); err != nil || len(vs) == 0 {
				b.Fatal(vs, err)
			}
		}
	})
	// Every library constraint (the ones matching Pods) on one pod.
	all := libraryEngine(b)
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			if _, err := all.Review(context.Background(), obj); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := all.Review(context.Background(), obj); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// TestRegoV1Libs checks a template in the code form with Rego v1 syntax
// and a library, and that libraries must be packages under lib.
func TestRegoV1Libs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzParse", "seed-rego-v1-libs"))
	if err != nil {
		t.Fatal(err)
	}
	// The corpus file holds a Go string literal on its second line.
	lit := strings.TrimSuffix(strings.TrimPrefix(strings.Split(string(data), "\n")[1], "[]byte("), ")")
	src, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatal(err)
	}
	e := engineFor(t, src)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Labels: map[string]string{"env": "prod"}}}
	for name, want := range map[string]int{"bad": 1, "good": 0} {
		obj, err := NewObject(pod(name, "kube-system", nil, false), ns)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := e.Review(context.Background(), obj)
		if err != nil || len(vs) != want || (want == 1 && vs[0].EnforcementAction != Warn) {
			t.Errorf("Review(%s) = %v, %v; want %d warn violation(s)", name, vs, err, want)
		}
	}
	bad := strings.Replace(src, "package lib.helpers", "package helpers", 1)
	bad = strings.Replace(bad, "data.lib.helpers", "data.helpers", 1)
	if _, err := Parse("p.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "not under lib") {
		t.Errorf("Parse(lib outside lib) = %v; want an error", err)
	}
}
