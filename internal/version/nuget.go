package version

import (
	"fmt"
	"strings"
	"unicode"
)

// NuGet is the scheme of NuGet package versions, parsed and ordered as
// NuGet.Versioning's NuGetVersion.TryParse and VersionComparer.Default
// (NuGet.Client) do.
//
// Parse accepts one to four dot-separated numbers of at most 2147483647
// (leading zeros allowed, white space around each number allowed, missing
// parts are zero), optionally followed by "-" and dot-separated release
// labels of [0-9A-Za-z-] (a numeric label may not have a leading zero) and by
// "+" and dot-separated metadata of [0-9A-Za-z-] (leading zeros allowed);
// white space around the whole version is trimmed. Anything else is refused
// with an error wrapping [ErrInvalid], as NuGetVersion.TryParse returns
// false.
//
// Compare orders by the four numbers, then puts a version with release
// labels before one without, then compares labels left to right: labels that
// .NET's int.TryParse reads as a 32-bit integer ("-1" included) numerically
// and before other labels, which compare case-insensitively (ordinal, upper
// case); a shorter list of labels sorts first when all others are equal.
// Metadata is ignored.
//
// String returns the version as given to Parse; its Canonical method returns
// NuGetVersion.ToNormalizedString(): Major.Minor.Patch, the fourth number
// only when it is not zero, and the release labels as given.
var NuGet Scheme = nugetScheme{}

type nugetScheme struct{}

type nugetVersion struct {
	s       string
	numbers [4]int64
	labels  []string // nil without release labels
}

// Name returns "nuget".
func (nugetScheme) Name() string { return "nuget" }

// Parse reads a NuGet version. See [NuGet] for what it accepts.
func (nugetScheme) Parse(s string) (Version, error) {
	v := nugetVersion{s: s}
	t := strings.TrimFunc(s, unicode.IsSpace)
	core, labels, metadata, hasLabels, hasMetadata := nugetSections(t)
	if core == "" {
		return nil, fmt.Errorf("nuget version %q: no version number: %w", s, ErrInvalid)
	}
	numbers, ok := nugetNumbers(core)
	if !ok {
		return nil, fmt.Errorf("nuget version %q: %q is not one to four numbers: %w", s, core, ErrInvalid)
	}
	v.numbers = numbers
	if hasLabels {
		v.labels = strings.Split(labels, ".")
		for _, l := range v.labels {
			if !nugetValidPart(l, false) {
				return nil, fmt.Errorf("nuget version %q: bad release label %q: %w", s, l, ErrInvalid)
			}
		}
	}
	if hasMetadata {
		for _, m := range strings.Split(metadata, ".") {
			if !nugetValidPart(m, true) {
				return nil, fmt.Errorf("nuget version %q: bad metadata %q: %w", s, m, ErrInvalid)
			}
		}
	}
	return v, nil
}

// nugetSections is SemanticVersion.ParseSections: the version number runs to
// the first "-" or "+", the release labels from that "-" to the next "+".
// As upstream, a "-" or "+" that ends the string stays in the version number
// (which then fails to parse).
func nugetSections(t string) (core, labels, metadata string, hasLabels, hasMetadata bool) {
	i := strings.IndexAny(t, "-+")
	if i < 0 || i == len(t)-1 {
		return t, "", "", false, false
	}
	core, rest := t[:i], t[i:]
	if rest[0] == '-' {
		rest = rest[1:]
		j := strings.IndexByte(rest, '+')
		if j < 0 {
			return core, rest, "", true, false
		}
		labels, hasLabels = rest[:j], true
		if j == len(rest)-1 {
			// Upstream stops the labels at a final "+" and keeps it in them.
			return core, rest, "", true, false
		}
		rest = rest[j:]
	}
	return core, labels, rest[1:], hasLabels, true
}

// nugetNumbers is NuGetVersion's TryGetNormalizedVersion: up to four
// numbers separated by ".", each of ASCII digits with optional white space
// around it, none above 2147483647.
func nugetNumbers(core string) ([4]int64, bool) {
	var n [4]int64
	if strings.TrimFunc(core, unicode.IsSpace) == "" {
		return n, false
	}
	rs := []rune(core)
	i := 0
	for part := 0; part < 4 && i < len(rs); part++ {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
		start := i
		var v int64
		for i < len(rs) && '0' <= rs[i] && rs[i] <= '9' {
			v = v*10 + int64(rs[i]-'0')
			if v > 2147483647 {
				return n, false
			}
			i++
		}
		if i == start {
			return n, false
		}
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
		n[part] = v
		if i < len(rs) {
			if rs[i] != '.' || i == len(rs)-1 {
				return n, false
			}
			i++
		}
	}
	return n, i == len(rs)
}

// nugetValidPart is SemanticVersion.IsValidPart: non-empty, [0-9A-Za-z-],
// and, unless allowLeadingZeros, not a number with a leading zero.
func nugetValidPart(s string, allowLeadingZeros bool) bool {
	if s == "" {
		return false
	}
	if !allowLeadingZeros && len(s) > 1 && s[0] == '0' && strings.Trim(s, "0123456789") == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// String returns the version as given to Parse.
func (v nugetVersion) String() string { return v.s }

// Canonical returns NuGetVersion.ToNormalizedString().
func (v nugetVersion) Canonical() string {
	c := fmt.Sprintf("%d.%d.%d", v.numbers[0], v.numbers[1], v.numbers[2])
	if v.numbers[3] > 0 {
		c += fmt.Sprintf(".%d", v.numbers[3])
	}
	if v.labels != nil {
		c += "-" + strings.Join(v.labels, ".")
	}
	return c
}

// Compare orders v and other as VersionComparer.Default does. It panics if
// other is not a NuGet version.
func (v nugetVersion) Compare(other Version) int {
	o, ok := other.(nugetVersion)
	if !ok {
		panic(fmt.Sprintf("version: nuget version compared with %T", other))
	}
	for i := range v.numbers {
		switch {
		case v.numbers[i] < o.numbers[i]:
			return -1
		case v.numbers[i] > o.numbers[i]:
			return 1
		}
	}
	switch {
	case v.labels == nil && o.labels == nil:
		return 0
	case v.labels == nil:
		return 1
	case o.labels == nil:
		return -1
	}
	for i := 0; i < len(v.labels) && i < len(o.labels); i++ {
		if c := nugetCompareLabel(v.labels[i], o.labels[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.labels) < len(o.labels):
		return -1
	case len(v.labels) > len(o.labels):
		return 1
	}
	return 0
}

// nugetCompareLabel is VersionComparer.CompareRelease: labels that
// int.TryParse reads compare as numbers, before the others, which compare
// with StringComparer.OrdinalIgnoreCase.
func nugetCompareLabel(a, b string) int {
	an, aok := nugetInt32(a)
	bn, bok := nugetInt32(b)
	switch {
	case aok && bok:
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(strings.ToUpper(a), strings.ToUpper(b))
}

// nugetInt32 is int.TryParse on a release label (which has no white space
// and no "+"): an optional "-" and ASCII digits within the range of int.
func nugetInt32(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	d := strings.TrimPrefix(s, "-")
	if d == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
		v = v*10 + int64(d[i]-'0')
		if v > 2147483648 {
			return 0, false
		}
	}
	if neg {
		return -v, true
	}
	if v > 2147483647 {
		return 0, false
	}
	return v, true
}
