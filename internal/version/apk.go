package version

import (
	"cmp"
	"fmt"
	"strings"
)

// APK is the scheme of Alpine package versions,
// digits{.digits}[letter]{_suffix[N]}[~hash][-rN], ordered as apk-tools
// orders them (src/version.c).
//
// The suffixes sort _alpha < _beta < _pre < _rc < no suffix < _cvs < _svn <
// _git < _hg < _p. A number compares numerically, except a dotted component
// where either side has a leading zero: then the two compare as strings
// ("1.01" < "1.1" and "1.0" < "1.00"), as Gentoo does. The commit hash
// compares as a string and -rN last.
//
// Parse returns an error wrapping [ErrInvalid] for a string that apk-tools'
// apk_version_validate refuses (and so `apk version -t` refuses to compare):
// an empty string, a string not starting with a digit, a letter other than
// a-z or more than one, an unknown suffix, a '.' not followed by digits, an
// empty or non-hexadecimal hash, a revision not spelled -rN, or parts out of
// order.
//
// One deliberate difference: apk-tools reads each number into a uint64 that
// silently wraps above 18446744073709551615; here numbers of any size
// compare by value.
var APK Scheme = apkScheme{}

type apkScheme struct{}

// apkVersion is a parsed Alpine version.
type apkVersion struct {
	s      string
	tokens []apkToken
}

// apkKind is the kind of a part of an Alpine version, in the order in which
// the parts must appear.
type apkKind uint8

const (
	apkInitialDigits apkKind = iota // the leading number
	apkDigits                       // a number after a '.'
	apkLetter                       // one letter a-z after the numbers
	apkSuffix                       // _alpha, _p, ...
	apkSuffixNumber                 // the number after a suffix
	apkHash                         // ~ and hexadecimal digits
	apkRevision                     // the number after -r
	apkEnd                          // past the last part
)

// apkToken is one part of an Alpine version.
type apkToken struct {
	kind   apkKind
	text   string // the digits, letter, suffix name or hash, without punctuation
	suffix int    // the rank of a suffix in apkSuffixes
}

// apkNoSuffix is the rank of a version without a suffix: a suffix ranked
// below it marks a pre-release.
const apkNoSuffix = 5

// apkSuffixRank returns the rank of a suffix name (without its '_').
func apkSuffixRank(name string) (int, bool) {
	switch name {
	case "alpha":
		return 1, true
	case "beta":
		return 2, true
	case "pre":
		return 3, true
	case "rc":
		return 4, true
	case "cvs":
		return 6, true
	case "svn":
		return 7, true
	case "git":
		return 8, true
	case "hg":
		return 9, true
	case "p":
		return 10, true
	}
	return 0, false
}

// Name returns "apk".
func (apkScheme) Name() string { return "apk" }

// Parse reads an Alpine version. See [APK] for what it refuses.
func (apkScheme) Parse(s string) (Version, error) {
	tokens, err := apkTokenize(s)
	if err != nil {
		return nil, fmt.Errorf("apk version %q: %w", s, err)
	}
	return apkVersion{s: s, tokens: tokens}, nil
}

