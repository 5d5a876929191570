package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// names returns "kind namespace/name" for every object of s, sorted.
func names(s *Snapshot) []string {
	var out []string
	add := func(kind, ns, name string) {
		if ns != "" {
			name = ns + "/" + name
		}
		out = append(out, kind+" "+name)
	}
	for _, o := range s.Namespaces {
		add("Namespace", "", o.Name)
	}
	for _, o := range s.ServiceAccounts {
		add("ServiceAccount", o.Namespace, o.Name)
	}
	for _, o := range s.Roles {
		add("Role", o.Namespace, o.Name)
	}
	for _, o := range s.ClusterRoles {
		add("ClusterRole", "", o.Name)
	}
	for _, o := range s.RoleBindings {
		add("RoleBinding", o.Namespace, o.Name)
	}
	for _, o := range s.ClusterRoleBindings {
		add("ClusterRoleBinding", "", o.Name)
	}
	for _, o := range s.Deployments {
		add("Deployment", o.Namespace, o.Name)
	}
	for _, o := range s.Other {
		add(o.GetKind(), o.GetNamespace(), o.GetName())
	}
	slices.Sort(out)
	return out
}

func TestLoadFiles(t *testing.T) {
	ctx := context.Background()
	snap, err := LoadFiles(ctx, []string{"testdata/manifests"}, FileOptions{Namespace: "payments"})
	if err != nil {
		t.Fatalf("LoadFiles: %v", err)
	}
	want := []string{
		"ClusterRole aggregate-reader",
		"ClusterRoleBinding readers",
		"Deployment shop/app",
		"Namespace kube-system",
		"Namespace shop",
		"Role shop/app-reader",
		// No namespace in the file: the one given, as kubectl apply -n.
		"RoleBinding payments/app-reader",
		"ServiceAccount shop/app",
		"ServiceMonitor shop/app",
	}
	if diff := cmp.Diff(want, names(snap)); diff != "" {
		t.Errorf("LoadFiles objects (-want +got):\n%s", diff)
	}
	if got := snap.Roles[0].Rules[0].ResourceNames; !slices.Equal(got, []string{"app-config"}) {
		t.Errorf("role resourceNames = %q", got)
	}
	if sel := snap.ClusterRoles[0].AggregationRule; sel == nil || sel.ClusterRoleSelectors[0].MatchLabels["rbac.example.com/aggregate-to-reader"] != "true" {
		t.Errorf("aggregation rule = %+v", sel)
	}
	if r := snap.Deployments[0].Spec.Replicas; r == nil || *r != 2 {
		t.Errorf("deployment replicas = %v", r)
	}
	for _, tt := range []struct {
		kind      Kind
		ns, name  string
		file      string
		line      int
		wantFound bool
	}{
		{KindServiceAccount, "shop", "app", "chart/templates/rendered.yaml", 3, true},
		{KindRole, "shop", "app-reader", "chart/templates/rendered.yaml", 13, true},
		{KindRoleBinding, "payments", "app-reader", "chart/templates/rendered.yaml", 25, true},
		{KindClusterRoleBinding, "", "readers", "kubectl-get.yaml", 1, true},
		{KindNamespace, "", "shop", "namespaces.json", 1, true},
		{KindRole, "default", "app-reader", "", 0, false},
	} {
		src, ok := snap.Source(tt.kind, tt.ns, tt.name)
		want := Source{File: filepath.Join("testdata/manifests", tt.file), Line: tt.line}
		if ok != tt.wantFound || (ok && src != want) {
			t.Errorf("Source(%s %s/%s) = %v, %v; want %v, %v", tt.kind, tt.ns, tt.name, src, ok, want, tt.wantFound)
		}
	}
}

func TestLoadFilesStdin(t *testing.T) {
	in := strings.NewReader("--- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n--- # comment\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
	snap, err := LoadFiles(context.Background(), []string{"-"}, FileOptions{Stdin: in})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Namespace a", "Namespace b"}, names(snap)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if src, _ := snap.Source(KindNamespace, "", "b"); src.Line != 3 {
		t.Errorf("Source(b) = %v; want line 3", src)
	}
}

