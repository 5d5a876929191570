package vuln

import (
	"encoding/json"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/osv"
)

// Findings turns matches into findings about the image (or directory)
// described by subject; each finding's resource is subject with the
// affected package filled in.
func Findings(matches []Match, subject finding.Resource) []finding.Finding {
	out := make([]finding.Finding, 0, len(matches))
	for _, m := range matches {
		sev, score := severity(m.Records)
		res := subject
		p := m.Package
		fp := &finding.Package{Name: p.Name, Version: p.Version, Ecosystem: string(p.Ecosystem), PURL: p.PURL}
		if p.Source != nil {
			fp.Source = p.Source.Name
		}
		if len(p.Locations) > 0 {
			fp.Path, fp.Layer = p.Locations[0].Path, p.Locations[0].Layer
		}
		res.Package = fp
		f := finding.Finding{
			RuleID:        m.ID,
			Aliases:       m.Aliases,
			Severity:      sev,
			Score:         score,
			Title:         title(m),
			Description:   strings.TrimSpace(m.Records[0].Details),
			Resource:      res,
			Evidence:      "installed " + p.Name + " " + p.Version,
			FixedVersions: m.Fixed,
		}
		if len(m.Fixed) > 0 {
			f.Remediation = "Upgrade " + p.Name + " to " + strings.Join(m.Fixed, " or ") + "."
		} else {
			f.Remediation = "No fixed version is known yet."
		}
		for _, r := range m.Records {
			for _, ref := range r.References {
				if ref.URL != "" && !contains(f.References, ref.URL) {
					f.References = append(f.References, ref.URL)
				}
			}
		}
		out = append(out, f)
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func title(m Match) string {
	for _, r := range m.Records {
		if r.Summary != "" {
			return r.Summary
		}
	}
	return m.ID + " in " + m.Package.Name
}

// severity is the highest severity the records give: computed from their
// CVSS vectors (v4, v3.x, v2) when they have any, else the database's own
// rating (GHSA's database_specific.severity, Ubuntu's priority).
func severity(recs []*osv.Record) (finding.Severity, float64) {
	best, bestScore := finding.Unknown, 0.0
	for _, r := range recs {
		sevs := r.Severity
		for _, a := range r.Affected {
			sevs = append(sevs, a.Severity...)
		}
		for _, s := range sevs {
			score, ok := cvssScore(s)
			if ok && score > bestScore {
				bestScore = score
			}
			if !ok && s.Type == "Ubuntu" {
				if v, err := finding.ParseSeverity(s.Score); err == nil && v > best {
					best = v
				}
			}
		}
		if v := databaseSeverity(r.DatabaseSpecific); v > best {
			best = v
		}
	}
	if bestScore > 0 {
		return fromScore(bestScore), bestScore
	}
	return best, 0
}

// cvssScore computes the base score of a CVSS vector.
func cvssScore(s osv.Severity) (float64, bool) {
	switch {
	case strings.HasPrefix(s.Score, "CVSS:4.0/"):
		c, err := gocvss40.ParseVector(s.Score)
		if err != nil {
			return 0, false
		}
		return c.Score(), true
	case strings.HasPrefix(s.Score, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(s.Score)
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	case strings.HasPrefix(s.Score, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(s.Score)
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	case s.Type == "CVSS_V2":
		c, err := gocvss20.ParseVector(s.Score)
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	}
	return 0, false
}

// fromScore maps a CVSS base score to the qualitative rating of the CVSS
// specification.
func fromScore(score float64) finding.Severity {
	switch {
	case score >= 9.0:
		return finding.Critical
	case score >= 7.0:
		return finding.High
	case score >= 4.0:
		return finding.Medium
	case score > 0:
		return finding.Low
	}
	return finding.Unknown
}

// databaseSeverity reads database_specific.severity ("HIGH", "MODERATE").
func databaseSeverity(raw json.RawMessage) finding.Severity {
	if len(raw) == 0 {
		return finding.Unknown
	}
	var ds struct {
		Severity string `json:"severity"`
	}
	if json.Unmarshal(raw, &ds) != nil {
		return finding.Unknown
	}
	if strings.EqualFold(ds.Severity, "MODERATE") {
		return finding.Medium
	}
	v, err := finding.ParseSeverity(ds.Severity)
	if err != nil {
		return finding.Unknown
	}
	return v
}
