package rbac

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
)

// pathGraph is the escalation graph of one snapshot, its nodes' onward
// steps worked out on demand and remembered.
type pathGraph struct {
	a             *Authorizer
	clusterRoles  map[string]*role    // aggregated, by name
	roles         map[string]*role    // by namespace/name
	rolesIn       map[string][]string // namespace -> Role names
	namespaces    []string            // every namespace seen, sorted
	bound         []string            // namespaces with RoleBindings, sorted
	sas           map[string][]string // namespace -> service account names
	running       map[string][]string // namespace -> service accounts pods run as
	pods          map[string][]corev1.Pod
	workloadsSeen bool
	users         []string
	groups        []string
	maxNodes      int
	maxSteps      int

	memo      map[string][]Step
	stepCount int
	meetsMemo map[string]pathMeets
	truncated bool

	// The explored graph: nodes in the order found, their index by ID,
	// and for each the indexes of the nodes its steps lead to.
	nodes []Node
	ids   map[string]int
	edges [][]int
}

// pathNewGraph indexes what the techniques look at.
func pathNewGraph(a *Authorizer, snap *cluster.Snapshot, opts PathOptions) *pathGraph {
	g := &pathGraph{
		a:            a,
		clusterRoles: aggregate(snap.ClusterRoles),
		roles:        map[string]*role{},
		rolesIn:      map[string][]string{},
		sas:          map[string][]string{},
		running:      map[string][]string{},
		pods:         map[string][]corev1.Pod{},
		maxNodes:     pathDefault(opts.MaxNodes, DefaultMaxPathNodes),
		memo:         map[string][]Step{},
		meetsMemo:    map[string]pathMeets{},
		ids:          map[string]int{},
	}
	g.maxSteps = pathStepsPerNode * g.maxNodes
	if a == nil {
		g.a = New(snap)
	}
	namespaces := map[string]bool{}
	sas := map[string]map[string]bool{}
	addSA := func(ns, name string) {
		if ns == "" || name == "" {
			return
		}
		namespaces[ns] = true
		if sas[ns] == nil {
			sas[ns] = map[string]bool{}
		}
		sas[ns][name] = true
	}
	running := map[string]map[string]bool{}
	addRunning := func(ns string, spec *corev1.PodSpec) {
		name := spec.ServiceAccountName
		if name == "" {
			name = spec.DeprecatedServiceAccount
		}
		if name == "" {
			name = "default"
		}
		addSA(ns, name)
		if running[ns] == nil {
			running[ns] = map[string]bool{}
		}
		running[ns][name] = true
	}

	for _, n := range snap.Namespaces {
		namespaces[n.Name] = true
	}
	for _, sa := range snap.ServiceAccounts {
		addSA(sa.Namespace, sa.Name)
	}
	for _, r := range snap.Roles {
		namespaces[r.Namespace] = true
		g.roles[r.Namespace+"/"+r.Name] = &role{ref: Ref{Kind: "Role", Namespace: r.Namespace, Name: r.Name}, rules: plainRules(r.Rules)}
		g.rolesIn[r.Namespace] = append(g.rolesIn[r.Namespace], r.Name)
	}
	for _, b := range snap.RoleBindings {
		namespaces[b.Namespace] = true
		for _, s := range defaultSubjects(b.Subjects, b.Namespace) {
			if s.Kind == rbacv1.ServiceAccountKind {
				addSA(s.Namespace, s.Name)
			}
		}
	}
	users, groups := map[string]bool{}, map[string]bool{"system:masters": true}
	for _, b := range snap.ClusterRoleBindings {
		for _, s := range b.Subjects {
			switch s.Kind {
			case rbacv1.ServiceAccountKind:
				addSA(s.Namespace, s.Name)
			case rbacv1.UserKind:
				users[s.Name] = true
			case rbacv1.GroupKind:
				groups[s.Name] = true
			}
		}
	}
	for _, b := range snap.RoleBindings {
		for _, s := range b.Subjects {
			switch s.Kind {
			case rbacv1.UserKind:
				users[s.Name] = true
			case rbacv1.GroupKind:
				groups[s.Name] = true
			}
		}
	}
	for _, p := range snap.Pods {
		addRunning(p.Namespace, &p.Spec)
		g.pods[p.Namespace] = append(g.pods[p.Namespace], p)
	}
	for _, w := range snap.Deployments {
		addRunning(w.Namespace, &w.Spec.Template.Spec)
	}
	for _, w := range snap.DaemonSets {
		addRunning(w.Namespace, &w.Spec.Template.Spec)
	}
	for _, w := range snap.StatefulSets {
		addRunning(w.Namespace, &w.Spec.Template.Spec)
	}
	for _, w := range snap.ReplicaSets {
		addRunning(w.Namespace, &w.Spec.Template.Spec)
	}
	for _, w := range snap.Jobs {
		addRunning(w.Namespace, &w.Spec.Template.Spec)
	}
	for _, w := range snap.CronJobs {
		addRunning(w.Namespace, &w.Spec.JobTemplate.Spec.Template.Spec)
	}
	for _, w := range snap.ReplicationControllers {
		if w.Spec.Template != nil {
			addRunning(w.Namespace, &w.Spec.Template.Spec)
		}
	}
	g.workloadsSeen = len(running) > 0
	delete(namespaces, "")
	for ns := range namespaces {
		addSA(ns, "default")
	}
	g.namespaces = slices.Sorted(maps.Keys(namespaces))
	for ns, m := range sas {
		g.sas[ns] = slices.Sorted(maps.Keys(m))
	}
	for ns, m := range running {
		g.running[ns] = slices.Sorted(maps.Keys(m))
	}
	for ns := range g.rolesIn {
		slices.Sort(g.rolesIn[ns])
		g.rolesIn[ns] = slices.Compact(g.rolesIn[ns])
	}
	for ns := range g.pods {
		slices.SortFunc(g.pods[ns], func(x, y corev1.Pod) int { return strings.Compare(x.Name, y.Name) })
	}
	g.bound = slices.Sorted(maps.Keys(g.a.namespaces))
	g.users = slices.Sorted(maps.Keys(users))
	g.groups = slices.Sorted(maps.Keys(groups))
	return g
}

