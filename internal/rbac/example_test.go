package rbac_test

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

func ExampleAuthorizer_Allowed() {
	snap := &cluster.Snapshot{
		ClusterRoles: []rbacv1.ClusterRole{{
			ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
			Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}},
		}},
		RoleBindings: []rbacv1.RoleBinding{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "ci-reads-pods"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "ci"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "pod-reader"},
		}},
	}
	a := rbac.New(snap)
	ci := rbac.ServiceAccountUser("shop", "ci")
	for _, ns := range []string{"shop", "bank"} {
		d := a.Allowed(rbac.Request{User: ci, Verb: "list", Resource: "pods", Namespace: ns})
		fmt.Println(ns, d.Allowed)
	}
	fmt.Println(a.Allowed(rbac.Request{User: ci, Verb: "get", Resource: "pods", Name: "web", Namespace: "shop"}).Reason())
	// Output:
	// shop true
	// bank false
	// RBAC: allowed by RoleBinding "shop/ci-reads-pods" of ClusterRole "pod-reader" to ServiceAccount "ci/shop", rule {APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}
}

func ExampleAuthorizer_WhoCan() {
	snap := &cluster.Snapshot{
		ClusterRoles: []rbacv1.ClusterRole{{
			ObjectMeta: metav1.ObjectMeta{Name: "secret-admin"},
			Rules:      []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{""}, Resources: []string{"secrets"}}},
		}},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{{
			ObjectMeta: metav1.ObjectMeta{Name: "secret-admins"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "sre"}, {Kind: rbacv1.UserKind, Name: "jane"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "secret-admin"},
		}},
	}
	for _, g := range rbac.New(snap).WhoCan(rbac.Request{Verb: "get", Resource: "secrets", Name: "db", Namespace: "shop"}) {
		fmt.Println(g.Subject.Kind, g.Subject.Name, "via", g.Binding)
	}
	// Output:
	// Group sre via ClusterRoleBinding "secret-admins"
	// User jane via ClusterRoleBinding "secret-admins"
}
