package version

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"
)

func TestGemVectors(t *testing.T) {
	vfRun(t, Gem, "testdata/gem/*.txt")
}

func TestGemParse(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"1.0", true},
		{" \t\n\v\f\r1.0\r\n", true},
		{"", true},
		{"1--", true},
		{"1-a--b", true},
		{"1.0a1", true},
		{"10a", false},
		{"a", false},
		{"1-", false},
		{"1.-a", false},
		{"1.0-a.", false},
		{"1.0\x00", false},
		{"1.0\u00a0", false},
		{"1.0 1", false},
		{"v1.0", false},
		{"1.0+build", false},
		{"1.0_1", false},
	}
	for _, tt := range tests {
		v, err := Gem.Parse(tt.in)
		switch {
		case tt.ok && err != nil:
			t.Errorf("Parse(%q) = %v; want a version", tt.in, err)
		case !tt.ok && !errors.Is(err, ErrInvalid):
			t.Errorf("Parse(%q) = %v, %v; want an error wrapping ErrInvalid", tt.in, v, err)
		case tt.ok && v.String() != tt.in:
			t.Errorf("Parse(%q).String() = %q; want the input", tt.in, v.String())
		}
	}
}

func TestGemOrder(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0-rc1", "1.0.0.pre.rc1", 0},
		{"1.a", "1.B", 1}, // letters compare byte by byte: "B" < "a"
		{"1.0.a.0.b.0", "1.a.0.b", 0},
		{"0", "0.a", 1},
		{"1.a", "1.a.0.0.1", -1},
		{"99999999999999999999999999", "99999999999999999999999998", 1},
		{"1.01", "1.1", 0},
		{"1.9.3.p551", "1.9.3", -1},
	}
	for _, tt := range tests {
		got, err := Compare(Gem, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

// gemOracle is the Ruby program TestGemMatchesRuby runs: it reads a JSON
// array of strings and prints, as JSON, Gem::Version.correct? for each and
// <=> for every pair of the correct ones.
const gemOracle = `
require 'json'
require 'rubygems'
vs = JSON.parse($stdin.read)
ok = vs.map { |s| Gem::Version.correct?(s) ? true : false }
gv = vs.each_with_index.map { |s, i| ok[i] ? Gem::Version.new(s) : nil }
cmp = gv.map { |a| gv.map { |b| a && b ? (a <=> b) : nil } }
puts JSON.generate({"version" => Gem::VERSION, "ok" => ok, "cmp" => cmp})
`

// TestGemMatchesRuby runs RubyGems' Gem::Version on every version of the
// vector files and checks that it accepts the same ones and orders every
// pair as the scheme does. It skips when ruby is missing.
func TestGemMatchesRuby(t *testing.T) {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		t.Skip("ruby is not installed: Gem::Version cannot run")
	}
	var versions []string
	seen := map[string]bool{}
	for _, l := range vfRead(t, "testdata/gem/*.txt") {
		for i, tok := range l.tokens {
			if l.kind == "chain" && i%2 == 1 || seen[tok] {
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
	cmd := exec.Command(ruby, "-e", gemOracle)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ruby: %v", err)
	}
	var res struct {
		Version string
		OK      []bool
		Cmp     [][]*int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("reading ruby's answer: %v", err)
	}
	parsed := make([]Version, len(versions))
	for i, s := range versions {
		v, err := Gem.Parse(s)
		if (err == nil) != res.OK[i] {
			t.Errorf("Parse(%q) = %v; Gem::Version.correct? = %v", s, err, res.OK[i])
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
				t.Errorf("Compare(%q, %q) = %d; Gem::Version#<=> = %d", versions[i], versions[j], got, want)
			}
		}
	}
	t.Logf("RubyGems %s agrees on %d versions and %d pairs", res.Version, len(versions), pairs)
}

func FuzzGem(f *testing.F) {
	for _, s := range [][3]string{
		{"1.8.2.a10", "1.8.2.a9", "1.0.0-rc1"},
		{"0.beta.1", "0.0.beta.1", "5.x"},
		{"1.0.0.a.1.0", " 1.0\n", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		fuzzOrder(t, Gem, a, b, c)
	})
}
