package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/inventory"
)

// Scan is what a scan writer describes: the subject, its inventory, and the
// findings about it.
type Scan struct {
	// Subject is what was scanned.
	Subject Subject
	// Result holds its packages and distro; nil is an empty inventory.
	Result *inventory.Result
	// Findings are the vulnerability and rule findings about the subject,
	// in any order; suppressed findings are included and marked.
	Findings []finding.Finding
	// Tool is the program that wrote the document; an empty Name means
	// "kubeshield".
	Tool Tool
	// Created is the document timestamp, written in UTC to the second; the
	// zero time means the time of writing.
	Created time.Time
}

// normalize checks s and fills in its defaults as [SBOM] does, and sorts a
// copy of its findings with compareFindings. It returns an error wrapping
// ErrInvalidSBOM when the subject cannot be described.
func (s Scan) normalize() (Scan, error) {
	sb, err := s.sbom().normalize()
	if err != nil {
		return s, err
	}
	s.Result, s.Tool, s.Created = sb.Result, sb.Tool, sb.Created
	s.Findings = sortFindings(s.Findings)
	return s, nil
}

// sbom returns the inventory part of s.
func (s Scan) sbom() SBOM {
	return SBOM{Subject: s.Subject, Result: s.Result, Tool: s.Tool, Created: s.Created}
}

// sortFindings returns a sorted copy of fs: by severity, highest first, then
// rule ID, package (name, version, path, layer, purl), the rest of the
// resource, evidence, title, score, suppression and description, so that
// the order does not depend on the order the engines returned them in.
func sortFindings(fs []finding.Finding) []finding.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, compareFindings)
	return out
}

// compareFindings orders findings for sortFindings.
func compareFindings(a, b finding.Finding) int {
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	pa, pb := packageOf(a), packageOf(b)
	ra, rb := a.Resource, b.Resource
	return cmp.Or(
		cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(pa.Name, pb.Name),
		cmp.Compare(pa.Version, pb.Version),
		cmp.Compare(pa.Path, pb.Path),
		cmp.Compare(pa.Layer, pb.Layer),
		cmp.Compare(pa.PURL, pb.PURL),
		cmp.Compare(ra.Path, rb.Path),
		cmp.Compare(ra.Kind, rb.Kind),
		cmp.Compare(ra.Namespace, rb.Namespace),
		cmp.Compare(ra.Name, rb.Name),
		cmp.Compare(ra.Image, rb.Image),
		cmp.Compare(ra.Digest, rb.Digest),
		cmp.Compare(ra.Node, rb.Node),
		cmp.Compare(a.Evidence, b.Evidence),
		cmp.Compare(a.Title, b.Title),
		cmp.Compare(b.Score, a.Score),
		cmp.Compare(suppressionKey(a), suppressionKey(b)),
		cmp.Compare(a.Description, b.Description),
	)
}

// suppressionKey orders findings that are not suppressed before those
// that are, by kind and reason.
func suppressionKey(f finding.Finding) string {
	if f.Suppressed == nil {
		return ""
	}
	return "\x01" + f.Suppressed.Kind + "\x00" + f.Suppressed.Reason
}

// packageOf returns the package a finding is about, or the zero package.
func packageOf(f finding.Finding) finding.Package {
	if f.Resource.Package == nil {
		return finding.Package{}
	}
	return *f.Resource.Package
}

// isVulnerability reports whether f is about a vulnerability (its ID is
// the vulnerability's own) rather than a Kubeshield rule ("KS-…").
func isVulnerability(f finding.Finding) bool {
	return !strings.HasPrefix(f.RuleID, "KS-")
}

// ScanSummary counts the findings of a scan. The severity counts, like
// Findings, leave out suppressed findings.
type ScanSummary struct {
	// Findings is the number of findings that are not suppressed.
	Findings int `json:"findings"`
	// Suppressed is the number of suppressed findings.
	Suppressed int `json:"suppressed"`
	// Critical to Unknown count the findings that are not suppressed by
	// severity.
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
	Unknown  int `json:"unknown"`
}

// summarize counts fs.
func summarize(fs []finding.Finding) ScanSummary {
	var s ScanSummary
	for _, f := range fs {
		if f.Suppressed != nil {
			s.Suppressed++
			continue
		}
		s.Findings++
		switch f.Severity {
		case finding.Critical:
			s.Critical++
		case finding.High:
			s.High++
		case finding.Medium:
			s.Medium++
		case finding.Low:
			s.Low++
		case finding.Info:
			s.Info++
		default:
			s.Unknown++
		}
	}
	return s
}

