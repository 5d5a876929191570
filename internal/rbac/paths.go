package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
)

// Target is what an escalation path reaches.
type Target string

// The targets Paths looks for.
const (
	// TargetClusterAdmin is every permission everywhere: an identity
	// allowed verb "*" on resource "*" of API group "*" cluster-wide.
	TargetClusterAdmin Target = "cluster-admin"
	// TargetSecrets is reading every secret: get or list secrets
	// cluster-wide (through a ClusterRoleBinding).
	TargetSecrets Target = "secrets"
	// TargetNodes is running code on every node: get or create
	// nodes/proxy cluster-wide (the kubelet API runs commands in any pod
	// of a node), create pods in kube-system (whose Pod Security level is
	// privileged, so a privileged host pod can be scheduled on any node),
	// or the hosts pseudo-node (HostsNode).
	TargetNodes Target = "nodes"
)

// Targets returns every Target, in the order Paths reports them.
func Targets() []Target {
	return []Target{TargetClusterAdmin, TargetSecrets, TargetNodes}
}

// ParseTarget returns the Target named s; an error names the valid ones.
func ParseTarget(s string) (Target, error) {
	for _, t := range Targets() {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown target %q: want cluster-admin, secrets or nodes", s)
}

// The defaults of PathOptions' limits.
const (
	// DefaultPathDepth is the default PathOptions.MaxDepth.
	DefaultPathDepth = 6
	// DefaultMaxPaths is the default PathOptions.MaxPaths.
	DefaultMaxPaths = 1000
	// DefaultMaxPathNodes is the default PathOptions.MaxNodes.
	DefaultMaxPathNodes = 5000
)

// PathOptions choose where escalation paths start, what they reach and
// how far the search goes.
type PathOptions struct {
	// From is the one identity paths start from, with exactly its
	// groups. Nil means every subject of every RoleBinding and
	// ClusterRoleBinding except system ones (users and groups named
	// system:..., service accounts included), each with the groups the
	// API server gives it (see SubjectIdentity).
	From *Identity
	// Targets are what paths must reach; empty means
	// TargetClusterAdmin.
	Targets []Target
	// MaxDepth bounds the steps of a path; 0 means DefaultPathDepth.
	MaxDepth int
	// MaxPaths bounds the paths returned; 0 means DefaultMaxPaths.
	MaxPaths int
	// MaxNodes bounds the nodes whose onward steps are worked out over
	// the whole search; 0 means DefaultMaxPathNodes.
	MaxNodes int
}

// Identity is who makes API requests: a user name and exactly these
// groups. A group's members are the Identity with an empty User.
type Identity struct {
	User   string
	Groups []string
}

// SubjectIdentity returns the identity a binding subject stands for, with
// the groups the API server gives it: a User gets system:authenticated; a
// ServiceAccount its user name system:serviceaccount:NS:NAME and the groups
// system:serviceaccounts, system:serviceaccounts:NS and
// system:authenticated; a Group is any member, no user name and the groups
// NAME and system:authenticated.
func SubjectIdentity(s rbacv1.Subject) Identity {
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		return pathSAIdentity(s.Namespace, s.Name)
	case rbacv1.GroupKind:
		return Identity{Groups: []string{s.Name, pathAuthenticated}}
	}
	return Identity{User: s.Name, Groups: []string{pathAuthenticated}}
}

const pathAuthenticated = "system:authenticated"

// pathSAIdentity is the identity of a service account's tokens.
func pathSAIdentity(namespace, name string) Identity {
	return Identity{
		User:   ServiceAccountUser(namespace, name),
		Groups: append(ServiceAccountGroups(namespace), pathAuthenticated),
	}
}

// key identifies the identity: its user and its groups, sorted.
func (i Identity) key() string {
	g := slices.Clone(i.Groups)
	slices.Sort(g)
	return i.User + "|" + strings.Join(slices.Compact(g), ",")
}