// apkTokenize splits s into its parts. The error wraps ErrInvalid.
func apkTokenize(s string) ([]apkToken, error) {
	digits := apkSpan(s, 0, byteIsDigit)
	if digits == 0 {
		return nil, fmt.Errorf("does not start with a digit: %w", ErrInvalid)
	}
	tokens := []apkToken{{kind: apkInitialDigits, text: s[:digits]}}
	prev := apkInitialDigits
	for i := digits; i < len(s); {
		c, at := s[i], i
		var t apkToken
		switch {
		case 'a' <= c && c <= 'z':
			if prev > apkDigits {
				return nil, apkUnexpected(s, at)
			}
			t = apkToken{kind: apkLetter, text: s[i : i+1]}
			i++
		case c == '.' || byteIsDigit(c):
			if c == '.' {
				if prev > apkDigits {
					return nil, apkUnexpected(s, at)
				}
				i++
			}
			switch prev {
			case apkInitialDigits, apkDigits:
				t.kind = apkDigits
			case apkSuffix:
				t.kind = apkSuffixNumber
			default:
				return nil, apkUnexpected(s, at)
			}
			end := apkSpan(s, i, byteIsDigit)
			if end == i {
				return nil, fmt.Errorf("no digits after byte %d: %w", at, ErrInvalid)
			}
			t.text, i = s[i:end], end
		case c == '_':
			if prev > apkSuffixNumber {
				return nil, apkUnexpected(s, at)
			}
			end := apkSpan(s, i+1, func(c byte) bool { return 'a' <= c && c <= 'z' })
			rank, ok := apkSuffixRank(s[i+1 : end])
			if !ok {
				return nil, fmt.Errorf("unknown suffix %q: %w", s[i:end], ErrInvalid)
			}
			t, i = apkToken{kind: apkSuffix, text: s[i+1 : end], suffix: rank}, end
		case c == '~':
			if prev >= apkHash {
				return nil, apkUnexpected(s, at)
			}
			end := apkSpan(s, i+1, func(c byte) bool { return byteIsDigit(c) || 'a' <= c && c <= 'f' })
			if end == i+1 {
				return nil, fmt.Errorf("empty hash after byte %d: %w", at, ErrInvalid)
			}
			t, i = apkToken{kind: apkHash, text: s[i+1 : end]}, end
		case c == '-':
			if prev >= apkRevision || !strings.HasPrefix(s[i:], "-r") {
				return nil, apkUnexpected(s, at)
			}
			end := apkSpan(s, i+2, byteIsDigit)
			if end == i+2 {
				return nil, fmt.Errorf("no digits after -r: %w", ErrInvalid)
			}
			t, i = apkToken{kind: apkRevision, text: s[i+2 : end]}, end
		default:
			return nil, apkUnexpected(s, at)
		}
		tokens = append(tokens, t)
		prev = t.kind
	}
	return tokens, nil
}

// apkSpan returns the index of the first byte of s at or after i that is not
// in the class, or len(s).
func apkSpan(s string, i int, in func(byte) bool) int {
	for i < len(s) && in(s[i]) {
		i++
	}
	return i
}

// apkUnexpected reports the byte at s[i] as out of place; it wraps ErrInvalid.
func apkUnexpected(s string, i int) error {
	return fmt.Errorf("unexpected %q at byte %d: %w", s[i:i+1], i, ErrInvalid)
}

// String returns the version as given to Parse.
func (v apkVersion) String() string { return v.s }

// Compare orders v and other as apk-tools does: part by part while both
// have a part of the same kind; where the kinds differ, a pre-release suffix
// sorts first, otherwise the version whose part may come earlier in a version
// (or that has a part at all) is newer. It panics if other is not an apk
// version.
func (v apkVersion) Compare(other Version) int {
	o, ok := other.(apkVersion)
	if !ok {
		panic(fmt.Sprintf("version: apk version compared with %T", other))
	}
	for i := 0; ; i++ {
		a, b := v.token(i), o.token(i)
		if a.kind != b.kind {
			switch {
			case a.kind == apkSuffix && a.suffix < apkNoSuffix:
				return -1
			case b.kind == apkSuffix && b.suffix < apkNoSuffix:
				return 1
			case a.kind > b.kind:
				return -1
			}
			return 1
		}
		if a.kind == apkEnd {
			return 0
		}
		if c := apkCompareToken(a, b); c != 0 {
			return c
		}
	}
}

// token returns the i-th part of v, or an apkEnd token past the last one.
func (v apkVersion) token(i int) apkToken {
	if i < len(v.tokens) {
		return v.tokens[i]
	}
	return apkToken{kind: apkEnd}
}

// apkCompareToken compares two parts of the same kind.
func apkCompareToken(a, b apkToken) int {
	switch a.kind {
	case apkDigits:
		if a.text[0] == '0' || b.text[0] == '0' {
			return strings.Compare(a.text, b.text)
		}
		fallthrough
	case apkInitialDigits, apkSuffixNumber, apkRevision:
		return trimmedDigitsCompare(strings.TrimLeft(a.text, "0"), strings.TrimLeft(b.text, "0"))
	case apkSuffix:
		return cmp.Compare(a.suffix, b.suffix)
	}
	return strings.Compare(a.text, b.text) // letter, hash
}
