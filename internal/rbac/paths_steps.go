package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// pathStepsPerNode bounds the steps kept, on average per node of
// MaxNodes.
const pathStepsPerNode = 40

// steps returns the steps out of n, remembered; none once MaxNodes nodes
// have been expanded or their steps exceed pathStepsPerNode each on
// average.
func (g *pathGraph) steps(n Node) []Step {
	id := n.ID()
	if s, ok := g.memo[id]; ok {
		return s
	}
	if len(g.memo) >= g.maxNodes || g.stepCount >= g.maxSteps {
		g.truncated = true
		return nil
	}
	// The first step to each node is kept: the techniques are tried from
	// the most certain (RBAC alone) to those that assume something.
	var out []Step
	seen := map[string]bool{id: true}
	add := func(s Step) {
		s.From = n
		if to := s.To.ID(); !seen[to] {
			seen[to] = true
			out = append(out, s)
		}
	}
	switch n.Kind {
	case HostsNode:
		g.stealOnNode(add)
	case IdentityNode, RolesNode:
		if pathMayAllow(g.rulesFor(n, ""), pathClusterProbes) {
			g.clusterSteps(n, add)
		}
		if n.Kind == IdentityNode {
			g.escalate(n, add)
		}
		for _, ns := range g.namespacesFor(n) {
			if rules := g.rulesFor(n, ns); pathMayAllow(rules, pathNamespaceProbes) {
				g.namespaceSteps(n, ns, rules, add)
			}
		}
	}
	g.memo[id] = out
	g.stepCount += len(out)
	return out
}

