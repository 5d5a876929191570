package rbac_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

// loadPolicy parses testdata/policy/NAME.
func loadPolicy(t *testing.T, name string) *rbac.AccessPolicy {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "policy", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := rbac.ParsePolicy(data)
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", name, err)
	}
	return p
}

// checkPolicy checks policy file name against the manifests at paths and
// returns each violation as "RULE: MESSAGE".
func checkPolicy(t *testing.T, name string, paths ...string) []string {
	t.Helper()
	snap, err := cluster.LoadFiles(context.Background(), paths, cluster.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range loadPolicy(t, name).Check(rbac.New(snap), snap) {
		out = append(out, v.Rule+": "+v.Message)
	}
	return out
}

func TestPolicyCheck(t *testing.T) {
	universe := filepath.Join("testdata", "policy", "universe.yaml")
	tests := []struct {
		policy string
		want   []string
	}{{
		policy: "onlyin-names.yaml",
		want: []string{
			`developers write only in the shop: RoleBinding "ci/devs-exec" of ClusterRole "exec" lets Group "developers" create * in namespace "ci", outside the allowed scope`,
			`developers write only in the shop: RoleBinding "payments/devs-edit" of ClusterRole "editor" lets Group "developers" create, update, patch, delete * in namespace "payments", outside the allowed scope`,
			`developers write only in the shop: RoleBinding "payments/devs-edit" of ClusterRole "editor" lets Group "developers" create, delete * in namespace "payments", outside the allowed scope`,
		},
	}, {
		policy: "onlyin-selector.yaml",
		want: []string{
			`developers write only in team shop: RoleBinding "ci/devs-exec" of ClusterRole "exec" lets Group "developers" create * in namespace "ci", outside the allowed scope`,
			`developers write only in team shop: RoleBinding "payments/devs-edit" of ClusterRole "editor" lets Group "developers" create, update, patch, delete * in namespace "payments", outside the allowed scope`,
			`developers write only in team shop: RoleBinding "payments/devs-edit" of ClusterRole "editor" lets Group "developers" create, delete * in namespace "payments", outside the allowed scope`,
			`developers never delete configmaps: RoleBinding "shop-staging/devs-config" of ClusterRole "config-admin" lets Group "developers" delete configmaps in namespace "shop-staging", outside the allowed scope`,
		},
	}, {
		policy: "onlyin-cluster.yaml",
		want: []string{
			`ops read pods only in the shop: ClusterRoleBinding "ops-admin" of ClusterRole "everything" lets Group "ops" get pods in namespaces "ci", "orphan", "payments", "shop-staging", outside the allowed scope`,
			`ops delete in namespaces only: ClusterRoleBinding "ops-admin" of ClusterRole "everything" lets Group "ops" delete * cluster-wide, outside the allowed scope`,
			`developers list nodes nowhere: ClusterRoleBinding "devs-nodes" of ClusterRole "node-reader" lets Group "developers" list nodes cluster-wide, outside the allowed scope`,
		},
	}, {
		policy: "onlyin-subjects.yaml",
		want: []string{
			`ci service accounts deploy only to payments: RoleBinding "shop/sa-deployer" of ClusterRole "editor" lets ServiceAccount "ci/deployer" create deployments.apps in namespace "shop", outside the allowed scope`,
			`the shop default service account reads only in payments: RoleBinding "shop/default-sa" of ClusterRole "reader" lets ServiceAccount "shop/default" list pods in namespace "shop", outside the allowed scope`,
			`al-users read secrets only in the shop: ClusterRoleBinding "alice-admin" of ClusterRole "everything" lets User "alice" get secrets in namespaces "ci", "orphan", "payments", "shop-staging", outside the allowed scope`,
			`users exec only in ci: ClusterRoleBinding "alice-admin" of ClusterRole "everything" lets User "alice" create pods/exec in namespaces "orphan", "payments", "shop", "shop-staging", outside the allowed scope`,
		},
	}, {
		policy: "onlysubjects.yaml",
		want: []string{
			`only admins delete: RoleBinding "orphan/bob-delete" of Role "orphan/delete-one-secret" lets User "bob" delete * in namespace "orphan"; only Group "ops", User "alice" may`,
			`only admins delete: RoleBinding "payments/devs-edit" of ClusterRole "editor" lets Group "developers" delete * in namespace "payments"; only Group "ops", User "alice" may`,
			`only admins delete: RoleBinding "payments/devs-edit" of ClusterRole "editor" lets Group "developers" delete * in namespace "payments"; only Group "ops", User "alice" may`,
			`only admins delete: RoleBinding "shop/devs-edit" of ClusterRole "editor" lets Group "developers" delete * in namespace "shop"; only Group "ops", User "alice" may`,
			`only admins delete: RoleBinding "shop/devs-edit" of ClusterRole "editor" lets Group "developers" delete * in namespace "shop"; only Group "ops", User "alice" may`,
			`only admins delete: RoleBinding "shop/sa-deployer" of ClusterRole "editor" lets ServiceAccount "ci/deployer" delete * in namespace "shop"; only Group "ops", User "alice" may`,
			`only admins delete: RoleBinding "shop/sa-deployer" of ClusterRole "editor" lets ServiceAccount "ci/deployer" delete * in namespace "shop"; only Group "ops", User "alice" may`,
			`only admins delete: RoleBinding "shop-staging/devs-config" of ClusterRole "config-admin" lets Group "developers" delete, deletecollection * in namespace "shop-staging"; only Group "ops", User "alice" may`,
			`only ci service accounts create deployments: ClusterRoleBinding "alice-admin" of ClusterRole "everything" lets User "alice" create deployments cluster-wide; only ServiceAccount "ci/*" may`,
			`only ci service accounts create deployments: ClusterRoleBinding "ops-admin" of ClusterRole "everything" lets Group "ops" create deployments cluster-wide; only ServiceAccount "ci/*" may`,
			`only ci service accounts create deployments: RoleBinding "payments/devs-edit" of ClusterRole "editor" lets Group "developers" create deployments in namespace "payments"; only ServiceAccount "ci/*" may`,
			`only ci service accounts create deployments: RoleBinding "shop/devs-edit" of ClusterRole "editor" lets Group "developers" create deployments in namespace "shop"; only ServiceAccount "ci/*" may`,
			`nobody reads nodes: ClusterRoleBinding "alice-admin" of ClusterRole "everything" lets User "alice" get nodes cluster-wide; nobody may`,
			`nobody reads nodes: ClusterRoleBinding "devs-nodes" of ClusterRole "node-reader" lets Group "developers" get nodes cluster-wide; nobody may`,
			`nobody reads nodes: ClusterRoleBinding "ops-admin" of ClusterRole "everything" lets Group "ops" get nodes cluster-wide; nobody may`,
		},
	}, {
		policy: "mustallow.yaml",
		want: []string{
			`developers read the shop: Group "developers" cannot get, list configmaps in namespace "shop"`,
			`the deployer deploys to shop and payments: ServiceAccount "ci/deployer" cannot create, update deployments in namespace "payments"`,
			`alice and bob list nodes and namespaces: User "bob" cannot list nodes cluster-wide`,
			`developers list pods everywhere: Group "developers" cannot delete pods in namespace "ci"`,
			`developers list pods everywhere: Group "developers" cannot delete pods in namespace "orphan"`,
			`developers list pods everywhere: Group "developers" cannot delete pods in namespace "shop-staging"`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			got := checkPolicy(t, tt.policy, universe)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check(%s) mismatch (-want +got):\n%s", tt.policy, diff)
			}
		})
	}
}

