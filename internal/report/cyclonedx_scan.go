package report

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/inventory"
)

// WriteCycloneDXScan writes s to w as a CycloneDX 1.6 JSON document: the
// document [WriteCycloneDX] writes for s.Subject and s.Result, plus one
// entry in vulnerabilities for each vulnerability finding (Kubeshield rule
// findings, "KS-…", are left out), in the order of [ScanDocument].
//
// An entry has the vulnerability ID and its source (NVD for a CVE, GitHub
// for a GHSA, OSV otherwise), the other IDs as references, one rating
// (severity, the CVSS score when there is one, method "other"), the
// description (else the title), the remediation as recommendation (else an
// upgrade to the fixed versions), the references as advisories, and in
// affects the bom-ref of the component of the affected package, with the
// installed version affected and the fixed versions unaffected. The
// component is the inventory package with the finding's purl and a
// location with the finding's path and layer (else the same path, else the
// same purl); a finding whose package is not in the inventory has no
// affects.
//
// A suppressed finding carries a VEX analysis with its reason as detail,
// and its installed version is unaffected. A VEX statement gives state
// "not_affected", with the justification when the reason is a CycloneDX,
// OpenVEX or CSAF justification ("code_not_present",
// "vulnerable_code_not_in_execute_path"…), or "resolved" when the reason
// is "fixed"; an ignore rule gives "false_positive", the user having said
// that the finding does not apply.
//
// Entries have a bom-ref "vuln-" and 16 hex digits of a hash of the ID and
// the affected package; the serial number is derived from the whole
// document as in [WriteCycloneDX], so the same input gives byte-identical
// output.
//
// WriteCycloneDXScan returns an error wrapping [ErrInvalidSBOM] when s has
// no valid subject, and the error of w when writing fails.
func WriteCycloneDXScan(w io.Writer, s Scan) error {
	s, err := s.normalize()
	if err != nil {
		return fmt.Errorf("cyclonedx: %w", err)
	}
	bom, refs := cycloneDXBOM(s.sbom())
	bom.Vulnerabilities = optional(cycloneDXVulnerabilities(s.Findings, newComponentIndex(s.Result.Packages, refs)))
	return writeCycloneDX(w, bom)
}

// componentIndex finds the bom-ref of the component of a finding's
// package.
type componentIndex struct {
	exact, byPath, byPURL map[string]string
}

// newComponentIndex indexes packages, whose bom-refs are refs. Where two
// packages share a key, the first keeps it.
func newComponentIndex(pkgs []inventory.Package, refs []string) componentIndex {
	ix := componentIndex{exact: map[string]string{}, byPath: map[string]string{}, byPURL: map[string]string{}}
	add := func(m map[string]string, key, ref string) {
		if _, ok := m[key]; !ok {
			m[key] = ref
		}
	}
	for i, p := range pkgs {
		if p.PURL == "" {
			continue
		}
		for _, l := range p.Locations {
			add(ix.exact, p.PURL+"\x00"+l.Path+"\x00"+l.Layer, refs[i])
			add(ix.byPath, p.PURL+"\x00"+l.Path, refs[i])
		}
		add(ix.byPURL, p.PURL, refs[i])
	}
	return ix
}

// ref returns the bom-ref of the component of p, or "" when there is none.
func (ix componentIndex) ref(p *finding.Package) string {
	if p == nil || p.PURL == "" {
		return ""
	}
	if r, ok := ix.exact[p.PURL+"\x00"+p.Path+"\x00"+p.Layer]; ok {
		return r
	}
	if r, ok := ix.byPath[p.PURL+"\x00"+p.Path]; ok && p.Path != "" {
		return r
	}
	return ix.byPURL[p.PURL]
}

// cycloneDXVulnerabilities describes the vulnerability findings among
// sorted findings.
func cycloneDXVulnerabilities(fs []finding.Finding, ix componentIndex) []cdx.Vulnerability {
	var out []cdx.Vulnerability
	seen := map[string]bool{}
	for _, f := range fs {
		if !isVulnerability(f) {
			continue
		}
		p := packageOf(f)
		ref := ix.ref(f.Resource.Package)
		id := "vuln-" + shortHash(f.RuleID, ref, p.PURL, p.Path, p.Layer)
		if seen[id] {
			n := 2
			for seen[id+"-"+strconv.Itoa(n)] {
				n++
			}
			id += "-" + strconv.Itoa(n)
		}
		seen[id] = true
		out = append(out, cycloneDXVulnerability(f, id, ref))
	}
	return out
}

