package version

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Maven is the scheme of Maven artifact versions, ordered as Maven 3.9's
// org.apache.maven.artifact.versioning.ComparableVersion orders them (the
// Version Order Specification,
// https://maven.apache.org/pom.html#Version_Order_Specification).
//
// Every string is a Maven version, so Parse never fails. The version is
// lower-cased and cut into items at ".", "-" and every change between digits
// and other characters; a "-" and a change between digits and letters open a
// nested list, as does a qualifier after "." followed by digits (1.0.0.RC1 <
// 1.0.0-RC2, MNG-7644). Numbers compare numerically and after qualifiers and
// lists; qualifiers rank alpha < beta < milestone < rc = cr < snapshot < "" =
// ga = final = release < sp < any other qualifier, the others in string
// order; "a1", "b1" and "m1" mean alpha-1, beta-1 and milestone-1. Trailing
// zeros and release qualifiers are dropped from each list (1.0 == 1, 1-ga ==
// 1), and a missing item compares as zero or the release qualifier.
//
// Maven's quirks are kept: a number of more than 9 digits (after ASCII
// leading zeros are stripped) sorts after every number of at most 9 digits,
// and one of more than 18 after every number of at most 18, whatever their
// values (so 0000000000000000000.1 > 0.1); any Unicode decimal digit of the
// Basic Multilingual Plane counts as a digit; lower-casing is Java's
// String.toLowerCase(Locale.ENGLISH), İ and the Greek final sigma included
// (Java decides the final sigma with its word iterator, which this scheme
// follows closely but not for characters outside the Basic Multilingual
// Plane next to a Σ); qualifiers compare by UTF-16 code units as Java
// strings do. Invalid UTF-8 is read as U+FFFD. Like ComparableVersion, the
// order is not transitive for some odd versions (1-sp < 1-0.alpha < 1 <
// 1-sp), so a sort of such versions depends on the algorithm.
//
// String returns the version as given to Parse; its Canonical method returns
// ComparableVersion.getCanonical().
var Maven Scheme = mavenScheme{}

type mavenScheme struct{}

type mavenVersion struct {
	s     string
	items *mavenList
}

// mavenKind is the kind of a ComparableVersion item. The numeric kinds are
// in ComparableVersion's order (IntItem < LongItem < BigIntegerItem).
type mavenKind uint8

const (
	mavenInt mavenKind = iota
	mavenLong
	mavenBig
	mavenString
	mavenListKind
)

// mavenItem is one item: a number (num, decimal without leading zeros), a
// qualifier (str, after aliases) or a nested list.
type mavenItem struct {
	kind mavenKind
	num  string
	str  []uint16
	list *mavenList
}

type mavenList struct {
	items []mavenItem
}

// mavenQualifiers are the known qualifiers in order; "" is the release.
var mavenQualifiers = [...]string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

// mavenReleaseIndex is the index of "" in mavenQualifiers.
const mavenReleaseIndex = 5

// Name returns "maven".
func (mavenScheme) Name() string { return "maven" }

// Parse reads a Maven version. It never fails: see [Maven].
func (mavenScheme) Parse(s string) (Version, error) {
	return mavenVersion{s: s, items: mavenParse(s)}, nil
}

// mavenParse cuts s into ComparableVersion's items.
func mavenParse(s string) *mavenList {
	u := javaLowerEnglish(s)
	root := &mavenList{}
	list := root
	lists := []*mavenList{root}
	nest := func() {
		child := &mavenList{}
		list.items = append(list.items, mavenItem{kind: mavenListKind, list: child})
		list = child
		lists = append(lists, child)
	}
	isDigit := false
	start := 0
	for i, c := range u {
		switch {
		case c == '.' || c == '-':
			if i == start {
				list.items = append(list.items, mavenItem{kind: mavenInt, num: "0"})
			} else {
				list.items = append(list.items, mavenNewItem(isDigit, u[start:i]))
			}
			start = i + 1
			if c == '-' {
				nest()
			}
		case mavenIsDigit(c):
			if !isDigit && i > start {
				// A qualifier directly followed by digits is a list of its
				// own: 1.0.0.X1 < 1.0.0-X2 (MNG-7644).
				if len(list.items) > 0 {
					nest()
				}
				list.items = append(list.items, mavenQualifier(u[start:i], true))
				start = i
				nest()
			}
			isDigit = true
		default:
			if isDigit && i > start {
				list.items = append(list.items, mavenNewItem(true, u[start:i]))
				start = i
				nest()
			}
			isDigit = false
		}
	}
	if len(u) > start {
		if !isDigit && len(list.items) > 0 {
			nest()
		}
		list.items = append(list.items, mavenNewItem(isDigit, u[start:]))
	}
	for i := len(lists) - 1; i >= 0; i-- {
		lists[i].normalize()
	}
	return root
}

