package version

import (
	"fmt"
	"strings"
)

// Gem is the scheme of RubyGems versions, parsed and ordered as RubyGems'
// Gem::Version (https://docs.ruby-lang.org/en/master/Gem/Version.html).
//
// Parse accepts what Gem::Version.correct? accepts: digits, then any number
// of "." followed by ASCII letters and digits, then optionally "-" and
// dot-separated runs of letters, digits and "-", with white space (space,
// tab, line feed, vertical tab, form feed, carriage return) around it. An
// empty or blank string is version "0". Anything else is refused with an
// error wrapping [ErrInvalid], as Gem::Version.new raises ArgumentError.
//
// As Gem::Version does, every "-" is read as ".pre.", the version is cut into
// segments (runs of digits, compared as numbers of any size, and runs of
// letters, compared byte by byte and case-sensitively), and a version with a
// letter is a prerelease: a letter segment sorts before any number, so
// 1.0.a < 1.0 and 1.0.0-1 < 1. Before comparing, trailing zero segments are
// dropped from the release part (up to the first letter segment) and from
// the prerelease part separately (Gem::Version#canonical_segments), so 1.0 ==
// 1 and 1.2.pre.1 == 1.2.0.pre.1.0; a missing segment then compares as 0.
//
// String returns the version as given to Parse.
var Gem Scheme = gemScheme{}

type gemScheme struct{}

type gemVersion struct {
	s         string
	version   string // Gem::Version#version: stripped, "-" as ".pre."
	canonical []gemSegment
}

// gemSegment is a run of digits (num, without leading zeros) or of letters.
type gemSegment struct {
	isStr bool
	s     string
}

// Name returns "gem".
func (gemScheme) Name() string { return "gem" }

// Parse reads a RubyGems version. See [Gem] for what it accepts.
func (gemScheme) Parse(s string) (Version, error) {
	t := strings.Trim(s, " \t\n\v\f\r")
	if t == "" {
		t = "0"
	}
	if err := gemCheck(t); err != nil {
		return nil, fmt.Errorf("gem version %q: %w", s, err)
	}
	version := strings.ReplaceAll(t, "-", ".pre.")
	return gemVersion{s: s, version: version, canonical: gemCanonical(gemSegments(version))}, nil
}

// gemCheck matches Gem::Version's pattern
// [0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)? against all of t.
func gemCheck(t string) error {
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	isAlnum := func(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
	run := func(i int, in func(byte) bool) int {
		j := i
		for j < len(t) && in(t[j]) {
			j++
		}
		return j
	}
	i := run(0, isDigit)
	if i == 0 {
		return fmt.Errorf("does not start with a digit: %w", ErrInvalid)
	}
	for i < len(t) && t[i] == '.' {
		j := run(i+1, isAlnum)
		if j == i+1 {
			return fmt.Errorf("empty segment at offset %d: %w", i+1, ErrInvalid)
		}
		i = j
	}
	if i < len(t) && t[i] == '-' {
		isPre := func(c byte) bool { return isAlnum(c) || c == '-' }
		j := run(i+1, isPre)
		if j == i+1 {
			return fmt.Errorf("empty prerelease at offset %d: %w", i+1, ErrInvalid)
		}
		i = j
		for i < len(t) && t[i] == '.' {
			j := run(i+1, isPre)
			if j == i+1 {
				return fmt.Errorf("empty segment at offset %d: %w", i+1, ErrInvalid)
			}
			i = j
		}
	}
	if i != len(t) {
		return fmt.Errorf("unexpected %q at offset %d: %w", t[i:], i, ErrInvalid)
	}
	return nil
}

// gemSegments is Gem::Version#segments: the runs of digits and of letters.
func gemSegments(v string) []gemSegment {
	var segs []gemSegment
	for i := 0; i < len(v); {
		c := v[i]
		j := i
		switch {
		case '0' <= c && c <= '9':
			for j < len(v) && '0' <= v[j] && v[j] <= '9' {
				j++
			}
			n := strings.TrimLeft(v[i:j], "0")
			if n == "" {
				n = "0"
			}
			segs = append(segs, gemSegment{s: n})
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			for j < len(v) && ('a' <= v[j] && v[j] <= 'z' || 'A' <= v[j] && v[j] <= 'Z') {
				j++
			}
			segs = append(segs, gemSegment{isStr: true, s: v[i:j]})
		default:
			j++
		}
		i = j
	}
	return segs
}

// gemCanonical is Gem::Version#canonical_segments: trailing zeros dropped
// from the segments before the first letter segment and from the rest.
func gemCanonical(segs []gemSegment) []gemSegment {
	split := len(segs)
	for i, s := range segs {
		if s.isStr {
			split = i
			break
		}
	}
	trim := func(p []gemSegment) []gemSegment {
		n := len(p)
		for n > 0 && !p[n-1].isStr && p[n-1].s == "0" {
			n--
		}
		return p[:n]
	}
	out := append([]gemSegment{}, trim(segs[:split])...)
	return append(out, trim(segs[split:])...)
}

// String returns the version as given to Parse.
func (v gemVersion) String() string { return v.s }

// Compare orders v and other as Gem::Version#<=> does. It panics if other is
// not a gem version.
func (v gemVersion) Compare(other Version) int {
	o, ok := other.(gemVersion)
	if !ok {
		panic(fmt.Sprintf("version: gem version compared with %T", other))
	}
	if v.version == o.version {
		return 0
	}
	zero := gemSegment{s: "0"}
	for i := 0; i < len(v.canonical) || i < len(o.canonical); i++ {
		l, r := zero, zero
		if i < len(v.canonical) {
			l = v.canonical[i]
		}
		if i < len(o.canonical) {
			r = o.canonical[i]
		}
		switch {
		case l == r:
			continue
		case l.isStr && !r.isStr:
			return -1
		case !l.isStr && r.isStr:
			return 1
		case l.isStr:
			return strings.Compare(l.s, r.s)
		default:
			return cmpDecimalDigits(l.s, r.s)
		}
	}
	return 0
}
