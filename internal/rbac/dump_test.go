package rbac

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/fixture"
)

// TestLiveEqualsDump loads random universes (with aggregation) twice —
// live through cluster.LoadLive, and from the YAML dump the real kubectl
// writes with `kubectl get -o yaml` — and checks that both authorizers
// give the same answer, grant and explanation to every question, and that
// the live one agrees with the API server.
func TestLiveEqualsDump(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane")
	}
	cp := fixture.ControlPlane(t)
	kubectl := filepath.Join(fixture.ControlPlaneBin(t), "kubectl")
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 2000, 4000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(*seedFlag, 3))
	run := fmt.Sprintf("%d", runs.Add(1))
	var asked, allowed int
	for i := range 2 {
		u := newUniverse(rng, fmt.Sprintf("ks%sd-u%d", run, i), i == 1, false)
		u.create(t, cs)
		live, err := cluster.LoadLive(context.Background(), cs, cluster.LiveOptions{Kinds: cluster.RBACKinds()})
		if err != nil {
			t.Fatalf("LoadLive: %v", err)
		}
		dump := filepath.Join(t.TempDir(), "rbac.yaml")
		out, err := exec.Command(kubectl, "--kubeconfig", cp.Kubeconfig, "get", "-A", "-o", "yaml",
			"namespaces,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings").Output()
		if err != nil {
			t.Fatalf("kubectl get -o yaml: %v", err)
		}
		if err := os.WriteFile(dump, out, 0o600); err != nil {
			t.Fatal(err)
		}
		fromFile, err := cluster.LoadFiles(context.Background(), []string{dump}, cluster.FileOptions{})
		if err != nil {
			t.Fatalf("LoadFiles(kubectl dump): %v", err)
		}
		if len(fromFile.ClusterRoles) != len(live.ClusterRoles) || len(fromFile.RoleBindings) != len(live.RoleBindings) {
			t.Fatalf("dump has %d ClusterRoles, %d RoleBindings; live %d, %d", len(fromFile.ClusterRoles), len(fromFile.RoleBindings), len(live.ClusterRoles), len(live.RoleBindings))
		}
		la, fa := New(live), New(fromFile)
		qs := u.questions(rng, la, 1500)
		got := ask(t, cs, qs)
		for j, q := range qs {
			ld, fd := la.Allowed(q), fa.Allowed(q)
			asked++
			if ld.Allowed {
				allowed++
			}
			if ld.Allowed != got[j].Allowed {
				t.Errorf("%s: live snapshot allowed=%v, API server %v (%s)", q, ld.Allowed, got[j].Allowed, got[j].Reason)
			}
			if ld.Reason() != fd.Reason() {
				t.Errorf("%s: live and dump differ:\n live: %s\n dump: %s", q, ld.Reason(), fd.Reason())
			}
		}
	}
	t.Logf("%d questions (%d allowed): live and kubectl-dump answers identical", asked, allowed)
}