// String names the identity the way it was most likely given:
// "serviceaccount NS/NAME", "user NAME" or "group NAME" when it has the
// groups SubjectIdentity gives, else the user and groups in full.
func (i Identity) String() string {
	if ns, name, ok := ParseServiceAccountUser(i.User); ok && i.key() == pathSAIdentity(ns, name).key() {
		return "serviceaccount " + ns + "/" + name
	}
	if i.User != "" && i.key() == SubjectIdentity(rbacv1.Subject{Kind: rbacv1.UserKind, Name: i.User}).key() {
		return "user " + i.User
	}
	if i.User == "" && len(i.Groups) == 2 && i.Groups[1] == pathAuthenticated {
		return "group " + i.Groups[0]
	}
	user := i.User
	if user == "" {
		user = "(any)"
	}
	if len(i.Groups) == 0 {
		return fmt.Sprintf("user %s without groups", user)
	}
	return fmt.Sprintf("user %s with groups %s", user, strings.Join(i.Groups, ", "))
}

// NodeKind says what a Node of an escalation path is.
type NodeKind int

// The kinds of Node.
const (
	// IdentityNode is a user, service account or group member.
	IdentityNode NodeKind = iota
	// RolesNode is the permissions of Roles, in Namespace or (when it is
	// "") cluster-wide, that the node before it can bind to itself; or,
	// with All, every permission in Namespace (a role bound to it that it
	// may rewrite).
	RolesNode
	// HostsNode is code execution on the cluster's nodes, through the
	// kubelet API or a mutating admission webhook.
	HostsNode
	// ClusterAdminNode is every permission everywhere.
	ClusterAdminNode
)

// String returns identity, roles, hosts or cluster-admin.
func (k NodeKind) String() string {
	switch k {
	case IdentityNode:
		return "identity"
	case RolesNode:
		return "roles"
	case HostsNode:
		return "hosts"
	case ClusterAdminNode:
		return "cluster-admin"
	}
	return fmt.Sprintf("NodeKind(%d)", int(k))
}

