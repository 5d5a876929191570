package rbac

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
)

var pathUpdateFlag = flag.Bool("update-paths", false, "rewrite the escalation paths' golden files in testdata/paths")

// pathUpdate reports whether golden files are to be rewritten: by
// -update-paths, or by -update should another test of the package define
// it.
func pathUpdate() bool {
	if *pathUpdateFlag {
		return true
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// pathLoad loads manifests for a paths test.
func pathLoad(t *testing.T, paths ...string) *cluster.Snapshot {
	t.Helper()
	snap, err := cluster.LoadFiles(context.Background(), paths, cluster.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func pathUser(name string) Identity {
	return SubjectIdentity(rbacv1.Subject{Kind: rbacv1.UserKind, Name: name})
}

// pathTechniques returns the techniques of p's steps and the ID of its
// last node.
func pathTechniques(p Path) ([]string, string) {
	out := []string{}
	for _, s := range p.Steps {
		out = append(out, s.Technique)
	}
	return out, p.Last().ID()
}

func TestPathsTechniques(t *testing.T) {
	adminSA := pathSANode("app", "admin-sa").ID()
	admin := Node{Kind: ClusterAdminNode}.ID()
	userID := func(name string) string { return Node{Kind: IdentityNode, Identity: pathUser(name)}.ID() }
	tests := []struct {
		file   string
		from   Identity
		target Target
		want   []string // techniques; nil when there must be no path
		last   string   // the last node's ID
		assume bool     // whether the last step assumes something
	}{
		{"create-pod.yaml", pathUser("alice"), TargetClusterAdmin, []string{"create-pod-as-sa"}, adminSA, false},
		{"create-pod.yaml", pathUser("bob"), TargetClusterAdmin, nil, "", false},
		{"sa-token.yaml", pathUser("alice"), TargetClusterAdmin, []string{"create-sa-token"}, adminSA, false},
		{"sa-token.yaml", pathUser("bob"), TargetClusterAdmin, nil, "", false},
		{"secrets.yaml", pathUser("alice"), TargetClusterAdmin, []string{"read-sa-token-secret"}, adminSA, true},
		{"secrets.yaml", pathUser("bob"), TargetClusterAdmin, nil, "", false},
		{"secrets.yaml", pathUser("carol"), TargetClusterAdmin, []string{"exec-into-pod"}, adminSA, true},
		{"exec.yaml", pathUser("alice"), TargetClusterAdmin, []string{"exec-into-pod"}, adminSA, false},
		{"exec.yaml", pathUser("bob"), TargetClusterAdmin, nil, "", false},
		{"exec.yaml", pathUser("carol"), TargetClusterAdmin, []string{"exec-into-pod"}, adminSA, false},
		{"impersonate.yaml", pathUser("alice"), TargetClusterAdmin, []string{"impersonate-user"}, userID("root"), false},
		{"impersonate.yaml", pathUser("bob"), TargetClusterAdmin, []string{"impersonate-system-masters"}, admin, false},
		{"impersonate.yaml", pathUser("carol"), TargetClusterAdmin, nil, "", false},
		{"impersonate.yaml", pathUser("dave"), TargetClusterAdmin, []string{"impersonate-serviceaccount"}, adminSA, false},
		{"impersonate.yaml", pathUser("erin"), TargetClusterAdmin, nil, "", false},
		{"bind-namespace.yaml", pathUser("alice"), TargetClusterAdmin, []string{"bind-role-in-namespace", "create-pod-as-sa"}, adminSA, false},
		{"bind-namespace.yaml", pathUser("bob"), TargetClusterAdmin, nil, "", false},
		{"bind-namespace.yaml", pathUser("carol"), TargetClusterAdmin, nil, "", false},
		{"bind-cluster.yaml", pathUser("alice"), TargetClusterAdmin, []string{"bind-clusterrole"}, admin, false},
		{"bind-cluster.yaml", pathUser("bob"), TargetClusterAdmin, nil, "", false},
		{"bind-cluster.yaml", pathUser("bob"), TargetSecrets, []string{"bind-clusterrole"}, "roles::ClusterRole//secret-reader", false},
		{"bind-cluster.yaml", pathUser("carol"), TargetSecrets, nil, "", false},
		{"escalate.yaml", pathUser("alice"), TargetClusterAdmin, []string{"escalate-role"}, admin, false},
		{"escalate.yaml", pathUser("bob"), TargetClusterAdmin, nil, "", false},
		{"escalate.yaml", pathUser("carol"), TargetClusterAdmin, []string{"escalate-role", "create-pod-as-sa"}, adminSA, false},
		{"nodes.yaml", pathUser("alice"), TargetNodes, []string{}, userID("alice"), false},
		{"nodes.yaml", pathUser("alice"), TargetClusterAdmin, []string{"kubelet-api", "steal-token-on-node"}, pathSANode("kube-system", "agent").ID(), false},
		{"nodes.yaml", pathUser("bob"), TargetNodes, nil, "", false},
		{"nodes.yaml", pathUser("carol"), TargetNodes, []string{"mutating-webhook"}, Node{Kind: HostsNode}.ID(), true},
		{"nodes.yaml", pathUser("dave"), TargetNodes, []string{}, userID("dave"), false},
		{"nodes.yaml", pathUser("dave"), TargetClusterAdmin, []string{"create-pod-as-sa"}, pathSANode("kube-system", "agent").ID(), false},
		{"csr.yaml", pathUser("alice"), TargetClusterAdmin, []string{"csr-system-masters"}, admin, true},
		{"csr.yaml", pathUser("bob"), TargetClusterAdmin, nil, "", false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%s/%s", strings.TrimSuffix(tt.file, ".yaml"), tt.from.User, tt.target)
		t.Run(name, func(t *testing.T) {
			snap := pathLoad(t, filepath.Join("testdata", "paths", tt.file))
			from := tt.from
			paths, truncated := Paths(New(snap), snap, PathOptions{From: &from, Targets: []Target{tt.target}})
			if truncated {
				t.Errorf("Paths truncated")
			}
			if tt.want == nil {
				if len(paths) > 0 {
					t.Fatalf("Paths = %v; want none", paths)
				}
				return
			}
			if len(paths) != 1 {
				t.Fatalf("Paths returned %d paths; want 1: %v", len(paths), paths)
			}
			p := paths[0]
			got, last := pathTechniques(p)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("techniques (-want +got):\n%s\n%s", diff, p)
			}
			if last != tt.last {
				t.Errorf("last node = %s; want %s\n%s", last, tt.last, p)
			}
			if n := len(p.Steps); n > 0 && (p.Steps[n-1].Assumes != "") != tt.assume {
				t.Errorf("last step assumes %q; want an assumption: %v", p.Steps[n-1].Assumes, tt.assume)
			}
			for i, s := range p.Steps {
				if s.Technique != "steal-token-on-node" && s.Grant.Role.Name == "" {
					t.Errorf("step %d has no grant: %+v", i+1, s)
				}
				if i > 0 && s.From.ID() != p.Steps[i-1].To.ID() {
					t.Errorf("step %d starts at %s, not where step %d ends", i+1, s.From.ID(), i)
				}
			}
		})
	}
}

func TestPathsExample(t *testing.T) {
	snap := pathLoad(t, filepath.Join("..", "..", "examples", "rbac"))
	a := New(snap)
	deployer := pathSAIdentity("ci", "deployer")
	paths, truncated := Paths(a, snap, PathOptions{From: &deployer})
	if truncated {
		t.Errorf("Paths truncated")
	}
	if len(paths) != 1 {
		t.Fatalf("Paths from ci/deployer returned %d paths; want 1:\n%v", len(paths), paths)
	}
	type step struct {
		From, To, Technique, Binding, Role string
		Rule                               rbacv1.PolicyRule
		Also                               []string
	}
	var got []step
	for _, s := range paths[0].Steps {
		st := step{From: s.From.String(), To: s.To.String(), Technique: s.Technique, Binding: s.Grant.Binding.String(), Role: s.Grant.Role.String(), Rule: s.Grant.Rule}
		for _, g := range s.Also {
			st.Also = append(st.Also, fmt.Sprintf("%s %v", g.Binding, g.Rule.Verbs))
		}
		got = append(got, st)
	}
	want := []step{
		{
			From: "serviceaccount ci/deployer", To: "serviceaccount payments/rbac-manager", Technique: "create-pod-as-sa",
			Binding: `RoleBinding "payments/ci-deployer"`, Role: `ClusterRole "deployer"`,
			Rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "create"}},
		},
		{
			From: "serviceaccount payments/rbac-manager", To: "cluster-admin", Technique: "bind-clusterrole",
			Binding: `ClusterRoleBinding "payments-rbac-manager"`, Role: `ClusterRole "rbac-manager"`,
			Rule: rbacv1.PolicyRule{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"rolebindings", "clusterrolebindings"}, Verbs: []string{"create", "update", "patch", "delete"}},
			Also: []string{`ClusterRoleBinding "payments-rbac-manager" [bind]`},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("path from ci/deployer (-want +got):\n%s", diff)
	}
	if p := paths[0]; p.Target != TargetClusterAdmin || p.Last().Kind != ClusterAdminNode {
		t.Errorf("path reaches %s at %s; want cluster-admin", p.Target, p.Last())
	}

	// Every subject, every target: the text and the graph are golden.
	all, _ := Paths(a, snap, PathOptions{Targets: Targets()})
	var text strings.Builder
	for _, p := range all {
		text.WriteString(p.String() + "\n")
	}
	pathGolden(t, filepath.Join("testdata", "paths", "example.txt"), text.String())
	pathGolden(t, filepath.Join("testdata", "paths", "example.dot"), DOT(all))
}

// pathGolden compares got with the golden file, or rewrites it.
func pathGolden(t *testing.T, file, got string) {
	t.Helper()
	if pathUpdate() {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update-paths to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update-paths rewrites it):\n%s", file, diff)
	}
}

func TestPathsDeterministic(t *testing.T) {
	snap := pathLoad(t, filepath.Join("..", "..", "examples", "rbac"), filepath.Join("testdata", "paths"))
	first, _ := Paths(New(snap), snap, PathOptions{Targets: Targets()})
	for range 3 {
		again, _ := Paths(New(snap), snap, PathOptions{Targets: Targets()})
		if diff := cmp.Diff(DOT(first), DOT(again)); diff != "" {
			t.Fatalf("DOT differs between runs:\n%s", diff)
		}
		if fmt.Sprint(first) != fmt.Sprint(again) {
			t.Fatalf("paths differ between runs")
		}
	}
}

func TestPathsLimits(t *testing.T) {
	snap := pathLoad(t, filepath.Join("..", "..", "examples", "rbac"))
	deployer := pathSAIdentity("ci", "deployer")
	if paths, _ := Paths(New(snap), snap, PathOptions{From: &deployer, MaxDepth: 1}); len(paths) != 0 {
		t.Errorf("Paths with MaxDepth 1 = %v; want none", paths)
	}
	paths, truncated := Paths(New(snap), snap, PathOptions{Targets: Targets(), MaxPaths: 2})
	if len(paths) != 2 || !truncated {
		t.Errorf("Paths with MaxPaths 2 returned %d paths, truncated %v; want 2, true", len(paths), truncated)
	}
}

func TestPathsDOTQuotes(t *testing.T) {
	odd := Identity{User: `we"ird\user`, Groups: []string{"a\nb"}}
	got := DOT([]Path{{From: odd, Target: TargetSecrets}})
	want := "digraph \"escalation paths\" {\n" +
		"\trankdir=LR;\n" +
		"\t\"identity:we\\\"ird\\\\user|a\\nb\" [label=\"user we\\\"ird\\\\user with groups a\\nb\", shape=box];\n" +
		"\t\"secrets\" [label=\"secrets\", shape=doubleoctagon];\n" +
		"\t\"identity:we\\\"ird\\\\user|a\\nb\" -> \"secrets\" [label=\"holds\"];\n" +
		"}\n"
	if got != want {
		t.Errorf("DOT = %q; want %q", got, want)
	}
}

// pathBigSnapshot is a cluster of namespaces × service accounts, each
// running in a pod, where every service account may read the secrets of
// its namespace and the first one of each namespace may create pods in
// the next; the first one of the last namespace is cluster-admin. With
// execEverywhere, group system:serviceaccounts may also exec into every
// pod, so that each account has a step to every other one.
func pathBigSnapshot(namespaces, sas int, execEverywhere bool) *cluster.Snapshot {
	snap := &cluster.Snapshot{
		ClusterRoles: []rbacv1.ClusterRole{
			{ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "pods"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods"}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "secrets"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "exec"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods/exec"}}}},
		},
	}
	if execEverywhere {
		snap.ClusterRoleBindings = append(snap.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "exec"},
			RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: "exec"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "system:serviceaccounts"}},
		})
	}
	nsName := func(i int) string { return fmt.Sprintf("ns-%03d", i) }
	for i := range namespaces {
		ns := nsName(i)
		snap.Namespaces = append(snap.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		for j := range sas {
			name := fmt.Sprintf("sa-%02d", j)
			snap.ServiceAccounts = append(snap.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})
			snap.Pods = append(snap.Pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pod-" + name}, Spec: corev1.PodSpec{ServiceAccountName: name}})
			snap.RoleBindings = append(snap.RoleBindings, rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "secrets-" + name},
				RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: "secrets"},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name}},
			})
		}
		if i+1 < namespaces {
			snap.RoleBindings = append(snap.RoleBindings, rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: nsName(i + 1), Name: "from-" + ns},
				RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: "pods"},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "sa-00"}},
			})
		}
	}
	snap.ClusterRoleBindings = append(snap.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "admin"},
		RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: nsName(namespaces - 1), Name: "sa-00"}},
	})
	return snap
}

