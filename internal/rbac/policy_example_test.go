package rbac_test

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

func ExampleAccessPolicy_Check() {
	policy, err := rbac.ParsePolicy([]byte(`
apiVersion: kubeshield.dev/v1alpha1
kind: AccessPolicy
rules:
- name: developers write only in team shop
  subjects: [{kind: Group, name: developers}]
  verbs: [create, update, patch, delete]
  resources: ["*"]
  onlyIn: {namespaceSelector: {matchLabels: {team: shop}}}
- name: developers read the shop
  subjects: [{kind: Group, name: developers}]
  mustAllow:
  - verbs: [get, list]
    resources: [pods]
    namespaces: [shop]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	snap := &cluster.Snapshot{
		Namespaces: []corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "shop"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "bank", Labels: map[string]string{"team": "bank"}}},
		},
		ClusterRoles: []rbacv1.ClusterRole{{
			ObjectMeta: metav1.ObjectMeta{Name: "edit-pods"},
			Rules:      []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{""}, Resources: []string{"pods"}}},
		}},
		RoleBindings: []rbacv1.RoleBinding{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bank", Name: "developers"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "developers"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit-pods"},
		}},
	}
	for _, v := range policy.Check(rbac.New(snap), snap) {
		fmt.Printf("%s: %s\n", v.Rule, v.Message)
	}
	// Output:
	// developers write only in team shop: RoleBinding "bank/developers" of ClusterRole "edit-pods" lets Group "developers" create, update, patch, delete * in namespace "bank", outside the allowed scope
	// developers read the shop: Group "developers" cannot get, list pods in namespace "shop"
}
