package rbac

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The vocabulary of the generated universes and questions.
var (
	genVerbs     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "use"}
	genHTTPVerbs = []string{"get", "post", "put", "patch", "delete", "head"}
	genResources = map[string][]string{
		"":                          {"pods", "configmaps", "secrets", "services", "namespaces", "nodes", "serviceaccounts"},
		"apps":                      {"deployments", "replicasets", "statefulsets", "daemonsets"},
		"batch":                     {"jobs", "cronjobs"},
		"rbac.authorization.k8s.io": {"roles", "rolebindings", "clusterroles"},
		"example.com":               {"widgets"},
	}
	genGroups       = []string{"", "apps", "batch", "rbac.authorization.k8s.io", "example.com"}
	genSubresources = []string{"status", "exec", "log", "scale", "proxy", "token"}
	genNames        = []string{"alpha", "beta", "gamma"}
	genURLs         = []string{"/healthz", "/healthz/etcd", "/metrics", "/logs", "/logs/", "/logs/kube.log", "/api", "/apis", "/apis/apps", "/version", "/custom/a", "/custom/a/b", "/customer", "/logsx", "/openapi/v2", ""}
	genURLRules     = []string{"/healthz", "/metrics", "/logs/*", "/logs*", "/custom/*", "/custom/a", "/apis/*", "*", "/version", "/healthz/*", "/logs**", "/cust*"}
)

// universe is one random set of RBAC objects, all named after tag so that
// universes never collide.
type universe struct {
	tag          string
	namespaces   []string
	users        []string
	groups       []string
	sas          []string // service account names, in every namespace
	clusterRoles []rbacv1.ClusterRole
	roles        []rbacv1.Role
	crbs         []rbacv1.ClusterRoleBinding
	rbs          []rbacv1.RoleBinding
}

// pick returns a random element of list.
func pick[T any](rng *rand.Rand, list []T) T {
	return list[rng.IntN(len(list))]
}

// some returns one to n distinct random elements of list.
func some(rng *rand.Rand, list []string, n int) []string {
	p := rng.Perm(len(list))
	k := 1 + rng.IntN(min(n, len(list)))
	out := make([]string, k)
	for i := range k {
		out[i] = list[p[i]]
	}
	return out
}

// chance is true with probability p.
func chance(rng *rand.Rand, p float64) bool { return rng.Float64() < p }

