package rbac

import (
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// RuleSet is what a user may do in a namespace, as a
// SelfSubjectRulesReview reports it.
type RuleSet struct {
	// Resource lists the rules that name resources.
	Resource []authorizationv1.ResourceRule
	// NonResource lists the rules that name non-resource URLs.
	NonResource []authorizationv1.NonResourceRule
	// Grants lists every rule with the binding and role it comes from,
	// in the authorizer's order; Subject is the binding's subject that
	// applies.
	Grants []Grant
	// Broken lists the bindings that apply but refer to no existing role.
	Broken []BrokenBinding
}

// Rules returns every rule that applies to user with exactly groups in
// namespace: those of the roles of all the ClusterRoleBindings and, when
// namespace is not "", of that namespace's RoleBindings. Like the API
// server's SelfSubjectRulesReview, a rule naming both resources and
// non-resource URLs is listed in both Resource and NonResource, and rules
// are not merged.
func (a *Authorizer) Rules(user string, groups []string, namespace string) RuleSet {
	var rs RuleSet
	for _, ap := range a.applicable(user, groups, namespace) {
		b := ap.b
		if b.role == nil {
			rs.Broken = append(rs.Broken, brokenBinding(b))
			continue
		}
		for _, sr := range b.role.rules {
			rs.Grants = append(rs.Grants, grant(b, b.subjects[ap.subject], sr))
			if len(sr.rule.Resources) > 0 {
				rs.Resource = append(rs.Resource, authorizationv1.ResourceRule{
					Verbs:         sr.rule.Verbs,
					APIGroups:     sr.rule.APIGroups,
					Resources:     sr.rule.Resources,
					ResourceNames: sr.rule.ResourceNames,
				})
			}
			if len(sr.rule.NonResourceURLs) > 0 {
				rs.NonResource = append(rs.NonResource, authorizationv1.NonResourceRule{
					Verbs:           sr.rule.Verbs,
					NonResourceURLs: sr.rule.NonResourceURLs,
				})
			}
		}
	}
	return rs
}

// Allows reports whether one of the set's rules allows r, ignoring who
// asks and where (the set was made for one user and namespace).
func (rs RuleSet) Allows(r Request) bool {
	for i := range rs.Grants {
		if RuleAllows(&rs.Grants[i].Rule, r) {
			return true
		}
	}
	return false
}

// WhoCan returns every subject that a binding lets make request r, the
// asker's User and Groups ignored: for each ClusterRoleBinding and, when
// r has a namespace, each RoleBinding of that namespace whose role has a
// rule allowing r, one Grant per distinct User, Group or ServiceAccount
// subject (ServiceAccount namespaces defaulted; ServiceAccount subjects
// of ClusterRoleBindings without a namespace, and subjects of other
// kinds, match nobody and are left out). Grants come in the authorizer's
// order with the first allowing rule of each binding's role. Groups are
// not expanded: a grant to system:serviceaccounts:NS stands for every
// service account of NS.
func (a *Authorizer) WhoCan(r Request) []Grant {
	var out []Grant
	scopes := []*scope{&a.cluster}
	if ns := r.namespace(); ns != "" && a.namespaces[ns] != nil {
		scopes = append(scopes, a.namespaces[ns])
	}
	for _, s := range scopes {
		for _, b := range s.bindings {
			if b.role == nil {
				continue
			}
			for _, sr := range b.role.rules {
				if !RuleAllows(&sr.rule, r) {
					continue
				}
				seen := map[rbacv1.Subject]bool{}
				for _, sub := range b.subjects {
					key := rbacv1.Subject{Kind: sub.Kind, Namespace: sub.Namespace, Name: sub.Name}
					if seen[key] || !matchesSomeone(sub) {
						continue
					}
					seen[key] = true
					out = append(out, grant(b, sub, sr))
				}
				break
			}
		}
	}
	return out
}

// matchesSomeone reports whether a (defaulted) subject can match a user.
func matchesSomeone(sub rbacv1.Subject) bool {
	if _, ok := subjectUser(sub); ok {
		return true
	}
	return sub.Kind == rbacv1.GroupKind
}