// mavenIsDigit is Java's Character.isDigit for one UTF-16 code unit: a
// decimal digit of the Basic Multilingual Plane.
func mavenIsDigit(c uint16) bool {
	return (c < 0xd800 || c > 0xdfff) && unicode.IsDigit(rune(c))
}

// mavenDigitValue returns the value of the decimal digit c: Unicode's
// decimal digits come in runs from 0 to 9.
func mavenDigitValue(c uint16) byte {
	r := rune(c)
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return byte((r - rune(rg.Lo)) % 10)
		}
	}
	return 0
}

// mavenNewItem is ComparableVersion.parseItem: a number, its kind chosen by
// its length once ASCII leading zeros are stripped (a string of only zeros
// is kept whole), or a qualifier.
func mavenNewItem(isDigit bool, buf []uint16) mavenItem {
	if !isDigit {
		return mavenQualifier(buf, false)
	}
	i := 0
	for i < len(buf) && buf[i] == '0' {
		i++
	}
	if i == len(buf) {
		i = 0 // only zeros: Maven keeps the string as it is
	}
	digits := buf[i:]
	kind := mavenInt
	switch {
	case len(digits) > 18:
		kind = mavenBig
	case len(digits) > 9:
		kind = mavenLong
	}
	num := make([]byte, 0, len(digits))
	for _, c := range digits {
		d := mavenDigitValue(c)
		if len(num) == 0 && d == 0 {
			continue
		}
		num = append(num, '0'+d)
	}
	if len(num) == 0 {
		num = append(num, '0')
	}
	return mavenItem{kind: kind, num: string(num)}
}

// mavenQualifier is ComparableVersion's StringItem: a single "a", "b" or "m"
// followed by a digit means alpha, beta or milestone, and ga, final and
// release mean "" (the release), cr means rc.
func mavenQualifier(buf []uint16, followedByDigit bool) mavenItem {
	q := string(utf16.Decode(buf))
	if followedByDigit && len(buf) == 1 {
		switch q {
		case "a":
			q = "alpha"
		case "b":
			q = "beta"
		case "m":
			q = "milestone"
		}
	}
	switch q {
	case "ga", "final", "release":
		q = ""
	case "cr":
		q = "rc"
	}
	return mavenItem{kind: mavenString, str: utf16.Encode([]rune(q))}
}

// isNull reports whether the item is a zero, the release qualifier or an
// empty list.
func (it mavenItem) isNull() bool {
	switch it.kind {
	case mavenString:
		return len(it.str) == 0
	case mavenListKind:
		return len(it.list.items) == 0
	}
	return it.num == "0"
}

// normalize removes trailing null items, also those before a trailing
// non-empty list.
func (l *mavenList) normalize() {
	for i := len(l.items) - 1; i >= 0; i-- {
		it := l.items[i]
		if it.isNull() {
			l.items = append(l.items[:i], l.items[i+1:]...)
		} else if it.kind != mavenListKind {
			break
		}
	}
}

// comparable is StringItem.comparableQualifier: the index of a known
// qualifier, else "7-" and the qualifier.
func mavenComparable(q []uint16) []uint16 {
	s := string(utf16.Decode(q))
	for i, k := range mavenQualifiers {
		if s == k {
			return []uint16{uint16('0' + i)}
		}
	}
	return append([]uint16{uint16('0' + len(mavenQualifiers)), '-'}, q...)
}