func TestPathsBounded(t *testing.T) {
	const namespaces, sas = 150, 20
	snap := pathBigSnapshot(namespaces, sas, false)
	start := time.Now()
	paths, truncated := Paths(New(snap), snap, PathOptions{})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Paths over %d service accounts took %v", len(snap.ServiceAccounts), d)
	}
	if truncated {
		t.Errorf("Paths over %d service accounts truncated", len(snap.ServiceAccounts))
	}
	// sa-00 of namespace k is 149-k steps from cluster-admin, the others
	// one more (reading sa-00's token first): within 6 steps, sa-00 of
	// the last 7 namespaces and the others of the last 6.
	if want := 7 + 6*(sas-1); len(paths) != want {
		t.Errorf("Paths returned %d paths; want %d", len(paths), want)
	}
	for i, p := range paths {
		if len(p.Steps) > DefaultPathDepth || i > 0 && len(p.Steps) < len(paths[i-1].Steps) {
			t.Fatalf("path %d has %d steps, after one of %d (max %d)", i, len(p.Steps), len(paths[max(i-1, 0)].Steps), DefaultPathDepth)
		}
	}

	// Every account has a step to every other one: the limits cut the
	// search short, quickly.
	snap = pathBigSnapshot(namespaces, sas, true)
	start = time.Now()
	paths, truncated = Paths(New(snap), snap, PathOptions{Targets: Targets()})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Paths over %d service accounts, all connected, took %v", len(snap.ServiceAccounts), d)
	}
	if !truncated {
		t.Errorf("Paths over %d service accounts, all connected, not truncated", len(snap.ServiceAccounts))
	}
	if len(paths) == 0 {
		t.Errorf("Paths over %d service accounts, all connected, found none", len(snap.ServiceAccounts))
	}
}

