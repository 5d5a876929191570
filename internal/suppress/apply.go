package suppress

import (
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/package-url/packageurl-go"

	"github.com/kubeshield/kubeshield/internal/finding"
)

// The finding.Suppression kinds Apply sets.
const (
	// KindIgnore marks a finding an ignore file entry suppresses.
	KindIgnore = "ignore"
	// KindVEX marks a finding a VEX statement suppresses.
	KindVEX = "vex"
)

// Apply returns a copy of findings in which those that an OpenVEX
// statement or an ignore entry covers carry a Suppression, and the entries
// of ig that have expired, in file order. Findings are neither removed nor
// reordered; one already suppressed is left as it is. ig and vex may be
// nil.
//
// A finding is checked against the documents first: the latest statement
// that applies to it decides (see the package documentation), and an
// affected statement's action statement is added to its remediation. A
// finding no statement suppresses is checked against the ignore entries
// that have not expired, and the first that covers it, in file order,
// suppresses it. The result depends only on the arguments.
func Apply(findings []finding.Finding, ig *Ignore, vex []*VEX) (out []finding.Finding, expired []IgnoreEntry) {
	m := newMatcher(ig, vex)
	if ig != nil {
		for _, e := range ig.Entries {
			if e.Expired {
				expired = append(expired, e)
			}
		}
	}
	out = slices.Clone(findings)
	for i := range out {
		f := &out[i]
		if f.Suppressed != nil {
			continue
		}
		if s := m.statement(f); s != nil {
			switch s.Status {
			case NotAffected:
				f.Suppressed = &finding.Suppression{Kind: KindVEX, Reason: notAffectedReason(s)}
			case Fixed:
				f.Suppressed = &finding.Suppression{Kind: KindVEX, Reason: "fixed"}
			case Affected:
				if a := strings.TrimSpace(s.ActionStatement); a != "" {
					f.Remediation = strings.TrimSpace(f.Remediation + " VEX: " + a)
				}
			}
		}
		if f.Suppressed == nil {
			if e := m.ignoreEntry(f); e != nil {
				f.Suppressed = &finding.Suppression{Kind: KindIgnore, Reason: e.Reason}
			}
		}
	}
	return out, expired
}

// notAffectedReason is the justification and the impact statement.
func notAffectedReason(s *Statement) string {
	var parts []string
	if s.Justification != "" {
		parts = append(parts, string(s.Justification))
	}
	if is := strings.TrimSpace(s.ImpactStatement); is != "" {
		parts = append(parts, is)
	}
	return strings.Join(parts, ": ")
}

// matcher holds the entries and statements indexed by upper-case
// vulnerability ID, and the purls and references it has parsed.
type matcher struct {
	ignore     map[string][]int // indexes into entries
	entries    []IgnoreEntry
	statements map[string][]int // indexes into stmts
	stmts      []*Statement     // every statement, in argument then document order
	purls      map[string]*packageurl.PackageURL
	refs       map[string]string
}

func newMatcher(ig *Ignore, vex []*VEX) *matcher {
	m := &matcher{
		ignore: map[string][]int{}, statements: map[string][]int{},
		purls: map[string]*packageurl.PackageURL{}, refs: map[string]string{},
	}
	if ig != nil {
		m.entries = ig.Entries
		for i, e := range ig.Entries {
			if !e.Expired {
				k := strings.ToUpper(e.ID)
				m.ignore[k] = append(m.ignore[k], i)
			}
		}
	}
	for _, doc := range vex {
		if doc == nil {
			continue
		}
		for i := range doc.Statements {
			s := &doc.Statements[i]
			n := len(m.stmts)
			m.stmts = append(m.stmts, s)
			for _, id := range append([]string{s.Vulnerability.Name}, s.Vulnerability.Aliases...) {
				k := strings.ToUpper(strings.TrimSpace(id))
				if k != "" && !slices.Contains(m.statements[k], n) {
					m.statements[k] = append(m.statements[k], n)
				}
			}
		}
	}
	return m
}

// ids returns the finding's ID and aliases, upper-case.
func ids(f *finding.Finding) []string {
	out := []string{strings.ToUpper(f.RuleID)}
	for _, a := range f.Aliases {
		out = append(out, strings.ToUpper(a))
	}
	return out
}

// statement returns the latest statement that applies to f, or nil.
func (m *matcher) statement(f *finding.Finding) *Statement {
	best := -1
	var bestTime time.Time
	for _, id := range ids(f) {
		for _, n := range m.statements[id] {
			s := m.stmts[n]
			if !m.appliesTo(s, f) {
				continue
			}
			t := s.Timestamp
			if s.LastUpdated.After(t) {
				t = s.LastUpdated
			}
			// Later in time wins; on equal times, the later statement.
			if best < 0 || t.After(bestTime) || (t.Equal(bestTime) && n > best) {
				best, bestTime = n, t
			}
		}
	}
	if best < 0 {
		return nil
	}
	return m.stmts[best]
}