// can decides r for node n, the way Allowed does for an identity, and
// says which grant allows it.
func (g *pathGraph) can(n Node, r Request) (Grant, bool) {
	switch n.Kind {
	case IdentityNode:
		r.User, r.Groups = n.Identity.User, n.Identity.Groups
		d := g.a.Allowed(r)
		return d.Grant, d.Allowed
	case ClusterAdminNode:
		return Grant{}, true
	case RolesNode:
		if n.Namespace != "" && r.Namespace != n.Namespace {
			return Grant{}, false
		}
		kind := "ClusterRoleBinding"
		if n.Namespace != "" {
			kind = "RoleBinding"
		}
		bound := Ref{Kind: kind, Namespace: n.Namespace}
		if n.All {
			all := rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}
			return Grant{Binding: bound, Role: n.Roles[0], Rule: all}, true
		}
		for _, ref := range n.Roles {
			ro := g.role(ref)
			if ro == nil {
				continue
			}
			for _, sr := range ro.rules {
				if RuleAllows(&sr.rule, r) {
					return Grant{Binding: bound, Role: ref, Rule: sr.rule, AggregatedFrom: sr.from}, true
				}
			}
		}
	}
	return Grant{}, false
}

// role returns the role ref names, with the cluster-admin ClusterRole of
// every cluster when the snapshot lacks it; nil if there is none.
func (g *pathGraph) role(ref Ref) *role {
	if ref.Kind == "Role" {
		return g.roles[ref.Namespace+"/"+ref.Name]
	}
	if ro := g.clusterRoles[ref.Name]; ro != nil {
		return ro
	}
	if ref.Name == pathClusterAdminRole {
		return &role{ref: ref, rules: plainRules([]rbacv1.PolicyRule{
			{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
			{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
		})}
	}
	return nil
}

const pathClusterAdminRole = "cluster-admin"

// canAnyIf is canAny, skipped when no rule of rules may allow one of rs.
func (g *pathGraph) canAnyIf(n Node, rules []rbacv1.PolicyRule, rs []Request) (Grant, Request, bool) {
	if !pathMayAllow(rules, rs) {
		return Grant{}, Request{}, false
	}
	return g.canAny(n, rs...)
}

// canAny returns the grant of the first of rs that n may make.
func (g *pathGraph) canAny(n Node, rs ...Request) (Grant, Request, bool) {
	for _, r := range rs {
		if gr, ok := g.can(n, r); ok {
			return gr, r, true
		}
	}
	return Grant{}, Request{}, false
}

// pathSANode is the node of service account name in namespace.
func pathSANode(namespace, name string) Node {
	return Node{Kind: IdentityNode, Identity: pathSAIdentity(namespace, name)}
}

// pathIn returns rs with namespace set.
func pathIn(namespace string, rs ...Request) []Request {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Namespace = namespace
	}
	return out
}

// The requests each technique makes, for pathMayAllow.
var (
	pathExec = []Request{
		{Verb: "create", Resource: "pods", Subresource: "exec"},
		{Verb: "get", Resource: "pods", Subresource: "exec"},
		{Verb: "create", Resource: "pods", Subresource: "attach"},
	}
	pathRoleBindings = []Request{
		{Verb: "create", APIGroup: rbacv1.GroupName, Resource: "rolebindings"},
		{Verb: "update", APIGroup: rbacv1.GroupName, Resource: "rolebindings"},
		{Verb: "patch", APIGroup: rbacv1.GroupName, Resource: "rolebindings"},
	}
	pathSAProbes = []Request{
		{Verb: "create", Resource: "serviceaccounts", Subresource: "token"},
		{Verb: "impersonate", Resource: "serviceaccounts"},
	}
	pathSecrets = []Request{
		{Verb: "list", Resource: "secrets"},
		{Verb: "get", Resource: "secrets"},
	}
	pathNamespaceProbes = slices.Concat(pathWorkloads, pathExec, pathRoleBindings, pathSAProbes, pathSecrets)
	pathClusterProbes   = []Request{
		{Verb: "impersonate", Resource: "users"},
		{Verb: "impersonate", Resource: "groups"},
		{Verb: "create", APIGroup: rbacv1.GroupName, Resource: "clusterrolebindings"},
		{Verb: "update", APIGroup: rbacv1.GroupName, Resource: "clusterrolebindings"},
		{Verb: "patch", APIGroup: rbacv1.GroupName, Resource: "clusterrolebindings"},
		{Verb: "create", APIGroup: "certificates.k8s.io", Resource: "certificatesigningrequests"},
		{Verb: "create", APIGroup: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"},
		{Verb: "update", APIGroup: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"},
		{Verb: "patch", APIGroup: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"},
		{Verb: "create", Resource: "nodes", Subresource: "proxy"},
		{Verb: "get", Resource: "nodes", Subresource: "proxy"},
	}
)

// pathMayAllow reports whether one of rules could allow one of reqs for
// some object name: a cheap test before asking for each name.
func pathMayAllow(rules []rbacv1.PolicyRule, reqs []Request) bool {
	for i := range rules {
		r := rules[i]
		r.ResourceNames = nil
		for _, q := range reqs {
			if RuleAllows(&r, q) {
				return true
			}
		}
	}
	return false
}

// rulesFor returns the rules that may apply to n's requests in namespace
// ns ("" for cluster-scoped requests).
func (g *pathGraph) rulesFor(n Node, ns string) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	switch n.Kind {
	case IdentityNode:
		for _, ap := range g.a.applicable(n.Identity.User, n.Identity.Groups, ns) {
			if ap.b.role != nil {
				for _, sr := range ap.b.role.rules {
					out = append(out, sr.rule)
				}
			}
		}
	case RolesNode:
		if n.Namespace != "" && n.Namespace != ns {
			return nil
		}
		if n.All {
			return []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
		}
		for _, ref := range n.Roles {
			if ro := g.role(ref); ro != nil {
				for _, sr := range ro.rules {
					out = append(out, sr.rule)
				}
			}
		}
	}
	return out
}

// namespacesFor returns the namespaces where n may have permissions that
// matter: all of them when a cluster-wide grant may allow a namespaced
// technique, otherwise those where a RoleBinding applies to it.
func (g *pathGraph) namespacesFor(n Node) []string {
	if n.Kind == RolesNode && n.Namespace != "" {
		return []string{n.Namespace}
	}
	if n.Kind != IdentityNode || pathMayAllow(g.rulesFor(n, ""), pathNamespaceProbes) {
		return g.namespaces
	}
	var out []string
	for _, ns := range g.namespaces {
		if s := g.a.namespaces[ns]; s != nil && len(s.candidates(n.Identity.User, n.Identity.Groups)) > 0 {
			out = append(out, ns)
		}
	}
	return out
}
