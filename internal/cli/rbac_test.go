package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/fixture"
)

const rbacExample = "../../examples/rbac"

// TestRBACCanI asks the example cluster questions through the CLI and
// checks the answers and exit codes, like kubectl auth can-i.
func TestRBACCanI(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"create", "pods", "--as", "system:serviceaccount:ci:deployer", "-n", "payments"}, "yes", 0},
		{[]string{"create", "pods", "--as", "system:serviceaccount:ci:deployer", "-n", "shop"}, "no", 1},
		{[]string{"create", "deploy", "--as", "jane", "-n", "shop"}, "yes", 0},
		{[]string{"create", "pods/exec", "--as", "jane", "-n", "shop"}, "yes", 0},
		{[]string{"create", "pods", "--subresource", "exec", "--as", "jane", "-n", "shop"}, "yes", 0},
		{[]string{"get", "pods/log", "--as", "x", "--as-group", "shop-devs", "-n", "shop"}, "yes", 0},
		// Exactly the groups given: no implicit membership.
		{[]string{"get", "pods", "--as", "x", "-n", "shop"}, "no", 1},
		{[]string{"get", "secrets", "--as", "prometheus", "-n", "shop"}, "yes", 0},
		{[]string{"get", "/metrics/cadvisor", "--as", "prometheus"}, "yes", 0},
		{[]string{"post", "/metrics", "--as", "prometheus"}, "no", 1},
		{[]string{"list", "ingresses.networking.k8s.io", "--as", "x", "--as-group", "auditors", "-A"}, "yes", 0},
		{[]string{"get", "secrets", "--as", "system:serviceaccount:payments:default", "-n", "payments"}, "yes", 0},
		{[]string{"delete", "nodes", "--as", "bob"}, "yes", 0},
		{[]string{"list", "namespaces", "--as", "system:anonymous", "--as-group", "system:unauthenticated"}, "yes", 0},
	} {
		args := append([]string{"rbac", "can-i", "-f", rbacExample}, tt.args...)
		out, errOut, code := runCLI(t, args...)
		if strings.TrimSpace(out) != tt.want || code != tt.code {
			t.Errorf("can-i %q = %q, exit %d (%s); want %q, exit %d", tt.args, out, code, errOut, tt.want, tt.code)
		}
	}
	out, _, code := runCLI(t, "rbac", "can-i", "-f", rbacExample, "-o", "json", "get", "pods", "--as", "jane", "-n", "shop")
	var d struct {
		Allowed bool
		Reason  string
	}
	if code != 1 || json.Unmarshal([]byte(out), &d) != nil || d.Allowed || !strings.Contains(d.Reason, "no rule allows") {
		t.Errorf("can-i -o json (denied): exit %d: %s", code, out)
	}
	out, _, code = runCLI(t, "rbac", "can-i", "-f", rbacExample, "-o", "json", "list", "ingresses", "--as", "a", "--as-group", "auditors", "-n", "shop")
	var a struct {
		Allowed bool
		Grant   struct{ Binding, Role, AggregatedFrom, Source string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || !a.Allowed || a.Grant.AggregatedFrom != "view-ingresses" ||
		!strings.Contains(a.Grant.Binding, "auditors-view") || !strings.Contains(a.Grant.Source, "cluster.yaml:") {
		t.Errorf("can-i -o json (aggregated): exit %d: %s", code, out)
	}
	// A binding to a missing role is named in the reason.
	out, _, _ = runCLI(t, "rbac", "can-i", "-f", rbacExample, "-o", "json", "get", "pods", "--as", "contractor", "-n", "shop")
	if !strings.Contains(out, "old-debugger") {
		t.Errorf("can-i for a broken binding's subject does not name it: %s", out)
	}
	for _, args := range [][]string{
		{"get", "pods"},                       // no --as
		{"get", "--as", "x"},                  // no resource
		{"get", "/healthz", "x", "--as", "x"}, // a name on a URL
		{"get", "pods/", "--as", "x"},         // empty subresource
		{"get", "pods/log", "--subresource", "exec", "--as", "x"},
	} {
		if _, errOut, code := runCLI(t, append([]string{"rbac", "can-i", "-f", rbacExample}, args...)...); code != 2 {
			t.Errorf("can-i %q: exit %d, %q; want 2 (usage)", args, code, errOut)
		}
	}
}

func TestRBACCanIList(t *testing.T) {
	out, errOut, code := runCLI(t, "rbac", "can-i", "-f", rbacExample, "--list", "--as", "system:serviceaccount:ci:deployer", "-n", "payments")
	want := "Resources           Non-Resource URLs   Resource Names   Verbs\n" +
		"deployments.apps    []                  []               [get list create update patch]\n" +
		"pods                []                  []               [get list create]\n" +
		"statefulsets.apps   []                  []               [get list create update patch]\n"
	if code != 0 || out != want {
		t.Errorf("can-i --list: exit %d (%s):\n%s\nwant:\n%s", code, errOut, out, want)
	}
}

func TestRBACWhoCan(t *testing.T) {
	out, errOut, code := runCLI(t, "rbac", "who-can", "-f", rbacExample, "-o", "json", "get", "secrets", "-n", "payments")
	var grants []struct {
		Subject struct{ Kind, Name, Namespace string }
		Binding string
	}
	if code != 0 || json.Unmarshal([]byte(out), &grants) != nil {
		t.Fatalf("who-can: exit %d: %s %s", code, out, errOut)
	}
	var got []string
	for _, g := range grants {
		got = append(got, g.Subject.Kind+":"+g.Subject.Namespace+"/"+g.Subject.Name)
	}
	want := "User:/bob User:/prometheus ServiceAccount:payments/default"
	if strings.Join(got, " ") != want {
		t.Errorf("who-can get secrets -n payments = %q; want %q", got, want)
	}
	out, _, _ = runCLI(t, "rbac", "who-can", "-f", rbacExample, "get", "secrets", "-n", "shop")
	if strings.Contains(out, "payments") || !strings.Contains(out, "prometheus") {
		t.Errorf("who-can get secrets -n shop:\n%s", out)
	}
}

func TestRBACMatrix(t *testing.T) {
	out, errOut, code := runCLI(t, "rbac", "matrix", "-f", rbacExample, "-o", "json", "--subject", "system:serviceaccount:ci:deployer", "-n", "payments")
	var m struct {
		Groups []string
		Matrix []struct {
			Resource string
			Verbs    map[string]bool
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("matrix: exit %d: %s %s", code, out, errOut)
	}
	allowed := map[string]string{}
	for _, r := range m.Matrix {
		for v, ok := range r.Verbs {
			if ok {
				allowed[r.Resource] += v + " "
			}
		}
	}
	if len(allowed) != 3 || !strings.Contains(allowed["pods"], "create") || strings.Contains(allowed["pods"], "delete") ||
		!strings.Contains(allowed["statefulsets.apps"], "patch") {
		t.Errorf("matrix allowed = %q", allowed)
	}
	if strings.Join(m.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:ci,system:authenticated" {
		t.Errorf("matrix groups = %q", m.Groups)
	}
}

// TestRBACLive asks a live API server (the test control plane) through a
// kubeconfig, and checks that a user who may not list the RBAC objects
// gets an error naming the forbidden lists instead of a wrong answer.
func TestRBACLive(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane")
	}
	cp := fixture.ControlPlane(t)
	ns := fmt.Sprintf("cli-%d", time.Now().UnixNano())
	cfg, _, err := cluster.RESTConfig(cp.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "exec"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "jane-exec"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "exec"},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "jane"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"create", "pods/exec", "--as", "jane", "-n", ns}, "yes", 0},
		{[]string{"create", "pods/exec", "--as", "jane", "-n", "default"}, "no", 1},
		{[]string{"delete", "nodes", "--as", "x", "--as-group", "system:masters"}, "yes", 0},
	} {
		out, errOut, code := runCLI(t, append([]string{"rbac", "can-i", "--kubeconfig", cp.Kubeconfig}, tt.args...)...)
		if strings.TrimSpace(out) != tt.want || code != tt.code {
			t.Errorf("live can-i %q = %q, exit %d (%s); want %q, exit %d", tt.args, out, code, errOut, tt.want, tt.code)
		}
	}

	// A kubeconfig for a user with no RBAC read access.
	certPEM, keyPEM, err := cp.ClientCertificate("nobody")
	if err != nil {
		t.Fatal(err)
	}
	kc := strings.NewReplacer(string(b64(cp.AdminCert)), string(b64(certPEM)), string(b64(cp.AdminKey)), string(b64(keyPEM))).Replace(readFile(t, cp.Kubeconfig))
	nobody := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(nobody, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "rbac", "who-can", "--kubeconfig", nobody, "get", "secrets", "-n", ns)
	if code != 1 || !strings.Contains(errOut, "list clusterroles.rbac.authorization.k8s.io") || !strings.Contains(errOut, "forbidden") {
		t.Errorf("who-can as a user without RBAC read access: exit %d, %q; want 1 naming the forbidden lists", code, errOut)
	}
}

