package version

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPEP440Vectors(t *testing.T) {
	vfRun(t, PEP440, "testdata/pep440/*.txt")
}

func TestPEP440Parse(t *testing.T) {
	tests := []canonCase{
		{"1.0", "1.0"},
		{"V1.0", "1.0"},
		{"1.0a.", "1.0a0"}, // the separator after the letter needs no number
		{"1.0.post.dev", "1.0.post0.dev0"},
		{"1.0-dev", "1.0.dev0"},
		{"1.0a-1", "1.0a1"}, // "-1" after a pre-release letter is its number
		{"1.0a1-1", "1.0a1.post1"},
		{"1.0preview2", "1.0rc2"},
		{"1.0.r", "1.0.post0"},
		{"1.0+ABC.01", "1.0+abc.1"},
		{"1\u20281.0", ""}, // white space inside
		{"\u20281.0\u3000", "1.0"},
		{"\x1c1.0", "1.0"}, // str.isspace is true for U+001C..U+001F
		{"1.0\u200b", ""},  // U+200B is not white space for Python
		{"1.0+\u212a", ""}, // the Kelvin sign is not [a-z]
		{"1.0\u212a", ""},
		{"٣.٠", ""},
		{"1.0+", ""},
		{"1.0+a.", ""},
		{"1.0+a..b", ""},
		{"1!", ""},
		{"!1.0", ""},
		{"vv1.0", ""},
		{"1.0a1b1", ""},
		{"1.0.dev1.post1", ""},
		{"1.0rc1-", ""},
	}
	checkCanonical(t, PEP440, tests, false)
}

func TestPEP440Order(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0.0.0", 0},
		{"1.0+1", "1.0+01", 0},
		{"1.0+a", "1.0+A", 0},
		{"1.0+a", "1.0+1", -1},   // strings before numbers
		{"1.0+1", "1.0+1.0", -1}, // shorter local first
		{"1.0", "1.0+0", -1},     // no local first
		{"1.0.dev1", "1.0a1.dev1", -1},
		{"1.0.post1.dev1", "1.0.post1", -1},
		{"1.0.post1.dev1", "1.0", 1},
		{"1!0.1", "2000", 1},
		{"1.0a1.post1", "1.0a2.dev1", -1},
		{"99999999999999999999999", "99999999999999999999998", 1},
	}
	for _, tt := range tests {
		got, err := Compare(PEP440, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

// pep440Oracle is the Python program TestPEP440MatchesPackaging runs: it
// reads a JSON array of strings and prints, as JSON, str(Version(s)) or null
// for each, and the comparison of every pair of valid ones.
const pep440Oracle = `
import json, sys
import packaging
from packaging.version import Version, InvalidVersion
vs = json.load(sys.stdin)
parsed = []
for s in vs:
    try:
        parsed.append(Version(s))
    except (InvalidVersion, ValueError):
        parsed.append(None)
cmp = [[None if a is None or b is None else (a > b) - (a < b) for b in parsed] for a in parsed]
json.dump({"version": packaging.__version__, "canonical": [None if v is None else str(v) for v in parsed], "cmp": cmp}, sys.stdout)
`

// TestPEP440MatchesPackaging runs pypa/packaging's Version, which pip uses,
// on every version of the vector files and checks that it accepts the same
// ones, normalizes them the same way and orders every pair as the scheme
// does. It skips when no python3 with the packaging module is installed
// (Debian's python3-packaging provides it).
func TestPEP440MatchesPackaging(t *testing.T) {
	var python string
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import packaging.version").Run() == nil {
			python = path
			break
		}
	}
	if python == "" {
		t.Skip("no python3 with the packaging module: pypa/packaging cannot run")
	}
	var versions []string
	seen := map[string]bool{}
	for _, l := range vfRead(t, "testdata/pep440/*.txt") {
		for i, tok := range l.tokens {
			if l.kind == "chain" && i%2 == 1 || l.kind == "canon" && i == 1 || seen[tok] || !utf8.ValidString(tok) {
				continue
			}
			// packaging before 26.0 let [a-z] match non-ASCII letters in
			// local labels (1.0+İ); 26.0 and Parse refuse them.
			if j := strings.IndexByte(tok, '+'); j >= 0 && !pep440ASCII(tok[j:]) {
				continue
			}
			seen[tok] = true
			versions = append(versions, tok)
		}
	}
	in, err := json.Marshal(versions)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", pep440Oracle)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", python, err)
	}
	var res struct {
		Version   string
		Canonical []*string
		Cmp       [][]*int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("reading packaging's answer: %v", err)
	}
	parsed := make([]Version, len(versions))
	for i, s := range versions {
		v, err := PEP440.Parse(s)
		switch {
		case (err == nil) != (res.Canonical[i] != nil):
			t.Errorf("Parse(%q) = %v; packaging's Version accepts it: %v", s, err, res.Canonical[i] != nil)
		case err == nil && v.(vfCanonical).Canonical() != *res.Canonical[i]:
			t.Errorf("Parse(%q).Canonical() = %q; packaging's str(Version) = %q", s, v.(vfCanonical).Canonical(), *res.Canonical[i])
		}
		parsed[i] = v
	}
	pairs := 0
	for i, a := range parsed {
		for j, b := range parsed {
			if a == nil || b == nil || res.Cmp[i][j] == nil {
				continue
			}
			pairs++
			if got, want := a.Compare(b), *res.Cmp[i][j]; got != want {
				t.Errorf("Compare(%q, %q) = %d; packaging = %d", versions[i], versions[j], got, want)
			}
		}
	}
	t.Logf("packaging %s agrees on %d versions and %d pairs", res.Version, len(versions), pairs)
}

func FuzzPEP440(f *testing.F) {
	for _, s := range [][3]string{
		{"1.0.dev456", "1.0a12", "1!1.0b2.post345.dev456"},
		{"1.0+abc.7", "1.0+5", "1.0.post456"},
		{" v1.0-R4 ", "1.0c1", "1.2.rev33+123456"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for i, v := range fuzzOrder(t, PEP440, a, b, c) {
			if v == nil {
				continue
			}
			// The normal form parses back to an equal version with the same
			// normal form.
			canon := v.(vfCanonical).Canonical()
			w, err := PEP440.Parse(canon)
			if err != nil || w.Compare(v) != 0 || w.(vfCanonical).Canonical() != canon {
				t.Fatalf("Parse(Canonical(%q) = %q) = %v, %v; want an equal version", []string{a, b, c}[i], canon, w, err)
			}
		}
	})
}
