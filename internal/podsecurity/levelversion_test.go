package podsecurity

import (
	"errors"
	"testing"

	"k8s.io/pod-security-admission/api"
)

func TestParseLevelVersion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // LevelVersion.String(), or "" for an error
	}{
		{"restricted", "restricted:latest"},
		{"baseline:v1.30", "baseline:v1.30"},
		{"privileged:latest", "privileged:latest"},
		{"restricted:v1.0", "restricted:v1.0"},
		{"baseline:v1.99", "baseline:v1.99"},
		{"", ""},
		{"Restricted", ""},
		{"strict", ""},
		{"restricted:", ""},
		{"restricted:1.30", ""},
		{"restricted:v2.0", ""},
		{"restricted:v1.030", ""},
		{"restricted:v1.30:extra", ""},
		{":v1.30", ""},
	} {
		got, err := ParseLevelVersion(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidLevelVersion) {
				t.Errorf("ParseLevelVersion(%q) = %v, %v; want an error wrapping ErrInvalidLevelVersion", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseLevelVersion(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseLevelVersion(f *testing.F) {
	for _, s := range []string{"restricted", "baseline:v1.30", "privileged:latest", "restricted:v1.", "x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lv, err := ParseLevelVersion(s)
		if err != nil {
			return
		}
		if !lv.Level.Valid() {
			t.Fatalf("ParseLevelVersion(%q) = %v: invalid level", s, lv)
		}
		// What parses prints back to something that parses the same.
		again, err := ParseLevelVersion(lv.String())
		if err != nil || again != lv {
			t.Fatalf("ParseLevelVersion(%q) = %v; its String %q parses to %v, %v", s, lv, lv.String(), again, err)
		}
		if lv.Version == (api.Version{}) {
			t.Fatalf("ParseLevelVersion(%q): zero version", s)
		}
	})
}