func TestPolicyCheckExample(t *testing.T) {
	got := checkPolicy(t, "example.yaml", filepath.Join("..", "..", "examples", "rbac"))
	want := []string{
		`payments developers read payments: Group "payments-devs" cannot get, list pods in namespace "payments"`,
		`payments developers read payments: Group "payments-devs" cannot get, list deployments.apps in namespace "payments"`,
		`role bindings are managed only in payments: ClusterRoleBinding "payments-rbac-manager" of ClusterRole "rbac-manager" lets ServiceAccount "payments/rbac-manager" create, update, patch, delete *.rbac.authorization.k8s.io in namespaces "ci", "shop" and cluster-wide, outside the allowed scope`,
		`role bindings are managed only in payments: ClusterRoleBinding "payments-rbac-manager" of ClusterRole "rbac-manager" lets ServiceAccount "payments/rbac-manager" bind *.rbac.authorization.k8s.io cluster-wide, outside the allowed scope`,
		`anonymous users get nothing: ClusterRoleBinding "everyone-lists-namespaces" of ClusterRole "namespace-lister" lets Group "system:unauthenticated" list * cluster-wide, outside the allowed scope`,
		`only cluster admins delete: ClusterRoleBinding "bob-admin" of ClusterRole "cluster-admin" lets User "bob" delete, deletecollection * cluster-wide; only Group "cluster-admins" may`,
		`only cluster admins delete: ClusterRoleBinding "payments-rbac-manager" of ClusterRole "rbac-manager" lets ServiceAccount "payments/rbac-manager" delete * cluster-wide; only Group "cluster-admins" may`,
		`only cluster admins delete: RoleBinding "shop/shop-lead" of Role "shop/operator" lets User "jane" delete * in namespace "shop"; only Group "cluster-admins" may`,
		`only the payments default service account reads secrets: ClusterRoleBinding "bob-admin" of ClusterRole "cluster-admin" lets User "bob" get, list, watch secrets cluster-wide; only ServiceAccount "payments/default" may`,
		`only the payments default service account reads secrets: ClusterRoleBinding "monitoring" of ClusterRole "monitoring" lets User "prometheus" get, list, watch secrets cluster-wide; only ServiceAccount "payments/default" may`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check(example.yaml) mismatch (-want +got):\n%s", diff)
	}
}

