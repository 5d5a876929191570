package version

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// PEP440 is the scheme of Python package versions (PyPI), parsed and ordered
// as PEP 440 and the Version Specifiers specification
// (https://packaging.python.org/en/latest/specifications/version-specifiers/)
// define them and as pypa/packaging's Version class, which pip uses,
// implements them.
//
// Parse accepts [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local] with every
// spelling that packaging accepts: letters in any case, an optional leading
// "v", "alpha", "beta", "c", "pre" and "preview" for a, b and rc, "rev" and
// "r" for post, the implicit post release "1.0-1", ".", "_" or "-" before and
// after the pre, post and dev letters, omitted numbers (implicit 0), leading
// zeros, local versions of ASCII letters and digits separated by ".", "_" or
// "-", and white space around the version (Python's str.isspace set, as
// packaging's regular expression uses \s). It returns an error wrapping
// [ErrInvalid] for anything else, and for a number of more than 4300 digits,
// where CPython's int() refuses to convert (packaging then raises
// ValueError).
//
// Compare orders as packaging does: by epoch, then release (trailing zeros
// ignored: 1.0 == 1), then dev-only releases before alpha, beta and rc
// releases, before the final release, before post releases (a dev release
// sorting before the release it belongs to), and finally a version without a
// local label before one with it, local labels comparing segment by segment
// with numbers after strings, numbers numerically and strings in lower case.
//
// String returns the version as given to Parse; its Canonical method returns
// packaging's normalized form (str(Version(s))), e.g. "1.0a0" for "1.0alpha".
var PEP440 Scheme = pep440Scheme{}

type pep440Scheme struct{}

// pep440Version holds the parsed parts; numbers are decimal strings without
// leading zeros.
type pep440Version struct {
	s       string
	epoch   string
	release []string
	preL    string // "", "a", "b" or "rc"
	preN    string
	post    string // "" when absent
	dev     string // "" when absent
	local   []pep440Local
}

// pep440Local is one segment of a local version label: a number or a
// lower-case string.
type pep440Local struct {
	isNum bool
	s     string
}

// pep440MaxDigits is CPython's default limit on the digits int() converts.
const pep440MaxDigits = 4300

// Name returns "pep440".
func (pep440Scheme) Name() string { return "pep440" }

// Parse reads a PEP 440 version. See [PEP440] for what it accepts.
func (pep440Scheme) Parse(s string) (Version, error) {
	p := pep440Parser{s: pep440Trim(s)}
	v, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("pep440 version %q: %w", s, err)
	}
	v.s = s
	return v, nil
}