// clusterSteps adds the steps of the cluster-scoped techniques.
func (g *pathGraph) clusterSteps(n Node, add func(Step)) {
	admin := Node{Kind: ClusterAdminNode}
	hosts := Node{Kind: HostsNode}

	// impersonation
	var someUser Grant
	userOK := false
	if pathMayAllow(g.rulesFor(n, ""), []Request{{Verb: "impersonate", Resource: "groups"}}) {
		someUser, userOK = g.impersonatedUser(n)
	}
	for _, u := range g.users {
		if gr, ok := g.can(n, Request{Verb: "impersonate", Resource: "users", Name: u}); ok {
			add(Step{
				To:          Node{Kind: IdentityNode, Identity: SubjectIdentity(rbacv1.Subject{Kind: rbacv1.UserKind, Name: u})},
				Technique:   "impersonate-user",
				Grant:       gr,
				Explanation: fmt.Sprintf("may impersonate user %q (kubectl --as=%s)", u, u),
			})
		}
	}
	for _, grp := range g.groups {
		gr, ok := g.can(n, Request{Verb: "impersonate", Resource: "groups", Name: grp})
		if !ok || !userOK {
			continue
		}
		if grp == "system:masters" {
			add(Step{
				To: admin, Technique: "impersonate-system-masters", Grant: gr, Also: []Grant{someUser},
				Explanation: "may impersonate group system:masters, which the API server allows everything (kubectl --as=X --as-group=system:masters)",
			})
			continue
		}
		add(Step{
			To:          Node{Kind: IdentityNode, Identity: SubjectIdentity(rbacv1.Subject{Kind: rbacv1.GroupKind, Name: grp})},
			Technique:   "impersonate-group",
			Grant:       gr,
			Also:        []Grant{someUser},
			Explanation: fmt.Sprintf("may impersonate group %q together with a user (kubectl --as=X --as-group=%s)", grp, grp),
		})
	}

	// cluster role bindings
	rbacGroup := rbacv1.GroupName
	if gr, r, ok := g.canAny(n,
		Request{Verb: "create", APIGroup: rbacGroup, Resource: "clusterrolebindings"},
		Request{Verb: "update", APIGroup: rbacGroup, Resource: "clusterrolebindings"},
		Request{Verb: "patch", APIGroup: rbacGroup, Resource: "clusterrolebindings"},
	); ok {
		names := slices.Collect(maps.Keys(g.clusterRoles))
		if !slices.Contains(names, pathClusterAdminRole) {
			names = append(names, pathClusterAdminRole)
		}
		slices.Sort(names)
		var bindable []Ref
		var binds []Grant
		adminAt := -1
		for _, name := range names {
			bg, ok := g.can(n, Request{Verb: "bind", APIGroup: rbacGroup, Resource: "clusterroles", Name: name})
			if !ok {
				continue
			}
			ref := Ref{Kind: "ClusterRole", Name: name}
			if adminAt < 0 && g.allowsEverything(ref) {
				adminAt = len(bindable)
			}
			bindable = append(bindable, ref)
			binds = append(binds, bg)
		}
		switch {
		case adminAt >= 0:
			add(Step{
				To: admin, Technique: "bind-clusterrole", Grant: gr, Also: []Grant{binds[adminAt]},
				Explanation: fmt.Sprintf("may %s clusterrolebindings and bind %s, which allows everything: a binding of it to itself", r.Verb, bindable[adminAt]),
			})
		case len(bindable) > 0:
			add(Step{
				To: Node{Kind: RolesNode, Roles: bindable}, Technique: "bind-clusterrole", Grant: gr, Also: pathDistinct(binds),
				Explanation: fmt.Sprintf("may %s clusterrolebindings and bind %s: a binding to itself", r.Verb, pathRoleList(bindable)),
			})
		}
	}

	// certificate signing requests
	const csrGroup = "certificates.k8s.io"
	const signer = "kubernetes.io/kube-apiserver-client"
	create, ok1 := g.can(n, Request{Verb: "create", APIGroup: csrGroup, Resource: "certificatesigningrequests"})
	approval, ok2 := g.can(n, Request{Verb: "update", APIGroup: csrGroup, Resource: "certificatesigningrequests", Subresource: "approval"})
	approve, _, ok3 := g.canAny(n,
		Request{Verb: "approve", APIGroup: csrGroup, Resource: "signers", Name: signer},
		Request{Verb: "approve", APIGroup: csrGroup, Resource: "signers", Name: "kubernetes.io/*"})
	read, _, ok4 := g.canAny(n,
		Request{Verb: "get", APIGroup: csrGroup, Resource: "certificatesigningrequests"},
		Request{Verb: "list", APIGroup: csrGroup, Resource: "certificatesigningrequests"},
		Request{Verb: "watch", APIGroup: csrGroup, Resource: "certificatesigningrequests"})
	if ok1 && ok2 && ok3 && ok4 {
		add(Step{
			To: admin, Technique: "csr-system-masters", Grant: create, Also: pathDistinct([]Grant{approval, approve, read}),
			Assumes:     "the controller-manager signs for kubernetes.io/kube-apiserver-client (its default)",
			Explanation: "may create and approve a CertificateSigningRequest for signer " + signer + " with organization system:masters, then read back a client certificate that allows everything",
		})
	}

	// the kubelet API and admission webhooks
	if gr, r, ok := g.canAny(n,
		Request{Verb: "create", Resource: "nodes", Subresource: "proxy"},
		Request{Verb: "get", Resource: "nodes", Subresource: "proxy"},
	); ok {
		add(Step{
			To: hosts, Technique: "kubelet-api", Grant: gr,
			Explanation: fmt.Sprintf("may %s nodes/proxy: the kubelet API of every node runs commands in any of its pods", r.Verb),
		})
	}
	const admission = "admissionregistration.k8s.io"
	if gr, r, ok := g.canAny(n,
		Request{Verb: "create", APIGroup: admission, Resource: "mutatingwebhookconfigurations"},
		Request{Verb: "update", APIGroup: admission, Resource: "mutatingwebhookconfigurations"},
		Request{Verb: "patch", APIGroup: admission, Resource: "mutatingwebhookconfigurations"},
	); ok {
		add(Step{
			To: hosts, Technique: "mutating-webhook", Grant: gr,
			Assumes:     "the API server can reach a webhook server of the attacker's",
			Explanation: fmt.Sprintf("may %s mutatingwebhookconfigurations: a webhook can rewrite every new pod to be privileged, mount the host, or run as another service account", r.Verb),
		})
	}
}