// policyHeader starts every test document.
const policyHeader = "apiVersion: kubeshield.dev/v1alpha1\nkind: AccessPolicy\n"

func TestParsePolicy(t *testing.T) {
	doc := policyHeader + `rules:
- name: readers
  subjects:
  - {kind: Group, name: developers}
  - {kind: ServiceAccount, namespace: ci, name: deployer}
  mustAllow:
  - verbs: [get, list]
    resources: [pods, deployments.apps]
    namespaces: [shop, "*"]
    namespaceSelector:
      matchLabels: {team: shop}
      matchExpressions: [{key: tier, operator: NotIn, values: [prod]}]
- name: writers
  subjects: [{kind: User, name: "team-*"}]
  verbs: ["*"]
  resources: ["*"]
  onlyIn: {namespaces: [shop], clusterScope: true}
- name: deleters
  verbs: [delete]
  resources: [pods/exec, "*.apps"]
  onlySubjects: []
`
	p, err := rbac.ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	want := &rbac.AccessPolicy{Rules: []rbac.PolicyRule{{
		Name: "readers", Line: 4, Kind: rbac.ViolationAccessMissing,
		Subjects: []rbac.SubjectPattern{{Kind: "Group", Name: "developers"}, {Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"}},
		MustAllow: []rbac.ExpectedAccess{{
			Verbs: []string{"get", "list"}, Resources: []string{"pods", "deployments.apps"}, Line: 9,
			In: rbac.PolicyScope{
				Namespaces: []string{"shop", "*"},
				NamespaceSelector: &metav1.LabelSelector{
					MatchLabels:      map[string]string{"team": "shop"},
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"prod"}}},
				},
			},
		}},
	}, {
		Name: "writers", Line: 15, Kind: rbac.ViolationOutsideScope,
		Subjects: []rbac.SubjectPattern{{Kind: "User", Name: "team-*"}},
		Verbs:    []string{"*"}, Resources: []string{"*"},
		OnlyIn: rbac.PolicyScope{Namespaces: []string{"shop"}, ClusterScope: true},
	}, {
		Name: "deleters", Line: 20, Kind: rbac.ViolationSubjectNotAllowed,
		Verbs: []string{"delete"}, Resources: []string{"pods/exec", "*.apps"},
		OnlySubjects: []rbac.SubjectPattern{},
	}}}
	if diff := cmp.Diff(want, p, cmpopts.IgnoreUnexported(rbac.PolicyRule{}, rbac.PolicyScope{}, rbac.ExpectedAccess{})); diff != "" {
		t.Errorf("ParsePolicy mismatch (-want +got):\n%s", diff)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line int    // 0: not checked
		rule string // the PolicyError's Rule
	}{
		{"empty", "", 0, ""},
		{"not YAML", "rules: [", 1, ""},
		{"two documents", policyHeader + "rules: []\n---\nrules: []\n", 4, ""},
		{"wrong apiVersion", "apiVersion: v1\nkind: AccessPolicy\nrules: []\n", 1, ""},
		{"no kind", "apiVersion: kubeshield.dev/v1alpha1\nrules: []\n", 1, ""},
		{"unknown top-level field", policyHeader + "rule: []\n", 3, ""},
		{"rules not a list", policyHeader + "rules: {}\n", 3, ""},
		{"unknown rule field", policyHeader + "rules:\n- verb: [get]\n  name: r1\n", 4, "r1"},
		{"unknown subject field", policyHeader + "rules:\n- name: r1\n  subjects: [{kind: User, name: a, group: b}]\n  verbs: [get]\n  resources: [pods]\n  onlyIn: {}\n", 5, "r1"},
		{"unknown scope field", policyHeader + "rules:\n- name: r1\n  subjects: [{kind: User, name: a}]\n  verbs: [get]\n  resources: [pods]\n  onlyIn: {namespace: [a]}\n", 8, "r1"},
		{"repeated field", policyHeader + "rules:\n- name: r1\n  name: r2\n", 5, "r1"},
		{"no name", policyHeader + "rules:\n- verbs: [get]\n  resources: [pods]\n  onlySubjects: []\n", 4, "rules[0]"},
		{"same name twice", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [pods], onlySubjects: []}\n- {name: r1, verbs: [get], resources: [pods], onlySubjects: []}\n", 5, "r1"},
		{"no check", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [pods]}\n", 4, "r1"},
		{"two checks", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], verbs: [get], resources: [pods], onlySubjects: [], onlyIn: {}}\n", 4, "r1"},
		{"onlyIn without subjects", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [pods], onlyIn: {}}\n", 4, "r1"},
		{"onlyIn without verbs", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], resources: [pods], onlyIn: {}}\n", 4, "r1"},
		{"onlySubjects with subjects", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], verbs: [get], resources: [pods], onlySubjects: []}\n", 4, "r1"},
		{"verb not a string", policyHeader + "rules:\n- {name: r1, verbs: [1], resources: [pods], onlySubjects: []}\n", 4, "r1"},
		{"verb with a space", policyHeader + "rules:\n- {name: r1, verbs: [\"get list\"], resources: [pods], onlySubjects: []}\n", 4, "r1"},
		{"bad resource", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [pods/a/b], onlySubjects: []}\n", 4, "r1"},
		{"partial wildcard resource", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [\"po*\"], onlySubjects: []}\n", 4, "r1"},
		{"unknown subject kind", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [pods], onlySubjects: [{kind: Robot, name: a}]}\n", 4, "r1"},
		{"ServiceAccount without namespace", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [pods], onlySubjects: [{kind: ServiceAccount, name: a}]}\n", 4, "r1"},
		{"User with namespace", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [pods], onlySubjects: [{kind: User, namespace: a, name: a}]}\n", 4, "r1"},
		{"wildcard inside a name", policyHeader + "rules:\n- {name: r1, verbs: [get], resources: [pods], onlySubjects: [{kind: User, name: \"a*b\"}]}\n", 4, "r1"},
		{"clusterScope not a bool", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], verbs: [get], resources: [pods], onlyIn: {clusterScope: \"yes\"}}\n", 4, "r1"},
		{"bad selector operator", policyHeader + "rules:\n- name: r1\n  subjects: [{kind: User, name: a}]\n  verbs: [get]\n  resources: [pods]\n  onlyIn:\n    namespaceSelector:\n      matchExpressions: [{key: a, operator: Near}]\n", 10, "r1"},
		{"bad label value", policyHeader + "rules:\n- name: r1\n  subjects: [{kind: User, name: a}]\n  verbs: [get]\n  resources: [pods]\n  onlyIn:\n    namespaceSelector: {matchLabels: {team: \"a b\"}}\n", 9, "r1"},
		{"label value not a string", policyHeader + "rules:\n- name: r1\n  subjects: [{kind: User, name: a}]\n  verbs: [get]\n  resources: [pods]\n  onlyIn:\n    namespaceSelector: {matchLabels: {enabled: true}}\n", 9, "r1"},
		{"mustAllow with rule verbs", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], verbs: [get], mustAllow: [{verbs: [get], resources: [pods], namespaces: [a]}]}\n", 4, "r1"},
		{"mustAllow empty", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], mustAllow: []}\n", 4, "r1"},
		{"mustAllow wildcard subject", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: \"*\"}], mustAllow: [{verbs: [get], resources: [pods], namespaces: [a]}]}\n", 4, "r1"},
		{"mustAllow wildcard verb", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], mustAllow: [{verbs: [\"*\"], resources: [pods], namespaces: [a]}]}\n", 4, "r1"},
		{"mustAllow wildcard resource", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], mustAllow: [{verbs: [get], resources: [\"*.apps\"], namespaces: [a]}]}\n", 4, "r1"},
		{"mustAllow without a place", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], mustAllow: [{verbs: [get], resources: [pods]}]}\n", 4, "r1"},
		{"mustAllow cluster-scoped in namespaces", policyHeader + "rules:\n- {name: r1, subjects: [{kind: User, name: a}], mustAllow: [{verbs: [get], resources: [nodes], namespaces: [a]}]}\n", 4, "r1"},
		{"mustAllow unknown field", policyHeader + "rules:\n- name: r1\n  subjects: [{kind: User, name: a}]\n  mustAllow:\n  - verbs: [get]\n    resources: [pods]\n    clusterscope: true\n", 9, "r1"},
		{"anchor", policyHeader + "rules:\n- &r {name: r1, verbs: [get], resources: [pods], onlySubjects: []}\n", 4, ""},
		{"alias", policyHeader + "x: &v [get]\nrules:\n- {name: r1, verbs: *v, resources: [pods], onlySubjects: []}\n", 3, ""},
		{"key not a string", policyHeader + "rules:\n- {name: r1, 1: a}\n", 4, "r1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := rbac.ParsePolicy([]byte(tt.doc))
			var pe *rbac.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePolicy(%q) = %v, %v; want a *PolicyError", tt.doc, p, err)
			}
			if tt.line != 0 && pe.Line != tt.line {
				t.Errorf("ParsePolicy(%q): error %q at line %d; want line %d", tt.doc, err, pe.Line, tt.line)
			}
			if pe.Rule != tt.rule {
				t.Errorf("ParsePolicy(%q): error %q in rule %q; want rule %q", tt.doc, err, pe.Rule, tt.rule)
			}
		})
	}
}

