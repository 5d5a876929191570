package rbac_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

// load reads a multi-document YAML file of RBAC objects from testdata.
func load(t *testing.T, name string) *cluster.Snapshot {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	snap := &cluster.Snapshot{}
	for i, doc := range strings.Split(string(data), "\n---") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s document %d: %v", name, i, err)
		}
		var obj any
		switch tm.Kind {
		case "Role":
			snap.Roles = append(snap.Roles, rbacv1.Role{})
			obj = &snap.Roles[len(snap.Roles)-1]
		case "ClusterRole":
			snap.ClusterRoles = append(snap.ClusterRoles, rbacv1.ClusterRole{})
			obj = &snap.ClusterRoles[len(snap.ClusterRoles)-1]
		case "RoleBinding":
			snap.RoleBindings = append(snap.RoleBindings, rbacv1.RoleBinding{})
			obj = &snap.RoleBindings[len(snap.RoleBindings)-1]
		case "ClusterRoleBinding":
			snap.ClusterRoleBindings = append(snap.ClusterRoleBindings, rbacv1.ClusterRoleBinding{})
			obj = &snap.ClusterRoleBindings[len(snap.ClusterRoleBindings)-1]
		default:
			t.Fatalf("%s document %d: unexpected kind %q", name, i, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s document %d: %v", name, i, err)
		}
	}
	return snap
}

// res builds a resource request.
func res(user string, groups []string, verb, group, resource, sub, name, ns string) rbac.Request {
	return rbac.Request{User: user, Groups: groups, Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Name: name, Namespace: ns}
}

// url builds a non-resource request.
func url(user string, groups []string, verb, path string) rbac.Request {
	return rbac.Request{User: user, Groups: groups, Verb: verb, NonResource: true, Path: path}
}

