package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeshield/kubeshield/internal/cluster"
)

// Ref names one RBAC object: its kind (Role, ClusterRole, RoleBinding,
// ClusterRoleBinding), namespace ("" for cluster-scoped kinds) and name.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns Kind "name" or Kind "namespace/name".
func (r Ref) String() string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s %q", r.Kind, r.Name)
	}
	return fmt.Sprintf("%s %q", r.Kind, r.Namespace+"/"+r.Name)
}

// Grant is one way a request is allowed: a binding, the subject of it that
// applies, the role it refers to, and the rule of that role that allows
// the request.
type Grant struct {
	// Binding is the RoleBinding or ClusterRoleBinding.
	Binding Ref
	// Subject is the binding's subject that applies, a ServiceAccount's
	// namespace defaulted to the RoleBinding's when the binding leaves it
	// empty.
	Subject rbacv1.Subject
	// Role is the Role or ClusterRole the binding's roleRef names.
	Role Ref
	// Rule is the rule of Role that allows the request.
	Rule rbacv1.PolicyRule
	// AggregatedFrom is, when Role is an aggregated ClusterRole, the
	// ClusterRole Rule was aggregated from; "" otherwise.
	AggregatedFrom string
}

// String explains the grant in one line, in the words of the API server's
// RBAC reasons: ClusterRoleBinding "b" of ClusterRole "r" to User "u".
func (g Grant) String() string {
	subject := fmt.Sprintf("%s %q", g.Subject.Kind, g.Subject.Name)
	// The API server writes a service account as "name/namespace".
	if g.Subject.Kind == rbacv1.ServiceAccountKind {
		subject = fmt.Sprintf("%s %q", g.Subject.Kind, g.Subject.Name+"/"+g.Subject.Namespace)
	}
	s := fmt.Sprintf("%s of %s to %s, rule %s", g.Binding, g.Role, subject, compactRule(g.Rule))
	if g.AggregatedFrom != "" {
		s += fmt.Sprintf(" (aggregated from ClusterRole %q)", g.AggregatedFrom)
	}
	return s
}

// BrokenBinding is a binding whose roleRef names no existing role (or a
// kind a binding cannot refer to): it grants nothing.
type BrokenBinding struct {
	// Binding is the RoleBinding or ClusterRoleBinding.
	Binding Ref
	// RoleRef is the role it refers to.
	RoleRef Ref
	// Reason says what is wrong, such as "ClusterRole not found".
	Reason string
}

// String explains the broken binding in one line.
func (b BrokenBinding) String() string {
	return fmt.Sprintf("%s refers to %s: %s", b.Binding, b.RoleRef, b.Reason)
}

// Decision is the answer to one Request.
type Decision struct {
	// Allowed says whether RBAC allows the request.
	Allowed bool
	// Grant says what allowed it; the zero Grant when not allowed. When
	// several bindings allow a request, Grant is the first found:
	// ClusterRoleBindings by name, then the namespace's RoleBindings by
	// name, each role's rules in order.
	Grant Grant
	// Broken lists the bindings that apply to the asker and were looked
	// at but refer to no existing role, the API server's "RBAC: ...
	// not found" reasons.
	Broken []BrokenBinding
}

// Reason explains the decision in one line.
func (d Decision) Reason() string {
	if d.Allowed {
		return "RBAC: allowed by " + d.Grant.String()
	}
	if len(d.Broken) > 0 {
		s := make([]string, len(d.Broken))
		for i, b := range d.Broken {
			s[i] = b.String()
		}
		return "RBAC: no rule allows the request; broken bindings: " + strings.Join(s, "; ")
	}
	return "RBAC: no rule allows the request"
}

// Authorizer answers RBAC questions over one snapshot. It is built once by
// New and safe for concurrent use; it never changes.
type Authorizer struct {
	cluster    scope
	namespaces map[string]*scope
	broken     []BrokenBinding
}

// role is a Role or ClusterRole with its effective rules.
type role struct {
	ref   Ref
	rules []sourcedRule
}

// sourcedRule is a rule and, for an aggregated ClusterRole, the
// ClusterRole it comes from.
type sourcedRule struct {
	rule rbacv1.PolicyRule
	from string
}

// binding is a RoleBinding or ClusterRoleBinding resolved against the
// roles: role is nil when the roleRef names none.
type binding struct {
	ref      Ref
	roleRef  Ref
	subjects []rbacv1.Subject // ServiceAccount namespaces defaulted
	role     *role
}

