package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/finding"
)

// The rules of the findings of access policy violations
// (Violation.Finding). Their text is the reference in docs/rules.md.
var (
	RulePolicyOutsideScope = finding.Rule{
		ID: "KS-RBAC-100", Severity: finding.High,
		Title:       "RBAC grant outside the scope the access policy allows",
		Description: "A binding gives a subject access that the team's access policy allows only in some namespaces (an onlyIn rule) in a namespace outside them, or cluster-wide. A ClusterRoleBinding grants in every namespace, and on cluster-scoped resources.",
		Remediation: "Replace the binding with RoleBindings in the allowed namespaces, or narrow its role's rules; if the policy is out of date, change the policy.",
	}
	RulePolicySubject = finding.Rule{
		ID: "KS-RBAC-101", Severity: finding.High,
		Title:       "RBAC grant to a subject the access policy does not allow",
		Description: "A binding gives access that the team's access policy reserves to some subjects (an onlySubjects rule) to a subject it does not list.",
		Remediation: "Remove the subject from the binding, or the access from its role; if the subject should have it, add it to the policy's onlySubjects.",
	}
	RulePolicyMissing = finding.Rule{
		ID: "KS-RBAC-102", Severity: finding.Medium,
		Title:       "Access the access policy expects is not granted",
		Description: "The team's access policy expects a subject to have some access (a mustAllow rule), and no binding grants it: the subject's work will fail with Forbidden.",
		Remediation: "Bind the subject to a role that grants the access, with a RoleBinding in each namespace (or a ClusterRoleBinding for cluster-wide access).",
	}
)

// PolicyRules returns the rules of access policy violations, in ID order.
func PolicyRules() []finding.Rule {
	return []finding.Rule{RulePolicyOutsideScope, RulePolicySubject, RulePolicyMissing}
}

// Violation is one way a cluster's RBAC breaks a rule of an access
// policy: a grant (onlyIn, onlySubjects rules) or missing access
// (mustAllow rules).
type Violation struct {
	// Rule is the name of the policy rule broken.
	Rule string
	// Kind says which check failed.
	Kind ViolationKind
	// Grant is the grant that breaks the rule; the zero Grant for
	// ViolationAccessMissing.
	Grant Grant
	// Subject is the grant's subject, or the subject that misses access.
	Subject rbacv1.Subject
	// Verbs and Resources are the access concerned: the rule's verbs the
	// grant gives ("*" when the rule and the grant both have every verb)
	// and the rule's resources it covers, as the policy writes them; or
	// the verbs missing on one resource.
	Verbs     []string
	Resources []string
	// Namespaces are where: the namespaces the grant applies in that are
	// outside the allowed scope (a RoleBinding's own namespace), or the
	// namespace where access is missing.
	Namespaces []string
	// ClusterScope says the grant applies cluster-wide (a
	// ClusterRoleBinding's cluster-scoped resources outside an onlyIn
	// scope without clusterScope; any ClusterRoleBinding for
	// onlySubjects), or that access is missing cluster-wide.
	ClusterScope bool
	// Message explains the violation in one line.
	Message string
}

// Finding returns the violation as a finding of RulePolicyOutsideScope,
// RulePolicySubject or RulePolicyMissing about the binding (or, for
// missing access, the subject), with the grant and, when snap recorded
// it, where the binding was loaded from as evidence.
func (v Violation) Finding(snap *cluster.Snapshot) finding.Finding {
	evidence := fmt.Sprintf("policy rule %q: %s", v.Rule, v.Message)
	switch v.Kind {
	case ViolationOutsideScope, ViolationSubjectNotAllowed:
		rule := RulePolicyOutsideScope
		if v.Kind == ViolationSubjectNotAllowed {
			rule = RulePolicySubject
		}
		evidence += "; " + v.Grant.String()
		if snap != nil {
			if src, ok := snap.Source(cluster.Kind(v.Grant.Binding.Kind), v.Grant.Binding.Namespace, v.Grant.Binding.Name); ok {
				evidence += " (" + src.String() + ")"
			}
		}
		b := v.Grant.Binding
		return rule.New(finding.Resource{Kind: b.Kind, Namespace: b.Namespace, Name: b.Name}, evidence)
	}
	return RulePolicyMissing.New(finding.Resource{Kind: v.Subject.Kind, Namespace: v.Subject.Namespace, Name: v.Subject.Name}, evidence)
}