// appliesTo reports whether one of the statement's products is f's image
// (and, when it lists subcomponents, one is f's package), or is f's
// package itself.
func (m *matcher) appliesTo(s *Statement, f *finding.Finding) bool {
	pkgPURL := ""
	if f.Resource.Package != nil {
		pkgPURL = f.Resource.Package.PURL
	}
	for _, p := range s.Products {
		if m.isImage(p.Component, f.Resource) {
			if len(p.Subcomponents) == 0 {
				return true
			}
			for _, sc := range p.Subcomponents {
				if m.isPackage(sc, pkgPURL) {
					return true
				}
			}
			continue
		}
		if len(p.Subcomponents) == 0 && m.isPackage(p.Component, pkgPURL) {
			return true
		}
	}
	return false
}

// isImage reports whether c names the image of res: by reference, digest,
// a repository at that digest, a pkg:oci or pkg:docker purl whose version
// is the digest, or its sha-256 hash.
func (m *matcher) isImage(c Component, res finding.Resource) bool {
	if m.namesImage(c.ID, res) || m.namesImage(c.Identifiers["purl"], res) {
		return true
	}
	hex, ok := strings.CutPrefix(res.Digest, "sha256:")
	return ok && hex != "" && strings.EqualFold(c.Hashes["sha-256"], hex)
}

func (m *matcher) namesImage(id string, res finding.Resource) bool {
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return false
	case res.Image != "" && id == res.Image:
		return true
	case res.Digest != "" && (id == res.Digest || strings.HasSuffix(id, "@"+res.Digest)):
		return true
	case isPURL(id):
		p := m.purl(id)
		return p != nil && (p.Type == "oci" || p.Type == "docker") && res.Digest != "" && p.Version == res.Digest
	}
	if res.Image == "" {
		return false
	}
	a, b := m.ref(id), m.ref(res.Image)
	return a != "" && a == b
}

// isPackage reports whether c names the package whose purl is pkgPURL.
func (m *matcher) isPackage(c Component, pkgPURL string) bool {
	if pkgPURL == "" {
		return false
	}
	return m.purlCovers(c.ID, pkgPURL) || m.purlCovers(c.Identifiers["purl"], pkgPURL)
}

// purlCovers reports whether the purl general matches the more specific
// purl specific, as OpenVEX matches them: type, namespace and name equal;
// a version, when general has one, equal; every qualifier of general
// present in specific with the same value; and general's subpath, when it
// has one, equal. Anything that is not a valid purl matches nothing.
func (m *matcher) purlCovers(general, specific string) bool {
	if !isPURL(general) || !isPURL(specific) {
		return false
	}
	g, s := m.purl(general), m.purl(specific)
	if g == nil || s == nil {
		return false
	}
	if g.Type != s.Type || g.Namespace != s.Namespace || g.Name != s.Name {
		return false
	}
	if g.Version != "" && g.Version != s.Version {
		return false
	}
	if g.Subpath != "" && g.Subpath != s.Subpath {
		return false
	}
	have := s.Qualifiers.Map()
	for k, v := range g.Qualifiers.Map() {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// purl parses s once; nil when it is not a valid purl.
func (m *matcher) purl(s string) *packageurl.PackageURL {
	if p, ok := m.purls[s]; ok {
		return p
	}
	var out *packageurl.PackageURL
	if p, err := packageurl.FromString(s); err == nil {
		out = &p
	}
	m.purls[s] = out
	return out
}

// ref returns the fully qualified form of an image reference
// ("index.docker.io/library/nginx:1.25" for "nginx:1.25"), or "" when s is
// not one.
func (m *matcher) ref(s string) string {
	if r, ok := m.refs[s]; ok {
		return r
	}
	out := ""
	if r, err := name.ParseReference(s); err == nil {
		out = r.Name()
	}
	m.refs[s] = out
	return out
}

// ignoreEntry returns the first entry, in file order, that covers f, or
// nil.
func (m *matcher) ignoreEntry(f *finding.Finding) *IgnoreEntry {
	best := -1
	for _, id := range ids(f) {
		for _, i := range m.ignore[id] {
			if (best < 0 || i < best) && m.entryCovers(&m.entries[i], f) {
				best = i
			}
		}
	}
	if best < 0 {
		return nil
	}
	return &m.entries[best]
}

// entryCovers checks an entry's package and path against f.
func (m *matcher) entryCovers(e *IgnoreEntry, f *finding.Finding) bool {
	if e.Package != "" {
		p := f.Resource.Package
		if p == nil {
			return false
		}
		if isPURL(e.Package) {
			if !m.purlCovers(e.Package, p.PURL) {
				return false
			}
		} else if !nameCovers(e.Package, p) {
			return false
		}
	}
	if e.Path != "" {
		pattern := cleanPath(e.Path)
		var paths []string
		if f.Resource.Path != "" {
			paths = append(paths, f.Resource.Path)
		}
		if p := f.Resource.Package; p != nil && p.Path != "" {
			paths = append(paths, p.Path)
		}
		if !slices.ContainsFunc(paths, func(p string) bool {
			ok, _ := path.Match(pattern, cleanPath(p))
			return ok
		}) {
			return false
		}
	}
	return true
}

// nameCovers matches "name" or "name@version" against a package's name (or
// its source package's name), ignoring case.
func nameCovers(spec string, p *finding.Package) bool {
	n, version := spec, ""
	if i := strings.LastIndex(spec, "@"); i > 0 {
		n, version = spec[:i], spec[i+1:]
	}
	if !strings.EqualFold(n, p.Name) && (p.Source == "" || !strings.EqualFold(n, p.Source)) {
		return false
	}
	return version == "" || version == p.Version
}