func TestParsePolicyTooLarge(t *testing.T) {
	doc := policyHeader + "rules: []\n" + strings.Repeat("#", rbac.MaxPolicySize)
	if _, err := rbac.ParsePolicy([]byte(doc)); !errors.Is(err, rbac.ErrPolicyTooLarge) {
		t.Errorf("ParsePolicy(%d bytes) = %v; want ErrPolicyTooLarge", len(doc), err)
	}
}

func TestPolicyViolationFinding(t *testing.T) {
	path := filepath.Join("testdata", "policy", "universe.yaml")
	snap, err := cluster.LoadFiles(context.Background(), []string{path}, cluster.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := rbac.New(snap)
	var got []rbac.Violation
	for _, name := range []string{"onlyin-cluster.yaml", "onlysubjects.yaml", "mustallow.yaml"} {
		vs := loadPolicy(t, name).Check(a, snap)
		got = append(got, vs[0])
	}
	everything := rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}
	want := []rbac.Violation{{
		Rule: "ops read pods only in the shop", Kind: rbac.ViolationOutsideScope,
		Grant: rbac.Grant{
			Binding: rbac.Ref{Kind: "ClusterRoleBinding", Name: "ops-admin"},
			Subject: rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "ops"},
			Role:    rbac.Ref{Kind: "ClusterRole", Name: "everything"},
			Rule:    everything,
		},
		Subject:    rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "ops"},
		Verbs:      []string{"get"},
		Resources:  []string{"pods"},
		Namespaces: []string{"ci", "orphan", "payments", "shop-staging"},
	}, {
		Rule: "only admins delete", Kind: rbac.ViolationSubjectNotAllowed,
		Grant: rbac.Grant{
			Binding: rbac.Ref{Kind: "RoleBinding", Namespace: "orphan", Name: "bob-delete"},
			Subject: rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "User", Name: "bob"},
			Role:    rbac.Ref{Kind: "Role", Namespace: "orphan", Name: "delete-one-secret"},
			Rule:    rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"token"}, Verbs: []string{"delete"}},
		},
		Subject:    rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "User", Name: "bob"},
		Verbs:      []string{"delete"},
		Resources:  []string{"*"},
		Namespaces: []string{"orphan"},
	}, {
		Rule: "developers read the shop", Kind: rbac.ViolationAccessMissing,
		Subject:    rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "developers"},
		Verbs:      []string{"get", "list"},
		Resources:  []string{"configmaps"},
		Namespaces: []string{"shop"},
	}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(rbac.Violation{}, "Message")); diff != "" {
		t.Errorf("Check: first violations mismatch (-want +got):\n%s", diff)
	}

	wantFindings := []struct {
		rule     finding.Rule
		resource finding.Resource
		evidence string // a part of the evidence
	}{
		{rbac.RulePolicyOutsideScope, finding.Resource{Kind: "ClusterRoleBinding", Name: "ops-admin"}, "universe.yaml:"},
		{rbac.RulePolicySubject, finding.Resource{Kind: "RoleBinding", Namespace: "orphan", Name: "bob-delete"}, `policy rule "only admins delete": RoleBinding "orphan/bob-delete"`},
		{rbac.RulePolicyMissing, finding.Resource{Kind: "Group", Name: "developers"}, `Group "developers" cannot get, list configmaps in namespace "shop"`},
	}
	for i, v := range got {
		f := v.Finding(snap)
		w := wantFindings[i]
		if f.RuleID != w.rule.ID || f.Severity != w.rule.Severity || f.Resource != w.resource || !strings.Contains(f.Evidence, w.evidence) {
			t.Errorf("Finding(%s) = %s %s %+v %q; want %s %s %+v, evidence with %q", v.Rule, f.RuleID, f.Severity, f.Resource, f.Evidence, w.rule.ID, w.rule.Severity, w.resource, w.evidence)
		}
	}

	var ids []string
	for _, r := range rbac.PolicyRules() {
		ids = append(ids, r.ID)
	}
	if want := []string{"KS-RBAC-100", "KS-RBAC-101", "KS-RBAC-102"}; !cmp.Equal(ids, want) {
		t.Errorf("PolicyRules() IDs = %q; want %q", ids, want)
	}
}

