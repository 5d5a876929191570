package rbac_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

// TestRisksFreshCluster checks that the RBAC a real API server
// bootstraps yields no finding by default, and findings about system
// components with IncludeSystem, none of them about its public bindings.
func TestRisksFreshCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("test against a real API server; skipped in -short mode")
	}
	cp := fixture.ControlPlane(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	snap, err := cluster.LoadLive(t.Context(), cs, cluster.LiveOptions{Kinds: append(cluster.RBACKinds(), cluster.KindServiceAccount)})
	if err != nil {
		t.Fatalf("LoadLive: %v", err)
	}
	riskKeepFresh(snap)
	if len(snap.ClusterRoleBindings) == 0 {
		t.Fatal("the control plane has no bootstrap ClusterRoleBindings")
	}
	a := rbac.New(snap)

	if got := rbac.Risks(a, snap, rbac.RiskOptions{}); len(got) != 0 {
		t.Errorf("Risks(fresh cluster) = %d findings; want none:\n%v", len(got), riskKeys(got))
	}

	got := rbac.Risks(a, snap, rbac.RiskOptions{IncludeSystem: true})
	keys := riskKeys(got)
	t.Logf("%d findings with IncludeSystem", len(got))
	for _, want := range []string{
		"KS-RBAC-001 CRITICAL ClusterRoleBinding cluster-admin: Group system:masters",
		"KS-RBAC-003 HIGH ClusterRoleBinding system:kube-controller-manager: User system:kube-controller-manager",
		"KS-RBAC-008 HIGH ClusterRoleBinding system:controller:clusterrole-aggregation-controller: ServiceAccount kube-system/clusterrole-aggregation-controller",
		"KS-RBAC-011 HIGH ClusterRoleBinding system:controller:certificate-controller: ServiceAccount kube-system/certificate-controller",
	} {
		if !slices.Contains(keys, want) {
			t.Errorf("Risks(fresh cluster, IncludeSystem) lacks %q", want)
		}
	}
	for _, f := range got {
		if f.RuleID == "KS-RBAC-015" || f.RuleID == "KS-RBAC-016" {
			t.Errorf("Risks(fresh cluster, IncludeSystem) reports a public bootstrap binding: %s %s", f.RuleID, f.Evidence)
		}
	}
}

// riskKeepFresh drops from snap the objects that other tests sharing the
// control plane created: it keeps those only control-plane components
// wrote.
func riskKeepFresh(snap *cluster.Snapshot) {
	fresh := func(m metav1.ObjectMeta) bool {
		for _, f := range m.ManagedFields {
			switch f.Manager {
			case "kube-apiserver", "kube-controller-manager", "clusterrole-aggregation-controller":
			default:
				return false
			}
		}
		return true
	}
	snap.ClusterRoles = slices.DeleteFunc(snap.ClusterRoles, func(o rbacv1.ClusterRole) bool { return !fresh(o.ObjectMeta) })
	snap.ClusterRoleBindings = slices.DeleteFunc(snap.ClusterRoleBindings, func(o rbacv1.ClusterRoleBinding) bool { return !fresh(o.ObjectMeta) })
	snap.Roles = slices.DeleteFunc(snap.Roles, func(o rbacv1.Role) bool { return !fresh(o.ObjectMeta) })
	snap.RoleBindings = slices.DeleteFunc(snap.RoleBindings, func(o rbacv1.RoleBinding) bool { return !fresh(o.ObjectMeta) })
	snap.ServiceAccounts = slices.DeleteFunc(snap.ServiceAccounts, func(o corev1.ServiceAccount) bool { return !fresh(o.ObjectMeta) })
}
