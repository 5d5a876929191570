package rbac_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeshield/kubeshield/internal/rbac"
)

func TestRuleAllows(t *testing.T) {
	pods := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	tests := []struct {
		name string
		rule rbacv1.PolicyRule
		req  rbac.Request
		want bool
	}{
		{"exact", pods, rbac.Request{Verb: "get", Resource: "pods"}, true},
		{"verb", pods, rbac.Request{Verb: "list", Resource: "pods"}, false},
		{"request verb star is literal", pods, rbac.Request{Verb: "*", Resource: "pods"}, false},
		{"group", pods, rbac.Request{Verb: "get", APIGroup: "apps", Resource: "pods"}, false},
		{"subresource", pods, rbac.Request{Verb: "get", Resource: "pods", Subresource: "log"}, false},
		{"empty rule", rbacv1.PolicyRule{}, rbac.Request{Verb: "get", Resource: "pods"}, false},
		{"star verb", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{""}, Resources: []string{"pods"}}, rbac.Request{Verb: "anything", Resource: "pods"}, true},
		{"star group", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{"*"}, Resources: []string{"pods"}}, rbac.Request{Verb: "get", APIGroup: "x.io", Resource: "pods"}, true},
		{"star resource", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"*"}}, rbac.Request{Verb: "get", Resource: "pods", Subresource: "exec"}, true},
		{"star-slash", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"*/status"}}, rbac.Request{Verb: "get", Resource: "pods", Subresource: "status"}, true},
		{"star-slash without subresource", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"*/status"}}, rbac.Request{Verb: "get", Resource: "status"}, false},
		{"star-slash longer subresource", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"*/status"}}, rbac.Request{Verb: "get", Resource: "pods", Subresource: "xstatus"}, false},
		{"resource/star is literal", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods/*"}}, rbac.Request{Verb: "get", Resource: "pods", Subresource: "log"}, false},
		{"name listed", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"a"}}, rbac.Request{Verb: "get", Resource: "pods", Name: "a"}, true},
		{"name not listed", rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"a"}}, rbac.Request{Verb: "get", Resource: "pods", Name: "b"}, false},
		{"names never match no name", rbacv1.PolicyRule{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"a"}}, rbac.Request{Verb: "list", Resource: "pods"}, false},
		{"url exact", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}, rbac.Request{Verb: "get", NonResource: true, Path: "/healthz"}, true},
		{"url prefix", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/api/*"}}, rbac.Request{Verb: "get", NonResource: true, Path: "/api/v1"}, true},
		{"url prefix needs its slash", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/api/*"}}, rbac.Request{Verb: "get", NonResource: true, Path: "/api"}, false},
		{"url double star", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/api**"}}, rbac.Request{Verb: "get", NonResource: true, Path: "/apis"}, true},
		{"url star in the middle is literal", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/a*/b"}}, rbac.Request{Verb: "get", NonResource: true, Path: "/ax/b"}, false},
		{"url all", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"*"}}, rbac.Request{Verb: "get", NonResource: true, Path: "/anything"}, true},
		{"url rule for a resource request", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"*"}}, rbac.Request{Verb: "get", Resource: "pods"}, false},
		{"resource rule for a url", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}, rbac.Request{Verb: "get", NonResource: true, Path: "/healthz"}, false},
	}
	for _, tt := range tests {
		if got := rbac.RuleAllows(&tt.rule, tt.req); got != tt.want {
			t.Errorf("%s: RuleAllows(%v, %s) = %v; want %v", tt.name, tt.rule, tt.req, got, tt.want)
		}
	}
}