func TestGrants(t *testing.T) {
	snap, err := cluster.LoadFiles(context.Background(), []string{filepath.Join("..", "..", "examples", "rbac")}, cluster.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range rbac.New(snap).Grants() {
		got = append(got, g.Binding.String()+" "+g.Subject.Kind+" "+g.Subject.Name)
	}
	want := []string{
		`ClusterRoleBinding "auditors-view" Group auditors`,
		`ClusterRoleBinding "bob-admin" User bob`,
		`ClusterRoleBinding "bob-admin" User bob`,
		`ClusterRoleBinding "everyone-lists-namespaces" Group system:unauthenticated`,
		`ClusterRoleBinding "monitoring" User prometheus`,
		`ClusterRoleBinding "monitoring" User prometheus`,
		`ClusterRoleBinding "payments-rbac-manager" ServiceAccount rbac-manager`,
		`ClusterRoleBinding "payments-rbac-manager" ServiceAccount rbac-manager`,
		`RoleBinding "payments/ci-deployer" ServiceAccount deployer`,
		`RoleBinding "payments/ci-deployer" ServiceAccount deployer`,
		`RoleBinding "payments/default-secrets" ServiceAccount default`,
		`RoleBinding "shop/shop-developers" Group shop-devs`,
		`RoleBinding "shop/shop-lead" User jane`,
		`RoleBinding "shop/shop-lead" User jane`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Grants() mismatch (-want +got):\n%s", diff)
	}
}

// TestPolicyDocExamples parses the example policies of the documentation.
func TestPolicyDocExamples(t *testing.T) {
	for _, file := range []string{"doc.go", "policy.go"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc []string
		found := false
		for _, line := range strings.Split(string(data), "\n") {
			if line == "//\tapiVersion: kubeshield.dev/v1alpha1" {
				found = true
			}
			if !found {
				continue
			}
			text, ok := strings.CutPrefix(line, "//\t")
			if !ok {
				break
			}
			doc = append(doc, text)
		}
		if len(doc) == 0 {
			t.Errorf("%s: no example policy", file)
			continue
		}
		if _, err := rbac.ParsePolicy([]byte(strings.Join(doc, "\n"))); err != nil {
			t.Errorf("%s: example policy: ParsePolicy: %v", file, err)
		}
	}
}

// TestPolicyResourcePatterns checks which role rules a policy's resources
// cover, and when a ClusterRoleBinding's grant can be on a cluster-scoped
// resource.
func TestPolicyResourcePatterns(t *testing.T) {
	tests := []struct {
		groups, resources []string // the role rule's
		policy            string   // the policy's resource
		covered, cluster  bool
	}{
		{[]string{""}, []string{"pods"}, "pods", true, false},
		{[]string{""}, []string{"pods/exec"}, "pods", false, false},
		{[]string{""}, []string{"pods/exec"}, "pods/*", true, false},
		{[]string{""}, []string{"pods/exec"}, "*/exec", true, false},
		{[]string{""}, []string{"pods/log"}, "*/exec", false, false},
		{[]string{""}, []string{"pods/exec"}, "*", true, false},
		{[]string{""}, []string{"*/exec"}, "pods/exec", true, false},
		{[]string{""}, []string{"*/exec"}, "pods", false, false},
		{[]string{""}, []string{"pods/*"}, "pods/exec", false, false}, // RBAC reads "pods/*" literally
		{[]string{""}, []string{"*"}, "pods", true, false},
		{[]string{""}, []string{"*"}, "*", true, true},
		{[]string{""}, []string{"nodes"}, "*", true, true},
		{[]string{""}, []string{"nodes/proxy"}, "nodes", false, false},
		{[]string{""}, []string{"nodes/proxy"}, "nodes/proxy", true, true},
		{[]string{"apps"}, []string{"deployments"}, "deployments", true, false},
		{[]string{"apps"}, []string{"deployments"}, "pods", false, false},
		{[]string{"*"}, []string{"deployments"}, "deployments.apps", true, false},
		{[]string{"*"}, []string{"deployments"}, "*.apps", true, false},
		{[]string{"extensions"}, []string{"deployments"}, "deployments.apps", false, false},
		{[]string{"*"}, []string{"*"}, "*.apps", true, true},
		{[]string{"example.com"}, []string{"widgets"}, "*", true, true}, // scope unknown
		{[]string{"example.com"}, []string{"widgets"}, "widgets.example.com", true, true},
		{[]string{"rbac.authorization.k8s.io"}, []string{"clusterroles", "roles"}, "roles.rbac.authorization.k8s.io", true, false},
		{[]string{"rbac.authorization.k8s.io"}, []string{"clusterroles", "roles"}, "*.rbac.authorization.k8s.io", true, true},
	}
	for _, tt := range tests {
		snap := &cluster.Snapshot{
			Namespaces: []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "a"}}},
			ClusterRoles: []rbacv1.ClusterRole{{
				ObjectMeta: metav1.ObjectMeta{Name: "r"},
				Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: tt.groups, Resources: tt.resources}},
			}},
			ClusterRoleBindings: []rbacv1.ClusterRoleBinding{{
				ObjectMeta: metav1.ObjectMeta{Name: "b"},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "u"}},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "r"},
			}},
		}
		p, err := rbac.ParsePolicy([]byte(policyHeader + "rules:\n" +
			"- {name: covered, verbs: [get], resources: [\"" + tt.policy + "\"], onlySubjects: []}\n" +
			"- {name: cluster, subjects: [{kind: User, name: u}], verbs: [get], resources: [\"" + tt.policy + "\"], onlyIn: {namespaces: [\"*\"]}}\n"))
		if err != nil {
			t.Fatal(err)
		}
		var covered, clusterScope bool
		for _, v := range p.Check(rbac.New(snap), snap) {
			switch v.Rule {
			case "covered":
				covered = true
			case "cluster":
				clusterScope = v.ClusterScope
			}
		}
		if covered != tt.covered || clusterScope != tt.cluster {
			t.Errorf("rule %q %q, policy resource %q: covered %v, cluster-scoped %v; want %v, %v", tt.groups, tt.resources, tt.policy, covered, clusterScope, tt.covered, tt.cluster)
		}
	}
}