// newUniverse generates a universe; with aggregation it holds aggregated
// ClusterRoles too, chained, and with cyclic in cycles.
func newUniverse(rng *rand.Rand, tag string, aggregation, cyclic bool) *universe {
	u := &universe{tag: tag}
	for _, s := range []string{"a", "b", "c"} {
		u.namespaces = append(u.namespaces, tag+"-"+s)
	}
	for _, s := range []string{"alice", "bob", "carol", "dave"} {
		u.users = append(u.users, tag+"-"+s)
	}
	for _, s := range []string{"devs", "ops", "auditors"} {
		u.groups = append(u.groups, tag+"-"+s)
	}
	u.sas = []string{"builder", "runner"}

	nSources := 8
	for i := range nSources {
		cr := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-cr%d", tag, i), Labels: map[string]string{}}}
		for range 1 + rng.IntN(3) {
			if chance(rng, 0.25) {
				cr.Rules = append(cr.Rules, nonResourceRule(rng))
			} else {
				cr.Rules = append(cr.Rules, resourceRule(rng))
			}
		}
		if aggregation {
			for k := range 3 {
				if chance(rng, 0.4) {
					cr.Labels[fmt.Sprintf("%s-agg%d", tag, k)] = "true"
				}
			}
		}
		u.clusterRoles = append(u.clusterRoles, cr)
	}
	if aggregation {
		// Aggregated role j carries the label chain-j, which only later
		// aggregated roles select. In a cyclic universe
		// aggregated roles also carry source labels, so they may select
		// themselves (which the controller skips) and each other in
		// cycles; they then start without rules of their own, as stale
		// rules would survive in a cycle and the controller would not
		// converge to the least fixpoint.
		for j := range 4 {
			cr := rbacv1.ClusterRole{
				ObjectMeta:      metav1.ObjectMeta{Name: fmt.Sprintf("%s-agg%d", tag, j), Labels: map[string]string{fmt.Sprintf("%s-chain%d", tag, j): "true"}},
				AggregationRule: &rbacv1.AggregationRule{},
			}
			if cyclic {
				for k := range 3 {
					if chance(rng, 0.3) {
						cr.Labels[fmt.Sprintf("%s-agg%d", tag, k)] = "true"
					}
				}
			} else if chance(rng, 0.6) {
				cr.Rules = []rbacv1.PolicyRule{resourceRule(rng)} // dropped by aggregation
			}
			for range 1 + rng.IntN(2) {
				key := fmt.Sprintf("%s-agg%d", tag, rng.IntN(3))
				if j > 0 && chance(rng, 0.5) {
					key = fmt.Sprintf("%s-chain%d", tag, rng.IntN(j))
				}
				var sel metav1.LabelSelector
				switch rng.IntN(3) {
				case 0:
					sel.MatchLabels = map[string]string{key: "true"}
				case 1:
					sel.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: key, Operator: metav1.LabelSelectorOpExists}}
				default:
					sel.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: key, Operator: metav1.LabelSelectorOpIn, Values: []string{"true", "yes"}}}
				}
				cr.AggregationRule.ClusterRoleSelectors = append(cr.AggregationRule.ClusterRoleSelectors, sel)
			}
			u.clusterRoles = append(u.clusterRoles, cr)
		}
	}
	for _, ns := range u.namespaces {
		for i := range 3 {
			r := rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("role%d", i)}}
			for range 1 + rng.IntN(3) {
				r.Rules = append(r.Rules, resourceRule(rng))
			}
			u.roles = append(u.roles, r)
		}
	}

	clusterRoleRef := func() rbacv1.RoleRef {
		name := pick(rng, u.clusterRoles).Name
		switch x := rng.Float64(); {
		case x < 0.06:
			name = tag + "-missing"
		case x < 0.10:
			name = pick(rng, []string{"system:aggregate-to-edit", "system:aggregate-to-view", "system:basic-user", "system:node-proxier"})
		case x < 0.11:
			name = "cluster-admin"
		}
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
	}
	for i := range 7 {
		u.crbs = append(u.crbs, rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-crb%d", tag, i)},
			RoleRef:    clusterRoleRef(),
			Subjects:   u.subjects(rng, ""),
		})
	}
	for _, ns := range u.namespaces {
		for i := range 4 {
			ref := clusterRoleRef()
			if chance(rng, 0.6) {
				ref = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: fmt.Sprintf("role%d", rng.IntN(4))} // role3 is missing
			}
			u.rbs = append(u.rbs, rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("rb%d", i)},
				RoleRef:    ref,
				Subjects:   u.subjects(rng, ns),
			})
		}
	}
	return u
}

// subjects returns one to three random subjects for a binding in
// namespace ("" for a ClusterRoleBinding).
func (u *universe) subjects(rng *rand.Rand, namespace string) []rbacv1.Subject {
	var out []rbacv1.Subject
	for range 1 + rng.IntN(3) {
		switch x := rng.Float64(); {
		case x < 0.3:
			out = append(out, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: pick(rng, u.users)})
		case x < 0.35:
			out = append(out, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: ServiceAccountUser(pick(rng, u.namespaces), pick(rng, u.sas))})
		case x < 0.55:
			out = append(out, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: pick(rng, u.groups)})
		case x < 0.6:
			g := "system:serviceaccounts:" + pick(rng, u.namespaces)
			if chance(rng, 0.3) {
				g = "system:serviceaccounts"
			}
			out = append(out, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g})
		default:
			sa := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: pick(rng, u.sas), Namespace: pick(rng, u.namespaces)}
			if namespace != "" && chance(rng, 0.5) {
				sa.Namespace = "" // defaults to the RoleBinding's
			}
			out = append(out, sa)
		}
	}
	return out
}

