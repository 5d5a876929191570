// Package osv holds the Open Source Vulnerability (OSV) schema as Go types
// and a bounded, strict parser for OSV JSON records
// (https://ossf.github.io/osv-schema/).
//
// Parsing is deterministic and has no side effects: [Parse] turns bytes into
// a [Record] or an error that names the record and the field at fault. It
// does not compare versions; the version package does that, and the
// vulnerability matcher applies a record's ranges to installed packages.
package osv

import (
	"encoding/json"
	"slices"
	"time"
)

// Record is one OSV vulnerability record.
type Record struct {
	// SchemaVersion is the OSV schema version the record follows ("1.7.0").
	SchemaVersion string `json:"schema_version,omitempty"`
	// ID is the record's identifier in its home database ("GO-2024-2687").
	ID string `json:"id"`
	// Modified is when the record last changed. golang/vulndb's files carry
	// the zero time (0001-01-01T00:00:00Z) here until publication.
	Modified time.Time `json:"modified"`
	// Published is when the record was first published, or zero.
	Published time.Time `json:"published,omitzero"`
	// Withdrawn is when the record was withdrawn, or zero; see
	// [Record.IsWithdrawn].
	Withdrawn time.Time `json:"withdrawn,omitzero"`
	// Aliases are IDs of the same vulnerability in other databases.
	Aliases []string `json:"aliases,omitempty"`
	// Upstream are IDs of the vulnerabilities this record derives from
	// (a DSA's CVEs, for example).
	Upstream []string `json:"upstream,omitempty"`
	// Related are IDs of closely related but distinct vulnerabilities.
	Related []string `json:"related,omitempty"`
	// Summary is a one-line description.
	Summary string `json:"summary,omitempty"`
	// Details is a longer description, in CommonMark.
	Details string `json:"details,omitempty"`
	// Severity are the record-wide severity scores.
	Severity []Severity `json:"severity,omitempty"`
	// Affected lists the affected packages and their version ranges.
	Affected []Affected `json:"affected,omitempty"`
	// References are links to advisories, fixes and reports.
	References []Reference `json:"references,omitempty"`
	// Credits name the people and tools credited for the finding.
	Credits []Credit `json:"credits,omitempty"`
	// DatabaseSpecific is the home database's own data, kept as JSON.
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is one severity score.
type Severity struct {
	// Type is the scoring system: "CVSS_V2", "CVSS_V3", "CVSS_V4" or
	// "Ubuntu". Other values are kept as they are.
	Type string `json:"type"`
	// Score is the vector or the rating ("CVSS:3.1/AV:N/...", "high").
	Score string `json:"score"`
}

// Affected is one affected package with the versions it is vulnerable in.
type Affected struct {
	// Package names the package. It is zero when the entry only describes
	// GIT ranges of a repository.
	Package Package `json:"package,omitzero"`
	// Severity is the score for this package alone; OSV forbids it when the
	// record has a record-wide Severity.
	Severity []Severity `json:"severity,omitempty"`
	// Ranges are the affected version ranges.
	Ranges []Range `json:"ranges,omitempty"`
	// Versions lists affected versions explicitly; they match by string
	// equality.
	Versions []string `json:"versions,omitempty"`
	// EcosystemSpecific is ecosystem-defined data (Go's imported symbols).
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	// DatabaseSpecific is the home database's data about this entry.
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Package identifies a package in an ecosystem.
type Package struct {
	// Ecosystem is the ecosystem, with a release suffix where the ecosystem
	// has releases ("Go", "PyPI", "Debian:12", "Alpine:v3.20"); see
	// [SplitEcosystem].
	Ecosystem string `json:"ecosystem"`
	// Name is the package name as the ecosystem spells it (PyPI names are
	// PEP 503 normalised; see [NormalizeName]).
	Name string `json:"name"`
	// Purl is the package URL without a version, if the record gives one.
	Purl string `json:"purl,omitempty"`
}

// RangeType says how the versions of a range's events are ordered.
type RangeType string

// The range types of the OSV schema.
const (
	// Semver ranges order versions by SemVer 2.0 precedence.
	Semver RangeType = "SEMVER"
	// Ecosystem ranges order versions by the ecosystem's own rules (dpkg,
	// apk, rpm, PEP 440...).
	Ecosystem RangeType = "ECOSYSTEM"
	// Git ranges hold commit hashes of the range's Repo.
	Git RangeType = "GIT"
)

// Range is one range of affected versions, given as a list of events.
type Range struct {
	// Type is the range type; Parse accepts only Semver, Ecosystem and
	// Git.
	Type RangeType `json:"type"`
	// Repo is the repository URL of a Git range.
	Repo string `json:"repo,omitempty"`
	// Events are the range's events in the order the record gives them;
	// evaluate them with the schema's algorithm
	// (https://ossf.github.io/osv-schema/#evaluation).
	Events []Event `json:"events"`
	// DatabaseSpecific is the home database's data about this range.
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// EventKind is the kind of a range event.
type EventKind string

// The event kinds of the OSV schema.
const (
	// Introduced starts an affected span; "0" means before every version.
	Introduced EventKind = "introduced"
	// Fixed ends an affected span before this version.
	Fixed EventKind = "fixed"
	// LastAffected ends an affected span after this version.
	LastAffected EventKind = "last_affected"
	// Limit bounds a Git range; "*" means no limit.
	Limit EventKind = "limit"
)

// Event is one range event: exactly one kind and its version. In JSON it is
// an object with one key, {"fixed": "1.2.3"}.
type Event struct {
	// Kind is the event's kind.
	Kind EventKind
	// Version is the version (or commit hash) the event happens at.
	Version string
}

// Reference is a link about the vulnerability.
type Reference struct {
	// Type is the kind of link ("ADVISORY", "FIX", "WEB"...).
	Type string `json:"type"`
	// URL is the link.
	URL string `json:"url"`
}

// Credit names someone credited for the vulnerability's discovery or fix.
type Credit struct {
	// Name is the credited person's or organisation's name.
	Name string `json:"name"`
	// Contact lists ways to reach them (URLs, e-mail addresses).
	Contact []string `json:"contact,omitempty"`
	// Type is the kind of credit ("FINDER", "REPORTER"...).
	Type string `json:"type,omitempty"`
}

// IsWithdrawn reports whether the record has been withdrawn; scanners
// ignore withdrawn records.
func (r *Record) IsWithdrawn() bool { return !r.Withdrawn.IsZero() }

// AllAliases returns the IDs that name the same vulnerability as r: its
// aliases, then its upstream IDs (a DSA's CVEs), without duplicates and
// without r's own ID, in the order the record lists them. (The field
// Aliases holds the aliases alone, as the record gives them.)
func (r *Record) AllAliases() []string {
	var out []string
	for _, ids := range [][]string{r.Aliases, r.Upstream} {
		for _, id := range ids {
			if id != "" && id != r.ID && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// Matches reports whether p names the package name in ecosystem. The base
// ecosystems must be equal; an ecosystem with a release ("Debian:12")
// matches a package of that release and a package of the base ecosystem
// without a release ("Debian"), which OSV applies to every release. Names
// are compared after [NormalizeName].
func (p Package) Matches(ecosystem, name string) bool {
	base, release := SplitEcosystem(ecosystem)
	pbase, prelease := SplitEcosystem(p.Ecosystem)
	if base != pbase || (prelease != "" && prelease != release) {
		return false
	}
	return NormalizeName(p.Ecosystem, p.Name) == NormalizeName(ecosystem, name)
}
