package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/finding"
)

// RiskOptions tune Risks.
type RiskOptions struct {
	// IncludeSystem also reports what is granted to system components and
	// by the API server's bootstrap policy, which Risks skips by default
	// so that a fresh cluster reports nothing: bindings labelled
	// kubernetes.io/bootstrapping=rbac-defaults, and subjects that are
	// users or groups named system:* (except system:anonymous,
	// system:unauthenticated, system:authenticated and
	// system:serviceaccounts[:NAMESPACE] other than kube-system's) or
	// service accounts of kube-system.
	IncludeSystem bool
	// Namespace, when not "", restricts the report to the RoleBindings of
	// that namespace; ClusterRoleBindings, which apply there too, are all
	// reported.
	Namespace string
}

// The label of the API server's bootstrap RBAC objects.
const (
	riskBootstrapLabel = "kubernetes.io/bootstrapping"
	riskBootstrapValue = "rbac-defaults"
)

// riskPublicDefaults are the API server's bootstrap ClusterRoleBindings
// that grant discovery and public information to every user or every
// service account: KS-RBAC-015 and KS-RBAC-016 leave them out when they
// carry the bootstrap label and bind their namesake ClusterRole.
var riskPublicDefaults = []string{
	"system:basic-user",
	"system:discovery",
	"system:public-info-viewer",
	"system:service-account-issuer-discovery",
	"system:cluster-trust-bundle-discovery",
}

// Risks reports the risky grants of snap's RBAC, as a (built by
// New(snap); nil builds it) sees them: aggregated ClusterRoles count with their
// aggregated rules, "*" matches as the API server matches it, and a
// RoleBinding grants nothing on cluster-scoped resources. Each rule of
// RiskRules yields at most one finding per binding and subject (per
// binding for KS-RBAC-019), about the binding (Kind RoleBinding or
// ClusterRoleBinding), whose evidence names the subject, the binding and
// the role (with the file and line they were loaded from, when known),
// what is allowed and the role's rules that allow it. A permission
// spread over several bindings of one subject is not combined.
// Findings come most severe first, then by rule ID, binding and
// evidence. It returns no error: a snapshot without RBAC has no risks.
func Risks(a *Authorizer, snap *cluster.Snapshot, opts RiskOptions) []finding.Finding {
	if snap == nil {
		snap = &cluster.Snapshot{}
	}
	if a == nil {
		a = New(snap)
	}
	ev := riskEvaluator{snap: snap, opts: opts, checks: riskChecks(), labels: map[Ref]map[string]string{}, sas: map[string]map[string]bool{}}
	for _, b := range snap.ClusterRoleBindings {
		ev.labels[Ref{Kind: "ClusterRoleBinding", Name: b.Name}] = b.Labels
	}
	for _, b := range snap.RoleBindings {
		ev.labels[Ref{Kind: "RoleBinding", Namespace: b.Namespace, Name: b.Name}] = b.Labels
	}
	for _, sa := range snap.ServiceAccounts {
		if ev.sas[sa.Namespace] == nil {
			ev.sas[sa.Namespace] = map[string]bool{}
		}
		ev.sas[sa.Namespace][sa.Name] = true
	}

	for _, s := range a.scopes() {
		for _, b := range s.bindings {
			if b.ref.Kind == "RoleBinding" && opts.Namespace != "" && b.ref.Namespace != opts.Namespace {
				continue
			}
			ev.binding(b)
		}
	}
	slices.SortFunc(ev.out, func(x, y finding.Finding) int {
		return cmp.Or(
			cmp.Compare(y.Severity, x.Severity),
			cmp.Compare(x.RuleID, y.RuleID),
			cmp.Compare(x.Resource.Kind, y.Resource.Kind),
			cmp.Compare(x.Resource.Namespace, y.Resource.Namespace),
			cmp.Compare(x.Resource.Name, y.Resource.Name),
			cmp.Compare(x.Evidence, y.Evidence),
		)
	})
	return ev.out
}

// riskEvaluator holds what Risks looks up while it walks the bindings.
type riskEvaluator struct {
	snap   *cluster.Snapshot
	opts   RiskOptions
	checks []riskCheck
	labels map[Ref]map[string]string
	sas    map[string]map[string]bool // namespace → service account names
	out    []finding.Finding
}

// riskHit is what one permission rule found in a binding's role.
type riskHit struct {
	check   *riskCheck
	matches []riskMatch
}

