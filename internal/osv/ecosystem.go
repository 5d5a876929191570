package osv

import "strings"

// SplitEcosystem splits an OSV ecosystem string at its first colon into the
// base ecosystem and the release suffix: "Debian:12" gives ("Debian", "12"),
// "Alpine:v3.20" gives ("Alpine", "v3.20"), "Ubuntu:22.04:LTS" gives
// ("Ubuntu", "22.04:LTS") and "Go" gives ("Go", "").
func SplitEcosystem(ecosystem string) (base, release string) {
	base, release, _ = strings.Cut(ecosystem, ":")
	return base, release
}

// NormalizeName returns the form of a package name that OSV compares in
// ecosystem: PEP 503 normalisation for PyPI (lower case, each run of "-",
// "_" and "." becomes one "-"), the name unchanged for every other
// ecosystem, whose names are case-sensitive.
func NormalizeName(ecosystem, name string) string {
	if base, _ := SplitEcosystem(ecosystem); base != "PyPI" {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			sep = true
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		b.WriteByte(c)
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}
