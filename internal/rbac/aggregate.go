package rbac

import (
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// aggregate returns the ClusterRoles by name with the rules the
// clusterrole-aggregation controller leaves them. An aggregated
// ClusterRole (one with an aggregationRule) gets the union, without
// duplicates, of the rules of every other ClusterRole one of its selectors
// matches, its own rules replaced; but when that union is empty the
// controller writes nothing and the role keeps its own rules. Aggregated
// roles that match aggregated roles are resolved in passes over the roles
// by name until nothing changes, as the controller's updates do: chains
// resolve fully, and cycles of roles without rules of their own resolve
// to the union of what flows into the cycle (a cycle whose roles have
// rules of their own ends, in the controller too, in an order-dependent
// state; the passes stop after as many rounds as there are roles). An
// aggregationRule with a selector that does not parse is one the
// controller gives up on: the role keeps its rules.
func aggregate(crs []rbacv1.ClusterRole) map[string]*role {
	byName := map[string]*rbacv1.ClusterRole{}
	for i := range crs {
		byName[crs[i].Name] = &crs[i]
	}
	names := slices.Sorted(maps.Keys(byName))

	out := map[string]*role{}
	// sources[n] lists, for aggregated role n, the roles it aggregates.
	sources := map[string][]string{}
	var aggregated []string
	for _, n := range names {
		cr := byName[n]
		out[n] = &role{ref: Ref{Kind: "ClusterRole", Name: n}}
		sel, ok := selectors(cr.AggregationRule)
		if !ok {
			out[n].rules = plainRules(cr.Rules)
			continue
		}
		var src []string
		for _, s := range sel {
			for _, m := range names {
				if m != n && s.Matches(labels.Set(byName[m].Labels)) && !slices.Contains(src, m) {
					src = append(src, m)
				}
			}
		}
		sources[n] = src
		aggregated = append(aggregated, n)
	}

	for range len(aggregated) + 2 {
		changed := false
		for _, n := range aggregated {
			var rules []sourcedRule
			seen := map[string]bool{}
			for _, m := range sources[n] {
				for _, sr := range out[m].rules {
					k := ruleKey(sr.rule)
					if seen[k] {
						continue
					}
					seen[k] = true
					if sr.from == "" {
						sr.from = m
					}
					rules = append(rules, sr)
				}
			}
			if len(rules) == 0 {
				rules = plainRules(byName[n].Rules)
			}
			if !sameRules(rules, out[n].rules) {
				out[n].rules = rules
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return out
}

// sameRules reports whether a and b hold the same rules in the same order.
func sameRules(a, b []sourcedRule) bool {
	return slices.EqualFunc(a, b, func(x, y sourcedRule) bool {
		return x.from == y.from && ruleKey(x.rule) == ruleKey(y.rule)
	})
}

// selectors parses an aggregationRule's selectors; ok is false when the
// role is not aggregated or a selector does not parse. An empty selector
// matches every role.
func selectors(ar *rbacv1.AggregationRule) ([]labels.Selector, bool) {
	if ar == nil {
		return nil, false
	}
	out := make([]labels.Selector, 0, len(ar.ClusterRoleSelectors))
	for i := range ar.ClusterRoleSelectors {
		s, err := metav1.LabelSelectorAsSelector(&ar.ClusterRoleSelectors[i])
		if err != nil {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// ruleKey identifies a rule by the content of its fields, so that equal
// rules aggregate once.
func ruleKey(r rbacv1.PolicyRule) string {
	var b strings.Builder
	for _, list := range [][]string{r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs} {
		for _, v := range list {
			b.WriteString(v)
			b.WriteByte(0)
		}
		b.WriteByte(1)
	}
	return b.String()
}
