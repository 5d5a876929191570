package version

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The vector files of the SemVer, PEP440, Maven, Gem and NuGet tests
// (testdata/<scheme>/*.txt) hold one vector a line; "#" starts a comment
// line. Tokens are separated by blanks; a token that starts with a double
// quote is a Go string literal (for white space, empty and non-ASCII
// versions). A line is one of:
//
//	valid V          V parses
//	invalid V        Parse(V) fails with an error wrapping ErrInvalid
//	canon V C        V parses and its Canonical method returns C
//	V1 op V2 ...     a chain of comparisons, op one of <, =, > and != (not
//	                 equal, the order unspecified)
//
// In a chain whose operators are all "<" and "=" (or all ">" and "="), every
// pair is checked, not only neighbours: a < b = c checks a < c too. Each
// comparison is checked both ways (a < b and b > a).

// vfLine is one vector.
type vfLine struct {
	pos    string // file:line
	kind   string // "valid", "invalid", "canon" or "chain"
	tokens []string
}

// vfRead reads the vectors of the files that match pattern.
func vfRead(t *testing.T, pattern string) []vfLine {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no vector files match %s (err %v)", pattern, err)
	}
	var lines []vfLine
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			pos := fmt.Sprintf("%s:%d", filepath.Base(name), n)
			toks, err := vfTokens(text)
			if err != nil {
				t.Fatalf("%s: %v", pos, err)
			}
			l := vfLine{pos: pos, tokens: toks}
			switch {
			case len(toks) == 2 && (toks[0] == "valid" || toks[0] == "invalid") && !vfQuoted(text):
				l.kind, l.tokens = toks[0], toks[1:]
			case len(toks) == 3 && toks[0] == "canon" && !strings.HasPrefix(text, `"`):
				l.kind, l.tokens = "canon", toks[1:]
			case len(toks) >= 3 && len(toks)%2 == 1:
				l.kind = "chain"
				for i := 1; i < len(toks); i += 2 {
					if _, ok := vfOps[toks[i]]; !ok {
						t.Fatalf("%s: %q is not <, =, > or !=", pos, toks[i])
					}
				}
			default:
				t.Fatalf("%s: cannot read %q", pos, text)
			}
			lines = append(lines, l)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return lines
}

// vfQuoted reports whether the line starts with a quoted token, so that a
// version spelled "valid" is not read as a keyword.
func vfQuoted(text string) bool { return strings.HasPrefix(text, `"`) }

// vfTokens splits a line into blank-separated tokens, unquoting Go string
// literals.
func vfTokens(s string) ([]string, error) {
	var toks []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return toks, nil
		}
		if s[0] == '"' {
			lit, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("bad quoted token in %q: %w", s, err)
			}
			tok, _ := strconv.Unquote(lit)
			toks = append(toks, tok)
			s = s[len(lit):]
			continue
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		toks = append(toks, s[:end])
		s = s[end:]
	}
}

// vfCanonical is the optional method of the versions that have a canonical
// form.
type vfCanonical interface{ Canonical() string }

// vfCounts counts what a run checked.
type vfCounts struct {
	lines, parses, comparisons int
}

// vfRun checks every vector of each file that matches pattern against s,
// one subtest a file, and logs what it counted.
func vfRun(t *testing.T, s Scheme, pattern string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no vector files match %s (err %v)", pattern, err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			n := vfRunFile(t, s, name)
			t.Logf("%d vectors: %d parse checks, %d ordered pairs", n.lines, n.parses, n.comparisons)
		})
	}
}

// vfRunFile checks the vectors of one file and returns what it counted.
func vfRunFile(t *testing.T, s Scheme, name string) vfCounts {
	t.Helper()
	var n vfCounts
	for _, l := range vfRead(t, name) {
		n.lines++
		switch l.kind {
		case "valid":
			n.parses++
			if _, err := s.Parse(l.tokens[0]); err != nil {
				t.Errorf("%s: Parse(%q) = %v; want a version", l.pos, l.tokens[0], err)
			}
		case "invalid":
			n.parses++
			v, err := s.Parse(l.tokens[0])
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: Parse(%q) = %v, %v; want an error wrapping ErrInvalid", l.pos, l.tokens[0], v, err)
			}
		case "canon":
			n.parses++
			v, err := s.Parse(l.tokens[0])
			if err != nil {
				t.Errorf("%s: Parse(%q) = %v; want a version", l.pos, l.tokens[0], err)
				continue
			}
			c, ok := v.(vfCanonical)
			if !ok {
				t.Fatalf("%s: %s versions have no Canonical method", l.pos, s.Name())
			}
			if diff := cmp.Diff(l.tokens[1], c.Canonical()); diff != "" {
				t.Errorf("%s: Parse(%q).Canonical() mismatch (-want +got):\n%s", l.pos, l.tokens[0], diff)
			}
		case "chain":
			n.comparisons += vfChain(t, s, l)
		}
	}
	return n
}