// scope holds the bindings that apply in one place (cluster-wide, or one
// namespace) indexed by the user and group names they can match.
type scope struct {
	bindings []*binding // by name
	byUser   map[string][]int
	byGroup  map[string][]int
}

// New indexes snap's RBAC objects: it resolves aggregated ClusterRoles and
// every binding's roleRef once, so that questions are cheap. A nil snap is
// an empty cluster, where nothing is allowed. Should the snapshot hold two
// objects of one kind, namespace and name, the later one wins.
func New(snap *cluster.Snapshot) *Authorizer {
	if snap == nil {
		snap = &cluster.Snapshot{}
	}
	clusterRoles := aggregate(snap.ClusterRoles)
	roles := map[string]*role{}
	for _, r := range snap.Roles {
		roles[r.Namespace+"/"+r.Name] = &role{
			ref:   Ref{Kind: "Role", Namespace: r.Namespace, Name: r.Name},
			rules: plainRules(r.Rules),
		}
	}

	a := &Authorizer{namespaces: map[string]*scope{}}
	crbs := map[string]*binding{}
	for _, b := range snap.ClusterRoleBindings {
		ref := Ref{Kind: "ClusterRoleBinding", Name: b.Name}
		roleRef := Ref{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}
		rb := &binding{ref: ref, roleRef: roleRef, subjects: defaultSubjects(b.Subjects, "")}
		if b.RoleRef.Kind == "ClusterRole" {
			rb.role = clusterRoles[b.RoleRef.Name]
		}
		crbs[b.Name] = rb
	}
	a.cluster = newScope(crbs)

	rbs := map[string]map[string]*binding{}
	for _, b := range snap.RoleBindings {
		ref := Ref{Kind: "RoleBinding", Namespace: b.Namespace, Name: b.Name}
		roleRef := Ref{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}
		rb := &binding{ref: ref, roleRef: roleRef, subjects: defaultSubjects(b.Subjects, b.Namespace)}
		switch b.RoleRef.Kind {
		case "Role":
			rb.roleRef.Namespace = b.Namespace
			rb.role = roles[b.Namespace+"/"+b.RoleRef.Name]
		case "ClusterRole":
			rb.role = clusterRoles[b.RoleRef.Name]
		}
		if rbs[b.Namespace] == nil {
			rbs[b.Namespace] = map[string]*binding{}
		}
		rbs[b.Namespace][b.Name] = rb
	}
	for ns, m := range rbs {
		s := newScope(m)
		a.namespaces[ns] = &s
	}

	for _, s := range a.scopes() {
		for _, b := range s.bindings {
			if b.role == nil {
				a.broken = append(a.broken, brokenBinding(b))
			}
		}
	}
	return a
}

// brokenBinding describes why b grants nothing.
func brokenBinding(b *binding) BrokenBinding {
	reason := b.roleRef.Kind + " not found"
	switch {
	case b.roleRef.Kind != "Role" && b.roleRef.Kind != "ClusterRole":
		reason = fmt.Sprintf("unsupported role reference kind %q", b.roleRef.Kind)
	case b.ref.Kind == "ClusterRoleBinding" && b.roleRef.Kind == "Role":
		reason = "a ClusterRoleBinding cannot refer to a Role"
	}
	return BrokenBinding{Binding: b.ref, RoleRef: b.roleRef, Reason: reason}
}

// scopes returns the cluster scope, then the namespaces' by name.
func (a *Authorizer) scopes() []*scope {
	out := []*scope{&a.cluster}
	for _, ns := range slices.Sorted(maps.Keys(a.namespaces)) {
		out = append(out, a.namespaces[ns])
	}
	return out
}

// Broken returns the bindings that refer to no existing role and so grant
// nothing: ClusterRoleBindings first, then RoleBindings by namespace, each
// by name.
func (a *Authorizer) Broken() []BrokenBinding {
	return slices.Clone(a.broken)
}

// plainRules wraps a role's own rules.
func plainRules(rules []rbacv1.PolicyRule) []sourcedRule {
	out := make([]sourcedRule, len(rules))
	for i, r := range rules {
		out[i] = sourcedRule{rule: r}
	}
	return out
}

