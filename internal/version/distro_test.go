package version

// Helpers shared by the tests of the distribution schemes (Dpkg, RPM, APK):
// reading the upstream vector files, checking the order's laws, and picking
// real version pairs for the oracle tests.

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// distroLine is one data line of a vector file.
type distroLine struct {
	pos    string   // file:line, for messages
	fields []string // whitespace-separated, Go-quoted fields unquoted
}

// distroLines reads a vector file of testdata: blank lines and lines starting
// with '#' are skipped, a field starting with '"' is a Go-quoted string.
func distroLines(t *testing.T, name string) []distroLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []distroLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		l := distroLine{pos: name + ":" + strconv.Itoa(n)}
		for text != "" {
			field := text
			if text[0] == '"' {
				quoted, err := strconv.QuotedPrefix(text)
				if err != nil {
					t.Fatalf("%s: %v", l.pos, err)
				}
				field, _ = strconv.Unquote(quoted)
				text = text[len(quoted):]
			} else if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
				field, text = text[:i], text[i:]
			} else {
				text = ""
			}
			l.fields = append(l.fields, field)
			text = strings.TrimLeftFunc(text, unicode.IsSpace)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// distroCheckOrder parses the inputs with s (any may be refused) and checks,
// for those it accepts, that String gives the input back and that Compare
// returns -1, 0 or +1 and is reflexive, antisymmetric and transitive.
func distroCheckOrder(t *testing.T, s Scheme, inputs ...string) {
	t.Helper()
	var vs []Version
	for _, in := range inputs {
		v, err := s.Parse(in)
		if err != nil {
			continue
		}
		if v.String() != in {
			t.Errorf("Parse(%q).String() = %q; want the input", in, v.String())
		}
		vs = append(vs, v)
	}
	c := make([][]int, len(vs))
	for i, a := range vs {
		c[i] = make([]int, len(vs))
		for j, b := range vs {
			c[i][j] = a.Compare(b)
			if c[i][j] < -1 || c[i][j] > 1 {
				t.Fatalf("%q.Compare(%q) = %d; want -1, 0 or 1", a, b, c[i][j])
			}
		}
	}
	for i, a := range vs {
		if c[i][i] != 0 {
			t.Errorf("%q.Compare(itself) = %d; want 0", a, c[i][i])
		}
		for j, b := range vs {
			if c[i][j] != -c[j][i] {
				t.Errorf("%q.Compare(%q) = %d but %q.Compare(%q) = %d", a, b, c[i][j], b, a, c[j][i])
			}
			for k, d := range vs {
				ab, bd, ad := c[i][j], c[j][k], c[i][k]
				if ab <= 0 && bd <= 0 && (ad > 0 || (ab < 0 || bd < 0) && ad == 0) {
					t.Errorf("not transitive: %q vs %q = %d, %q vs %q = %d, %q vs %q = %d",
						a, b, ab, b, d, bd, a, d, ad)
				}
			}
		}
	}
}

// distroOSVVersions returns the distinct versions in the range events of the
// OSV records of one ecosystem in shared/data/osv/<ecosystem>/all.zip beside
// the repository, or nil when that data is absent.
func distroOSVVersions(t *testing.T, ecosystem string) []string {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "data", "osv", ecosystem, "all.zip")
	z, err := zip.OpenReader(path)
	if os.IsNotExist(err) {
		t.Logf("no OSV data at %s: its versions are not used", path)
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	seen := map[string]bool{}
	for _, f := range z.File {
		var rec struct {
			Affected []struct {
				Ranges []struct {
					Events []map[string]string `json:"events"`
				} `json:"ranges"`
			} `json:"affected"`
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatalf("%s: %s: %v", path, f.Name, err)
		}
		for _, a := range rec.Affected {
			for _, rg := range a.Ranges {
				for _, ev := range rg.Events {
					for _, v := range ev {
						seen[v] = true
					}
				}
			}
		}
	}
	delete(seen, "0") // OSV's "before everything"
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// distroPairs picks about n pairs of the versions that s accepts: half at
// random, half neighbours in s's own order (the close calls), always the same
// pairs for the same input.
func distroPairs(s Scheme, versions []string, n int) [][2]string {
	var vs []Version
	for _, in := range versions {
		if v, err := s.Parse(in); err == nil {
			vs = append(vs, v)
		}
	}
	if len(vs) < 2 {
		return nil
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var pairs [][2]string
	for range n / 2 {
		a, b := vs[rng.IntN(len(vs))], vs[rng.IntN(len(vs))]
		pairs = append(pairs, [2]string{a.String(), b.String()})
	}
	slices.SortStableFunc(vs, func(a, b Version) int { return a.Compare(b) })
	step := max(1, len(vs)/(n-n/2))
	for i := rng.IntN(step); i+1 < len(vs) && len(pairs) < n; i += step {
		pairs = append(pairs, [2]string{vs[i].String(), vs[i+1].String()})
	}
	return pairs
}