// String returns the summary line of the table: "3 findings (1 critical,
// 1 high, 1 medium, 0 low), 1 suppressed". Info and unknown are listed only
// when there are some.
func (s ScanSummary) String() string {
	noun := "findings"
	if s.Findings == 1 {
		noun = "finding"
	}
	counts := []string{
		fmt.Sprintf("%d critical", s.Critical),
		fmt.Sprintf("%d high", s.High),
		fmt.Sprintf("%d medium", s.Medium),
		fmt.Sprintf("%d low", s.Low),
	}
	if s.Info > 0 {
		counts = append(counts, fmt.Sprintf("%d info", s.Info))
	}
	if s.Unknown > 0 {
		counts = append(counts, fmt.Sprintf("%d unknown", s.Unknown))
	}
	return fmt.Sprintf("%d %s (%s), %d suppressed", s.Findings, noun, strings.Join(counts, ", "), s.Suppressed)
}

// WriteScanTable writes one line per finding that is not suppressed, most
// severe first: SEVERITY, ID, PACKAGE (the affected package, or for a
// finding about a file the file's path), INSTALLED, FIXED (the fixed
// versions, comma-separated) and TITLE; "-" marks an empty cell. A blank
// line and the [ScanSummary] line follow, which count the suppressed
// findings too. The subject is not checked. WriteScanTable returns an error
// only when writing fails.
func WriteScanTable(w io.Writer, s Scan) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tID\tPACKAGE\tINSTALLED\tFIXED\tTITLE")
	for _, f := range sortFindings(s.Findings) {
		if f.Suppressed != nil {
			continue
		}
		p := packageOf(f)
		name := p.Name
		if name == "" {
			name = f.Resource.Path
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity, cell(f.RuleID), cell(name), cell(p.Version),
			cell(strings.Join(f.FixedVersions, ", ")), oneLine(f.Title))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if _, err := fmt.Fprintf(w, "\n%s\n", summarize(s.Findings)); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// cell returns s on one line, or "-" when it is empty.
func cell(s string) string {
	if s = oneLine(s); s == "" {
		return "-"
	}
	return s
}

// oneLine replaces the tabs and line breaks in s, which would break a
// table, with spaces, and trims it.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r', '\v', '\f':
			return ' '
		}
		return r
	}, s))
}

// ScanSchema names the version of Kubeshield's own scan JSON format,
// [ScanDocument].
const ScanSchema = "kubeshield.scan/v1"

// ScanDocument is Kubeshield's own JSON scan report, "kubeshield.scan/v1".
// Its JSON Schema is testdata/schema/kubeshield.scan-v1.schema.json, against
// which the tests check the output.
//
//	{
//	  "schema": "kubeshield.scan/v1",
//	  "tool": {"name": "kubeshield", "version": "1.0.0"},
//	  "created": "2025-01-02T03:04:05Z",       // UTC, to the second
//	  "subject": {"kind": "image", "name": "…", "digest": "sha256:…", …},
//	  "distro": {"id": "debian", "versionID": "12", …},  // or null
//	  "findings": [                             // finding.Finding, sorted
//	    {"ruleID": "CVE-…", "severity": "HIGH", "score": 7.8, "title": "…",
//	     "resource": {"kind": "Image", "image": "…",
//	                  "package": {"name": "libc6", "version": "…", …}},
//	     "fixedVersions": ["…"], "references": ["https://…"],
//	     "suppressed": {"kind": "vex", "reason": "…"}}   // when suppressed
//	  ],
//	  "summary": {"findings": 4, "suppressed": 1, "critical": 0, "high": 2,
//	              "medium": 1, "low": 1, "info": 0, "unknown": 0}
//	}
//
// The subject is as in [InventoryDocument]. Findings include the suppressed
// ones, each with its suppression; they are sorted by severity (highest
// first), rule ID, package and resource, so the same scan always gives the
// same document. Summary counts them as [ScanSummary] says. Empty optional
// fields are left out; findings is [] when there are none.
type ScanDocument struct {
	Schema   string            `json:"schema"`
	Tool     jsonTool          `json:"tool"`
	Created  string            `json:"created"`
	Subject  jsonSubject       `json:"subject"`
	Distro   *inventory.Distro `json:"distro"`
	Findings []finding.Finding `json:"findings"`
	Summary  ScanSummary       `json:"summary"`
}

// WriteScanJSON writes s as an indented [ScanDocument]. It returns an error
// wrapping [ErrInvalidSBOM] when s has no valid subject, and the error of w
// when writing fails.
func WriteScanJSON(w io.Writer, s Scan) error {
	s, err := s.normalize()
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	doc := ScanDocument{
		Schema:   ScanSchema,
		Tool:     jsonTool{Name: s.Tool.Name, Version: s.Tool.Version},
		Created:  s.Created.Format(time.RFC3339),
		Subject:  subjectJSON(s.Subject),
		Distro:   s.Result.Distro,
		Findings: s.Findings,
		Summary:  summarize(s.Findings),
	}
	if doc.Findings == nil {
		doc.Findings = []finding.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// subjectJSON describes a subject as the JSON documents do.
func subjectJSON(sub Subject) jsonSubject {
	return jsonSubject(sub)
}
