package version

import (
	"strings"
	"testing"

	gosemver "golang.org/x/mod/semver"
)

func TestSemVerVectors(t *testing.T) {
	vfRun(t, SemVer, "testdata/semver/*.txt")
}

func TestSemVerParse(t *testing.T) {
	tests := []canonCase{
		{"1.2.3", "1.2.3"},
		{"v1.2.3", "1.2.3"},
		{"V1.2.3", ""},
		{"1", "1.0.0"},
		{"v1.2", "1.2.0"},
		{"1.2", "1.2.0"},
		{"1.2-pre", ""},
		{"1+meta", ""},
		{"1.22.0-0", "1.22.0-0"},
		{"v2.0.0+incompatible", "2.0.0"},
		{"v0.0.0-20191109021931-daa7c04131f5", "0.0.0-20191109021931-daa7c04131f5"},
		{"18446744073709551616.0.0", "18446744073709551616.0.0"},
		{" 1.2.3", ""},
		{"=1.2.3", ""},
		{"1.2.3 ", ""},
		{"", ""},
		{"v", ""},
		{"1.2.3-", ""},
		{"1.2.3-01", ""},
		{"1.2.3-0a", "1.2.3-0a"},
		{"1.2.3+01", "1.2.3"},
		{"1.2.3-ü", ""},
	}
	checkCanonical(t, SemVer, tests, true)
}

func TestSemVerOrder(t *testing.T) {
	// Go module and OSV cases that the upstream vectors lack.
	tests := []struct {
		a, b string
		want int
	}{
		{"v2.0.0+incompatible", "v2.0.0", 0},
		{"v2.0.0+incompatible", "v2.0.1", -1},
		{"v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-aaaaaaaaaaaa", -1},
		{"v0.0.0-20191109021931-daa7c04131f5", "v0.0.1", -1},
		{"v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3", 1},
		{"v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-pre", -1},
		{"1.22.0-0", "1.22.0-rc.1", -1},
		{"1.22.0-0", "1.21.99", 1},
		{"1.22.0-0", "1.22.0", -1},
		{"18446744073709551616.0.0", "18446744073709551615.0.0", 1},
		{"1.0.0-18446744073709551616", "1.0.0-9", 1},
		{"1", "1.0.0", 0},
	}
	for _, tt := range tests {
		got, err := Compare(SemVer, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

func TestSemVerMixedSchemesPanic(t *testing.T) {
	a, _ := SemVer.Parse("1.0.0")
	b, _ := PEP440.Parse("1.0.0")
	defer func() {
		if recover() == nil {
			t.Error("Compare of a semver and a pep440 version did not panic")
		}
	}()
	a.Compare(b)
}

// TestSemVerMatchesGo compares every version of the vector files, and every
// pair of them, with golang.org/x/mod/semver, Go's own implementation.
func TestSemVerMatchesGo(t *testing.T) {
	var versions []string
	for _, l := range vfRead(t, "testdata/semver/*.txt") {
		switch l.kind {
		case "chain":
			for i := 0; i < len(l.tokens); i += 2 {
				versions = append(versions, l.tokens[i])
			}
		default:
			versions = append(versions, l.tokens[0])
		}
	}
	pairs := 0
	for _, a := range versions {
		va, errA := SemVer.Parse(a)
		if got, want := errA == nil, gosemver.IsValid(semverGoForm(a)); got != want {
			t.Errorf("Parse(%q) accepted %v; Go's semver.IsValid(%q) = %v", a, got, semverGoForm(a), want)
		}
		if errA != nil {
			continue
		}
		for _, b := range versions {
			vb, err := SemVer.Parse(b)
			if err != nil {
				continue
			}
			pairs++
			if got, want := va.Compare(vb), gosemver.Compare(semverGoForm(a), semverGoForm(b)); got != want {
				t.Errorf("Compare(%q, %q) = %d; Go's semver.Compare = %d", a, b, got, want)
			}
		}
	}
	t.Logf("%d versions, %d pairs agree with golang.org/x/mod/semver", len(versions), pairs)
}

// semverGoForm adds the "v" that golang.org/x/mod/semver requires.
func semverGoForm(s string) string {
	if strings.HasPrefix(s, "v") {
		return s
	}
	return "v" + s
}

func FuzzSemVer(f *testing.F) {
	for _, s := range [][3]string{
		{"1.0.0", "1.0.0-alpha.1", "v1.0.0+build"},
		{"v0.0.0-20191109021931-daa7c04131f5", "v2.0.0+incompatible", "1.22.0-0"},
		{"1.2", "1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		vs := fuzzOrder(t, SemVer, a, b, c)
		in := []string{a, b, c}
		for i, v := range vs {
			if got, want := v != nil, gosemver.IsValid(semverGoForm(in[i])); got != want {
				t.Fatalf("Parse(%q) accepted %v; Go's semver.IsValid = %v", in[i], got, want)
			}
			if v == nil {
				continue
			}
			canon := v.(vfCanonical).Canonical()
			w, err := SemVer.Parse(canon)
			if err != nil || w.Compare(v) != 0 {
				t.Fatalf("Parse(Canonical(%q) = %q) = %v, %v; want an equal version", in[i], canon, w, err)
			}
			for j, w := range vs {
				if w == nil {
					continue
				}
				if got, want := v.Compare(w), gosemver.Compare(semverGoForm(in[i]), semverGoForm(in[j])); got != want {
					t.Fatalf("Compare(%q, %q) = %d; Go's semver.Compare = %d", in[i], in[j], got, want)
				}
			}
		}
	})
}