// impersonatedUser returns a grant by which n may impersonate some user,
// which impersonating a group requires.
func (g *pathGraph) impersonatedUser(n Node) (Grant, bool) {
	// Any name will do, known or not: those of users in bindings, those
	// that rules name, and one that only a wildcard allows.
	names := slices.Clone(g.users)
	for _, r := range g.rulesFor(n, "") {
		if pathMayAllow([]rbacv1.PolicyRule{r}, []Request{{Verb: "impersonate", Resource: "users"}}) {
			names = append(names, r.ResourceNames...)
		}
	}
	for _, u := range append(names, "kubeshield:any-user") {
		if gr, ok := g.can(n, Request{Verb: "impersonate", Resource: "users", Name: u}); ok {
			return gr, true
		}
	}
	for _, ns := range g.namespaces {
		for _, sa := range g.sas[ns] {
			if gr, ok := g.can(n, Request{Verb: "impersonate", Resource: "serviceaccounts", Name: sa, Namespace: ns}); ok {
				return gr, true
			}
		}
	}
	return Grant{}, false
}

// allowsEverything reports whether the role ref names allows every verb
// on every resource.
func (g *pathGraph) allowsEverything(ref Ref) bool {
	ro := g.role(ref)
	if ro == nil {
		return false
	}
	for _, sr := range ro.rules {
		if RuleAllows(&sr.rule, pathEverything) {
			return true
		}
	}
	return false
}

// escalate adds the escalate-role steps of an identity: a role bound to
// it that it may escalate and update.
func (g *pathGraph) escalate(n Node, add func(Step)) {
	id := n.Identity
	try := func(b *binding, namespace string) {
		if b.role == nil {
			return
		}
		ref := b.role.ref
		resource, roleNS := "clusterroles", ""
		if ref.Kind == "Role" {
			resource, roleNS = "roles", ref.Namespace
		}
		esc, ok := g.can(n, Request{Verb: "escalate", APIGroup: rbacv1.GroupName, Resource: resource, Name: ref.Name, Namespace: roleNS})
		if !ok {
			return
		}
		upd, r, ok := g.canAny(n,
			Request{Verb: "update", APIGroup: rbacv1.GroupName, Resource: resource, Name: ref.Name, Namespace: roleNS},
			Request{Verb: "patch", APIGroup: rbacv1.GroupName, Resource: resource, Name: ref.Name, Namespace: roleNS})
		if !ok {
			return
		}
		to := Node{Kind: ClusterAdminNode}
		where := "everywhere"
		if namespace != "" {
			to = Node{Kind: RolesNode, Namespace: namespace, Roles: []Ref{ref}, All: true}
			where = "in namespace " + namespace
		}
		add(Step{
			To: to, Technique: "escalate-role", Grant: esc, Also: []Grant{upd},
			Explanation: fmt.Sprintf("may escalate and %s %s, which %s binds to it: it can add any rule, allowed %s", r.Verb, ref, b.ref, where),
		})
	}
	for _, ap := range g.a.cluster.candidates(id.User, id.Groups) {
		try(ap.b, "")
	}
	for _, ns := range g.bound {
		for _, ap := range g.a.namespaces[ns].candidates(id.User, id.Groups) {
			try(ap.b, ns)
		}
	}
}

// pathWorkloads are the requests that start a pod of one's choosing in a
// namespace, in the order they are tried.
var pathWorkloads = []Request{
	{Verb: "create", Resource: "pods"},
	{Verb: "create", APIGroup: "apps", Resource: "deployments"},
	{Verb: "create", APIGroup: "apps", Resource: "daemonsets"},
	{Verb: "create", APIGroup: "apps", Resource: "statefulsets"},
	{Verb: "create", APIGroup: "apps", Resource: "replicasets"},
	{Verb: "create", APIGroup: "batch", Resource: "jobs"},
	{Verb: "create", APIGroup: "batch", Resource: "cronjobs"},
	{Verb: "create", Resource: "replicationcontrollers"},
	{Verb: "update", APIGroup: "apps", Resource: "deployments"},
	{Verb: "patch", APIGroup: "apps", Resource: "deployments"},
	{Verb: "update", APIGroup: "apps", Resource: "daemonsets"},
	{Verb: "patch", APIGroup: "apps", Resource: "daemonsets"},
	{Verb: "update", APIGroup: "apps", Resource: "statefulsets"},
	{Verb: "patch", APIGroup: "apps", Resource: "statefulsets"},
	{Verb: "update", APIGroup: "apps", Resource: "replicasets"},
	{Verb: "patch", APIGroup: "apps", Resource: "replicasets"},
	{Verb: "update", APIGroup: "batch", Resource: "cronjobs"},
	{Verb: "patch", APIGroup: "batch", Resource: "cronjobs"},
	{Verb: "update", Resource: "replicationcontrollers"},
	{Verb: "patch", Resource: "replicationcontrollers"},
}