// Grants returns every grant of the snapshot: for each binding whose role
// exists, each rule of its role to each distinct subject that can match
// someone (as WhoCan: ServiceAccount namespaces defaulted,
// ServiceAccount subjects of ClusterRoleBindings without a namespace and
// subjects of other kinds left out). ClusterRoleBindings come first, by
// name, then RoleBindings by namespace and name; for each binding, rules
// in the role's order, then subjects in the binding's.
func (a *Authorizer) Grants() []Grant {
	var out []Grant
	for _, s := range a.scopes() {
		for _, b := range s.bindings {
			if b.role == nil {
				continue
			}
			var subjects []rbacv1.Subject
			for _, sub := range b.subjects {
				key := rbacv1.Subject{Kind: sub.Kind, Namespace: sub.Namespace, Name: sub.Name}
				if matchesSomeone(sub) && !slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
					return rbacv1.Subject{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name} == key
				}) {
					subjects = append(subjects, sub)
				}
			}
			for _, sr := range b.role.rules {
				for _, sub := range subjects {
					out = append(out, grant(b, sub, sr))
				}
			}
		}
	}
	return out
}

// policyNamespace is a namespace of the snapshot and its labels.
type policyNamespace struct {
	name   string
	labels labels.Set
}

// policyNamespaces returns the snapshot's namespaces by name: those of its
// Namespace objects, with their labels, and those its Roles and
// RoleBindings are in, without labels when no Namespace object names
// them.
func policyNamespaces(snap *cluster.Snapshot) []policyNamespace {
	byName := map[string]labels.Set{}
	for _, ns := range snap.Namespaces {
		byName[ns.Name] = labels.Set(ns.Labels)
	}
	for _, r := range snap.Roles {
		if _, ok := byName[r.Namespace]; !ok {
			byName[r.Namespace] = nil
		}
	}
	for _, b := range snap.RoleBindings {
		if _, ok := byName[b.Namespace]; !ok {
			byName[b.Namespace] = nil
		}
	}
	var out []policyNamespace
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, policyNamespace{name: name, labels: byName[name]})
	}
	return out
}

// contains reports whether the scope holds namespace ns.
func (s *PolicyScope) contains(ns policyNamespace) bool {
	if slices.Contains(s.Namespaces, "*") || slices.Contains(s.Namespaces, ns.name) {
		return true
	}
	return s.selector != nil && s.selector.Matches(ns.labels)
}

// expand returns the namespaces of the scope: those named (in order, "*"
// as all the snapshot's) and then those the selector matches, each once.
func (s *PolicyScope) expand(all []policyNamespace) []string {
	var out []string
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, n := range s.Namespaces {
		if n != "*" {
			add(n)
			continue
		}
		for _, ns := range all {
			add(ns.name)
		}
	}
	if s.selector != nil {
		for _, ns := range all {
			if s.selector.Matches(ns.labels) {
				add(ns.name)
			}
		}
	}
	return out
}

// Check returns the violations of the policy by the RBAC of snap, whose
// authorizer (New(snap)) is a: rule by rule in policy order, each rule's
// in the order of a.Grants (or, for mustAllow, of its subjects, entries,
// namespaces and resources).
//
// A grant (see Grants) counts for an onlyIn or onlySubjects rule when its
// role rule allows one of the rule's verbs on one of its resources,
// wildcards of both included, whatever its resourceNames; a RoleBinding's
// grant only when that can be a namespaced resource, since a RoleBinding
// grants nothing on cluster-scoped ones. Subjects match the grant's
// subject itself: a rule about a user does not see grants to the groups
// the user is in.
//
//   - onlyIn: a grant to one of the rule's subjects breaks it when it is a
//     RoleBinding in a namespace outside the scope, or a
//     ClusterRoleBinding and either some namespace of the snapshot is
//     outside the scope, or the scope has no clusterScope and the grant
//     can be on a cluster-scoped resource (a built-in one such as nodes,
//     a wildcard, or one that is not built in and so of unknown scope).
//   - onlySubjects: a grant to a subject the rule does not list breaks it.
//   - mustAllow: each subject must be allowed (Authorizer.Allowed) each
//     verb on each resource, without a resource name, in each namespace
//     of the entry's scope ("*" being the snapshot's namespaces) and, with
//     clusterScope, cluster-wide. The subject asks with the groups the API
//     server would give it: a ServiceAccount its system:serviceaccounts
//     groups; every subject system:authenticated, except the user
//     system:anonymous and the group system:unauthenticated. One
//     violation lists the verbs missing on one resource in one place.
//
// The snapshot's namespaces are those of its Namespace objects, with
// their labels, and those its Roles and RoleBindings are in (without
// labels when no Namespace object names them).
func (p *AccessPolicy) Check(a *Authorizer, snap *cluster.Snapshot) []Violation {
	if snap == nil {
		snap = &cluster.Snapshot{}
	}
	namespaces := policyNamespaces(snap)
	grants := a.Grants()
	var out []Violation
	for i := range p.Rules {
		r := &p.Rules[i]
		switch r.Kind {
		case ViolationOutsideScope:
			out = append(out, r.checkOnlyIn(grants, namespaces)...)
		case ViolationSubjectNotAllowed:
			out = append(out, r.checkOnlySubjects(grants)...)
		case ViolationAccessMissing:
			out = append(out, r.checkMustAllow(a, namespaces)...)
		}
	}
	return out
}

