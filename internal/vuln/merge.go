package vuln

import (
	"slices"
	"sort"
	"strings"

	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/osv"
)

// merge groups the records that hit one package into flaws: two records
// are the same flaw when one's ID or aliases (including upstream IDs) meet
// the other's. Each group becomes one Match.
func merge(p inventory.Package, hits []hit) []Match {
	if len(hits) == 0 {
		return nil
	}
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, h := range hits {
		for _, id := range append([]string{h.rec.ID}, h.rec.AllAliases()...) {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	groups := map[int][]hit{}
	for i, h := range hits {
		root := find(i)
		groups[root] = append(groups[root], h)
	}
	var out []Match
	for _, g := range groups {
		out = append(out, newMatch(p, g))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func newMatch(p inventory.Package, g []hit) Match {
	m := Match{Package: p}
	ids := map[string]bool{}
	for _, h := range g {
		m.Records = append(m.Records, h.rec)
		ids[h.rec.ID] = true
		for _, a := range h.rec.AllAliases() {
			ids[a] = true
		}
		for _, f := range h.fixed {
			if !slices.Contains(m.Fixed, f) {
				m.Fixed = append(m.Fixed, f)
			}
		}
	}
	sort.Slice(m.Records, func(i, j int) bool { return m.Records[i].ID < m.Records[j].ID })
	sort.Strings(m.Fixed)
	m.ID = primaryID(m.Records, ids)
	for id := range ids {
		if id != m.ID {
			m.Aliases = append(m.Aliases, id)
		}
	}
	sort.Strings(m.Aliases)
	return m
}

// primaryID names a flaw: its CVE when the records name exactly one, else
// the smallest record ID (a DSA that fixes several CVEs stays the DSA).
func primaryID(recs []*osv.Record, ids map[string]bool) string {
	var cves []string
	for id := range ids {
		if strings.HasPrefix(id, "CVE-") {
			cves = append(cves, id)
		}
	}
	if len(cves) == 1 {
		return cves[0]
	}
	return recs[0].ID
}