func TestPathsParseTarget(t *testing.T) {
	for _, want := range Targets() {
		if got, err := ParseTarget(string(want)); err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %q, %v; want %q, nil", want, got, err, want)
		}
	}
	if got, err := ParseTarget("root"); err == nil {
		t.Errorf("ParseTarget(%q) = %q, nil; want an error", "root", got)
	}
}

func TestPathsTargets(t *testing.T) {
	snap := pathLoad(t, filepath.Join("..", "..", "examples", "rbac"))
	bob := pathUser("bob")
	paths, _ := Paths(nil, snap, PathOptions{From: &bob, Targets: []Target{TargetSecrets, "root", TargetSecrets}})
	if len(paths) != 1 || paths[0].Target != TargetSecrets || len(paths[0].Steps) != 0 {
		t.Errorf("Paths(bob, secrets twice and an unknown target) = %v; want bob already reaching secrets", paths)
	}
}

func TestPathsIdentityString(t *testing.T) {
	tests := []struct {
		id   Identity
		want string
	}{
		{pathUser("jane"), "user jane"},
		{pathSAIdentity("ci", "deployer"), "serviceaccount ci/deployer"},
		{SubjectIdentity(rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "sre"}), "group sre"},
		{Identity{User: "jane", Groups: []string{"sre"}}, "user jane with groups sre"},
		{Identity{User: ServiceAccountUser("ci", "deployer")}, "user system:serviceaccount:ci:deployer without groups"},
	}
	for _, tt := range tests {
		if got := tt.id.String(); got != tt.want {
			t.Errorf("%#v.String() = %q; want %q", tt.id, got, tt.want)
		}
	}
}
