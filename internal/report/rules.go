package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubeshield/kubeshield/internal/finding"
)

// WriteRulesMarkdown writes the reference of Kubeshield's rules, one
// section per rule, in the order given. docs/rules.md is this output.
func WriteRulesMarkdown(w io.Writer, rules []finding.Rule) error {
	var b strings.Builder
	b.WriteString("# Rules\n\n")
	b.WriteString("Generated from the code (`go test ./internal/cli -run TestRulesDoc -update`); do not edit by hand.\n")
	b.WriteString("Vulnerability findings carry the vulnerability's own ID (CVE, GHSA, …) instead of a rule ID.\n\n")
	b.WriteString("| ID | severity | title |\n|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Severity, r.Title)
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "\n## %s\n\n**%s** (%s)\n\n%s\n\n**Remediation:** %s\n", r.ID, r.Title, r.Severity, r.Description, r.Remediation)
		if len(r.References) > 0 {
			b.WriteString("\n**References:**")
			for _, ref := range r.References {
				fmt.Fprintf(&b, " <%s>", ref)
			}
			b.WriteString("\n")
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}
