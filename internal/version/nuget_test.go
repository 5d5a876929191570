package version

import (
	"testing"
)

func TestNuGetVectors(t *testing.T) {
	vfRun(t, NuGet, "testdata/nuget/*.txt")
}

func TestNuGetParse(t *testing.T) {
	tests := []canonCase{
		{"1", "1.0.0"},
		{"1.2.3.4", "1.2.3.4"},
		{"1.2.3.0", "1.2.3"},
		{"01.002.0003.00004", "1.2.3.4"},
		{"1.0.0-Beta.1+Meta", "1.0.0-Beta.1"},
		{"1 . 2", "1.2.0"},
		{"1.\t2", "1.2.0"},
		{"1.\u00a02", "1.2.0"},       // char.IsWhiteSpace is Unicode's
		{"\u20281.0\u2029", "1.0.0"}, // so is String.Trim
		{"2147483647.0", "2147483647.0.0"},
		{"2147483648.0", ""},
		{"1.0.0--1", "1.0.0--1"},
		{"1.0.0-", ""},
		{"1.0.0+", ""},
		{"1.0.0-+a", ""},
		{"1.0.0-a+", ""},
		{"1.0.0+a+b", ""},
		{"1.0.0-01", ""},
		{"1.0.0-0a", "1.0.0-0a"},
		{"1.0.0+01", "1.0.0"},
		{"v1.0.0", ""},
		{"1.0.0.0.0", ""},
		{"١.٠", ""},
		{"-", ""},
		{"+", ""},
		{"", ""},
	}
	checkCanonical(t, NuGet, tests, true)
}

func TestNuGetOrder(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0--1", "1.0.0-0", -1},                    // int.TryParse reads "-1" as -1
		{"1.0.0--2147483648", "1.0.0--2147483647", -1}, // int.MinValue still parses
		{"1.0.0--2147483649", "1.0.0-0", 1},            // out of range: a string, after numbers
		{"1.0.0-2147483648", "1.0.0-9", 1},
		{"1.0.0-10000000000", "1.0.0-2147483648", -1}, // both strings: "1" < "2"
		{"1.0.0-a", "1.0.0-A", 0},
		{"1.0.0-a-b", "1.0.0-A-B", 0},
		{"1.0.0.1", "1.0.0", 1},
		{"1.0.0.1-beta", "1.0.0", 1},
		{"1.0.0+a", "1.0.0+b", 0},
	}
	for _, tt := range tests {
		got, err := Compare(NuGet, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

func FuzzNuGet(f *testing.F) {
	for _, s := range [][3]string{
		{"1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.79.0+aa", "1.0.0.1-1.2.A"},
		{"   19.   19", "1.022-Beta", "2147483647.1.1.1"},
		{"1.2.3-1.50A", "1.2.3-1.9A", "0.1.2--B2.-.C.-A0-"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for i, v := range fuzzOrder(t, NuGet, a, b, c) {
			if v == nil {
				continue
			}
			canon := v.(vfCanonical).Canonical()
			w, err := NuGet.Parse(canon)
			if err != nil || w.Compare(v) != 0 || w.(vfCanonical).Canonical() != canon {
				t.Fatalf("Parse(Canonical(%q) = %q) = %v, %v; want an equal version", []string{a, b, c}[i], canon, w, err)
			}
		}
	})
}