func TestAllowed(t *testing.T) {
	a := rbac.New(load(t, "universe.yaml"))
	sa := rbac.ServiceAccountUser
	tests := []struct {
		name    string
		req     rbac.Request
		allowed bool
		binding string // Grant.Binding.Name when allowed
		from    string // Grant.AggregatedFrom
	}{
		// ClusterRoleBindings apply everywhere.
		{"cluster binding in a namespace", res("alice", nil, "get", "", "pods", "", "web", "team-a"), true, "alice-pod-reader", ""},
		{"cluster binding cluster-wide", res("alice", nil, "list", "", "pods", "", "", ""), true, "alice-pod-reader", ""},
		{"verb not in rule", res("alice", nil, "delete", "", "pods", "", "web", "team-a"), false, "", ""},
		{"other user", res("mallory", nil, "get", "", "pods", "", "web", "team-a"), false, "", ""},
		{"other group", res("", []string{"alice"}, "get", "", "pods", "", "", ""), false, "", ""},
		{"wrong API group", res("alice", nil, "get", "apps", "pods", "", "", ""), false, "", ""},

		// Subresources.
		{"resource/subresource rule", res("alice", nil, "get", "", "pods", "log", "web", "team-b"), true, "alice-pod-reader", ""},
		{"resource rule does not cover subresource", res("alice", nil, "get", "", "pods", "status", "web", "team-b"), false, "", ""},
		{"subresource rule does not cover resource", res("", []string{sa("team-b", "builder")}, "create", "", "pods", "", "", "team-b"), false, "", ""},
		{"star-slash-subresource", res("bob", nil, "patch", "apps", "deployments", "scale", "web", "team-b"), true, "bob-scaler", ""},
		{"star-slash-subresource other resource", res("bob", nil, "update", "apps", "statefulsets", "scale", "db", "team-b"), true, "bob-scaler", ""},
		{"star-slash-subresource needs the subresource", res("bob", nil, "update", "apps", "deployments", "", "web", "team-b"), false, "", ""},
		{"star-slash-subresource other subresource", res("bob", nil, "update", "apps", "deployments", "status", "web", "team-b"), false, "", ""},

		// Wildcards.
		{"star verbs and resources", res(sa("team-a", "robot"), nil, "deletecollection", "batch", "cronjobs", "", "", "team-b"), true, "robot-batch", ""},
		{"star resources cover subresources", res(sa("team-a", "robot"), nil, "update", "batch", "jobs", "status", "j", "team-b"), true, "robot-batch", ""},
		{"star resources keep the group", res(sa("team-a", "robot"), nil, "get", "apps", "jobs", "", "", ""), false, "", ""},
		{"star API groups", res("dave", nil, "get", "example.com", "widgets", "", "w", "team-a"), true, "widgets", ""},
		{"star API groups core", res("dave", nil, "get", "", "widgets", "", "w", "team-a"), true, "widgets", ""},

		// resourceNames.
		{"resourceNames allow the name", res("", []string{"system:serviceaccounts:team-b"}, "get", "", "configmaps", "", "app-config", "team-b"), true, "all-sas-config", ""},
		{"resourceNames deny other names", res("", []string{"system:serviceaccounts:team-b"}, "get", "", "configmaps", "", "other", "team-b"), false, "", ""},
		{"resourceNames never allow list", res("", []string{"system:serviceaccounts:team-b"}, "list", "", "configmaps", "", "", "team-b"), false, "", ""},
		{"resourceNames never allow create", res("", []string{"system:serviceaccounts:team-b"}, "create", "", "configmaps", "", "", "team-b"), false, "", ""},

		// RoleBindings apply in their namespace only.
		{"role binding to role", res("bob", nil, "create", "apps", "deployments", "", "", "team-a"), true, "bob-deployer", ""},
		{"role binding elsewhere", res("bob", nil, "create", "apps", "deployments", "", "", "team-b"), false, "", ""},
		{"role binding cluster-wide", res("bob", nil, "create", "apps", "deployments", "", "", ""), false, "", ""},
		{"role of same name in another namespace", res("bob", nil, "delete", "apps", "deployments", "", "web", "team-a"), false, "", ""},
		{"role binding to cluster role elsewhere", res("bob", nil, "patch", "apps", "deployments", "scale", "web", "team-a"), false, "", ""},

		// Non-resource URLs.
		{"url exact", url("", []string{"ops"}, "get", "/healthz"), true, "ops-health", ""},
		{"url exact is not a prefix", url("", []string{"ops"}, "get", "/healthz/etcd"), false, "", ""},
		{"url star prefix", url("", []string{"ops"}, "get", "/logs/kube.log"), true, "ops-health", ""},
		{"url star prefix with slash", url("", []string{"ops"}, "get", "/logs/"), true, "ops-health", ""},
		{"url star prefix needs the slash", url("", []string{"ops"}, "get", "/logs"), false, "", ""},
		{"url star without slash", url("", []string{"ops"}, "get", "/debugging/pprof"), true, "ops-health", ""},
		{"url verb", url("", []string{"ops"}, "post", "/healthz"), false, "", ""},
		{"url through role binding never", url("carol", nil, "get", "/healthz"), false, "", ""},
		{"url namespace ignored", rbac.Request{User: "carol", Verb: "get", NonResource: true, Path: "/healthz", Namespace: "team-a"}, false, "", ""},
		{"url rules do not allow resources", res("", []string{"ops"}, "get", "", "healthz", "", "", ""), false, "", ""},
		{"resource rules do not allow urls", url("alice", nil, "get", "/api/v1/pods"), false, "", ""},

		// Subjects.
		{"service account subject", res(sa("team-a", "robot"), nil, "get", "batch", "jobs", "", "", ""), true, "robot-batch", ""},
		{"service account of another namespace", res(sa("team-b", "robot"), nil, "get", "batch", "jobs", "", "", ""), false, "", ""},
		{"service account without namespace in cluster binding", res(sa("", "no-namespace"), nil, "get", "batch", "jobs", "", "", ""), false, "", ""},
		{"service account namespace defaults to binding's", res(sa("team-b", "builder"), nil, "create", "", "pods", "exec", "p", "team-b"), true, "local-sa-exec", ""},
		{"defaulted service account of another namespace", res(sa("team-a", "builder"), nil, "create", "", "pods", "exec", "p", "team-b"), false, "", ""},
		{"service account of another namespace in role binding", res(sa("team-a", "robot"), nil, "create", "", "pods", "exec", "p", "team-b"), true, "local-sa-exec", ""},
		{"no implied service account groups", res(sa("team-b", "builder"), nil, "get", "", "configmaps", "", "app-config", "team-b"), false, "", ""},
		{"service account groups when given", res(sa("team-b", "builder"), rbac.ServiceAccountGroups("team-b"), "get", "", "configmaps", "", "app-config", "team-b"), true, "all-sas-config", ""},
		{"user subject with a service account name", res(sa("team-a", "impostor"), nil, "update", "", "configmaps", "", "feature-flags", "team-b"), true, "all-sas-config", ""},
		{"subject kinds are case-sensitive", res("alice", nil, "delete", "", "secrets", "", "", ""), false, "", ""},
		{"system:masters through its binding", res("root", []string{"system:masters"}, "escalate", "rbac.authorization.k8s.io", "clusterroles", "", "", ""), true, "masters", ""},

		// Broken bindings grant nothing.
		{"missing cluster role", res("bob", nil, "get", "", "pods", "", "", ""), false, "", ""},
		{"missing role", res("dave", nil, "get", "", "pods", "", "", "team-b"), false, "", ""},

		// Aggregation.
		{"aggregated by label", res("", []string{"monitors"}, "list", "", "endpoints", "", "", "team-a"), true, "monitors", "monitoring-services"},
		{"aggregated by expression", url("", []string{"monitors"}, "get", "/metrics"), true, "monitors", "monitoring-metrics"},
		{"aggregated role's own rule replaced", res("", []string{"monitors"}, "get", "", "secrets", "", "s", "team-a"), false, "", ""},
		{"empty aggregation keeps own rules", res("agg", nil, "get", "", "events", "", "", ""), true, "aggregated-others", ""},
		{"aggregation skips the role itself", res("agg", nil, "get", "", "nodes", "", "n", ""), false, "", ""},
		{"aggregation from another", res("agg", nil, "get", "", "persistentvolumes", "", "", ""), true, "aggregated-self", "self-source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := a.Allowed(tt.req)
			if d.Allowed != tt.allowed {
				t.Fatalf("Allowed(%s) = %v (%s); want %v", tt.req, d.Allowed, d.Reason(), tt.allowed)
			}
			if d.Allowed && (d.Grant.Binding.Name != tt.binding || d.Grant.AggregatedFrom != tt.from) {
				t.Errorf("Allowed(%s) granted by %s; want binding %q, aggregated from %q", tt.req, d.Grant, tt.binding, tt.from)
			}
			if d.Allowed && !rbac.RuleAllows(&d.Grant.Rule, tt.req) {
				t.Errorf("Allowed(%s): granting rule %v does not allow it", tt.req, d.Grant.Rule)
			}
		})
	}
}