// MarshalText encodes the kind as String does, for JSON and YAML.
func (k NodeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Node is one position on an escalation path.
type Node struct {
	// Kind says which of the other fields apply.
	Kind NodeKind
	// Identity is an IdentityNode's identity.
	Identity Identity `json:",omitzero"`
	// Namespace is where a RolesNode's roles are bound, "" for
	// cluster-wide.
	Namespace string `json:",omitempty"`
	// Roles are a RolesNode's roles, sorted (with All, the one role the
	// node may rewrite).
	Roles []Ref `json:",omitempty"`
	// All marks a RolesNode that has every permission in Namespace.
	All bool `json:",omitempty"`
}

// ID identifies the node uniquely and stably: cluster-admin, nodes (the
// HostsNode), identity:USER|GROUPS or roles:NAMESPACE:ROLES.
func (n Node) ID() string {
	switch n.Kind {
	case IdentityNode:
		return "identity:" + n.Identity.key()
	case RolesNode:
		refs := make([]string, len(n.Roles))
		for i, r := range n.Roles {
			refs[i] = r.Kind + "/" + r.Namespace + "/" + r.Name
		}
		all := ""
		if n.All {
			all = "*"
		}
		return "roles" + all + ":" + n.Namespace + ":" + strings.Join(refs, ",")
	case HostsNode:
		return string(TargetNodes)
	}
	return string(TargetClusterAdmin)
}

// String describes the node in a few words.
func (n Node) String() string {
	switch n.Kind {
	case IdentityNode:
		return n.Identity.String()
	case RolesNode:
		where := "cluster-wide"
		if n.Namespace != "" {
			where = fmt.Sprintf("in namespace %s", n.Namespace)
		}
		if n.All && len(n.Roles) > 0 {
			return fmt.Sprintf("every permission %s (by rewriting %s)", where, n.Roles[0])
		}
		if len(n.Roles) <= 3 {
			s := make([]string, len(n.Roles))
			for i, r := range n.Roles {
				s[i] = r.String()
			}
			return fmt.Sprintf("%s bound %s", strings.Join(s, ", "), where)
		}
		return fmt.Sprintf("any of %d roles bound %s", len(n.Roles), where)
	case HostsNode:
		return "code execution on nodes"
	}
	return "cluster-admin"
}

// Step is one move of an escalation path.
type Step struct {
	// From and To are the nodes the step moves between.
	From, To Node
	// Technique is a stable identifier of how, such as
	// create-pod-as-sa (see Paths for the list).
	Technique string
	// Grant is the permission that allows the step. A grant of a RolesNode
	// has no subject and a Binding without a name: the binding the
	// attacker creates.
	Grant Grant
	// Also lists further permissions the technique needs.
	Also []Grant `json:",omitempty"`
	// Assumes is a condition outside RBAC the step depends on, "" when
	// RBAC alone decides it.
	Assumes string `json:",omitempty"`
	// Explanation says in one sentence how the step is done.
	Explanation string
}

// Path is one way an identity reaches a Target.
type Path struct {
	// From is the identity the path starts from.
	From Identity
	// Target is what the path reaches.
	Target Target
	// Steps are the moves, none when From already meets Target.
	Steps []Step
	// Grant is the permission by which the path's last node meets
	// Target; zero when that node is the cluster-admin or hosts node.
	Grant Grant `json:",omitzero"`
}

// Last returns the node the path ends at.
func (p Path) Last() Node {
	if len(p.Steps) == 0 {
		return Node{Kind: IdentityNode, Identity: p.From}
	}
	return p.Steps[len(p.Steps)-1].To
}

// Paths finds, for each starting identity and each target, one shortest
// escalation path (fewest steps, ties broken by a fixed order of
// techniques and names), over the RBAC of a (as built by New from snap;
// nil means New(snap)) and the service accounts, namespaces, pods and
// workloads of snap. A starting identity that already meets a target gets
// a path without steps; a path ends at the first node that meets its
// target and never visits a node twice. Paths come shortest first, then
// by starting identity (as Identity.String prints it) and target; targets
// that are not among Targets() are ignored. The second result reports
// whether MaxPaths or MaxNodes cut the search short, so that more paths
// may exist (paths are collected target by target, in the order of
// opts.Targets).
//
// Every step is justified by Allowed decisions, so wildcards, resource
// names and aggregated roles count exactly. The techniques:
//
//   - create-pod-as-sa: create pods, or create (or update, patch) a
//     workload (deployments, daemonsets, statefulsets, replicasets, jobs,
//     cronjobs, replicationcontrollers) in a namespace: a pod can run as
//     any service account of its namespace ("default" always exists).
//   - create-sa-token: create serviceaccounts/token for a service account.
//   - read-sa-token-secret: get or list secrets in a namespace: every
//     service account of it, assuming it has a legacy token secret.
//   - exec-into-pod: create or get pods/exec, or create pods/attach, in a
//     namespace: the service accounts its pods (and workloads' pod
//     templates) run as; every service account of the namespace when the
//     snapshot holds no pods nor workloads at all.
//   - impersonate-user, impersonate-serviceaccount, impersonate-group:
//     impersonate the users, service accounts and groups named in the
//     snapshot (a group only together with some user);
//     impersonate-system-masters reaches cluster-admin.
//   - bind-role-in-namespace: create, update or patch rolebindings in a
//     namespace and bind (the bind verb) Roles of it or ClusterRoles: a
//     RolesNode of the roles bindable there.
//   - bind-clusterrole: the same with clusterrolebindings and
//     ClusterRoles, reaching cluster-admin when a bindable role allows
//     everything (the ClusterRole cluster-admin exists in every cluster,
//     so it counts even when the snapshot lacks it).
//   - escalate-role: escalate and update (or patch) a role bound to the
//     identity: every permission where the binding applies.
//   - csr-system-masters: create certificatesigningrequests, update their
//     approval, approve for the signer kubernetes.io/kube-apiserver-client
//     and read them back: a client certificate in group system:masters.
//   - mutating-webhook: create, update or patch
//     mutatingwebhookconfigurations: rewrite every new pod (HostsNode).
//   - kubelet-api: get or create nodes/proxy: the kubelet API (HostsNode).
//   - steal-token-on-node: from HostsNode, the service accounts of the
//     pods (and pod templates) in the snapshot.
//
// Escalate alone does not allow binding a role: the API server lets a
// binding be created only with bind on its role or with every permission
// of the role already held, which gains nothing.
func Paths(a *Authorizer, snap *cluster.Snapshot, opts PathOptions) ([]Path, bool) {
	if snap == nil {
		snap = &cluster.Snapshot{}
	}
	g := pathNewGraph(a, snap, opts)
	var targets []Target
	for _, t := range opts.Targets {
		if slices.Contains(Targets(), t) && !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	if len(opts.Targets) == 0 {
		targets = []Target{TargetClusterAdmin}
	}
	maxDepth := pathDefault(opts.MaxDepth, DefaultPathDepth)
	maxPaths := pathDefault(opts.MaxPaths, DefaultMaxPaths)

	var sources []Identity
	if opts.From != nil {
		sources = []Identity{*opts.From}
	} else {
		sources = pathSources(snap)
	}

	g.explore(sources, targets, maxDepth)
	var out []Path
	truncated := false
	for _, t := range targets {
		next := g.distances(t)
		for _, src := range sources {
			p, ok := g.path(src, t, next, maxDepth)
			if !ok {
				continue
			}
			if len(out) == maxPaths {
				truncated = true
				break
			}
			out = append(out, p)
		}
	}
	order := map[Target]int{}
	for i, t := range Targets() {
		order[t] = i
	}
	slices.SortStableFunc(out, func(x, y Path) int {
		if c := len(x.Steps) - len(y.Steps); c != 0 {
			return c
		}
		if c := strings.Compare(x.From.String(), y.From.String()); c != 0 {
			return c
		}
		if c := strings.Compare(x.From.key(), y.From.key()); c != 0 {
			return c
		}
		return order[x.Target] - order[y.Target]
	})
	return out, truncated || g.truncated
}

// pathDefault returns v, or def when v is not positive.
func pathDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// pathSources returns the identities of every non-system subject of the
// snapshot's bindings, in order of their keys.
func pathSources(snap *cluster.Snapshot) []Identity {
	byKey := map[string]Identity{}
	add := func(subjects []rbacv1.Subject, namespace string) {
		for _, s := range defaultSubjects(subjects, namespace) {
			switch s.Kind {
			case rbacv1.ServiceAccountKind:
				if s.Namespace == "" {
					continue
				}
			case rbacv1.UserKind, rbacv1.GroupKind:
				if strings.HasPrefix(s.Name, "system:") {
					continue
				}
			default:
				continue
			}
			id := SubjectIdentity(s)
			byKey[id.key()] = id
		}
	}
	for _, b := range snap.ClusterRoleBindings {
		add(b.Subjects, "")
	}
	for _, b := range snap.RoleBindings {
		add(b.Subjects, b.Namespace)
	}
	out := make([]Identity, 0, len(byKey))
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k])
	}
	return out
}

