package report

import (
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"
)

// noAssertion is SPDX's "the creator makes no assertion" value.
const noAssertion = "NOASSERTION"

// license is one declared licence as the inventory recorded it, checked
// against the SPDX licence list.
type license struct {
	// raw is the licence as recorded.
	raw string
	// expr is the normalised SPDX expression, or "" when raw is not a valid
	// SPDX expression.
	expr string
	// id is true when expr is a single SPDX licence-list identifier (active
	// or deprecated).
	id bool
	// ref is true when expr refers to a LicenseRef- or DocumentRef-, which an
	// SPDX document must define.
	ref bool
}

// compound reports whether l is an expression with an operator, which needs
// parentheses when it is joined to others.
func (l license) compound() bool {
	return strings.ContainsRune(l.expr, ' ')
}

// parseLicenses checks each recorded licence, skipping blank ones and
// duplicates.
func parseLicenses(raw []string) []license {
	var out []license
	seen := make(map[string]bool, len(raw))
	for _, r := range raw {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			continue
		}
		seen[r] = true
		l := license{raw: r}
		norm, _ := spdxexp.ValidateAndNormalizeLicensesWithOptions([]string{r}, spdxexp.ValidateLicensesOptions{})
		if len(norm) == 1 {
			l.expr = norm[0]
			active, _ := spdxlicenses.IsActiveLicense(l.expr)
			deprecated, _ := spdxlicenses.IsDeprecatedLicense(l.expr)
			l.id = active || deprecated
			l.ref = strings.Contains(l.expr, "LicenseRef-") || strings.Contains(l.expr, "DocumentRef-")
		}
		out = append(out, l)
	}
	return out
}

// conjunction joins valid licences with AND, the reading of a package that
// declares several licences (each applies to some part of it). Compound
// expressions are parenthesised.
func conjunction(ls []license) string {
	if len(ls) == 1 {
		return ls[0].expr
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.expr
		if l.compound() {
			parts[i] = "(" + l.expr + ")"
		}
	}
	return strings.Join(parts, " AND ")
}

// spdxLicenseListVersion is the version of the SPDX licence list the
// licences are checked against, as major.minor.
func spdxLicenseListVersion() string {
	v := spdxlicenses.LicenseListVersion()
	if i := strings.IndexByte(v, '.'); i >= 0 {
		if j := strings.IndexByte(v[i+1:], '.'); j >= 0 {
			return v[:i+1+j]
		}
	}
	return v
}
