package suppress

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// addFiles adds the files matching pattern as seeds.
func addFiles(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParseIgnore checks that ParseIgnore never panics, returns either an
// ignore list or an error, and keeps its promises about what it accepts;
// and that Apply takes whatever it accepts.
func FuzzParseIgnore(f *testing.F) {
	addFiles(f, filepath.Join("testdata", "ignore", "*.yaml"))
	addFiles(f, filepath.Join("testdata", "ignore", "bad", "a*.yaml"))
	f.Add([]byte("ignore:\n  - {id: X, reason: y, expires: 2026-02-29}\n"))
	f.Add([]byte("ignore:\n  - id: !!binary Q1ZF\n    reason: !!int 1\n    path: '**'\n"))
	findings := exampleFindings(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ig, err := ParseIgnore(data, now)
		if err != nil {
			if ig != nil {
				t.Fatalf("ParseIgnore returned entries and an error: %v", err)
			}
			return
		}
		for _, e := range ig.Entries {
			if e.ID == "" || e.Reason == "" || e.Line < 1 {
				t.Fatalf("ParseIgnore accepted the entry %+v", e)
			}
			if e.Expired != (!e.Expires.IsZero() && !now.Before(e.Expires)) {
				t.Fatalf("entry %+v: Expired disagrees with Expires", e)
			}
		}
		// The list does not depend on anything but the input.
		again, err := ParseIgnore(data, now)
		if err != nil {
			t.Fatalf("second ParseIgnore = %v", err)
		}
		if diff := cmp.Diff(ig, again); diff != "" {
			t.Fatalf("two parses differ:\n%s", diff)
		}
		out, expired := Apply(findings, ig, nil)
		if len(out) != len(findings) || len(expired) > len(ig.Entries) {
			t.Fatalf("Apply returned %d findings for %d and %d expired entries of %d", len(out), len(findings), len(expired), len(ig.Entries))
		}
	})
}

// FuzzParseOpenVEX checks that ParseOpenVEX never panics, returns either a
// document or an error, and keeps its promises about what it accepts; and
// that Apply takes whatever it accepts.
func FuzzParseOpenVEX(f *testing.F) {
	addFiles(f, filepath.Join("testdata", "openvex", "*.json"))
	addFiles(f, filepath.Join("testdata", "openvex", "bad", "openvex-0.0.1.json"))
	findings := exampleFindings(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseOpenVEX(data)
		if err != nil {
			if v != nil {
				t.Fatalf("ParseOpenVEX returned a document and an error: %v", err)
			}
			return
		}
		if v.Version < 1 || v.Author == "" || v.Timestamp.IsZero() || len(v.Statements) == 0 {
			t.Fatalf("ParseOpenVEX accepted the document %+v", v)
		}
		for _, s := range v.Statements {
			if s.Vulnerability.Name == "" || len(s.Products) == 0 || s.Timestamp.IsZero() || !slices.Contains(statuses, s.Status) {
				t.Fatalf("ParseOpenVEX accepted the statement %+v", s)
			}
			if s.Status == NotAffected && s.Justification == "" && s.ImpactStatement == "" {
				t.Fatalf("ParseOpenVEX accepted a not_affected statement without a reason: %+v", s)
			}
		}
		out, _ := Apply(findings, nil, []*VEX{v})
		if len(out) != len(findings) {
			t.Fatalf("Apply returned %d findings for %d", len(out), len(findings))
		}
	})
}