// vfOps are the operators of a chain; vfUnequal stands for "!=".
var vfOps = map[string]int{"<": -1, "=": 0, ">": 1, "!=": vfUnequal}

const vfUnequal = 2

// vfChain checks one chain and returns the number of ordered pairs it
// checked.
func vfChain(t *testing.T, s Scheme, l vfLine) int {
	t.Helper()
	var vs []Version
	var ops []int
	for i, tok := range l.tokens {
		if i%2 == 1 {
			ops = append(ops, vfOps[tok])
			continue
		}
		v, err := s.Parse(tok)
		if err != nil {
			t.Errorf("%s: Parse(%q) = %v; want a version", l.pos, tok, err)
			return 0
		}
		vs = append(vs, v)
	}
	monotone := true
	dir := 0
	for _, op := range ops {
		if op == vfUnequal {
			monotone = false
		} else if op != 0 {
			if dir != 0 && op != dir {
				monotone = false
			}
			dir = op
		}
	}
	checked := 0
	for i := range vs {
		if got := vs[i].Compare(vs[i]); got != 0 {
			t.Errorf("%s: %q.Compare(itself) = %d; want 0", l.pos, vs[i], got)
		}
		for j := i + 1; j < len(vs); j++ {
			if !monotone && j > i+1 {
				break
			}
			want := 0
			for _, op := range ops[i:j] {
				if op != 0 {
					want = op
				}
			}
			if want == vfUnequal {
				ab, ba := vs[i].Compare(vs[j]), vs[j].Compare(vs[i])
				if ab == 0 || ab != -ba {
					t.Errorf("%s: Compare(%q, %q) = %d and Compare(%q, %q) = %d; want unequal", l.pos, vs[i], vs[j], ab, vs[j], vs[i], ba)
				}
				checked++
				continue
			}
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("%s: Compare(%q, %q) = %d; want %d", l.pos, vs[i], vs[j], got, want)
			}
			if got := vs[j].Compare(vs[i]); got != -want {
				t.Errorf("%s: Compare(%q, %q) = %d; want %d", l.pos, vs[j], vs[i], got, -want)
			}
			checked++
		}
	}
	return checked
}

// fuzzOrder checks that s parses a, b and c without panicking, wraps
// ErrInvalid when it refuses one, and orders the versions it accepts
// consistently: reflexive, antisymmetric and transitive. It returns the
// parsed versions (nil for the refused ones).
func fuzzOrder(t *testing.T, s Scheme, in ...string) []Version {
	var vs []Version
	for _, x := range in {
		v, err := s.Parse(x)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) = %v; want an error wrapping ErrInvalid", x, err)
			}
			vs = append(vs, nil)
			continue
		}
		if v.String() != x {
			t.Fatalf("Parse(%q).String() = %q; want the input", x, v.String())
		}
		if c := v.Compare(v); c != 0 {
			t.Fatalf("Compare(%q, itself) = %d; want 0", x, c)
		}
		vs = append(vs, v)
	}
	for i, a := range vs {
		for j, b := range vs {
			if a == nil || b == nil || i == j {
				continue
			}
			ab, ba := a.Compare(b), b.Compare(a)
			if ab < -1 || ab > 1 || ab != -ba {
				t.Fatalf("Compare(%q, %q) = %d and Compare(%q, %q) = %d", a, b, ab, b, a, ba)
			}
			for k, c := range vs {
				if c == nil || k == i || k == j {
					continue
				}
				bc, ac := b.Compare(c), a.Compare(c)
				switch {
				case ab <= 0 && bc <= 0 && ac > 0,
					ab == 0 && bc == 0 && ac != 0,
					ab == 0 && ac != bc:
					t.Fatalf("not transitive: %q vs %q = %d, %q vs %q = %d, %q vs %q = %d", a, b, ab, b, c, bc, a, c, ac)
				}
			}
		}
	}
	return vs
}

// canonCase is a Parse case of a scheme whose versions have a canonical
// form: the input and its canonical form, or "" when Parse must fail.
type canonCase struct {
	in        string
	canonical string
}

// checkCanonical parses each case with s: a failure must wrap ErrInvalid,
// a success must give the canonical form and, with keepsInput, keep the
// input as String.
func checkCanonical(t *testing.T, s Scheme, tests []canonCase, keepsInput bool) {
	t.Helper()
	for _, tt := range tests {
		v, err := s.Parse(tt.in)
		if tt.canonical == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) = %v, %v; want an error wrapping ErrInvalid", tt.in, v, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q) = %v; want %s", tt.in, err, tt.canonical)
			continue
		}
		if diff := cmp.Diff(tt.canonical, v.(vfCanonical).Canonical()); diff != "" {
			t.Errorf("Parse(%q).Canonical() mismatch (-want +got):\n%s", tt.in, diff)
		}
		if keepsInput && v.String() != tt.in {
			t.Errorf("Parse(%q).String() = %q; want the input", tt.in, v.String())
		}
	}
}
