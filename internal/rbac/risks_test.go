package rbac_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

// riskLoad loads manifests with cluster.LoadFiles.
func riskLoad(t *testing.T, paths ...string) *cluster.Snapshot {
	t.Helper()
	snap, err := cluster.LoadFiles(t.Context(), paths, cluster.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// riskKeys summarises findings as "RULE SEVERITY Kind [ns/]name: subject",
// the subject "-" for findings about a binding as a whole.
func riskKeys(fs []finding.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		name := f.Resource.Name
		if f.Resource.Namespace != "" {
			name = f.Resource.Namespace + "/" + name
		}
		subject, _, _ := strings.Cut(f.Evidence, ", ")
		if f.RuleID == "KS-RBAC-019" {
			subject = "-"
		}
		out[i] = fmt.Sprintf("%s %s %s %s: %s", f.RuleID, f.Severity, f.Resource.Kind, name, subject)
	}
	return out
}

func TestRisks(t *testing.T) {
	tests := []struct {
		file string
		opts rbac.RiskOptions
		want []string
	}{
		{"full.yaml", rbac.RiskOptions{}, []string{
			"KS-RBAC-001 CRITICAL ClusterRoleBinding alice-admin: User alice",
			"KS-RBAC-001 HIGH RoleBinding team/bob-admin: User bob",
			"KS-RBAC-002 HIGH ClusterRoleBinding carol-configmaps: User carol",
			"KS-RBAC-002 MEDIUM RoleBinding team/dave-configmaps: User dave",
		}},
		{"secrets.yaml", rbac.RiskOptions{}, []string{
			"KS-RBAC-003 HIGH ClusterRoleBinding alice-secrets: User alice",
			"KS-RBAC-003 HIGH ClusterRoleBinding ops: Group ops",
			"KS-RBAC-003 MEDIUM RoleBinding app/bob-secrets: User bob",
		}},
		{"workloads.yaml", rbac.RiskOptions{}, []string{
			"KS-RBAC-004 HIGH ClusterRoleBinding dave-cron: User dave",
			"KS-RBAC-005 HIGH ClusterRoleBinding frank-attach: User frank",
			"KS-RBAC-004 MEDIUM RoleBinding app/alice-deploys: User alice",
			"KS-RBAC-004 MEDIUM RoleBinding app/bob-patches-web: User bob",
			"KS-RBAC-005 MEDIUM RoleBinding app/erin-exec: User erin",
			"KS-RBAC-005 MEDIUM RoleBinding app/grace-debugs: User grace",
			"KS-RBAC-006 LOW RoleBinding app/grace-debugs: User grace",
		}},
		{"escalation.yaml", rbac.RiskOptions{}, []string{
			"KS-RBAC-009 CRITICAL ClusterRoleBinding erin-impersonates: User erin",
			"KS-RBAC-009 CRITICAL ClusterRoleBinding heidi-extras: User heidi",
			"KS-RBAC-008 HIGH ClusterRoleBinding dave-escalates: User dave",
			"KS-RBAC-009 HIGH RoleBinding app/grace-builds: User grace",
			"KS-RBAC-007 MEDIUM RoleBinding app/alice-tokens: User alice",
			"KS-RBAC-008 MEDIUM RoleBinding app/bob-binds: User bob",
		}},
		{"cluster-scoped.yaml", rbac.RiskOptions{}, []string{
			"KS-RBAC-010 HIGH ClusterRoleBinding alice-node-proxy: User alice",
			"KS-RBAC-011 HIGH ClusterRoleBinding dave-approves: User dave",
			"KS-RBAC-012 HIGH ClusterRoleBinding frank-signs: User frank",
			"KS-RBAC-013 HIGH ClusterRoleBinding grace-webhooks: User grace",
			"KS-RBAC-014 HIGH ClusterRoleBinding ivan-pvs: User ivan",
		}},
		{"subjects.yaml", rbac.RiskOptions{}, []string{
			"KS-RBAC-015 CRITICAL ClusterRoleBinding anonymous: User system:anonymous",
			"KS-RBAC-015 CRITICAL RoleBinding app/unauthenticated: Group system:unauthenticated",
			"KS-RBAC-016 HIGH ClusterRoleBinding everyone: Group system:authenticated",
			"KS-RBAC-016 HIGH ClusterRoleBinding everyone: Group system:serviceaccounts",
			"KS-RBAC-003 MEDIUM RoleBinding other/secrets: User olga",
			"KS-RBAC-017 MEDIUM RoleBinding app/default-reads: ServiceAccount app/default",
			"KS-RBAC-018 LOW ClusterRoleBinding nobody: ServiceAccount web",
			"KS-RBAC-018 LOW RoleBinding app/default-reads: ServiceAccount app/ghost",
			"KS-RBAC-019 LOW RoleBinding app/leftover: -",
		}},
		{"subjects.yaml", rbac.RiskOptions{IncludeSystem: true}, []string{
			"KS-RBAC-015 CRITICAL ClusterRoleBinding anonymous: User system:anonymous",
			"KS-RBAC-015 CRITICAL RoleBinding app/unauthenticated: Group system:unauthenticated",
			"KS-RBAC-003 HIGH ClusterRoleBinding controllers: Group system:serviceaccounts:kube-system",
			"KS-RBAC-003 HIGH ClusterRoleBinding controllers: ServiceAccount kube-system/operator",
			"KS-RBAC-003 HIGH ClusterRoleBinding controllers: User system:kube-controller-manager",
			"KS-RBAC-016 HIGH ClusterRoleBinding everyone: Group system:authenticated",
			"KS-RBAC-016 HIGH ClusterRoleBinding everyone: Group system:serviceaccounts",
			// Labelled as bootstrap, but not bound to its own role.
			"KS-RBAC-016 HIGH ClusterRoleBinding system:basic-user: Group system:authenticated",
			"KS-RBAC-003 MEDIUM RoleBinding other/secrets: User olga",
			"KS-RBAC-017 MEDIUM RoleBinding app/default-reads: ServiceAccount app/default",
			"KS-RBAC-018 LOW ClusterRoleBinding nobody: ServiceAccount web",
			"KS-RBAC-018 LOW RoleBinding app/default-reads: ServiceAccount app/ghost",
			"KS-RBAC-019 LOW RoleBinding app/leftover: -",
			"KS-RBAC-019 LOW RoleBinding kube-system/gone-controller: -",
		}},
		{"subjects.yaml", rbac.RiskOptions{Namespace: "other"}, []string{
			"KS-RBAC-015 CRITICAL ClusterRoleBinding anonymous: User system:anonymous",
			"KS-RBAC-016 HIGH ClusterRoleBinding everyone: Group system:authenticated",
			"KS-RBAC-016 HIGH ClusterRoleBinding everyone: Group system:serviceaccounts",
			"KS-RBAC-003 MEDIUM RoleBinding other/secrets: User olga",
			"KS-RBAC-018 LOW ClusterRoleBinding nobody: ServiceAccount web",
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s%+v", tt.file, tt.opts), func(t *testing.T) {
			snap := riskLoad(t, "testdata/risks/"+tt.file)
			got := rbac.Risks(rbac.New(snap), snap, tt.opts)
			if diff := cmp.Diff(tt.want, riskKeys(got)); diff != "" {
				t.Errorf("Risks(%s, %+v) mismatch (-want +got):\n%s", tt.file, tt.opts, diff)
			}
			rules := map[string]finding.Rule{}
			for _, r := range rbac.RiskRules() {
				rules[r.ID] = r
			}
			for _, f := range got {
				r, ok := rules[f.RuleID]
				if !ok {
					t.Errorf("finding of unknown rule %s", f.RuleID)
					continue
				}
				if f.Title != r.Title || f.Remediation != r.Remediation || len(f.References) == 0 {
					t.Errorf("finding %s lacks its rule's text or references: %+v", f.RuleID, f)
				}
				if f.Severity != r.Severity && (f.Resource.Kind != "RoleBinding" || f.Severity != r.Severity-1) {
					t.Errorf("finding %s about %s has severity %s; rule's is %s", f.RuleID, f.Resource.Kind, f.Severity, r.Severity)
				}
				if !strings.Contains(f.Evidence, "(testdata/risks/"+tt.file+":") {
					t.Errorf("evidence of %s lacks the source: %s", f.RuleID, f.Evidence)
				}
			}
		})
	}
}

// TestRisksEvidence checks the evidence of a few findings exactly.
func TestRisksEvidence(t *testing.T) {
	tests := []struct {
		file, key, want string
	}{
		{"workloads.yaml", "KS-RBAC-005 MEDIUM RoleBinding app/grace-debugs: User grace",
			`User grace, RoleBinding app/grace-debugs (testdata/risks/workloads.yaml:94), Role app/debugger (testdata/risks/workloads.yaml:87): may patch pods/ephemeralcontainers named api-0,web-0 in namespace app; rule {APIGroups:[""], Resources:["pods/ephemeralcontainers"], ResourceNames:["web-0" "api-0"], Verbs:["patch"]}`},
		{"secrets.yaml", "KS-RBAC-003 HIGH ClusterRoleBinding ops: Group ops",
			`Group ops, ClusterRoleBinding ops (testdata/risks/secrets.yaml:69), ClusterRole ops (testdata/risks/secrets.yaml:53): may watch secrets cluster-wide; rule {APIGroups:[""], Resources:["secrets"], Verbs:["watch"]} (aggregated from ClusterRole ops-secrets)`},
		{"escalation.yaml", "KS-RBAC-009 CRITICAL ClusterRoleBinding erin-impersonates: User erin",
			`User erin, ClusterRoleBinding erin-impersonates (testdata/risks/escalation.yaml:62), ClusterRole impersonator (testdata/risks/escalation.yaml:56): may impersonate users, groups cluster-wide; rule {APIGroups:[""], Resources:["users" "groups"], Verbs:["impersonate"]}`},
		{"cluster-scoped.yaml", "KS-RBAC-011 HIGH ClusterRoleBinding dave-approves: User dave",
			`User dave, ClusterRoleBinding dave-approves (testdata/risks/cluster-scoped.yaml:44), ClusterRole csr-approver (testdata/risks/cluster-scoped.yaml:37): may update certificatesigningrequests/approval.certificates.k8s.io; approve signers.certificates.k8s.io named kubernetes.io/kube-apiserver-client cluster-wide; rules {APIGroups:["certificates.k8s.io"], Resources:["certificatesigningrequests/approval"], Verbs:["update"]}, {APIGroups:["certificates.k8s.io"], Resources:["signers"], ResourceNames:["kubernetes.io/kube-apiserver-client"], Verbs:["approve"]}`},
		{"subjects.yaml", "KS-RBAC-019 LOW RoleBinding app/leftover: -",
			`RoleBinding app/leftover (testdata/risks/subjects.yaml:95) refers to Role app/deleted: Role not found; subjects User contractor`},
	}
	for _, tt := range tests {
		snap := riskLoad(t, "testdata/risks/"+tt.file)
		got := rbac.Risks(rbac.New(snap), snap, rbac.RiskOptions{})
		i := slices.Index(riskKeys(got), tt.key)
		if i < 0 {
			t.Errorf("Risks(%s) has no %q", tt.file, tt.key)
			continue
		}
		if got[i].Evidence != tt.want {
			t.Errorf("Risks(%s) %q evidence:\n got %s\nwant %s", tt.file, tt.key, got[i].Evidence, tt.want)
		}
	}
}

// TestRisksExample checks the findings of the example cluster.
func TestRisksExample(t *testing.T) {
	snap := riskLoad(t, "../../examples/rbac")
	got := rbac.Risks(rbac.New(snap), snap, rbac.RiskOptions{})
	want := []string{
		"KS-RBAC-001 CRITICAL ClusterRoleBinding bob-admin: User bob",
		"KS-RBAC-015 CRITICAL ClusterRoleBinding everyone-lists-namespaces: Group system:unauthenticated",
		"KS-RBAC-003 HIGH ClusterRoleBinding monitoring: User prometheus",
		"KS-RBAC-008 HIGH ClusterRoleBinding payments-rbac-manager: ServiceAccount payments/rbac-manager",
		"KS-RBAC-003 MEDIUM RoleBinding payments/default-secrets: ServiceAccount payments/default",
		"KS-RBAC-004 MEDIUM RoleBinding payments/ci-deployer: ServiceAccount ci/deployer",
		"KS-RBAC-004 MEDIUM RoleBinding shop/shop-lead: User jane",
		"KS-RBAC-005 MEDIUM RoleBinding shop/shop-lead: User jane",
		"KS-RBAC-017 MEDIUM RoleBinding payments/default-secrets: ServiceAccount payments/default",
		"KS-RBAC-019 LOW RoleBinding shop/old-debugger: -",
	}
	if diff := cmp.Diff(want, riskKeys(got)); diff != "" {
		t.Errorf("Risks(examples/rbac) mismatch (-want +got):\n%s", diff)
	}
	// The same findings whatever the order of the objects.
	rev := riskLoad(t, "../../examples/rbac")
	slices.Reverse(rev.ClusterRoles)
	slices.Reverse(rev.ClusterRoleBindings)
	slices.Reverse(rev.RoleBindings)
	if diff := cmp.Diff(got, rbac.Risks(rbac.New(rev), rev, rbac.RiskOptions{})); diff != "" {
		t.Errorf("Risks depends on the order of the objects (-first +reversed):\n%s", diff)
	}
	// Only the shop namespace's RoleBindings, and every ClusterRoleBinding.
	var shop []string
	for _, k := range want {
		if !strings.Contains(k, " RoleBinding ") || strings.Contains(k, " shop/") {
			shop = append(shop, k)
		}
	}
	if diff := cmp.Diff(shop, riskKeys(rbac.Risks(rbac.New(snap), snap, rbac.RiskOptions{Namespace: "shop"}))); diff != "" {
		t.Errorf("Risks(examples/rbac, Namespace shop) mismatch (-want +got):\n%s", diff)
	}
}

// TestRiskRules checks that the rules are in ID order with all their text.
func TestRiskRules(t *testing.T) {
	rules := rbac.RiskRules()
	for i, r := range rules {
		if want := fmt.Sprintf("KS-RBAC-%03d", i+1); r.ID != want {
			t.Errorf("RiskRules()[%d].ID = %s; want %s", i, r.ID, want)
		}
		if r.Severity == finding.Unknown || r.Title == "" || r.Description == "" || r.Remediation == "" {
			t.Errorf("rule %s lacks text or severity: %+v", r.ID, r)
		}
	}
}