func TestDecisionBroken(t *testing.T) {
	a := rbac.New(load(t, "universe.yaml"))
	d := a.Allowed(res("bob", nil, "get", "", "pods", "", "", "team-a"))
	want := []rbac.BrokenBinding{
		{Binding: rbac.Ref{Kind: "ClusterRoleBinding", Name: "dangling"}, RoleRef: rbac.Ref{Kind: "ClusterRole", Name: "does-not-exist"}, Reason: "ClusterRole not found"},
		{Binding: rbac.Ref{Kind: "ClusterRoleBinding", Name: "role-from-cluster-binding"}, RoleRef: rbac.Ref{Kind: "Role", Name: "deployer"}, Reason: "a ClusterRoleBinding cannot refer to a Role"},
	}
	if d.Allowed {
		t.Fatalf("Allowed = true (%s); want false", d.Reason())
	}
	if diff := cmp.Diff(want, d.Broken); diff != "" {
		t.Errorf("Decision.Broken mismatch (-want +got):\n%s", diff)
	}
	want = append(want, rbac.BrokenBinding{
		Binding: rbac.Ref{Kind: "RoleBinding", Namespace: "team-b", Name: "missing-role"},
		RoleRef: rbac.Ref{Kind: "Role", Namespace: "team-b", Name: "nope"},
		Reason:  "Role not found",
	})
	if diff := cmp.Diff(want, a.Broken()); diff != "" {
		t.Errorf("Broken() mismatch (-want +got):\n%s", diff)
	}
}

func TestGrantString(t *testing.T) {
	a := rbac.New(load(t, "universe.yaml"))
	tests := []struct {
		req  rbac.Request
		want string
	}{
		{
			res(rbac.ServiceAccountUser("team-b", "builder"), nil, "create", "", "pods", "exec", "p", "team-b"),
			`RBAC: allowed by RoleBinding "team-b/local-sa-exec" of ClusterRole "exec" to ServiceAccount "builder/team-b", rule {APIGroups:[""], Resources:["pods/exec"], Verbs:["create"]}`,
		},
		{
			url("", []string{"monitors"}, "get", "/metrics"),
			`RBAC: allowed by ClusterRoleBinding "monitors" of ClusterRole "chain" to Group "monitors", rule {NonResourceURLs:["/metrics"], Verbs:["get"]} (aggregated from ClusterRole "monitoring-metrics")`,
		},
		{
			res("nobody", nil, "get", "", "pods", "", "", ""),
			`RBAC: no rule allows the request`,
		},
	}
	for _, tt := range tests {
		if got := a.Allowed(tt.req).Reason(); got != tt.want {
			t.Errorf("Allowed(%s).Reason() = %s; want %s", tt.req, got, tt.want)
		}
	}
}