// resourceRule returns a random rule on resources.
func resourceRule(rng *rand.Rand) rbacv1.PolicyRule {
	var r rbacv1.PolicyRule
	if chance(rng, 0.12) {
		r.Verbs = []string{"*"}
	} else {
		r.Verbs = some(rng, genVerbs, 3)
	}
	if chance(rng, 0.12) {
		r.APIGroups = []string{"*"}
	} else {
		r.APIGroups = some(rng, genGroups, 2)
	}
	for range 1 + rng.IntN(2) {
		g := pick(rng, r.APIGroups)
		if g == "*" {
			g = pick(rng, genGroups)
		}
		res := pick(rng, genResources[g])
		switch x := rng.Float64(); {
		case x < 0.08:
			res = "*"
		case x < 0.2:
			res = "*/" + pick(rng, genSubresources)
		case x < 0.4:
			res += "/" + pick(rng, genSubresources)
		}
		if !slices.Contains(r.Resources, res) {
			r.Resources = append(r.Resources, res)
		}
	}
	if chance(rng, 0.25) {
		r.ResourceNames = some(rng, genNames, 2)
	}
	return r
}

// nonResourceRule returns a random rule on non-resource URLs.
func nonResourceRule(rng *rand.Rand) rbacv1.PolicyRule {
	verbs := some(rng, genHTTPVerbs, 2)
	if chance(rng, 0.15) {
		verbs = []string{"*"}
	}
	return rbacv1.PolicyRule{Verbs: verbs, NonResourceURLs: some(rng, genURLRules, 2)}
}

// questions returns n questions about the universe, about half of them
// aimed at something a binding of a (the authorizer of the live snapshot)
// grants, mostly slightly changed, the others at random.
func (u *universe) questions(rng *rand.Rand, a *Authorizer, n int) []Request {
	var mine, others []*binding
	for _, s := range a.scopes() {
		for _, b := range s.bindings {
			if b.role == nil || len(b.role.rules) == 0 || len(b.subjects) == 0 {
				continue
			}
			if strings.HasPrefix(b.ref.Name, u.tag) || strings.HasPrefix(b.ref.Namespace, u.tag) {
				mine = append(mine, b)
			} else if !strings.HasPrefix(b.ref.Name, "ks") && !strings.HasPrefix(b.ref.Namespace, "ks") {
				others = append(others, b)
			}
		}
	}
	out := make([]Request, 0, n)
	for range n {
		var q Request
		if chance(rng, 0.55) && len(mine) > 0 {
			b := pick(rng, mine)
			if chance(rng, 0.1) && len(others) > 0 {
				b = pick(rng, others)
			}
			q = u.aimedAt(rng, b)
			if chance(rng, 0.35) {
				u.mutate(rng, &q)
			}
		} else {
			q = u.random(rng)
		}
		out = append(out, q)
	}
	return out
}

// aimedAt returns a question that a rule of b's role grants one of b's
// subjects.
func (u *universe) aimedAt(rng *rand.Rand, b *binding) Request {
	var q Request
	sub := pick(rng, b.subjects)
	switch sub.Kind {
	case rbacv1.UserKind:
		q.User = sub.Name
		q.Groups = u.randomGroups(rng, sub.Name)
	case rbacv1.GroupKind:
		q.User = pick(rng, u.users)
		q.Groups = append(u.randomGroups(rng, q.User), sub.Name)
		rng.Shuffle(len(q.Groups), func(i, j int) { q.Groups[i], q.Groups[j] = q.Groups[j], q.Groups[i] })
	default:
		ns := sub.Namespace
		if ns == "" {
			ns = pick(rng, u.namespaces) // matches nobody: a ClusterRoleBinding's
		}
		q.User = ServiceAccountUser(ns, sub.Name)
		q.Groups = u.randomGroups(rng, q.User)
	}
	rule := pick(rng, b.role.rules).rule
	if len(rule.NonResourceURLs) > 0 {
		q.NonResource = true
		q.Verb = pick(rng, rule.Verbs)
		if q.Verb == "*" {
			q.Verb = pick(rng, genHTTPVerbs)
		}
		q.Path = pick(rng, rule.NonResourceURLs)
		if strings.HasSuffix(q.Path, "*") {
			q.Path = strings.TrimRight(q.Path, "*") + pick(rng, []string{"", "x", "/y", "/y/z", "z/"})
		}
		return q
	}
	q.Verb = pick(rng, rule.Verbs)
	if q.Verb == "*" {
		q.Verb = pick(rng, genVerbs)
	}
	q.APIGroup = pick(rng, rule.APIGroups)
	if q.APIGroup == "*" {
		q.APIGroup = pick(rng, genGroups)
	}
	res := pick(rng, rule.Resources)
	switch {
	case res == "*":
		q.Resource = pick(rng, genResources[pick(rng, genGroups)])
		if chance(rng, 0.3) {
			q.Subresource = pick(rng, genSubresources)
		}
	case strings.HasPrefix(res, "*/"):
		q.Resource = pick(rng, genResources[pick(rng, genGroups)])
		q.Subresource = strings.TrimPrefix(res, "*/")
	default:
		q.Resource, q.Subresource, _ = strings.Cut(res, "/")
	}
	if len(rule.ResourceNames) > 0 {
		q.Name = pick(rng, rule.ResourceNames)
	} else if chance(rng, 0.5) {
		q.Name = pick(rng, genNames)
	}
	if b.ref.Namespace != "" {
		q.Namespace = b.ref.Namespace
	} else if chance(rng, 0.7) {
		q.Namespace = pick(rng, u.namespaces)
	}
	return q
}

