package rbac_test

import (
	"context"
	"fmt"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

func ExampleRisks() {
	snap, err := cluster.LoadFiles(context.Background(), []string{"testdata/risks/workloads.yaml"}, cluster.FileOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rbac.Risks(rbac.New(snap), snap, rbac.RiskOptions{Namespace: "app"})[:2] {
		fmt.Println(f.RuleID, f.Severity, f.Resource.Kind, f.Resource.Name, "-", f.Title)
	}
	// Output:
	// KS-RBAC-004 HIGH ClusterRoleBinding dave-cron - May create or change pods and workloads
	// KS-RBAC-005 HIGH ClusterRoleBinding frank-attach - May exec into or attach to pods
}