// mavenCompareUnits compares as Java's String.compareTo does.
func mavenCompareUnits(a, b []uint16) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// compare is Item.compareTo; o == nil stands for a missing item.
func (it *mavenItem) compare(o *mavenItem) int {
	switch it.kind {
	case mavenInt, mavenLong, mavenBig:
		if o == nil {
			if it.num == "0" {
				return 0
			}
			return 1
		}
		switch o.kind {
		case mavenInt, mavenLong, mavenBig:
			if it.kind != o.kind {
				if it.kind < o.kind {
					return -1
				}
				return 1
			}
			return cmpDecimalDigits(it.num, o.num)
		}
		return 1 // 1.1 > 1-sp, 1.1 > 1-1
	case mavenString:
		if o == nil {
			return mavenCompareUnits(mavenComparable(it.str), []uint16{'0' + mavenReleaseIndex})
		}
		switch o.kind {
		case mavenString:
			return mavenCompareUnits(mavenComparable(it.str), mavenComparable(o.str))
		}
		return -1 // 1.any < 1.1, 1.any < 1-1
	default:
		if o == nil {
			for i := range it.list.items {
				if c := it.list.items[i].compare(nil); c != 0 {
					return c
				}
			}
			return 0
		}
		switch o.kind {
		case mavenString:
			return 1 // 1-1 > 1-sp
		case mavenListKind:
			return it.list.compare(o.list)
		}
		return -1 // 1-1 < 1.0.x
	}
}

