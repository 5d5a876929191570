package version

import (
	"fmt"
	"strings"
)

// RPM is the scheme of RPM package versions, [epoch:]version[-release],
// ordered as rpm's rpmverCmp orders them (rpmio/rpmver.cc, the comparison
// behind rpm.vercmp and dnf's labelCompare), with rpmvercmp
// (rpmio/rpmvercmp.cc) comparing each part.
//
// The string is split as rpm splits it: the epoch is a leading run of digits
// ended by ':' (an empty one, as in ":1.0", is 0), the release follows the
// last '-' after that run. A missing epoch compares as 0. A missing release
// sorts before any release, even an empty one: 1.0 < 1.0-0 and 1.0 < 1.0-.
// (rpm's dependency matching, rpmverOverlap, instead lets a side without a
// release match any release; that is a range check, not an order.)
//
// Parse returns an error wrapping [ErrInvalid] only for an empty string, the
// one string rpm.vercmp refuses, and for a string holding a NUL byte, which no
// C string can carry. Every other string is a version: characters other than
// ASCII letters, digits, '~' and '^' only separate segments.
var RPM Scheme = rpmScheme{}

type rpmScheme struct{}

// rpmVersion is a parsed RPM version.
type rpmVersion struct {
	s          string // as given to Parse
	epoch      string // "0" when absent
	version    string
	release    string
	hasRelease bool
}

// Name returns "rpm".
func (rpmScheme) Name() string { return "rpm" }

// Parse reads an RPM version. See [RPM] for what it refuses.
func (rpmScheme) Parse(s string) (Version, error) {
	if s == "" {
		return nil, fmt.Errorf("rpm version %q: empty: %w", s, ErrInvalid)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return nil, fmt.Errorf("rpm version %q: contains a NUL byte: %w", s, ErrInvalid)
	}
	v := rpmVersion{s: s, epoch: "0", version: s}
	digits := 0
	for digits < len(s) && byteIsDigit(s[digits]) {
		digits++
	}
	hyphen := strings.LastIndexByte(s[digits:], '-')
	if hyphen >= 0 {
		hyphen += digits
		v.version, v.release, v.hasRelease = s[:hyphen], s[hyphen+1:], true
	}
	if digits < len(s) && s[digits] == ':' {
		if digits > 0 {
			v.epoch = s[:digits]
		}
		v.version = v.version[digits+1:]
	}
	return v, nil
}

// String returns the version as given to Parse.
func (v rpmVersion) String() string { return v.s }

// Compare orders v and other as rpm does: epoch, version, then release, each
// with rpmvercmp; see [RPM] for a missing release. It panics if other is not
// an RPM version.
func (v rpmVersion) Compare(other Version) int {
	o, ok := other.(rpmVersion)
	if !ok {
		panic(fmt.Sprintf("version: rpm version compared with %T", other))
	}
	if c := rpmvercmp(v.epoch, o.epoch); c != 0 {
		return c
	}
	if c := rpmvercmp(v.version, o.version); c != 0 {
		return c
	}
	switch {
	case v.hasRelease && o.hasRelease:
		return rpmvercmp(v.release, o.release)
	case v.hasRelease:
		return 1
	case o.hasRelease:
		return -1
	}
	return 0
}

// rpmvercmp compares two version or release strings segment by segment.
// A segment is a run of ASCII digits or a run of ASCII letters; anything else
// only separates segments. '~' sorts before everything, even the end of the
// string; '^' sorts after the end of the string but before anything else.
// Digit segments compare as numbers of any size and sort after letter
// segments; letter segments compare byte by byte. When one string runs out
// of segments first, the other is newer.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		i = rpmSkipSeparators(a, i)
		j = rpmSkipSeparators(b, j)
		ca, cb := rpmByteAt(a, i), rpmByteAt(b, j)

		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		if ca == '^' || cb == '^' {
			switch {
			case i == len(a):
				return -1
			case j == len(b):
				return 1
			case ca != '^':
				return 1
			case cb != '^':
				return -1
			}
			i++
			j++
			continue
		}
		if i == len(a) || j == len(b) {
			break
		}

		numeric := byteIsDigit(ca)
		segA, segB := rpmSegment(a, i, numeric), rpmSegment(b, j, numeric)
		i += len(segA)
		j += len(segB)
		if segB == "" {
			// The segments are of different kinds: a number is newer.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			segA = strings.TrimLeft(segA, "0")
			segB = strings.TrimLeft(segB, "0")
			if c := trimmedDigitsCompare(segA, segB); c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(segA, segB); c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}

// rpmSkipSeparators returns the index of the first byte of s at or after i
// that is an ASCII letter or digit, '~' or '^', or len(s).
func rpmSkipSeparators(s string, i int) int {
	for i < len(s) && !byteIsDigit(s[i]) && !byteIsLetter(s[i]) && s[i] != '~' && s[i] != '^' {
		i++
	}
	return i
}

// rpmSegment returns the run of digits (numeric) or of letters starting at
// s[i], which may be empty.
func rpmSegment(s string, i int, numeric bool) string {
	j := i
	for j < len(s) && (numeric && byteIsDigit(s[j]) || !numeric && byteIsLetter(s[j])) {
		j++
	}
	return s[i:j]
}

// rpmByteAt returns s[i], or 0 past the end of s.
func rpmByteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
