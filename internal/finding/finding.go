// Package finding defines the one result type every engine returns: a
// Finding, with a stable rule ID, a severity, the resource it is about, the
// evidence seen and a remediation. Every output format and the server speak
// this type.
package finding

import (
	"fmt"
	"strings"
)

// Severity ranks findings. The zero value is Unknown.
type Severity int

// The severities, in increasing order.
const (
	Unknown Severity = iota
	Info
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"UNKNOWN", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// String returns the upper-case name ("HIGH").
func (s Severity) String() string {
	if s < Unknown || s > Critical {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name in any case. It returns an error for
// an unknown name.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return Unknown, fmt.Errorf("unknown severity %q (want one of %s)", name, strings.Join(severityNames[:], ", "))
}

// MarshalText writes the name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Resource is what a finding is about. Fields that do not apply are empty.
type Resource struct {
	// Kind is "Image", "Package", "Pod", "Node", "File" or a Kubernetes kind.
	Kind string `json:"kind"`
	// Namespace and Name identify a Kubernetes object.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Image is the image reference as scanned, Digest its manifest digest.
	Image  string `json:"image,omitempty"`
	Digest string `json:"digest,omitempty"`
	// Package is the package a vulnerability affects.
	Package *Package `json:"package,omitempty"`
	// Path is a file path inside an image or on a node.
	Path string `json:"path,omitempty"`
	// Node is the node a host finding is about.
	Node string `json:"node,omitempty"`
}

// Package identifies an affected package and where it was found.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	PURL      string `json:"purl,omitempty"`
	// Source is the source package of an OS package.
	Source string `json:"source,omitempty"`
	// Path and Layer locate the file that records the package.
	Path  string `json:"path,omitempty"`
	Layer string `json:"layer,omitempty"`
}

// Finding is one result of an engine.
type Finding struct {
	// RuleID is stable: a Kubeshield rule ("KS-IMG-001") or a vulnerability
	// ID ("CVE-2024-1234", "GHSA-…").
	RuleID string `json:"ruleID"`
	// Aliases are other IDs of the same vulnerability.
	Aliases []string `json:"aliases,omitempty"`
	// Severity ranks the finding.
	Severity Severity `json:"severity"`
	// Score is the CVSS base score when one was computed, else 0.
	Score float64 `json:"score,omitempty"`
	// Title is one line.
	Title string `json:"title"`
	// Description says more, when there is more to say.
	Description string `json:"description,omitempty"`
	// Resource is what the finding is about.
	Resource Resource `json:"resource"`
	// Evidence is what was seen, exactly.
	Evidence string `json:"evidence,omitempty"`
	// Remediation says how to fix it.
	Remediation string `json:"remediation,omitempty"`
	// FixedVersions are the versions that fix a vulnerability, if any.
	FixedVersions []string `json:"fixedVersions,omitempty"`
	// References are URLs about the finding.
	References []string `json:"references,omitempty"`
	// Suppressed, when set, says why the finding is not counted (an ignore
	// rule or a VEX statement); it is still reported.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Suppression records why a finding does not count.
type Suppression struct {
	// Kind is "ignore" or "vex".
	Kind string `json:"kind"`
	// Reason is the ignore rule's reason or the VEX justification.
	Reason string `json:"reason"`
}

// Rule describes a Kubeshield rule (KS-…): the text shared by all its
// findings. docs/rules.md is generated from the rules.
type Rule struct {
	ID          string
	Severity    Severity
	Title       string
	Description string
	Remediation string
	// References are URLs that explain the rule; its findings carry them.
	References []string
}

// New returns a finding of rule r about res with the evidence seen.
func (r Rule) New(res Resource, evidence string) Finding {
	return Finding{
		RuleID: r.ID, Severity: r.Severity, Title: r.Title, Description: r.Description,
		Remediation: r.Remediation, Resource: res, Evidence: evidence, References: r.References,
	}
}