// defaultSubjects copies subjects, giving ServiceAccount subjects without
// a namespace the binding's namespace (nothing for a ClusterRoleBinding,
// whose such subjects then match nobody).
func defaultSubjects(subjects []rbacv1.Subject, namespace string) []rbacv1.Subject {
	out := slices.Clone(subjects)
	for i := range out {
		if out[i].Kind == rbacv1.ServiceAccountKind && out[i].Namespace == "" {
			out[i].Namespace = namespace
		}
	}
	return out
}

// newScope orders bindings by name and indexes them by the user names and
// groups their subjects match. A ServiceAccount subject matches exactly the
// user system:serviceaccount:NAMESPACE:NAME; one without a namespace
// matches nobody.
func newScope(bindings map[string]*binding) scope {
	s := scope{byUser: map[string][]int{}, byGroup: map[string][]int{}}
	for _, name := range slices.Sorted(maps.Keys(bindings)) {
		s.bindings = append(s.bindings, bindings[name])
	}
	for i, b := range s.bindings {
		for _, sub := range b.subjects {
			if user, ok := subjectUser(sub); ok {
				s.byUser[user] = appendOnce(s.byUser[user], i)
			} else if sub.Kind == rbacv1.GroupKind {
				s.byGroup[sub.Name] = appendOnce(s.byGroup[sub.Name], i)
			}
		}
	}
	return s
}

// subjectUser returns the user name a User or ServiceAccount subject
// matches.
func subjectUser(sub rbacv1.Subject) (string, bool) {
	switch sub.Kind {
	case rbacv1.UserKind:
		return sub.Name, true
	case rbacv1.ServiceAccountKind:
		if sub.Namespace == "" {
			return "", false
		}
		return ServiceAccountUser(sub.Namespace, sub.Name), true
	}
	return "", false
}

// appliesTo reports whether sub matches the user or one of the groups.
func appliesTo(sub rbacv1.Subject, user string, groups []string) bool {
	if u, ok := subjectUser(sub); ok {
		return u == user
	}
	return sub.Kind == rbacv1.GroupKind && slices.Contains(groups, sub.Name)
}

// appendOnce appends i to a list kept ascending unless it is already last.
func appendOnce(list []int, i int) []int {
	if n := len(list); n > 0 && list[n-1] == i {
		return list
	}
	return append(list, i)
}

// candidates returns, in order, the bindings of s with a subject matching
// user or one of groups, and the index of the first such subject.
func (s *scope) candidates(user string, groups []string) []applied {
	idx := slices.Clone(s.byUser[user])
	for _, g := range groups {
		idx = append(idx, s.byGroup[g]...)
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	out := make([]applied, 0, len(idx))
	for _, i := range idx {
		b := s.bindings[i]
		for j, sub := range b.subjects {
			if appliesTo(sub, user, groups) {
				out = append(out, applied{b: b, subject: j})
				break
			}
		}
	}
	return out
}

// applied is a binding and the index of its subject that applies.
type applied struct {
	b       *binding
	subject int
}

// applicable returns, in the authorizer's order, the bindings that apply
// to user and groups in namespace: every ClusterRoleBinding, then the
// namespace's RoleBindings.
func (a *Authorizer) applicable(user string, groups []string, namespace string) []applied {
	out := a.cluster.candidates(user, groups)
	if namespace != "" {
		if s := a.namespaces[namespace]; s != nil {
			out = append(out, s.candidates(user, groups)...)
		}
	}
	return out
}

// Allowed decides r as the API server's RBAC authorizer would, and says
// which binding, role and rule allowed it, or which broken bindings it met.
func (a *Authorizer) Allowed(r Request) Decision {
	var d Decision
	for _, ap := range a.applicable(r.User, r.Groups, r.namespace()) {
		b := ap.b
		if b.role == nil {
			d.Broken = append(d.Broken, brokenBinding(b))
			continue
		}
		for _, sr := range b.role.rules {
			if RuleAllows(&sr.rule, r) {
				d.Allowed = true
				d.Grant = grant(b, b.subjects[ap.subject], sr)
				return d
			}
		}
	}
	return d
}

// grant builds the Grant of rule sr of b's role to subject.
func grant(b *binding, subject rbacv1.Subject, sr sourcedRule) Grant {
	return Grant{
		Binding:        b.ref,
		Subject:        subject,
		Role:           b.role.ref,
		Rule:           sr.rule,
		AggregatedFrom: sr.from,
	}
}

// compactRule prints a rule's non-empty fields.
func compactRule(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