// cycloneDXVulnerability describes one vulnerability finding whose package
// is the component ref ("" for none).
func cycloneDXVulnerability(f finding.Finding, bomRef, ref string) cdx.Vulnerability {
	// A finding does not say which CVSS version gave its score, so the
	// method is "other", which the encoder would also write for none.
	rating := cdx.VulnerabilityRating{Severity: cycloneDXSeverity[f.Severity], Method: cdx.ScoringMethodOther}
	if f.Score > 0 {
		score := f.Score
		rating.Score = &score
	}
	v := cdx.Vulnerability{
		BOMRef:         bomRef,
		ID:             f.RuleID,
		Source:         vulnerabilitySource(f.RuleID),
		Ratings:        &[]cdx.VulnerabilityRating{rating},
		Description:    strings.TrimSpace(f.Description),
		Recommendation: recommendation(f),
		Analysis:       cycloneDXAnalysis(f.Suppressed),
	}
	if v.Description == "" {
		v.Description = oneLine(f.Title)
	}
	var aliases []cdx.VulnerabilityReference
	for _, a := range f.Aliases {
		if a != "" && a != f.RuleID {
			aliases = append(aliases, cdx.VulnerabilityReference{ID: a, Source: vulnerabilitySource(a)})
		}
	}
	v.References = optional(aliases)
	var advisories []cdx.Advisory
	for _, r := range f.References {
		if isWebURL(r) {
			advisories = append(advisories, cdx.Advisory{URL: r})
		}
	}
	v.Advisories = optional(advisories)
	if ref != "" {
		v.Affects = &[]cdx.Affects{{Ref: ref, Range: affectedVersions(f)}}
	}
	return v
}

// cycloneDXSeverity maps severities to CycloneDX ratings.
var cycloneDXSeverity = map[finding.Severity]cdx.Severity{
	finding.Unknown:  cdx.SeverityUnknown,
	finding.Info:     cdx.SeverityInfo,
	finding.Low:      cdx.SeverityLow,
	finding.Medium:   cdx.SeverityMedium,
	finding.High:     cdx.SeverityHigh,
	finding.Critical: cdx.SeverityCritical,
}

// vulnerabilitySource names the database that publishes a vulnerability
// ID, with the ID's page there.
func vulnerabilitySource(id string) *cdx.Source {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(id, "GHSA-"):
		return &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/" + id}
	}
	return &cdx.Source{Name: "OSV", URL: "https://osv.dev/vulnerability/" + url.PathEscape(id)}
}

// recommendation is the remediation of a finding or, when it has none, an
// upgrade to its fixed versions.
func recommendation(f finding.Finding) string {
	if r := strings.TrimSpace(f.Remediation); r != "" {
		return r
	}
	if p := f.Resource.Package; p != nil && len(f.FixedVersions) > 0 {
		return "Upgrade " + p.Name + " to " + strings.Join(f.FixedVersions, " or ") + "."
	}
	return ""
}

// affectedVersions lists the installed version, affected unless the
// finding is suppressed, and the fixed versions, unaffected.
func affectedVersions(f finding.Finding) *[]cdx.AffectedVersions {
	var vs []cdx.AffectedVersions
	if p := packageOf(f); p.Version != "" {
		status := cdx.VulnerabilityStatusAffected
		if f.Suppressed != nil {
			status = cdx.VulnerabilityStatusNotAffected
		}
		vs = append(vs, cdx.AffectedVersions{Version: p.Version, Status: status})
	}
	for _, v := range f.FixedVersions {
		if v != "" {
			vs = append(vs, cdx.AffectedVersions{Version: v, Status: cdx.VulnerabilityStatusNotAffected})
		}
	}
	return optional(vs)
}

// cycloneDXAnalysis describes a suppression as a VEX analysis; nil for
// none.
func cycloneDXAnalysis(sup *finding.Suppression) *cdx.VulnerabilityAnalysis {
	if sup == nil {
		return nil
	}
	a := &cdx.VulnerabilityAnalysis{State: cdx.IASFalsePositive, Detail: sup.Reason}
	if sup.Kind != "vex" {
		return a
	}
	token := strings.ToLower(strings.TrimSpace(sup.Reason))
	if token == "fixed" || token == "resolved" {
		a.State = cdx.IASResolved
		return a
	}
	a.State = cdx.IASNotAffected
	a.Justification = vexJustification[token]
	return a
}

// vexJustification maps the CycloneDX justifications, and those of
// OpenVEX and CSAF, to CycloneDX.
var vexJustification = map[string]cdx.ImpactAnalysisJustification{
	"code_not_present":                                  cdx.IAJCodeNotPresent,
	"code_not_reachable":                                cdx.IAJCodeNotReachable,
	"requires_configuration":                            cdx.IAJRequiresConfiguration,
	"requires_dependency":                               cdx.IAJRequiresDependency,
	"requires_environment":                              cdx.IAJRequiresEnvironment,
	"protected_by_compiler":                             cdx.IAJProtectedByCompiler,
	"protected_at_runtime":                              cdx.IAJProtectedAtRuntime,
	"protected_at_perimeter":                            cdx.IAJProtectedAtPerimeter,
	"protected_by_mitigating_control":                   cdx.IAJProtectedByMitigatingControl,
	"component_not_present":                             cdx.IAJCodeNotPresent,
	"vulnerable_code_not_present":                       cdx.IAJCodeNotPresent,
	"vulnerable_code_not_in_execute_path":               cdx.IAJCodeNotReachable,
	"vulnerable_code_cannot_be_controlled_by_adversary": cdx.IAJProtectedByMitigatingControl,
	"inline_mitigations_already_exist":                  cdx.IAJProtectedByMitigatingControl,
}
