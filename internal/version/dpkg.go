package version

import (
	"cmp"
	"fmt"
	"strings"
)

// Dpkg is the scheme of Debian package versions, [epoch:]upstream[-revision],
// ordered as dpkg orders them (Debian Policy §5.6.12, deb-version(7) and
// dpkg's lib/dpkg/version.c).
//
// Parse accepts exactly the strings that dpkg's parseversion accepts without
// an error: it trims leading and trailing blanks (space, tab) and returns an
// error wrapping [ErrInvalid] for an empty string, embedded blanks, an epoch
// that is empty, not a number, negative or above 2147483647, nothing after the
// epoch's colon, an empty upstream version or an empty revision. It also
// refuses a NUL byte, which no C string can carry.
//
// dpkg only warns about an upstream version that does not start with a digit
// and about characters outside [0-9A-Za-z.+~:-] (outside [0-9A-Za-z.+~] in the
// revision): dpkg --compare-versions still compares such versions, and dpkg
// reads its own status database in its lax mode, so installed packages may
// carry them. Parse accepts them too and they sort as dpkg sorts them. A byte
// above 0x7f sorts as on dpkg's amd64 build (where char is signed): after the
// letters and before the ASCII punctuation.
var Dpkg Scheme = dpkgScheme{}

type dpkgScheme struct{}

// dpkgVersion is a parsed Debian version.
type dpkgVersion struct {
	s        string // as given to Parse
	epoch    int64  // 0 to 2147483647
	upstream string // never empty
	revision string // empty when absent
}

// Name returns "dpkg".
func (dpkgScheme) Name() string { return "dpkg" }

// Parse reads a Debian version. See [Dpkg] for what it refuses.
func (dpkgScheme) Parse(s string) (Version, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, fmt.Errorf("dpkg version %q: contains a NUL byte: %w", s, ErrInvalid)
	}
	str := strings.TrimLeft(s, " \t")
	if str == "" {
		return nil, fmt.Errorf("dpkg version %q: empty: %w", s, ErrInvalid)
	}
	end := strings.IndexAny(str, " \t")
	if end < 0 {
		end = len(str)
	}
	if strings.Trim(str[end:], " \t") != "" {
		return nil, fmt.Errorf("dpkg version %q: embedded spaces: %w", s, ErrInvalid)
	}
	str = str[:end]

	v := dpkgVersion{s: s}
	if colon := strings.IndexByte(str, ':'); colon >= 0 {
		epoch, err := dpkgEpoch(str[:colon])
		if err != nil {
			return nil, fmt.Errorf("dpkg version %q: %w", s, err)
		}
		if colon+1 == len(str) {
			return nil, fmt.Errorf("dpkg version %q: nothing after the epoch's colon: %w", s, ErrInvalid)
		}
		v.epoch = epoch
		str = str[colon+1:]
	}
	v.upstream = str
	if hyphen := strings.LastIndexByte(str, '-'); hyphen >= 0 {
		v.upstream, v.revision = str[:hyphen], str[hyphen+1:]
		if v.revision == "" {
			return nil, fmt.Errorf("dpkg version %q: empty revision: %w", s, ErrInvalid)
		}
	}
	if v.upstream == "" {
		return nil, fmt.Errorf("dpkg version %q: empty upstream version: %w", s, ErrInvalid)
	}
	return v, nil
}

// dpkgEpoch reads the text before the first colon the way dpkg does, with
// C's strtol: leading white space, an optional sign, then decimal digits that
// must run up to the colon. The error wraps ErrInvalid.
func dpkgEpoch(s string) (int64, error) {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	negative := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		negative = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && byteIsDigit(s[i]) {
		i++
	}
	switch {
	case i == start:
		return 0, fmt.Errorf("empty epoch: %w", ErrInvalid)
	case i != len(s):
		return 0, fmt.Errorf("epoch %q is not a number: %w", s, ErrInvalid)
	}
	digits := strings.TrimLeft(s[start:], "0")
	const maxEpoch = "2147483647" // INT_MAX
	tooBig := len(digits) > len(maxEpoch) || (len(digits) == len(maxEpoch) && digits > maxEpoch)
	switch {
	case negative && digits != "":
		return 0, fmt.Errorf("epoch %q is negative: %w", s, ErrInvalid)
	case tooBig:
		return 0, fmt.Errorf("epoch %q is too big: %w", s, ErrInvalid)
	}
	var epoch int64
	for _, c := range []byte(digits) {
		epoch = epoch*10 + int64(c-'0')
	}
	return epoch, nil
}

// String returns the version as given to Parse.
func (v dpkgVersion) String() string { return v.s }

// Compare orders v and other as dpkg does: by epoch, then upstream version,
// then revision (an absent revision sorts as "0"). It panics if other is not
// a dpkg version.
func (v dpkgVersion) Compare(other Version) int {
	o, ok := other.(dpkgVersion)
	if !ok {
		panic(fmt.Sprintf("version: dpkg version compared with %T", other))
	}
	switch {
	case v.epoch < o.epoch:
		return -1
	case v.epoch > o.epoch:
		return 1
	}
	if c := dpkgCompareString(v.upstream, o.upstream); c != 0 {
		return c
	}
	return dpkgCompareString(v.revision, o.revision)
}

// dpkgCompareString compares an upstream version or a revision: alternately
// a run of non-digits, compared character by character with dpkgWeight, and
// a run of digits, compared as a number of any length.
func dpkgCompareString(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !byteIsDigit(a[i])) || (j < len(b) && !byteIsDigit(b[j])) {
			wa, wb := dpkgWeight(a, i), dpkgWeight(b, j)
			if wa != wb {
				return cmp.Compare(wa, wb)
			}
			i++
			j++
		}
		var na, nb string
		na, i = leadingDigitRun(a, i)
		nb, j = leadingDigitRun(b, j)
		if c := trimmedDigitsCompare(na, nb); c != 0 {
			return c
		}
	}
	return 0
}

// dpkgWeight is the sort weight of s[i] in a non-digit run: the end of the
// string and digits weigh 0, '~' weighs less, letters weigh their code and
// everything else weighs more than any letter. A byte above 0x7f weighs its
// value, as a negative signed char plus 256 does in dpkg on amd64.
func dpkgWeight(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch c := s[i]; {
	case byteIsDigit(c):
		return 0
	case byteIsLetter(c):
		return int(c)
	case c == '~':
		return -1
	case c >= 0x80:
		return int(c)
	default:
		return int(c) + 256
	}
}

// leadingDigitRun returns the run of ASCII digits of s starting at i without its
// leading zeros, and the index just after the run.
func leadingDigitRun(s string, i int) (string, int) {
	for i < len(s) && s[i] == '0' {
		i++
	}
	start := i
	for i < len(s) && byteIsDigit(s[i]) {
		i++
	}
	return s[start:i], i
}

// trimmedDigitsCompare compares two runs of ASCII digits without leading zeros as
// numbers of any size: the longer is larger, else the first differing digit
// decides.
func trimmedDigitsCompare(a, b string) int {
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(a, b)
}

// byteIsDigit reports whether c is an ASCII digit.
func byteIsDigit(c byte) bool { return '0' <= c && c <= '9' }

// byteIsLetter reports whether c is an ASCII letter.
func byteIsLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