// namespaceSteps adds the steps of the techniques that work inside one
// namespace.
func (g *pathGraph) namespaceSteps(n Node, ns string, rules []rbacv1.PolicyRule, add func(Step)) {
	sas := g.sas[ns]

	if gr, r, ok := g.canAnyIf(n, rules, pathIn(ns, pathWorkloads...)); ok {
		what := r.Resource
		if r.Resource != "pods" {
			what = r.Resource + " (whose pods it chooses)"
		}
		for _, sa := range sas {
			add(Step{
				To: pathSANode(ns, sa), Technique: "create-pod-as-sa", Grant: gr,
				Explanation: fmt.Sprintf("may %s %s in namespace %s: a pod there can run as service account %s and use its token", r.Verb, what, ns, sa),
			})
		}
	}

	if pathMayAllow(rules, pathSAProbes) {
		g.serviceAccountSteps(n, ns, add)
	}

	if pathMayAllow(rules, pathExec) {
		g.execSteps(n, ns, add)
	}
	if gr, r, ok := g.canAnyIf(n, rules, pathIn(ns, pathSecrets...)); ok {
		for _, sa := range sas {
			add(Step{
				To: pathSANode(ns, sa), Technique: "read-sa-token-secret", Grant: gr,
				Assumes:     fmt.Sprintf("service account %s/%s has a legacy token secret (type kubernetes.io/service-account-token)", ns, sa),
				Explanation: fmt.Sprintf("may %s secrets in namespace %s: the token secret of service account %s, if it has one", r.Verb, ns, sa),
			})
		}
	}

	if pathMayAllow(rules, pathRoleBindings) {
		g.bindInNamespace(n, ns, add)
	}
}

// serviceAccountSteps adds the steps to the service accounts of ns whose
// tokens n may create or whom it may impersonate.
func (g *pathGraph) serviceAccountSteps(n Node, ns string, add func(Step)) {
	for _, sa := range g.sas[ns] {
		if gr, ok := g.can(n, Request{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: sa, Namespace: ns}); ok {
			add(Step{
				To: pathSANode(ns, sa), Technique: "create-sa-token", Grant: gr,
				Explanation: fmt.Sprintf("may create serviceaccounts/token for %s/%s: a token of it (kubectl create token %s -n %s)", ns, sa, sa, ns),
			})
		}
		if gr, ok := g.can(n, Request{Verb: "impersonate", Resource: "serviceaccounts", Name: sa, Namespace: ns}); ok {
			add(Step{
				To: pathSANode(ns, sa), Technique: "impersonate-serviceaccount", Grant: gr,
				Explanation: fmt.Sprintf("may impersonate service account %s/%s (kubectl --as=%s)", ns, sa, ServiceAccountUser(ns, sa)),
			})
		}
	}
}

// execSteps adds the exec-into-pod steps: to the service accounts of the
// pods of ns that n may exec into or attach to.
func (g *pathGraph) execSteps(n Node, ns string, add func(Step)) {
	exec := pathExec
	step := func(gr Grant, r Request, sa, pod, assumes string) {
		what := "its pods"
		if pod != "" {
			what = "pod " + pod
		}
		add(Step{
			To: pathSANode(ns, sa), Technique: "exec-into-pod", Grant: gr, Assumes: assumes,
			Explanation: fmt.Sprintf("may %s pods/%s in namespace %s: a shell in %s, which runs as service account %s, reads its token", r.Verb, r.Subresource, ns, what, sa),
		})
	}
	if gr, r, ok := g.canAny(n, pathIn(ns, exec...)...); ok {
		if !g.workloadsSeen {
			for _, sa := range g.sas[ns] {
				step(gr, r, sa, "", fmt.Sprintf("a pod of namespace %s runs as service account %s (the snapshot holds no pods)", ns, sa))
			}
			return
		}
		for _, sa := range g.running[ns] {
			step(gr, r, sa, "", "")
		}
		return
	}
	for _, p := range g.pods[ns] {
		for _, r := range exec {
			r.Namespace, r.Name = ns, p.Name
			if gr, ok := g.can(n, r); ok {
				sa := p.Spec.ServiceAccountName
				if sa == "" {
					sa = "default"
				}
				step(gr, r, sa, p.Name, "")
				break
			}
		}
	}
}