// compare compares two lists item by item, a missing item standing for the
// other's null.
func (l *mavenList) compare(o *mavenList) int {
	for i := 0; i < len(l.items) || i < len(o.items); i++ {
		var c int
		switch {
		case i >= len(l.items):
			c = -o.items[i].compare(nil)
		case i >= len(o.items):
			c = l.items[i].compare(nil)
		default:
			c = l.items[i].compare(&o.items[i])
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// String returns the version as given to Parse.
func (v mavenVersion) String() string { return v.s }

// Canonical returns ComparableVersion.getCanonical(): the items joined with
// "." and, before a nested list, "-".
func (v mavenVersion) Canonical() string {
	var b strings.Builder
	v.items.write(&b)
	return b.String()
}

func (l *mavenList) write(b *strings.Builder) {
	start := b.Len()
	for _, it := range l.items {
		if b.Len() > start {
			if it.kind == mavenListKind {
				b.WriteByte('-')
			} else {
				b.WriteByte('.')
			}
		}
		switch it.kind {
		case mavenString:
			b.WriteString(string(utf16.Decode(it.str)))
		case mavenListKind:
			it.list.write(b)
		default:
			b.WriteString(it.num)
		}
	}
}

// Compare orders v and other as ComparableVersion.compareTo does. It panics
// if other is not a Maven version.
func (v mavenVersion) Compare(other Version) int {
	o, ok := other.(mavenVersion)
	if !ok {
		panic(fmt.Sprintf("version: maven version compared with %T", other))
	}
	return v.items.compare(o.items)
}

// javaLowerEnglish lower-cases s as Java's String.toLowerCase(Locale.ENGLISH)
// does and returns it as UTF-16: Unicode's simple lower-case mapping, İ
// (U+0130) to "i̇", and Σ to ς at the end of a word.
func javaLowerEnglish(s string) []uint16 {
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i, r := range rs {
		switch r {
		case 0x130:
			out = append(out, 'i', 0x307)
		case 0x3a3:
			if javaFinalSigma(rs, i) {
				out = append(out, 0x3c2)
			} else {
				out = append(out, 0x3c3)
			}
		default:
			out = append(out, unicode.ToLower(r))
		}
	}
	return utf16.Encode(out)
}

// javaFinalSigma reports whether the Σ at rs[i] is final as Java's
// ConditionalSpecialCasing decides: a cased letter precedes it and none
// follows it within its word, words being those of Java's word BreakIterator
// (letters and digits, joined by one of -_.'" and other dashes and
// connectors between letters or by .,'" between digits; runs of kanji, of
// katakana and of hiragana apart; format characters are transparent, and so
// are marks except right after a joiner; characters outside the Basic
// Multilingual Plane are not part of words).
func javaFinalSigma(rs []rune, i int) bool {
	before := false
	for j := i; j > 0 && !javaWordBoundary(rs, j); j-- {
		if javaCased(rs[j-1]) {
			before = true
			break
		}
	}
	if !before {
		return false
	}
	for j := i + 1; j < len(rs) && !javaWordBoundary(rs, j); j++ {
		if javaCased(rs[j]) {
			return false
		}
	}
	return true
}

// javaCased is ConditionalSpecialCasing.isCased: a letter of category Lu,
// Ll or Lt, or one of the Other_Lowercase and Other_Uppercase ranges that
// Java lists.
func javaCased(r rune) bool {
	switch {
	case unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt):
		return true
	case 0x2b0 <= r && r <= 0x2b8, 0x2c0 <= r && r <= 0x2c1, 0x2e0 <= r && r <= 0x2e4,
		r == 0x345, r == 0x37a, 0x1d2c <= r && r <= 0x1d61, 0x2160 <= r && r <= 0x217f,
		0x24b6 <= r && r <= 0x24e9:
		return true
	}
	return false
}

// javaWordClass classifies r for javaWordBoundary.
func javaWordClass(r rune) byte {
	switch {
	case r == 0xad, r > 0xffff:
		// The soft hyphen joins words; it is not ignored. Java's word
		// iterator knows no characters outside the Basic Multilingual Plane.
		return 'o'
	case unicode.Is(unicode.Cf, r):
		return 'c' // ignored
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 'm' // ignored, except right after a joiner
	case r == 0x3005 || 0x4e00 <= r && r <= 0x9fa5 || 0xf900 <= r && r <= 0xfa2d:
		return 'K' // kanji, words of their own
	case 0x3099 <= r && r <= 0x309c || 0x30a1 <= r && r <= 0x30fe:
		return 'T' // katakana
	case 0x3041 <= r && r <= 0x309e:
		return 'H' // hiragana
	case unicode.IsLetter(r) || unicode.Is(unicode.Mc, r):
		return 'l'
	case unicode.IsNumber(r):
		return 'd'
	}
	return 'o'
}

// javaWordBoundary reports whether there is a word boundary between rs[j-1]
// and rs[j], approximating the rules of Java's word BreakIterator.
func javaWordBoundary(rs []rune, j int) bool {
	if j <= 0 || j >= len(rs) {
		return true
	}
	// prev and next skip the ignored characters.
	ignored := func(c byte) bool { return c == 'c' || c == 'm' }
	prev := func(k int) (rune, byte, int) {
		for k--; k >= 0; k-- {
			if c := javaWordClass(rs[k]); !ignored(c) {
				return rs[k], c, k
			}
		}
		return 0, 'o', -1
	}
	next := func(k int) (rune, byte, int) {
		for ; k < len(rs); k++ {
			if c := javaWordClass(rs[k]); !ignored(c) {
				return rs[k], c, k
			}
		}
		return 0, 'o', len(rs)
	}
	if ignored(javaWordClass(rs[j])) {
		return false
	}
	// onlyFormat reports whether only format characters lie strictly
	// between rs[from] and rs[to].
	onlyFormat := func(from, to int) bool {
		for k := from + 1; k < to; k++ {
			if javaWordClass(rs[k]) != 'c' {
				return false
			}
		}
		return true
	}
	a, ca, ka := prev(j)
	b, cb, kb := next(j)
	midWord := func(r rune) bool {
		return unicode.In(r, unicode.Pd, unicode.Pc) || r == 0xad || r == 0x2027 || r == '"' || r == '\'' || r == '.'
	}
	midNum := func(r rune) bool { return r == '"' || r == '\'' || r == ',' || r == 0x66b || r == '.' }
	switch {
	case strings.IndexByte("KTH", ca) >= 0 || strings.IndexByte("KTH", cb) >= 0:
		return ca != cb
	case (ca == 'l' || ca == 'd') && (cb == 'l' || cb == 'd'):
		return false
	case ca == 'o' && (cb == 'l' || cb == 'd'):
		// a joiner after a letter or digit, directly before one of the
		// same kind
		_, c2, _ := prev(ka)
		return !onlyFormat(ka, kb) || !(c2 == 'l' && cb == 'l' && midWord(a) || c2 == 'd' && cb == 'd' && midNum(a))
	case (ca == 'l' || ca == 'd') && cb == 'o':
		_, c2, k2 := next(kb + 1)
		return !onlyFormat(kb, k2) || !(ca == 'l' && c2 == 'l' && midWord(b) || ca == 'd' && c2 == 'd' && midNum(b))
	}
	return true
}
