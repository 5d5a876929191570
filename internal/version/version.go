// Package version orders the versions of each package ecosystem exactly as
// the ecosystem's own tools do: dpkg, apk, rpm, SemVer 2 (Go modules with
// +incompatible and pseudo-versions, npm, crates.io), PEP 440 (PyPI), Maven's
// ComparableVersion, RubyGems' Gem::Version and NuGet.
//
// A [Scheme] parses version strings of one ecosystem into [Version] values;
// parse once, compare many times (the vulnerability matcher compares each
// installed version with every range event of every record).
package version

import "errors"

// ErrInvalid is wrapped by the errors of Parse for strings that are not
// versions of the scheme.
var ErrInvalid = errors.New("invalid version")

// Scheme parses the versions of one ecosystem.
type Scheme interface {
	// Name is the scheme's name ("dpkg", "semver", "pep440").
	Name() string
	// Parse reads a version. It returns an error wrapping ErrInvalid for a
	// string the ecosystem's tools would refuse.
	Parse(s string) (Version, error)
}

// Version is a parsed version of one scheme.
type Version interface {
	// Compare returns -1, 0 or +1 as the version sorts before, equal to or
	// after other, which must come from the same scheme (it panics
	// otherwise: mixing schemes is a programming error).
	Compare(other Version) int
	// String returns the version as it was parsed.
	String() string
}

// Compare parses a and b with s and compares them.
func Compare(s Scheme, a, b string) (int, error) {
	va, err := s.Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := s.Parse(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}
