package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// String explains the path: a line naming where it starts and what it
// reaches, then one line per step with its technique, nodes, explanation,
// the grants that allow it and what it assumes.
func (p Path) String() string {
	var b strings.Builder
	if len(p.Steps) == 0 {
		fmt.Fprintf(&b, "%s already reaches %s", p.From, p.Target)
		if p.Grant.Binding.Kind != "" {
			fmt.Fprintf(&b, ": %s", pathGrantString(p.Grant))
		}
		return b.String()
	}
	steps := "steps"
	if len(p.Steps) == 1 {
		steps = "step"
	}
	fmt.Fprintf(&b, "%s reaches %s in %d %s:", p.From, p.Target, len(p.Steps), steps)
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "\n  %d. %s -> %s [%s]: %s", i+1, s.From, s.To, s.Technique, s.Explanation)
		var grants []string
		for _, g := range append([]Grant{s.Grant}, s.Also...) {
			if g.Binding.Kind != "" {
				grants = append(grants, pathGrantString(g))
			}
		}
		if len(grants) > 0 {
			fmt.Fprintf(&b, "; allowed by %s", strings.Join(grants, "; and "))
		}
		if s.Assumes != "" {
			fmt.Fprintf(&b, "; assumes %s", s.Assumes)
		}
	}
	if last := p.Last(); last.Kind != ClusterAdminNode && last.Kind != HostsNode && p.Grant.Binding.Kind != "" {
		fmt.Fprintf(&b, "\n  then %s: %s", p.Target, pathGrantString(p.Grant))
	}
	return b.String()
}

// pathGrantString is g.String(), or for the grant of a binding the
// attacker creates (no name) the binding's kind and where, and the rule.
func pathGrantString(g Grant) string {
	if g.Binding.Name != "" {
		return g.String()
	}
	where := ""
	if g.Binding.Namespace != "" {
		where = " in namespace " + g.Binding.Namespace
	}
	s := fmt.Sprintf("a new %s%s of %s, rule %s", g.Binding.Kind, where, g.Role, compactRule(g.Rule))
	if g.AggregatedFrom != "" {
		s += fmt.Sprintf(" (aggregated from ClusterRole %q)", g.AggregatedFrom)
	}
	return s
}

// DOT draws paths as a Graphviz digraph: a node per identity, role set
// and target, an edge per step labelled with its technique, and an edge
// labelled "holds" from a path's last node to its target when that node
// is not the target itself. Nodes and edges are listed once each, sorted,
// so the same paths give the same text.
func DOT(paths []Path) string {
	type edge struct{ from, to, label string }
	labels := map[string]string{}
	shapes := map[string]string{}
	edges := map[edge]bool{}
	node := func(n Node) string {
		id := n.ID()
		labels[id] = n.String()
		switch n.Kind {
		case RolesNode:
			shapes[id] = "box, style=dashed"
		case HostsNode, ClusterAdminNode:
			shapes[id] = "doubleoctagon"
		default:
			shapes[id] = "box"
		}
		return id
	}
	for _, p := range paths {
		last := node(Node{Kind: IdentityNode, Identity: p.From})
		for _, s := range p.Steps {
			from, to := node(s.From), node(s.To)
			edges[edge{from, to, s.Technique}] = true
			last = to
		}
		target := string(p.Target)
		if last != target {
			if _, ok := labels[target]; !ok || shapes[target] != "doubleoctagon" {
				labels[target] = target
				shapes[target] = "doubleoctagon"
			}
			edges[edge{last, target, "holds"}] = true
		}
	}

	var b strings.Builder
	b.WriteString("digraph \"escalation paths\" {\n\trankdir=LR;\n")
	for _, id := range slices.Sorted(maps.Keys(labels)) {
		fmt.Fprintf(&b, "\t%s [label=%s, shape=%s];\n", pathQuote(id), pathQuote(labels[id]), shapes[id])
	}
	sorted := slices.SortedFunc(maps.Keys(edges), func(x, y edge) int {
		return strings.Compare(x.from+"\x00"+x.to+"\x00"+x.label, y.from+"\x00"+y.to+"\x00"+y.label)
	})
	for _, e := range sorted {
		fmt.Fprintf(&b, "\t%s -> %s [label=%s];\n", pathQuote(e.from), pathQuote(e.to), pathQuote(e.label))
	}
	b.WriteString("}\n")
	return b.String()
}

// pathQuote makes s a DOT double-quoted string: backslashes and quotes
// escaped, line breaks as \n.
func pathQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}