// checkOnlyIn applies an onlyIn rule.
func (r *PolicyRule) checkOnlyIn(grants []Grant, namespaces []policyNamespace) []Violation {
	var out []Violation
	for _, g := range grants {
		if !policyAnySubject(r.Subjects, g.Subject) {
			continue
		}
		verbs, resources, scope := r.covers(&g.Rule)
		if len(verbs) == 0 {
			continue
		}
		v := Violation{Rule: r.Name, Kind: r.Kind, Grant: g, Subject: g.Subject, Verbs: verbs, Resources: resources}
		if g.Binding.Kind == "RoleBinding" {
			ns := policyNamespace{name: g.Binding.Namespace}
			if i, ok := slices.BinarySearchFunc(namespaces, ns.name, func(n policyNamespace, name string) int { return strings.Compare(n.name, name) }); ok {
				ns = namespaces[i]
			}
			if scope&policyNamespaced == 0 || r.OnlyIn.contains(ns) {
				continue
			}
			v.Namespaces = []string{ns.name}
		} else {
			if scope&policyNamespaced != 0 {
				for _, ns := range namespaces {
					if !r.OnlyIn.contains(ns) {
						v.Namespaces = append(v.Namespaces, ns.name)
					}
				}
			}
			v.ClusterScope = scope&policyClusterScoped != 0 && !r.OnlyIn.ClusterScope
			if len(v.Namespaces) == 0 && !v.ClusterScope {
				continue
			}
		}
		v.Message = fmt.Sprintf("%s of %s lets %s %s %s %s, outside the allowed scope",
			g.Binding, g.Role, policySubjectString(g.Subject), strings.Join(verbs, ", "), strings.Join(resources, ", "), policyWhere(v.Namespaces, v.ClusterScope))
		out = append(out, v)
	}
	return out
}

// checkOnlySubjects applies an onlySubjects rule.
func (r *PolicyRule) checkOnlySubjects(grants []Grant) []Violation {
	var out []Violation
	for _, g := range grants {
		if policyAnySubject(r.OnlySubjects, g.Subject) {
			continue
		}
		verbs, resources, scope := r.covers(&g.Rule)
		if len(verbs) == 0 {
			continue
		}
		v := Violation{Rule: r.Name, Kind: r.Kind, Grant: g, Subject: g.Subject, Verbs: verbs, Resources: resources}
		if g.Binding.Kind == "RoleBinding" {
			if scope&policyNamespaced == 0 {
				continue
			}
			v.Namespaces = []string{g.Binding.Namespace}
		} else {
			v.ClusterScope = true
		}
		allowed := "nobody may"
		if len(r.OnlySubjects) > 0 {
			s := make([]string, len(r.OnlySubjects))
			for i, p := range r.OnlySubjects {
				s[i] = p.String()
			}
			allowed = "only " + strings.Join(s, ", ") + " may"
		}
		v.Message = fmt.Sprintf("%s of %s lets %s %s %s %s; %s",
			g.Binding, g.Role, policySubjectString(g.Subject), strings.Join(verbs, ", "), strings.Join(resources, ", "), policyWhere(v.Namespaces, v.ClusterScope), allowed)
		out = append(out, v)
	}
	return out
}