// TestLoadFilesInvalid checks that every bad document is reported with its
// file and line, and that nothing is returned.
func TestLoadFilesInvalid(t *testing.T) {
	snap, err := LoadFiles(context.Background(), []string{"testdata/invalid/bad.yaml"}, FileOptions{})
	if snap != nil || err == nil {
		t.Fatalf("LoadFiles = %v, %v; want an error", snap, err)
	}
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var de *DocumentError
		if !errors.As(e, &de) {
			t.Fatalf("error %v is not a *DocumentError", e)
		}
		got = append(got, de.File+":"+strconv.Itoa(de.Line))
	}
	want := []string{"testdata/invalid/bad.yaml:10", "testdata/invalid/bad.yaml:12", "testdata/invalid/bad.yaml:15", "testdata/invalid/bad.yaml:22"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error locations (-want +got):\n%s\nerror: %v", diff, err)
	}
	for _, msg := range []string{"invalid YAML", "no kind", "replicas", "unsupported API version"} {
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("error %q does not mention %q", err, msg)
		}
	}
}

func TestLoadFilesErrors(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		paths []string
		stdin string
	}{
		{"missing path", []string{"testdata/nope"}, ""},
		{"stdin without reader", []string{"-"}, ""},
		{"scalar document", []string{"-"}, "just a string\n"},
		{"no apiVersion", []string{"-"}, "kind: Pod\nmetadata: {name: x}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := FileOptions{}
			if tt.stdin != "" {
				opts.Stdin = strings.NewReader(tt.stdin)
			}
			if snap, err := LoadFiles(ctx, tt.paths, opts); err == nil {
				t.Errorf("LoadFiles(%q) = %v; want an error", tt.paths, names(snap))
			}
		})
	}
}

// TestLoadFilesTooLarge: a file over MaxManifestSize is refused before it
// is parsed.
func TestLoadFilesTooLarge(t *testing.T) {
	name := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: no disk space is used.
	if err := f.Truncate(MaxManifestSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	snap, err := LoadFiles(context.Background(), []string{name}, FileOptions{})
	if snap != nil || err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("LoadFiles(%d bytes) = %v, %v; want a size error", MaxManifestSize+1, snap, err)
	}
}

func TestObjects(t *testing.T) {
	snap, err := LoadFiles(context.Background(), []string{"testdata/manifests"}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := snap.Objects()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Kind.Kind+" "+o.Namespace+"/"+o.Name+" "+o.Resource+" "+o.Source.String())
		var head struct{ APIVersion, Kind string }
		if json.Unmarshal(o.Raw, &head) != nil || head.Kind != o.Kind.Kind || head.APIVersion != o.Kind.GroupVersion().String() {
			t.Errorf("%s: raw apiVersion/kind %q %q", o.Name, head.APIVersion, head.Kind)
		}
	}
	want := []string{
		"Namespace /shop namespaces testdata/manifests/namespaces.json:1",
		"Namespace /kube-system namespaces testdata/manifests/namespaces.json:1",
		"ServiceAccount shop/app serviceaccounts testdata/manifests/chart/templates/rendered.yaml:3",
		"Deployment shop/app deployments testdata/manifests/chart/templates/rendered.yaml:39",
		"Role shop/app-reader roles testdata/manifests/chart/templates/rendered.yaml:13",
		"ClusterRole /aggregate-reader clusterroles testdata/manifests/kubectl-get.yaml:1",
		"RoleBinding default/app-reader rolebindings testdata/manifests/chart/templates/rendered.yaml:25",
		"ClusterRoleBinding /readers clusterrolebindings testdata/manifests/kubectl-get.yaml:1",
		"ServiceMonitor shop/app servicemonitors testdata/manifests/chart/templates/rendered.yaml:58",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Objects (-want +got):\n%s", diff)
	}
}