// pep440Trim removes the white space that packaging's \s* around the
// version consumes: the characters for which Python's str.isspace is true.
func pep440Trim(s string) string {
	for s != "" {
		r, n := utf8.DecodeRuneInString(s)
		if !pep440IsSpace(r) {
			break
		}
		s = s[n:]
	}
	for s != "" {
		r, n := utf8.DecodeLastRuneInString(s)
		if !pep440IsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

// pep440IsSpace reports whether Python's str.isspace is true for r (bidi
// class WS, B or S, or category Zs; Python 3.11).
func pep440IsSpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0d, r >= 0x1c && r <= 0x20, r == 0x85, r == 0xa0, r == 0x1680,
		r >= 0x2000 && r <= 0x200a, r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

// pep440Parser walks the version the way packaging's regular expression
// matches it: each optional part is tried in turn and, once matched, kept
// (the expression's groups are possessive).
type pep440Parser struct {
	s string
	i int
}

func (p *pep440Parser) parse() (pep440Version, error) {
	var v pep440Version
	if p.i < len(p.s) && (p.s[p.i] == 'v' || p.s[p.i] == 'V') {
		p.i++
	}
	// Epoch: digits followed by "!"; otherwise the digits start the release.
	if n := p.digits(p.i); n > 0 && p.i+n < len(p.s) && p.s[p.i+n] == '!' {
		e, err := pep440Number(p.s[p.i : p.i+n])
		if err != nil {
			return v, err
		}
		v.epoch = e
		p.i += n + 1
	} else {
		v.epoch = "0"
	}
	n := p.digits(p.i)
	if n == 0 {
		return v, fmt.Errorf("no release number at offset %d: %w", p.i, ErrInvalid)
	}
	for {
		r, err := pep440Number(p.s[p.i : p.i+n])
		if err != nil {
			return v, err
		}
		v.release = append(v.release, r)
		p.i += n
		if p.i+1 < len(p.s) && p.s[p.i] == '.' {
			if n = p.digits(p.i + 1); n > 0 {
				p.i++
				continue
			}
		}
		break
	}
	if err := p.pre(&v); err != nil {
		return v, err
	}
	if err := p.post(&v); err != nil {
		return v, err
	}
	if err := p.dev(&v); err != nil {
		return v, err
	}
	if p.i < len(p.s) && p.s[p.i] == '+' {
		if err := p.localLabel(&v); err != nil {
			return v, err
		}
	}
	if p.i != len(p.s) {
		return v, fmt.Errorf("unexpected %q at offset %d: %w", p.s[p.i:], p.i, ErrInvalid)
	}
	return v, nil
}

// pre reads [._-]?(alpha|a|beta|b|preview|pre|c|rc)[._-]?N?, trying the
// spellings in the expression's order.
func (p *pep440Parser) pre(v *pep440Version) error {
	j := p.sep(p.i)
	var name string
	for _, l := range [...]string{"alpha", "a", "beta", "b", "preview", "pre", "c", "rc"} {
		if p.word(j, l) {
			name = l
			break
		}
	}
	if name == "" {
		return nil
	}
	j += len(name)
	switch name {
	case "alpha":
		name = "a"
	case "beta":
		name = "b"
	case "c", "pre", "preview":
		name = "rc"
	}
	j = p.sep(j)
	num, j, err := p.optionalNumber(j)
	if err != nil {
		return err
	}
	v.preL, v.preN, p.i = name, num, j
	return nil
}

// post reads -N or [._-]?(post|rev|r)[._-]?N?.
func (p *pep440Parser) post(v *pep440Version) error {
	if p.i < len(p.s) && p.s[p.i] == '-' {
		if n := p.digits(p.i + 1); n > 0 {
			num, err := pep440Number(p.s[p.i+1 : p.i+1+n])
			if err != nil {
				return err
			}
			v.post, p.i = num, p.i+1+n
			return nil
		}
	}
	j := p.sep(p.i)
	var name string
	for _, l := range [...]string{"post", "rev", "r"} {
		if p.word(j, l) {
			name = l
			break
		}
	}
	if name == "" {
		return nil
	}
	j = p.sep(j + len(name))
	num, j, err := p.optionalNumber(j)
	if err != nil {
		return err
	}
	v.post, p.i = num, j
	return nil
}

// dev reads [._-]?dev[._-]?N?.
func (p *pep440Parser) dev(v *pep440Version) error {
	j := p.sep(p.i)
	if !p.word(j, "dev") {
		return nil
	}
	j = p.sep(j + 3)
	num, j, err := p.optionalNumber(j)
	if err != nil {
		return err
	}
	v.dev, p.i = num, j
	return nil
}

// localLabel reads +[a-z0-9]+([._-][a-z0-9]+)*, ASCII letters in any case.
func (p *pep440Parser) localLabel(v *pep440Version) error {
	j := p.i + 1
	n := p.alnum(j)
	if n == 0 {
		return fmt.Errorf("empty local version label: %w", ErrInvalid)
	}
	var parts []string
	for {
		parts = append(parts, p.s[j:j+n])
		j += n
		if j+1 < len(p.s) && pep440IsSep(p.s[j]) {
			if n = p.alnum(j + 1); n > 0 {
				j++
				continue
			}
		}
		break
	}
	for _, part := range parts {
		if pep440AllDigits(part) {
			num, err := pep440Number(part)
			if err != nil {
				return err
			}
			v.local = append(v.local, pep440Local{isNum: true, s: num})
		} else {
			v.local = append(v.local, pep440Local{s: strings.ToLower(part)})
		}
	}
	p.i = j
	return nil
}

// sep returns j advanced past one of "._-" if there is one.
func (p *pep440Parser) sep(j int) int {
	if j < len(p.s) && pep440IsSep(p.s[j]) {
		return j + 1
	}
	return j
}

// word reports whether the lower-case ASCII word w is at j, in any case.
func (p *pep440Parser) word(j int, w string) bool {
	return j+len(w) <= len(p.s) && strings.EqualFold(p.s[j:j+len(w)], w) && pep440ASCII(p.s[j:j+len(w)])
}

// digits returns the length of the run of ASCII digits at j.
func (p *pep440Parser) digits(j int) int {
	n := 0
	for j+n < len(p.s) && p.s[j+n] >= '0' && p.s[j+n] <= '9' {
		n++
	}
	return n
}

// alnum returns the length of the run of ASCII letters and digits at j.
func (p *pep440Parser) alnum(j int) int {
	n := 0
	for j+n < len(p.s) && pep440IsAlnum(p.s[j+n]) {
		n++
	}
	return n
}

// optionalNumber reads the digits at j, if any; "0" when there are none.
func (p *pep440Parser) optionalNumber(j int) (string, int, error) {
	n := p.digits(j)
	if n == 0 {
		return "0", j, nil
	}
	num, err := pep440Number(p.s[j : j+n])
	return num, j + n, err
}

// pep440Number converts digits as int() does: leading zeros dropped, at most
// pep440MaxDigits digits.
func pep440Number(digits string) (string, error) {
	if len(digits) > pep440MaxDigits {
		return "", fmt.Errorf("number of %d digits exceeds CPython's limit of %d: %w", len(digits), pep440MaxDigits, ErrInvalid)
	}
	if t := strings.TrimLeft(digits, "0"); t != "" {
		return t, nil
	}
	return "0", nil
}

func pep440IsSep(c byte) bool { return c == '.' || c == '_' || c == '-' }

func pep440IsAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func pep440AllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// pep440ASCII reports whether s is all ASCII (strings.EqualFold would also
// match the Kelvin sign with "k" and the long s with "s").
func pep440ASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// String returns the version as given to Parse.
func (v pep440Version) String() string { return v.s }

// Canonical returns the normalized form packaging's str() gives: no
// leading "v" or white space, numbers without leading zeros, "a", "b", "rc",
// ".postN", ".devN" and a lower-case local label joined with ".".
func (v pep440Version) Canonical() string {
	var b strings.Builder
	if v.epoch != "0" {
		b.WriteString(v.epoch)
		b.WriteByte('!')
	}
	b.WriteString(strings.Join(v.release, "."))
	if v.preL != "" {
		b.WriteString(v.preL)
		b.WriteString(v.preN)
	}
	if v.post != "" {
		b.WriteString(".post")
		b.WriteString(v.post)
	}
	if v.dev != "" {
		b.WriteString(".dev")
		b.WriteString(v.dev)
	}
	for i, l := range v.local {
		if i == 0 {
			b.WriteByte('+')
		} else {
			b.WriteByte('.')
		}
		b.WriteString(l.s)
	}
	return b.String()
}

// Compare orders v and other as packaging's Version does. It panics if other
// is not a PEP 440 version.
func (v pep440Version) Compare(other Version) int {
	o, ok := other.(pep440Version)
	if !ok {
		panic(fmt.Sprintf("version: pep440 version compared with %T", other))
	}
	if c := cmpDecimalDigits(v.epoch, o.epoch); c != 0 {
		return c
	}
	a, b := pep440TrimZeros(v.release), pep440TrimZeros(o.release)
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmpDecimalDigits(a[i], b[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	ka, kb := v.suffixKey(), o.suffixKey()
	for i := range ka {
		if c := ka[i].compare(kb[i]); c != 0 {
			return c
		}
	}
	switch {
	case v.local == nil && o.local == nil:
		return 0
	case v.local == nil:
		return -1
	case o.local == nil:
		return 1
	}
	for i := 0; i < len(v.local) && i < len(o.local); i++ {
		x, y := v.local[i], o.local[i]
		switch {
		case x.isNum && y.isNum:
			if c := cmpDecimalDigits(x.s, y.s); c != 0 {
				return c
			}
		case x.isNum:
			return 1
		case y.isNum:
			return -1
		default:
			if c := strings.Compare(x.s, y.s); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(v.local) < len(o.local):
		return -1
	case len(v.local) > len(o.local):
		return 1
	}
	return 0
}

// pep440TrimZeros returns the release without its trailing zeros.
func pep440TrimZeros(r []string) []string {
	n := len(r)
	for n > 0 && r[n-1] == "0" {
		n--
	}
	return r[:n]
}

// pep440Key is one element of packaging's six-part suffix key: a small rank
// or a number of any size.
type pep440Key struct {
	rank int
	num  string
}

func (k pep440Key) compare(o pep440Key) int {
	switch {
	case k.rank < o.rank:
		return -1
	case k.rank > o.rank:
		return 1
	}
	return cmpDecimalDigits(k.num, o.num)
}

// suffixKey returns packaging's (pre_rank, pre_n, post_rank, post_n,
// dev_rank, dev_n): pre_rank is -1 for a dev-only release, 0, 1, 2 for a, b,
// rc and 3 without a pre-release; post_rank is 0 without and 1 with a post
// release; dev_rank is 0 with and 1 without a dev release.
func (v pep440Version) suffixKey() [6]pep440Key {
	zero := pep440Key{num: "0"}
	var k [6]pep440Key
	switch {
	case v.preL == "" && v.post == "" && v.dev != "":
		k[0], k[1] = pep440Key{rank: -1, num: "0"}, zero
	case v.preL == "":
		k[0], k[1] = pep440Key{rank: 3, num: "0"}, zero
	default:
		rank := 2 // rc
		switch v.preL {
		case "a":
			rank = 0
		case "b":
			rank = 1
		}
		k[0], k[1] = pep440Key{rank: rank, num: "0"}, pep440Key{num: v.preN}
	}
	if v.post == "" {
		k[2], k[3] = pep440Key{rank: 0, num: "0"}, zero
	} else {
		k[2], k[3] = pep440Key{rank: 1, num: "0"}, pep440Key{num: v.post}
	}
	if v.dev == "" {
		k[4], k[5] = pep440Key{rank: 1, num: "0"}, zero
	} else {
		k[4], k[5] = pep440Key{rank: 0, num: "0"}, pep440Key{num: v.dev}
	}
	return k
}