// binding reports the findings of one binding.
func (ev *riskEvaluator) binding(b *binding) {
	bootstrap := ev.labels[b.ref][riskBootstrapLabel] == riskBootstrapValue
	if bootstrap && !ev.opts.IncludeSystem {
		return
	}
	var subjects []rbacv1.Subject
	seen := map[rbacv1.Subject]bool{}
	for _, sub := range b.subjects {
		key := rbacv1.Subject{Kind: sub.Kind, Namespace: sub.Namespace, Name: sub.Name}
		if seen[key] || (!ev.opts.IncludeSystem && riskSystemSubject(sub)) {
			continue
		}
		seen[key] = true
		subjects = append(subjects, key)
	}
	if len(subjects) == 0 {
		return
	}
	if b.role == nil {
		ev.brokenBinding(b, subjects)
		return
	}

	clusterWide := b.ref.Kind == "ClusterRoleBinding"
	var hits []riskHit
	full := false
	for i := range ev.checks {
		c := &ev.checks[i]
		if m := riskEvaluate(b.role.rules, c.needs, clusterWide); m != nil {
			hits = append(hits, riskHit{check: c, matches: m})
			full = full || c.rule.ID == riskFullAccess.ID
		}
	}
	wildcards := riskWildcardRules(b.role.rules)
	publicDefault := bootstrap && b.roleRef.Kind == "ClusterRole" && b.roleRef.Name == b.ref.Name &&
		clusterWide && slices.Contains(riskPublicDefaults, b.ref.Name)

	for _, sub := range subjects {
		if !matchesSomeone(sub) {
			ev.missingServiceAccount(b, sub)
			continue
		}
		for _, h := range hits {
			if full && h.check.rule.ID != riskFullAccess.ID {
				continue
			}
			what := ev.allows(h.matches, b)
			if h.check.rule.ID == riskFullAccess.ID {
				what = "may do anything to any resource" + ev.where(b)
			}
			ev.add(h.check.rule, h.check.scoped, b, sub, what+"; "+ev.ruleText(b.role.rules, riskRuleIndexes(h.matches)))
		}
		if len(wildcards) > 0 && !full {
			ev.add(riskWildcard, true, b, sub, "\"*\" in "+ev.ruleText(b.role.rules, wildcards)+ev.where(b))
		}
		if len(b.role.rules) > 0 {
			all := make([]int, len(b.role.rules))
			for i := range all {
				all[i] = i
			}
			granted := "grants " + ev.ruleText(b.role.rules, all) + ev.where(b)
			switch {
			case publicDefault:
			case riskAnonymousSubject(sub):
				ev.add(riskAnonymous, false, b, sub, granted)
			case riskEveryoneSubject(sub):
				ev.add(riskAuthenticated, false, b, sub, granted)
			}
			if ns, name, ok := riskServiceAccount(sub); ok && name == "default" {
				ev.add(riskDefaultSA, false, b, sub, granted+" to every pod of namespace "+ns+" that names no service account")
			}
		}
		ev.missingServiceAccount(b, sub)
	}
}

// missingServiceAccount reports a ServiceAccount subject (or a user name
// of one) that names no loaded service account of a namespace with some,
// or has no namespace in a ClusterRoleBinding.
func (ev *riskEvaluator) missingServiceAccount(b *binding, sub rbacv1.Subject) {
	if sub.Kind == rbacv1.ServiceAccountKind && sub.Namespace == "" {
		ev.add(riskMissingSA, false, b, sub, "the ServiceAccount subject has no namespace, so it matches nobody")
		return
	}
	ns, name, ok := riskServiceAccount(sub)
	if !ok || len(ev.sas[ns]) == 0 || ev.sas[ns][name] {
		return
	}
	ev.add(riskMissingSA, false, b, sub, fmt.Sprintf("no ServiceAccount %s/%s among the %d loaded of namespace %s", ns, name, len(ev.sas[ns]), ns))
}

// brokenBinding reports a binding whose role does not exist.
func (ev *riskEvaluator) brokenBinding(b *binding, subjects []rbacv1.Subject) {
	names := make([]string, len(subjects))
	for i, s := range subjects {
		names[i] = riskSubjectString(s)
	}
	bb := brokenBinding(b)
	res := finding.Resource{Kind: b.ref.Kind, Namespace: b.ref.Namespace, Name: b.ref.Name}
	evidence := fmt.Sprintf("%s%s refers to %s: %s; subjects %s",
		riskRefString(b.ref), ev.source(b.ref), riskRefString(bb.RoleRef), bb.Reason, strings.Join(names, ", "))
	f := riskMissingRole.New(res, evidence)
	f.References = riskReferences[riskMissingRole.ID]
	ev.out = append(ev.out, f)
}