func b64(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRBACRisksPathsCheck runs the finding and path commands on the
// example cluster through the CLI: outputs, exit codes and gates.
func TestRBACRisksPathsCheck(t *testing.T) {
	out, errOut, code := runCLI(t, "rbac", "risks", "-f", rbacExample, "-A", "-o", "json")
	var doc struct {
		Subject  struct{ Kind, Name string }
		Findings []struct {
			RuleID   string
			Resource struct{ Kind, Namespace, Name string }
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Subject.Kind != "cluster" || len(doc.Findings) != 10 ||
		doc.Findings[0].RuleID != "KS-RBAC-001" || doc.Findings[0].Resource.Name != "bob-admin" {
		t.Fatalf("risks -o json: exit %d (%s): %.600s", code, errOut, out)
	}
	if _, _, code := runCLI(t, "rbac", "risks", "-f", rbacExample, "-A", "--fail-on", "critical"); code != 3 {
		t.Errorf("risks --fail-on critical: exit %d; want 3", code)
	}
	out, _, code = runCLI(t, "rbac", "risks", "-f", rbacExample, "-n", "shop", "--fail-on", "critical", "-o", "sarif")
	if code != 3 || !strings.Contains(out, `"version": "2.1.0"`) || !strings.Contains(out, "KS-RBAC-005") || strings.Contains(out, "payments/ci-deployer") {
		t.Errorf("risks -n shop -o sarif: exit %d: %.300s", code, out)
	}
	if _, errOut, code := runCLI(t, "rbac", "risks", "-f", rbacExample, "--fail-on", "bad"); code != 2 {
		t.Errorf("risks --fail-on bad: exit %d (%s); want 2", code, errOut)
	}

	out, errOut, code = runCLI(t, "rbac", "paths", "-f", rbacExample, "--from", "system:serviceaccount:ci:deployer")
	if code != 0 || !strings.Contains(out, "serviceaccount ci/deployer reaches cluster-admin in 2 steps") ||
		!strings.Contains(out, "[create-pod-as-sa]") || !strings.Contains(out, "[bind-clusterrole]") {
		t.Errorf("paths --from ci/deployer: exit %d (%s):\n%s", code, errOut, out)
	}
	out, _, code = runCLI(t, "rbac", "paths", "-f", rbacExample, "--from", "jane")
	if code != 0 || strings.TrimSpace(out) != "no escalation paths found" {
		t.Errorf("paths --from jane: exit %d: %s", code, out)
	}
	out, _, code = runCLI(t, "rbac", "paths", "-f", rbacExample, "-o", "dot", "--to", "secrets")
	if code != 0 || !strings.HasPrefix(out, "digraph ") || !strings.HasSuffix(strings.TrimSpace(out), "}") {
		t.Errorf("paths -o dot: exit %d: %.200s", code, out)
	}
	out, _, code = runCLI(t, "rbac", "paths", "-f", rbacExample, "-o", "json", "--from-group", "shop-devs")
	var paths struct {
		Paths     []any
		Truncated bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &paths) != nil || len(paths.Paths) != 0 {
		t.Errorf("paths --from-group shop-devs -o json: exit %d: %s", code, out)
	}
	for _, args := range [][]string{{"--to", "moon"}, {"--from", "system:serviceaccount:only-ns"}, {"--max-depth", "0"}} {
		if _, errOut, code := runCLI(t, append([]string{"rbac", "paths", "-f", rbacExample}, args...)...); code != 2 {
			t.Errorf("paths %q: exit %d (%s); want 2", args, code, errOut)
		}
	}

	out, errOut, code = runCLI(t, "rbac", "check", "-f", rbacExample, "--policy", rbacExample+"/access-policy.yaml", "-o", "json")
	if code != 3 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Findings) != 10 {
		t.Errorf("check: exit %d (%s); want 3 with 10 violations: %.400s", code, errOut, out)
	}
	bad := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: kubeshield.dev/v1alpha1\nkind: AccessPolicy\nrules:\n- name: x\n  verbz: [get]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "rbac", "check", "-f", rbacExample, "--policy", bad); code != 1 || !strings.Contains(errOut, "line 5") {
		t.Errorf("check with a bad policy: exit %d, %q; want 1 naming line 5", code, errOut)
	}
}