func TestRules(t *testing.T) {
	a := rbac.New(load(t, "universe.yaml"))
	tests := []struct {
		name        string
		user        string
		groups      []string
		namespace   string
		resource    []authorizationv1.ResourceRule
		nonResource []authorizationv1.NonResourceRule
	}{
		{
			name: "cluster and namespace bindings", user: "bob", namespace: "team-b",
			resource: []authorizationv1.ResourceRule{{Verbs: []string{"update", "patch"}, APIGroups: []string{"apps"}, Resources: []string{"*/scale"}}},
		},
		{
			name: "cluster-wide only", user: "bob", namespace: "",
		},
		{
			name: "non-resource rules", user: "alice", groups: []string{"ops"}, namespace: "team-a",
			resource:    []authorizationv1.ResourceRule{{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}}},
			nonResource: []authorizationv1.NonResourceRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/logs/*", "/debug*"}}},
		},
		{
			name: "role binding to url role lists it", user: "carol", namespace: "team-a",
			nonResource: []authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
		},
		{
			name: "aggregated", groups: []string{"monitors"},
			resource:    []authorizationv1.ResourceRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"services", "endpoints"}}},
			nonResource: []authorizationv1.NonResourceRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := a.Rules(tt.user, tt.groups, tt.namespace)
			if diff := cmp.Diff(tt.resource, rs.Resource); diff != "" {
				t.Errorf("Rules(%q, %q, %q).Resource mismatch (-want +got):\n%s", tt.user, tt.groups, tt.namespace, diff)
			}
			if diff := cmp.Diff(tt.nonResource, rs.NonResource); diff != "" {
				t.Errorf("Rules(%q, %q, %q).NonResource mismatch (-want +got):\n%s", tt.user, tt.groups, tt.namespace, diff)
			}
		})
	}
}

func TestWhoCan(t *testing.T) {
	a := rbac.New(load(t, "universe.yaml"))
	type who struct{ Kind, Namespace, Name, Binding string }
	tests := []struct {
		name string
		req  rbac.Request
		want []who
	}{
		{
			name: "exec in team-b",
			req:  res("", nil, "create", "", "pods", "exec", "p", "team-b"),
			want: []who{
				{"Group", "", "system:masters", "masters"},
				{"ServiceAccount", "team-b", "builder", "local-sa-exec"},
				{"ServiceAccount", "team-a", "robot", "local-sa-exec"},
			},
		},
		{
			name: "named config map",
			req:  res("", nil, "get", "", "configmaps", "", "app-config", "team-b"),
			want: []who{
				{"Group", "", "system:masters", "masters"},
				{"Group", "", "system:serviceaccounts:team-b", "all-sas-config"},
				{"User", "", "system:serviceaccount:team-a:impostor", "all-sas-config"},
			},
		},
		{
			name: "batch jobs leaves out the service account without namespace",
			req:  res("", nil, "get", "batch", "jobs", "", "", ""),
			want: []who{
				{"Group", "", "system:masters", "masters"},
				{"ServiceAccount", "team-a", "robot", "robot-batch"},
			},
		},
		{
			name: "url",
			req:  url("", nil, "get", "/metrics"),
			want: []who{
				{"Group", "", "system:masters", "masters"},
				{"Group", "", "monitors", "monitors"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []who
			for _, g := range a.WhoCan(tt.req) {
				got = append(got, who{g.Subject.Kind, g.Subject.Namespace, g.Subject.Name, g.Binding.Name})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("WhoCan(%s) mismatch (-want +got):\n%s", tt.req, diff)
			}
		})
	}
}

func TestNilSnapshot(t *testing.T) {
	a := rbac.New(nil)
	if d := a.Allowed(res("alice", []string{"system:masters"}, "get", "", "pods", "", "", "")); d.Allowed {
		t.Errorf("Allowed on an empty snapshot = true; want false")
	}
	if got := a.WhoCan(url("", nil, "get", "/healthz")); len(got) != 0 {
		t.Errorf("WhoCan on an empty snapshot = %v; want none", got)
	}
}