// checkMustAllow applies a mustAllow rule.
func (r *PolicyRule) checkMustAllow(a *Authorizer, namespaces []policyNamespace) []Violation {
	var out []Violation
	for _, sp := range r.Subjects {
		sub, user, groups := policyAsker(sp)
		for _, ea := range r.MustAllow {
			places := ea.In.expand(namespaces)
			if ea.In.ClusterScope {
				places = append(places, "")
			}
			for _, ns := range places {
				for i, res := range ea.resources {
					var missing []string
					for _, verb := range ea.Verbs {
						req := Request{User: user, Groups: groups, Verb: verb, APIGroup: res.group, Resource: res.resource, Subresource: res.sub, Namespace: ns}
						if !a.Allowed(req).Allowed {
							missing = append(missing, verb)
						}
					}
					if len(missing) == 0 {
						continue
					}
					v := Violation{Rule: r.Name, Kind: r.Kind, Subject: sub, Verbs: missing, Resources: []string{ea.Resources[i]}}
					if ns == "" {
						v.ClusterScope = true
					} else {
						v.Namespaces = []string{ns}
					}
					v.Message = fmt.Sprintf("%s cannot %s %s %s", policySubjectString(sub), strings.Join(missing, ", "), ea.Resources[i], policyWhere(v.Namespaces, v.ClusterScope))
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// policyAsker returns the binding subject a mustAllow subject (without
// wildcards) is, and the user and groups it asks with.
func policyAsker(sp SubjectPattern) (sub rbacv1.Subject, user string, groups []string) {
	switch sp.Kind {
	case rbacv1.ServiceAccountKind:
		sub = rbacv1.Subject{Kind: sp.Kind, Namespace: sp.Namespace, Name: sp.Name}
		return sub, ServiceAccountUser(sp.Namespace, sp.Name), append(ServiceAccountGroups(sp.Namespace), "system:authenticated")
	case rbacv1.UserKind:
		sub = rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: sp.Kind, Name: sp.Name}
		if sp.Name == "system:anonymous" {
			return sub, sp.Name, []string{"system:unauthenticated"}
		}
		return sub, sp.Name, []string{"system:authenticated"}
	}
	sub = rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: sp.Kind, Name: sp.Name}
	groups = []string{sp.Name}
	if sp.Name != "system:unauthenticated" && sp.Name != "system:authenticated" {
		groups = append(groups, "system:authenticated")
	}
	return sub, "", groups
}

// policySubjectString returns Kind "name", or ServiceAccount
// "namespace/name".
func policySubjectString(s rbacv1.Subject) string {
	return SubjectPattern{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name}.String()
}

// policyWhere says where, for messages: in namespace "a", in namespaces
// "a", "b" and cluster-wide, ...
func policyWhere(namespaces []string, clusterScope bool) string {
	var parts []string
	switch len(namespaces) {
	case 0:
	case 1:
		parts = append(parts, fmt.Sprintf("in namespace %q", namespaces[0]))
	default:
		q := make([]string, len(namespaces))
		for i, ns := range namespaces {
			q[i] = fmt.Sprintf("%q", ns)
		}
		parts = append(parts, "in namespaces "+strings.Join(q, ", "))
	}
	if clusterScope {
		parts = append(parts, "cluster-wide")
	}
	return strings.Join(parts, " and ")
}

// policyAnySubject reports whether one of patterns matches sub.
func policyAnySubject(patterns []SubjectPattern, sub rbacv1.Subject) bool {
	for _, p := range patterns {
		if p.Kind == sub.Kind && policyNameMatches(p.Name, sub.Name) &&
			(sub.Kind != rbacv1.ServiceAccountKind || policyNameMatches(p.Namespace, sub.Namespace)) {
			return true
		}
	}
	return false
}

// policyNameMatches matches a name against a pattern: exact, or by prefix
// when the pattern ends in "*".
func policyNameMatches(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return pattern == name
}

// The scopes of resources, as a bit set.
const (
	policyNamespaced    = 1
	policyClusterScoped = 2
	policyEitherScope   = policyNamespaced | policyClusterScoped
)

// policyScopeOf returns the scope of resource (or "*") in group (or "*"):
// by the built-in resources, either scope for a wildcard or a resource
// that is not built in.
func policyScopeOf(group, resource string) int {
	if resource == "*" {
		return policyEitherScope
	}
	scope := 0
	for _, r := range builtinResources {
		if r.Resource == resource && (group == "*" || r.Group == group) {
			if r.Namespaced {
				scope |= policyNamespaced
			} else {
				scope |= policyClusterScoped
			}
		}
	}
	if scope == 0 {
		return policyEitherScope
	}
	return scope
}

// The kinds of subresource patterns.
const (
	policySubNone      = iota // the resource itself
	policySubExact            // one subresource
	policySubAny              // any subresource, not the resource itself
	policySubAnyOrNone        // the resource itself and any subresource
)

// policyPattern is a set of resources of one group: res ("*" for any) and
// the subresources subKind (and sub, when exact) says.
type policyPattern struct {
	res     string
	subKind int
	sub     string
}

// policyRolePattern reads an entry of a role rule's resources; ok is false
// for entries that match no real request ("pods/*").
func policyRolePattern(e string) (policyPattern, bool) {
	res, sub, hasSub := strings.Cut(e, "/")
	switch {
	case e == "*":
		return policyPattern{res: "*", subKind: policySubAnyOrNone}, true
	case !hasSub:
		return policyPattern{res: res, subKind: policySubNone}, true
	case sub == "*":
		return policyPattern{}, false
	}
	return policyPattern{res: res, subKind: policySubExact, sub: sub}, true
}

// pattern returns the resources a policy resource stands for.
func (pr policyResource) pattern() policyPattern {
	switch {
	case pr.resource == "*" && pr.sub == "":
		return policyPattern{res: "*", subKind: policySubAnyOrNone}
	case pr.sub == "":
		return policyPattern{res: pr.resource, subKind: policySubNone}
	case pr.sub == "*":
		return policyPattern{res: pr.resource, subKind: policySubAny}
	}
	return policyPattern{res: pr.resource, subKind: policySubExact, sub: pr.sub}
}

// intersect reports whether patterns p and q share a resource, and
// returns the shared resource name ("*" when both are wildcards).
func (p policyPattern) intersect(q policyPattern) (string, bool) {
	if p.res != "*" && q.res != "*" && p.res != q.res {
		return "", false
	}
	res := p.res
	if res == "*" {
		res = q.res
	}
	a, b := p.subKind, q.subKind
	if a > b {
		a, b = b, a
	}
	switch {
	case b == policySubAnyOrNone:
	case a == policySubNone:
		if b != policySubNone {
			return "", false
		}
	case a == policySubExact && b == policySubExact:
		if p.sub != q.sub {
			return "", false
		}
	}
	return res, true
}

// covers returns the rule's verbs that role rule rule allows, the rule's
// resources it allows them on, and the scopes of those resources; no
// verbs when it allows none of them.
func (r *PolicyRule) covers(rule *rbacv1.PolicyRule) (verbs, resources []string, scope int) {
	if slices.Contains(r.Verbs, "*") {
		verbs = slices.Clone(rule.Verbs)
		if slices.Contains(verbs, "*") {
			verbs = []string{"*"}
		}
	} else {
		for _, v := range r.Verbs {
			if anyMatches(rule.Verbs, v) {
				verbs = append(verbs, v)
			}
		}
	}
	if len(verbs) == 0 {
		return nil, nil, 0
	}
	for _, pr := range r.resources {
		s := policyCoveredScope(rule, pr)
		if s != 0 {
			resources = append(resources, pr.text)
			scope |= s
		}
	}
	if len(resources) == 0 {
		return nil, nil, 0
	}
	return verbs, resources, scope
}

// policyCoveredScope returns the scopes of the resources both rule and pr
// cover; 0 when they share none.
func policyCoveredScope(rule *rbacv1.PolicyRule, pr policyResource) int {
	want := pr.pattern()
	scope := 0
	for _, g := range rule.APIGroups {
		if g != "*" && pr.group != "*" && g != pr.group {
			continue
		}
		group := pr.group
		if group == "*" {
			group = g
		}
		for _, e := range rule.Resources {
			have, ok := policyRolePattern(e)
			if !ok {
				continue
			}
			if res, ok := have.intersect(want); ok {
				scope |= policyScopeOf(group, res)
			}
		}
	}
	return scope
}