// explore builds the graph breadth-first from sources: every node within
// maxDepth steps of one of them, and its onward steps unless it is that
// far or meets every target (paths end there).
func (g *pathGraph) explore(sources []Identity, targets []Target, maxDepth int) {
	var depth []int
	for _, s := range sources {
		if g.index(Node{Kind: IdentityNode, Identity: s}) == len(depth) {
			depth = append(depth, 0)
		}
	}
	for i := 0; i < len(g.nodes); i++ {
		n := g.nodes[i]
		if depth[i] >= maxDepth || g.meetsAll(n, targets) {
			continue
		}
		steps := g.steps(n)
		edges := make([]int, len(steps))
		for j, st := range steps {
			edges[j] = g.index(st.To)
			if edges[j] == len(depth) {
				depth = append(depth, depth[i]+1)
			}
		}
		g.edges[i] = edges
	}
}

// index returns the index of n in g.nodes, adding it at the end if new.
func (g *pathGraph) index(n Node) int {
	id := n.ID()
	if i, ok := g.ids[id]; ok {
		return i
	}
	g.ids[id] = len(g.nodes)
	g.nodes = append(g.nodes, n)
	g.edges = append(g.edges, nil)
	return len(g.nodes) - 1
}

// distances returns, for each node of the explored graph, the index into
// its steps of the first step on a shortest way to a node meeting t: -1
// for a node that meets t, -2 for one that cannot reach such a node.
// Shortest ways are found backwards from the nodes meeting t.
func (g *pathGraph) distances(t Target) []int {
	const unreached = -1
	dist := make([]int, len(g.nodes))
	var queue []int
	for i, n := range g.nodes {
		dist[i] = unreached
		if _, ok := g.meets(n, t); ok {
			dist[i] = 0
			queue = append(queue, i)
		}
	}
	reverse := make([][]int, len(g.nodes))
	for i, edges := range g.edges {
		for _, to := range edges {
			reverse[to] = append(reverse[to], i)
		}
	}
	for len(queue) > 0 {
		w := queue[0]
		queue = queue[1:]
		for _, v := range reverse[w] {
			if dist[v] == unreached {
				dist[v] = dist[w] + 1
				queue = append(queue, v)
			}
		}
	}
	next := make([]int, len(g.nodes))
	for i := range g.nodes {
		switch dist[i] {
		case 0:
			next[i] = -1
		case unreached:
			next[i] = -2
		default:
			// The first step, in the steps' order, that gets closer.
			next[i] = slices.IndexFunc(g.edges[i], func(to int) bool { return dist[to] == dist[i]-1 })
		}
	}
	return next
}