// bindInNamespace adds the bind-role-in-namespace step: a RolesNode of
// the roles n may bind to itself in ns.
func (g *pathGraph) bindInNamespace(n Node, ns string, add func(Step)) {
	if n.Kind == RolesNode && n.All {
		return // it has every permission there already
	}
	rbacGroup := rbacv1.GroupName
	gr, r, ok := g.canAny(n, pathIn(ns, pathRoleBindings...)...)
	if !ok {
		return
	}
	var bindable []Ref
	var binds []Grant
	try := func(ref Ref, resource string) {
		if bg, ok := g.can(n, Request{Verb: "bind", APIGroup: rbacGroup, Resource: resource, Name: ref.Name, Namespace: ns}); ok {
			bindable = append(bindable, ref)
			binds = append(binds, bg)
		}
	}
	names := slices.Collect(maps.Keys(g.clusterRoles))
	if !slices.Contains(names, pathClusterAdminRole) {
		names = append(names, pathClusterAdminRole)
	}
	slices.Sort(names)
	for _, name := range names {
		try(Ref{Kind: "ClusterRole", Name: name}, "clusterroles")
	}
	for _, name := range g.rolesIn[ns] {
		try(Ref{Kind: "Role", Namespace: ns, Name: name}, "roles")
	}
	if len(bindable) == 0 {
		return
	}
	slices.SortFunc(bindable, pathCompareRefs)
	add(Step{
		To: Node{Kind: RolesNode, Namespace: ns, Roles: bindable}, Technique: "bind-role-in-namespace", Grant: gr, Also: pathDistinct(binds),
		Explanation: fmt.Sprintf("may %s rolebindings in namespace %s and bind %s there: a binding to itself", r.Verb, ns, pathRoleList(bindable)),
	})
}

// stealOnNode adds the steps out of the hosts node: the service accounts
// the pods run as.
func (g *pathGraph) stealOnNode(add func(Step)) {
	for _, ns := range g.namespaces {
		list, assumes := g.running[ns], ""
		if !g.workloadsSeen {
			list = g.sas[ns]
		}
		for _, sa := range list {
			if !g.workloadsSeen {
				assumes = fmt.Sprintf("a pod runs as service account %s/%s (the snapshot holds no pods)", ns, sa)
			}
			add(Step{
				To: pathSANode(ns, sa), Technique: "steal-token-on-node", Assumes: assumes,
				Explanation: fmt.Sprintf("on the node of a pod running as service account %s/%s, reads its projected token", ns, sa),
			})
		}
	}
}

// pathCompareRefs orders refs: ClusterRoles before Roles, then by
// namespace and name.
func pathCompareRefs(x, y Ref) int {
	if c := strings.Compare(x.Kind, y.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(x.Namespace, y.Namespace); c != 0 {
		return c
	}
	return strings.Compare(x.Name, y.Name)
}

// pathRoleList names roles in a few words.
func pathRoleList(refs []Ref) string {
	if len(refs) > 3 {
		return fmt.Sprintf("any of %d roles", len(refs))
	}
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

// pathDistinct returns grants without repeats (same binding, role and
// rule), in order.
func pathDistinct(grants []Grant) []Grant {
	var out []Grant
	seen := map[string]bool{}
	for _, gr := range grants {
		k := gr.Binding.String() + "\x00" + gr.Role.String() + "\x00" + ruleKey(gr.Rule)
		if !seen[k] {
			seen[k] = true
			out = append(out, gr)
		}
	}
	return out
}