// add appends a finding of rule about binding b and subject sub; scoped
// rules are one severity lower for RoleBindings.
func (ev *riskEvaluator) add(rule finding.Rule, scoped bool, b *binding, sub rbacv1.Subject, what string) {
	res := finding.Resource{Kind: b.ref.Kind, Namespace: b.ref.Namespace, Name: b.ref.Name}
	evidence := riskSubjectString(sub) + ", " + riskRefString(b.ref) + ev.source(b.ref)
	if b.role != nil {
		evidence += ", " + riskRefString(b.role.ref) + ev.source(b.role.ref)
	}
	f := rule.New(res, evidence+": "+what)
	if scoped && b.ref.Kind == "RoleBinding" {
		f.Severity = max(finding.Low, f.Severity-1)
	}
	f.References = riskReferences[rule.ID]
	ev.out = append(ev.out, f)
}

// source returns " (FILE:LINE)" when ref was loaded from a file.
func (ev *riskEvaluator) source(ref Ref) string {
	src, ok := ev.snap.Source(cluster.Kind(ref.Kind), ref.Namespace, ref.Name)
	if !ok || src.File == "" {
		return ""
	}
	return " (" + src.String() + ")"
}

// where says where a binding's grants apply.
func (ev *riskEvaluator) where(b *binding) string {
	if b.ref.Kind == "ClusterRoleBinding" {
		return " cluster-wide"
	}
	return " in namespace " + b.ref.Namespace
}

