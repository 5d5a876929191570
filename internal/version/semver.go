package version

import (
	"fmt"
	"strings"
)

// SemVer is the scheme of Semantic Versioning 2.0.0
// (https://semver.org/#spec-item-11), the order of Go modules, npm and
// crates.io and of OSV's SEMVER ranges.
//
// Parse accepts MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] as the specification's
// grammar defines it (numeric identifiers without leading zeros, identifiers
// of [0-9A-Za-z-], none empty), with two additions:
//   - an optional leading "v", as Go module versions and npm's parser have
//     ("V" is refused, as both refuse it);
//   - the shorthands "1" and "1.2" (with or without "v") for 1.0.0 and
//     1.2.0, as Go's golang.org/x/mod/semver reads them; like Go, a shorthand
//     may carry no prerelease and no build metadata. OSV data has a few such
//     bounds; npm's strict parser would refuse them.
//
// Everything else is refused with an error wrapping [ErrInvalid], including
// white space, npm's "=" prefix and "V". Numbers may have any number of
// digits and compare exactly (npm stops at 2^53-1, Go does not).
//
// Compare follows the specification's precedence: major, minor and patch
// numerically, a version without prerelease after one with it, prerelease
// identifiers left to right with numeric identifiers compared numerically
// and before alphanumeric ones, which compare in ASCII order, and a shorter
// list of identifiers first when all others are equal. Build metadata is
// ignored, so Go's "+incompatible" does not change the order, and Go's
// pseudo-versions (v0.0.0-20191109021931-daa7c04131f5) are ordinary
// prereleases. Go toolchain bounds from OSV such as "1.22.0-0" parse as
// 1.22.0 with the prerelease "0".
//
// String returns the version as given to Parse; its Canonical method returns
// MAJOR.MINOR.PATCH[-PRERELEASE], without "v" and build metadata.
var SemVer Scheme = semverScheme{}

type semverScheme struct{}

type semverVersion struct {
	s                   string
	major, minor, patch string // decimal digits without leading zeros
	pre                 []string
}

// Name returns "semver".
func (semverScheme) Name() string { return "semver" }

// Parse reads a SemVer 2.0.0 version. See [SemVer] for what it accepts.
func (semverScheme) Parse(s string) (Version, error) {
	v := semverVersion{s: s}
	rest := strings.TrimPrefix(s, "v")
	core, pre, hasPre, build, hasBuild := semverSplit(rest)
	parts := strings.Split(core, ".")
	if len(parts) > 3 {
		return nil, fmt.Errorf("semver version %q: more than three numbers: %w", s, ErrInvalid)
	}
	if len(parts) < 3 && (hasPre || hasBuild) {
		return nil, fmt.Errorf("semver version %q: a shorthand with prerelease or build metadata: %w", s, ErrInvalid)
	}
	for i, p := range parts {
		if !semverNumeric(p) {
			return nil, fmt.Errorf("semver version %q: %q is not a number without leading zeros: %w", s, p, ErrInvalid)
		}
		switch i {
		case 0:
			v.major = p
		case 1:
			v.minor = p
		case 2:
			v.patch = p
		}
	}
	if v.minor == "" {
		v.minor = "0"
	}
	if v.patch == "" {
		v.patch = "0"
	}
	if hasPre {
		v.pre = strings.Split(pre, ".")
		for _, id := range v.pre {
			if !semverIdentifier(id) {
				return nil, fmt.Errorf("semver version %q: bad prerelease identifier %q: %w", s, id, ErrInvalid)
			}
			if semverAllDigits(id) && !semverNumeric(id) {
				return nil, fmt.Errorf("semver version %q: numeric prerelease identifier %q has a leading zero: %w", s, id, ErrInvalid)
			}
		}
	}
	if hasBuild {
		for _, id := range strings.Split(build, ".") {
			if !semverIdentifier(id) {
				return nil, fmt.Errorf("semver version %q: bad build identifier %q: %w", s, id, ErrInvalid)
			}
		}
	}
	return v, nil
}

// semverSplit cuts s at the first "-" (prerelease) and the first "+" after
// it (build metadata). A "+" before any "-" starts the build metadata, which
// may itself contain "-".
func semverSplit(s string) (core, pre string, hasPre bool, build string, hasBuild bool) {
	core = s
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		core = s[:i]
		rest := s[i:]
		if rest[0] == '-' {
			rest = rest[1:]
			hasPre = true
			pre = rest
			if j := strings.IndexByte(rest, '+'); j >= 0 {
				pre, rest = rest[:j], rest[j:]
			} else {
				rest = ""
			}
		}
		if rest != "" { // starts with '+'
			build, hasBuild = rest[1:], true
		}
	}
	return core, pre, hasPre, build, hasBuild
}

// semverNumeric reports whether s is "0" or digits without a leading zero.
func semverNumeric(s string) bool {
	return semverAllDigits(s) && (s == "0" || s[0] != '0')
}

// semverAllDigits reports whether s is a non-empty run of ASCII digits.
func semverAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// semverIdentifier reports whether s is a non-empty run of [0-9A-Za-z-].
func semverIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// cmpDecimalDigits compares two digit strings without leading zeros as
// numbers.
func cmpDecimalDigits(a, b string) int {
	switch {
	case len(a) != len(b):
		if len(a) < len(b) {
			return -1
		}
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String returns the version as given to Parse.
func (v semverVersion) String() string { return v.s }

// Canonical returns MAJOR.MINOR.PATCH[-PRERELEASE]: the version without a
// leading "v" and build metadata, shorthands completed with zeros.
func (v semverVersion) Canonical() string {
	c := v.major + "." + v.minor + "." + v.patch
	if v.pre != nil {
		c += "-" + strings.Join(v.pre, ".")
	}
	return c
}

// Compare orders v and other by SemVer 2.0.0 precedence. It panics if other
// is not a SemVer version.
func (v semverVersion) Compare(other Version) int {
	o, ok := other.(semverVersion)
	if !ok {
		panic(fmt.Sprintf("version: semver version compared with %T", other))
	}
	if c := cmpDecimalDigits(v.major, o.major); c != 0 {
		return c
	}
	if c := cmpDecimalDigits(v.minor, o.minor); c != 0 {
		return c
	}
	if c := cmpDecimalDigits(v.patch, o.patch); c != 0 {
		return c
	}
	switch {
	case v.pre == nil && o.pre == nil:
		return 0
	case v.pre == nil:
		return 1
	case o.pre == nil:
		return -1
	}
	for i := 0; i < len(v.pre) && i < len(o.pre); i++ {
		if c := semverCompareIdentifier(v.pre[i], o.pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.pre) < len(o.pre):
		return -1
	case len(v.pre) > len(o.pre):
		return 1
	}
	return 0
}

// semverCompareIdentifier compares two prerelease identifiers: numeric ones
// as numbers and before alphanumeric ones, which compare in ASCII order.
func semverCompareIdentifier(a, b string) int {
	an, bn := semverAllDigits(a), semverAllDigits(b)
	switch {
	case an && bn:
		return cmpDecimalDigits(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}
