// Package peer reads the output of Kubeshield and of the peer scanners it
// is compared with (osv-scanner) into one shape, and compares them: the
// differential tests and the benchmarks share it.
package peer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Groups maps a package key (see Key) to the ID sets of its
// vulnerabilities: one set per Kubeshield finding (its ID and aliases) or
// per osv-scanner group. A key with a nil value is a package the tool
// listed without vulnerabilities.
type Groups map[string][][]string

// Count is the number of ID sets.
func (g Groups) Count() int {
	n := 0
	for _, v := range g {
		n += len(v)
	}
	return n
}

// Vulnerable is the number of packages with at least one ID set.
func (g Groups) Vulnerable() int {
	n := 0
	for _, v := range g {
		if len(v) > 0 {
			n++
		}
	}
	return n
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// Key names a package the same way for every tool: the base ecosystem, the
// name (PEP 503 for PyPI) and the version as installed (without Go's "v").
func Key(ecosystem, name, version string) string {
	base, _, _ := strings.Cut(ecosystem, ":")
	switch base {
	case "PyPI":
		name = pep503.ReplaceAllString(strings.ToLower(name), "-")
	case "Go":
		version = strings.TrimPrefix(version, "v")
	}
	return base + " " + name + " " + version
}

// KubeshieldGroups reads `kubeshield image scan -o json` (kubeshield.scan/v1);
// findings without a package (image rules) are left out.
func KubeshieldGroups(out []byte) (Groups, error) {
	var doc struct {
		Findings []struct {
			RuleID   string   `json:"ruleID"`
			Aliases  []string `json:"aliases"`
			Resource struct {
				Package *struct{ Name, Version, Ecosystem string }
			}
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("parse kubeshield json: %w", err)
	}
	g := Groups{}
	for _, f := range doc.Findings {
		p := f.Resource.Package
		if p == nil {
			continue
		}
		k := Key(p.Ecosystem, p.Name, p.Version)
		g[k] = append(g[k], append([]string{f.RuleID}, f.Aliases...))
	}
	return g, nil
}

// OSVScannerGroups reads osv-scanner's JSON output: every package it
// listed, with its groups (IDs and aliases). Debian packages are keyed by
// their source name, as osv-scanner reports them (os_package_name).
func OSVScannerGroups(out []byte) (Groups, error) {
	var doc struct {
		Results []struct {
			Packages []struct {
				Package struct {
					Name          string `json:"name"`
					OSPackageName string `json:"os_package_name"`
					Version       string `json:"version"`
					Ecosystem     string `json:"ecosystem"`
				} `json:"package"`
				Groups []struct {
					IDs     []string `json:"ids"`
					Aliases []string `json:"aliases"`
				} `json:"groups"`
			} `json:"packages"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("parse osv-scanner json: %w", err)
	}
	g := Groups{}
	for _, r := range doc.Results {
		for _, p := range r.Packages {
			name := p.Package.Name
			if p.Package.OSPackageName != "" {
				name = p.Package.OSPackageName
			}
			k := Key(p.Package.Ecosystem, name, p.Package.Version)
			if _, ok := g[k]; !ok {
				g[k] = nil
			}
			for _, gr := range p.Groups {
				g[k] = append(g[k], append(slices.Clone(gr.IDs), gr.Aliases...))
			}
		}
	}
	return g, nil
}

// Difference is a vulnerability one tool reports and the other does not.
type Difference struct {
	// Side is "kubeshield" or "osv-scanner": who reports it.
	Side string
	// Package is the package key.
	Package string
	// IDs are the vulnerability's IDs and aliases, sorted.
	IDs []string
}

// Compare returns the differences between ks (Kubeshield) and peer
// (osv-scanner), sorted by package, and notes where the tools group the
// same IDs differently (one finding meeting several groups, or the
// reverse), which is not a difference in what is found.
func Compare(ks, peer Groups) ([]Difference, []string) {
	var (
		diffs []Difference
		info  []string
	)
	keys := map[string]bool{}
	for k := range ks {
		keys[k] = true
	}
	for k := range peer {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		for _, a := range ks[k] {
			switch n := meets(a, peer[k]); {
			case n == 0:
				diffs = append(diffs, Difference{Side: "kubeshield", Package: k, IDs: sortedSet(a)})
			case n > 1:
				info = append(info, fmt.Sprintf("%s: kubeshield merges into one finding what osv-scanner reports as %d groups: %v", k, n, sortedSet(a)))
			}
		}
		for _, b := range peer[k] {
			switch n := meets(b, ks[k]); {
			case n == 0:
				diffs = append(diffs, Difference{Side: "osv-scanner", Package: k, IDs: sortedSet(b)})
			case n > 1:
				info = append(info, fmt.Sprintf("%s: osv-scanner groups into one what kubeshield reports as %d findings: %v", k, n, sortedSet(b)))
			}
		}
	}
	return diffs, info
}

// meets counts the sets of others that share an ID with s.
func meets(s []string, others [][]string) int {
	n := 0
	for _, o := range others {
		for _, id := range s {
			if slices.Contains(o, id) {
				n++
				break
			}
		}
	}
	return n
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