// allows describes the matched permissions, "may VERBS RESOURCES[ named
// NAMES]; ... cluster-wide|in namespace NS", in the order of the probes.
func (ev *riskEvaluator) allows(ms []riskMatch, b *binding) string {
	type group struct {
		resource, names string
		verbs           []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, m := range ms {
		names := ""
		if m.names != nil {
			names = " named " + strings.Join(m.names, ",")
		}
		g := byKey[m.resource+names]
		if g == nil {
			g = &group{resource: m.resource, names: names}
			byKey[m.resource+names] = g
			groups = append(groups, g)
		}
		if !slices.Contains(g.verbs, m.verb) {
			g.verbs = append(g.verbs, m.verb)
		}
	}
	// Resources with the same verbs and no names share a part.
	var parts []string
	var last *group
	for _, g := range groups {
		verbs := strings.Join(g.verbs, ",")
		if last != nil && last.names == "" && g.names == "" && slices.Equal(last.verbs, g.verbs) {
			parts[len(parts)-1] += ", " + g.resource
			continue
		}
		parts = append(parts, verbs+" "+g.resource+g.names)
		last = g
	}
	return "may " + strings.Join(parts, "; ") + ev.where(b)
}

// ruleText prints the role's rules at idx, in order, with the ClusterRole
// each was aggregated from.
func (ev *riskEvaluator) ruleText(rules []sourcedRule, idx []int) string {
	parts := make([]string, len(idx))
	for i, j := range idx {
		parts[i] = compactRule(rules[j].rule)
		if rules[j].from != "" {
			parts[i] += fmt.Sprintf(" (aggregated from ClusterRole %s)", rules[j].from)
		}
	}
	if len(parts) == 1 {
		return "rule " + parts[0]
	}
	return "rules " + strings.Join(parts, ", ")
}

// riskMatch is one request a probe found allowed: a verb on a resource,
// by rule index rule of the role; names is nil when any name is allowed,
// else the resourceNames that are.
type riskMatch struct {
	verb, resource string
	names          []string
	rules          []int
}

// riskEvaluate returns what a role's rules allow of each entry of needs,
// or nil unless every entry has a match. A RoleBinding (clusterWide
// false) grants no probe of a cluster-scoped resource.
func riskEvaluate(rules []sourcedRule, needs [][]riskProbe, clusterWide bool) []riskMatch {
	var out []riskMatch
	for _, alternatives := range needs {
		found := false
		for _, p := range alternatives {
			if p.cluster && !clusterWide {
				continue
			}
			ms := riskProbeRules(rules, p)
			found = found || len(ms) > 0
			out = append(out, ms...)
		}
		if !found {
			return nil
		}
	}
	return out
}

// riskProbeRules returns, for each verb of p, what the rules allow: the
// first rule allowing any name, else the names rules with resourceNames
// allow when p is named. A probe of any subresource is made for each
// subresource the rules name, and one only "*" matches.
func riskProbeRules(rules []sourcedRule, p riskProbe) []riskMatch {
	if p.sub == riskAnySub {
		subs := []string{riskOtherSub}
		for _, sr := range rules {
			for _, r := range sr.rule.Resources {
				if res, sub, ok := strings.Cut(r, "/"); ok && (res == p.resource || res == rbacv1.ResourceAll) && !slices.Contains(subs, sub) {
					subs = append(subs, sub)
				}
			}
		}
		var out []riskMatch
		for _, sub := range subs {
			q := p
			q.sub = sub
			out = append(out, riskProbeRules(rules, q)...)
		}
		return out
	}
	var out []riskMatch
	for _, verb := range p.verbs {
		req := Request{Verb: verb, APIGroup: p.group, Resource: p.resource, Subresource: p.sub}
		unrestricted := -1
		var named riskMatch
		for i := range rules {
			rule := &rules[i].rule
			if RuleAllows(rule, req) {
				unrestricted = i
				break
			}
			if !p.named {
				continue
			}
			for _, n := range rule.ResourceNames {
				r := req
				r.Name = n
				if RuleAllows(rule, r) && !slices.Contains(named.names, n) {
					named.names = append(named.names, n)
					named.rules = appendOnce(named.rules, i)
				}
			}
		}
		res := riskResourceString(p)
		switch {
		case unrestricted >= 0:
			out = append(out, riskMatch{verb: verb, resource: res, rules: []int{unrestricted}})
		case named.names != nil:
			named.verb, named.resource = verb, res
			slices.Sort(named.names)
			out = append(out, named)
		}
	}
	return out
}

// riskOtherSub is a subresource no rule names: only "*" matches it.
const riskOtherSub = "\x00other"

// riskResourceString writes a probe's resource as kubectl does:
// resource[/sub][.group], "*" for riskOtherSub.
func riskResourceString(p riskProbe) string {
	s := p.resource
	switch p.sub {
	case "":
	case riskOtherSub:
		s += "/*"
	default:
		s += "/" + p.sub
	}
	if p.group != "" {
		s += "." + p.group
	}
	return s
}

// riskRuleIndexes returns the rules the matches come from, ascending.
func riskRuleIndexes(ms []riskMatch) []int {
	var idx []int
	for _, m := range ms {
		idx = append(idx, m.rules...)
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// riskWildcardRules returns the indexes of the resource rules with "*"
// in their verbs, API groups or resources.
func riskWildcardRules(rules []sourcedRule) []int {
	var idx []int
	for i, sr := range rules {
		r := sr.rule
		if len(r.Resources) == 0 {
			continue
		}
		if slices.Contains(r.Verbs, rbacv1.VerbAll) || slices.Contains(r.APIGroups, rbacv1.APIGroupAll) || slices.Contains(r.Resources, rbacv1.ResourceAll) {
			idx = append(idx, i)
		}
	}
	return idx
}

// riskServiceAccount returns the namespace and name of the service
// account a ServiceAccount subject, or a User subject named
// system:serviceaccount:NS:NAME, stands for.
func riskServiceAccount(sub rbacv1.Subject) (namespace, name string, ok bool) {
	switch sub.Kind {
	case rbacv1.ServiceAccountKind:
		return sub.Namespace, sub.Name, sub.Namespace != ""
	case rbacv1.UserKind:
		return ParseServiceAccountUser(sub.Name)
	}
	return "", "", false
}

// riskAnonymousSubject reports whether sub is every anonymous request.
func riskAnonymousSubject(sub rbacv1.Subject) bool {
	return (sub.Kind == rbacv1.UserKind && sub.Name == "system:anonymous") ||
		(sub.Kind == rbacv1.GroupKind && sub.Name == "system:unauthenticated")
}

// riskEveryoneSubject reports whether sub is every authenticated user or
// every service account.
func riskEveryoneSubject(sub rbacv1.Subject) bool {
	return sub.Kind == rbacv1.GroupKind && (sub.Name == "system:authenticated" || sub.Name == "system:serviceaccounts")
}

// riskSystemSubject reports whether sub is a system component: a user or
// group named system:* other than the anonymous, authenticated and
// service account groups of user namespaces, or a service account of
// kube-system.
func riskSystemSubject(sub rbacv1.Subject) bool {
	if ns, _, ok := riskServiceAccount(sub); ok {
		return ns == "kube-system"
	}
	switch sub.Kind {
	case rbacv1.UserKind, rbacv1.GroupKind:
		if !strings.HasPrefix(sub.Name, "system:") || riskAnonymousSubject(sub) || riskEveryoneSubject(sub) {
			return false
		}
		if ns, ok := strings.CutPrefix(sub.Name, "system:serviceaccounts:"); ok && sub.Kind == rbacv1.GroupKind {
			return ns == "kube-system"
		}
		return true
	}
	return false
}

// riskSubjectString names a subject: User jane, Group devs,
// ServiceAccount ns/name.
func riskSubjectString(sub rbacv1.Subject) string {
	if sub.Kind == rbacv1.ServiceAccountKind && sub.Namespace != "" {
		return "ServiceAccount " + sub.Namespace + "/" + sub.Name
	}
	return sub.Kind + " " + sub.Name
}

// riskRefString names an RBAC object: Kind name or Kind namespace/name.
func riskRefString(r Ref) string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}