// path follows next from src to a node meeting t; false when there is
// none within maxDepth steps.
func (g *pathGraph) path(src Identity, t Target, next []int, maxDepth int) (Path, bool) {
	i, ok := g.ids[Node{Kind: IdentityNode, Identity: src}.ID()]
	if !ok {
		return Path{}, false
	}
	p := Path{From: src, Target: t}
	for next[i] >= 0 {
		if len(p.Steps) == maxDepth {
			return Path{}, false
		}
		j := next[i]
		p.Steps = append(p.Steps, g.memo[g.nodes[i].ID()][j])
		i = g.edges[i][j]
	}
	if next[i] != -1 {
		return Path{}, false
	}
	p.Grant, _ = g.meets(g.nodes[i], t)
	return p, true
}

// meetsAll reports whether n meets every one of targets.
func (g *pathGraph) meetsAll(n Node, targets []Target) bool {
	for _, t := range targets {
		if _, ok := g.meets(n, t); !ok {
			return false
		}
	}
	return true
}

// meets reports whether n meets t, and by which grant.
func (g *pathGraph) meets(n Node, t Target) (Grant, bool) {
	key := n.ID() + "\x00" + string(t)
	if m, ok := g.meetsMemo[key]; ok {
		return m.grant, m.ok
	}
	var gr Grant
	ok := false
	switch {
	case n.Kind == ClusterAdminNode:
		ok = true
	case n.Kind == HostsNode:
		ok = t == TargetNodes
	default:
		for _, r := range pathTargetRequests(t) {
			if gr, ok = g.can(n, r); ok {
				break
			}
		}
	}
	g.meetsMemo[key] = pathMeets{gr, ok}
	return gr, ok
}

// pathMeets is a memoized answer of meets.
type pathMeets struct {
	grant Grant
	ok    bool
}

// pathTargetRequests returns the requests any one of which meets t.
func pathTargetRequests(t Target) []Request {
	switch t {
	case TargetSecrets:
		return []Request{
			{Verb: "list", Resource: "secrets"},
			{Verb: "get", Resource: "secrets"},
		}
	case TargetNodes:
		return []Request{
			{Verb: "create", Resource: "nodes", Subresource: "proxy"},
			{Verb: "get", Resource: "nodes", Subresource: "proxy"},
			{Verb: "create", Resource: "pods", Namespace: "kube-system"},
		}
	}
	return []Request{pathEverything}
}

// pathEverything is the request only a cluster-admin may make.
var pathEverything = Request{Verb: "*", APIGroup: "*", Resource: "*"}