// mutate changes one attribute of q.
func (u *universe) mutate(rng *rand.Rand, q *Request) {
	switch rng.IntN(7) {
	case 0:
		q.Verb = pick(rng, genVerbs)
	case 1:
		q.APIGroup = pick(rng, genGroups)
	case 2:
		q.Resource = pick(rng, genResources[pick(rng, genGroups)])
	case 3:
		if q.Subresource == "" {
			q.Subresource = pick(rng, genSubresources)
		} else {
			q.Subresource = ""
		}
	case 4:
		if q.Name == "" {
			q.Name = pick(rng, genNames)
		} else {
			q.Name = "" // a list or create: resourceNames never allow it
		}
	case 5:
		q.Namespace = pick(rng, append([]string{""}, u.namespaces...))
	default:
		if q.NonResource {
			q.Path = pick(rng, genURLs)
		} else {
			q.User = pick(rng, u.users)
		}
	}
}

// random returns a question with every attribute random.
func (u *universe) random(rng *rand.Rand) Request {
	var q Request
	switch x := rng.Float64(); {
	case x < 0.5:
		q.User = pick(rng, u.users)
	case x < 0.85:
		q.User = ServiceAccountUser(pick(rng, u.namespaces), pick(rng, u.sas))
	default:
		q.User = pick(rng, []string{"system:anonymous", "system:kube-scheduler", "someone", u.tag + "-sentinel"})
	}
	q.Groups = u.randomGroups(rng, q.User)
	if chance(rng, 0.2) {
		q.NonResource = true
		q.Verb = pick(rng, genHTTPVerbs)
		q.Path = pick(rng, genURLs)
		return q
	}
	q.Verb = pick(rng, genVerbs)
	q.APIGroup = pick(rng, genGroups)
	q.Resource = pick(rng, genResources[q.APIGroup])
	if chance(rng, 0.1) {
		q.APIGroup = pick(rng, genGroups) // a resource of another group
	}
	if chance(rng, 0.3) {
		q.Subresource = pick(rng, genSubresources)
	}
	if chance(rng, 0.5) {
		q.Name = pick(rng, genNames)
	}
	if chance(rng, 0.8) {
		q.Namespace = pick(rng, u.namespaces)
	}
	return q
}

// randomGroups returns a random set of groups for user: some of the
// universe's, and sometimes system groups (a service account's own, or
// the ones the API server gives every authenticated user).
func (u *universe) randomGroups(rng *rand.Rand, user string) []string {
	var out []string
	for _, g := range u.groups {
		if chance(rng, 0.2) {
			out = append(out, g)
		}
	}
	if rest, ok := strings.CutPrefix(user, ServiceAccountUserPrefix); ok && chance(rng, 0.6) {
		ns, _, _ := strings.Cut(rest, ":")
		out = append(out, ServiceAccountGroups(ns)...)
	} else if chance(rng, 0.1) {
		out = append(out, "system:serviceaccounts:"+pick(rng, u.namespaces))
	}
	if chance(rng, 0.3) {
		out = append(out, "system:authenticated")
	}
	if chance(rng, 0.03) {
		out = append(out, "system:unauthenticated")
	}
	if chance(rng, 0.01) {
		out = append(out, "system:masters")
	}
	return out
}
