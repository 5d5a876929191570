package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubeshield/kubeshield/internal/finding"
)

// sarifSchemaURI is the $schema of the SARIF documents: the $id of the
// OASIS SARIF 2.1.0 schema (errata 01), against which the tests validate.
const sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// informationURI is the home page of the tool, and rulesURI the reference
// of its rules, to which a rule ID in lower case is the anchor.
const (
	informationURI = "https://github.com/kubeshield/kubeshield"
	rulesURI       = informationURI + "/blob/main/docs/rules.md#"
)

// fingerprintKey names the partial fingerprint the SARIF writer computes;
// the version changes if the computation does.
const fingerprintKey = "kubeshield/v1"

// WriteSARIF writes s to w as a SARIF 2.1.0 log with one run, in the subset
// that GitHub code scanning accepts.
//
// Each distinct rule or vulnerability ID is a rule (sorted by ID) with a
// short and full description, help text and markdown that give the
// remediation and references, a helpUri (the first reference, or the
// rule's section of docs/rules.md for a Kubeshield rule), and the
// properties GitHub reads: tags ("security" and the ecosystems of the
// affected packages) and security-severity (the highest CVSS score of the
// rule's findings, else 9.0, 7.0, 4.0 or 0.1 for a critical, high, medium
// or low severity; none for info and unknown).
//
// Each finding is a result, in the order of [ScanDocument], with level
// error (critical, high), warning (medium) or note (others); a message
// naming the package, its installed and fixed versions; and one location,
// as GitHub requires: the file that records the package, else the file the
// finding is about, else the image reference (or the subject's name),
// percent-encoded as a relative URI reference, with region line 1. Its
// partial fingerprint "kubeshield/v1" is a hash of the rule ID, the
// package's purl and that path (and, for a finding without a package, its
// evidence, which tells apart findings of one rule about one image), so
// that uploading a new scan updates the same alerts. Suppressed findings
// are results with a suppression of kind "external", status "accepted" and
// the reason as justification; every other result has an empty
// suppressions array, as the specification asks of a run where
// suppressions were evaluated. The run's invocation ends at s.Created, and
// its properties name the subject ("kubeshield:subject:kind", "…:name",
// "…:digest").
//
// WriteSARIF returns an error wrapping [ErrInvalidSBOM] when s has no
// valid subject, and the error of w when writing fails.
func WriteSARIF(w io.Writer, s Scan) error {
	s, err := s.normalize()
	if err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	rules, index := sarifRules(s.Findings)
	results := make([]sarifResult, len(s.Findings))
	for i, f := range s.Findings {
		results[i] = sarifResultOf(f, index[f.RuleID], s.Subject)
	}
	log := sarifLog{
		Schema:  sarifSchemaURI,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           s.Tool.Name,
				Version:        s.Tool.Version,
				InformationURI: informationURI,
				Rules:          rules,
			}},
			Invocations: []sarifInvocation{{
				ExecutionSuccessful: true,
				EndTimeUTC:          s.Created.Format(time.RFC3339),
			}},
			Results: results,
			Properties: sarifRunProperties{
				SubjectKind:   string(s.Subject.Kind),
				SubjectName:   s.Subject.Name,
				SubjectDigest: s.Subject.Digest,
			},
		}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("encode sarif: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// The SARIF 2.1.0 objects the writer uses, with only the properties it
// fills. Optional properties are left out when empty; suppressions is
// always written, empty when a result is not suppressed.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool          `json:"tool"`
		Invocations []sarifInvocation  `json:"invocations"`
		Results     []sarifResult      `json:"results"`
		Properties  sarifRunProperties `json:"properties"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool   `json:"executionSuccessful"`
		EndTimeUTC          string `json:"endTimeUtc"`
	}
	sarifRunProperties struct {
		SubjectKind   string `json:"kubeshield:subject:kind"`
		SubjectName   string `json:"kubeshield:subject:name"`
		SubjectDigest string `json:"kubeshield:subject:digest,omitempty"`
	}
	sarifRule struct {
		ID                   string              `json:"id"`
		ShortDescription     sarifMessage        `json:"shortDescription"`
		FullDescription      sarifMessage        `json:"fullDescription"`
		DefaultConfiguration sarifConfiguration  `json:"defaultConfiguration"`
		HelpURI              string              `json:"helpUri,omitempty"`
		Help                 sarifMessage        `json:"help"`
		Properties           sarifRuleProperties `json:"properties"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifRuleProperties struct {
		Tags             []string `json:"tags"`
		SecuritySeverity string   `json:"security-severity,omitempty"`
	}
	sarifMessage struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifMessage       `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Region           sarifRegion           `json:"region"`
	}
	sarifArtifactLocation struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifSuppression struct {
		Kind          string                     `json:"kind"`
		Status        string                     `json:"status"`
		Justification string                     `json:"justification,omitempty"`
		Properties    sarifSuppressionProperties `json:"properties"`
	}
	sarifSuppressionProperties struct {
		// Kind is the finding.Suppression kind: "ignore" or "vex".
		Kind string `json:"kubeshield:suppression"`
	}
)

// sarifRules describes the distinct rules of sorted findings, sorted by
// ID, and returns the index of each rule by ID.
func sarifRules(fs []finding.Finding) ([]sarifRule, map[string]int) {
	byID := map[string][]finding.Finding{}
	var ids []string
	for _, f := range fs {
		if _, ok := byID[f.RuleID]; !ok {
			ids = append(ids, f.RuleID)
		}
		byID[f.RuleID] = append(byID[f.RuleID], f)
	}
	slices.Sort(ids)
	rules := make([]sarifRule, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		rules[i] = sarifRuleOf(id, byID[id])
		index[id] = i
	}
	return rules, index
}

// sarifRuleOf describes rule id from its findings, most severe first.
func sarifRuleOf(id string, fs []finding.Finding) sarifRule {
	var (
		title, description string
		remediations, refs []string
		tags               = []string{"security"}
		score              float64
	)
	for _, f := range fs {
		if title == "" {
			title = oneLine(f.Title)
		}
		if description == "" {
			description = strings.TrimSpace(f.Description)
		}
		if r := strings.TrimSpace(f.Remediation); r != "" && !slices.Contains(remediations, r) {
			remediations = append(remediations, r)
		}
		for _, ref := range f.References {
			if isWebURL(ref) && !slices.Contains(refs, ref) {
				refs = append(refs, ref)
			}
		}
		if p := f.Resource.Package; p != nil && p.Ecosystem != "" && !slices.Contains(tags, p.Ecosystem) {
			tags = append(tags, p.Ecosystem)
		}
		score = max(score, f.Score)
	}
	if title == "" {
		title = id
	}
	if description == "" {
		description = title
	}
	slices.Sort(tags[1:])
	severity := fs[0].Severity // the findings are sorted, most severe first

	text := description
	markdown := "**" + id + "**: " + title + "\n\n" + description
	if len(remediations) > 0 {
		text += "\n\nRemediation: " + strings.Join(remediations, " ")
		markdown += "\n\n**Remediation:** " + strings.Join(remediations, " ")
	}
	if len(refs) > 0 {
		markdown += "\n\n**References:**\n"
		for _, ref := range refs {
			markdown += "\n- <" + ref + ">"
		}
	}
	r := sarifRule{
		ID:                   id,
		ShortDescription:     sarifMessage{Text: title},
		FullDescription:      sarifMessage{Text: description},
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(severity)},
		Help:                 sarifMessage{Text: text, Markdown: markdown},
		Properties:           sarifRuleProperties{Tags: tags, SecuritySeverity: securitySeverity(severity, score)},
	}
	switch {
	case len(refs) > 0:
		r.HelpURI = refs[0]
	case !isVulnerability(fs[0]):
		r.HelpURI = rulesURI + strings.ToLower(id)
	}
	return r
}

// sarifResultOf describes one finding of the rule at ruleIndex.
func sarifResultOf(f finding.Finding, ruleIndex int, sub Subject) sarifResult {
	path := artifactPath(f, sub)
	p := packageOf(f)
	fp := []string{f.RuleID, p.PURL, path}
	if f.Resource.Package == nil {
		fp = append(fp, f.Evidence)
	}
	res := sarifResult{
		RuleID:    f.RuleID,
		RuleIndex: ruleIndex,
		Level:     sarifLevel(f.Severity),
		Message:   sarifMessage{Text: sarifText(f)},
		Locations: []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{
			ArtifactLocation: sarifArtifactLocation{URI: uriReference(path)},
			// GitHub requires a region; a package or image has no line, so
			// the finding is on the first.
			Region: sarifRegion{StartLine: 1},
		}}},
		PartialFingerprints: map[string]string{fingerprintKey: shortHash(fp...)},
		Suppressions:        []sarifSuppression{},
	}
	if sup := f.Suppressed; sup != nil {
		res.Suppressions = append(res.Suppressions, sarifSuppression{
			Kind:          "external",
			Status:        "accepted",
			Justification: sup.Reason,
			Properties:    sarifSuppressionProperties{Kind: sup.Kind},
		})
	}
	return res
}

// sarifText is the message of a result: for a package, "PACKAGE VERSION is
// affected by ID: TITLE. Fixed in VERSIONS." (or "No fixed version is
// known."); for anything else the title and, in parentheses, the evidence.
func sarifText(f finding.Finding) string {
	title := strings.TrimSuffix(oneLine(f.Title), ".")
	p := f.Resource.Package
	if p == nil {
		text := title
		if text == "" {
			text = f.RuleID
		}
		if e := oneLine(f.Evidence); e != "" {
			text += " (" + e + ")"
		}
		return text + "."
	}
	text := p.Name + " " + p.Version + " is affected by " + f.RuleID
	if title != "" {
		text += ": " + title
	}
	if len(f.FixedVersions) > 0 {
		return text + ". Fixed in " + strings.Join(f.FixedVersions, ", ") + "."
	}
	return text + ". No fixed version is known."
}

// artifactPath is the path of the location of a finding: the file that
// records its package, the file it is about, or else the image it is
// about or the subject, without a leading slash.
func artifactPath(f finding.Finding, sub Subject) string {
	for _, p := range []string{packageOf(f).Path, f.Resource.Path, f.Resource.Image, sub.Name} {
		if p = strings.TrimLeft(p, "/"); p != "" {
			return p
		}
	}
	return "."
}

// uriReference percent-encodes a path as a relative URI reference
// (RFC 3986): every byte that may not appear in a path segment is encoded,
// and so is a colon in the first segment, as in an image reference
// ("nginx:1.25"), which would otherwise read as a URI scheme.
func uriReference(path string) string {
	var b strings.Builder
	first := true
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '/':
			first = false
		case c == ':' && first, !isPathChar(c):
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isPathChar reports whether c may appear as itself in a URI path segment:
// an unreserved character, a sub-delimiter, ':' or '@'.
func isPathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

// isWebURL reports whether s is an absolute http or https URL.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// sarifLevel maps a severity to a result level.
func sarifLevel(s finding.Severity) string {
	switch s {
	case finding.Critical, finding.High:
		return "error"
	case finding.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the security-severity property of GitHub code
// scanning: the CVSS score if there is one, else a score in the band of
// the severity; "" (none) for info and unknown.
func securitySeverity(s finding.Severity, score float64) string {
	if score > 0 {
		return strconv.FormatFloat(score, 'f', 1, 64)
	}
	switch s {
	case finding.Critical:
		return "9.0"
	case finding.High:
		return "7.0"
	case finding.Medium:
		return "4.0"
	case finding.Low:
		return "0.1"
	}
	return ""
}
