package rbac_test

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

func ExamplePaths() {
	snap, err := cluster.LoadFiles(context.Background(), []string{"../../examples/rbac"}, cluster.FileOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	from := rbac.SubjectIdentity(rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: "ci", Name: "deployer"})
	paths, _ := rbac.Paths(rbac.New(snap), snap, rbac.PathOptions{From: &from, Targets: []rbac.Target{rbac.TargetClusterAdmin}})
	for _, p := range paths {
		fmt.Println(p.From, "reaches", p.Target, "in", len(p.Steps), "steps:")
		for _, s := range p.Steps {
			fmt.Printf("  %s -> %s (%s, by %s)\n", s.From, s.To, s.Technique, s.Grant.Binding)
		}
	}
	// Output:
	// serviceaccount ci/deployer reaches cluster-admin in 2 steps:
	//   serviceaccount ci/deployer -> serviceaccount payments/rbac-manager (create-pod-as-sa, by RoleBinding "payments/ci-deployer")
	//   serviceaccount payments/rbac-manager -> cluster-admin (bind-clusterrole, by ClusterRoleBinding "payments-rbac-manager")
}
