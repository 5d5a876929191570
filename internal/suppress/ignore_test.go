package suppress

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// now is the time the tests parse ignore files at: after the expiry of
// the last entry of testdata/ignore/kubeshieldignore.yaml, before the
// second's.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseIgnore(t *testing.T) {
	got, err := ParseIgnore(readTestdata(t, "ignore/kubeshieldignore.yaml"), now)
	if err != nil {
		t.Fatalf("ParseIgnore(kubeshieldignore.yaml) = %v", err)
	}
	want := &Ignore{Entries: []IgnoreEntry{
		{ID: "CVE-2021-33203", Reason: "django.contrib.admindocs is not installed", Line: 5},
		{ID: "GHSA-v845-jxx5-vc9f", Package: "pkg:pypi/urllib3", Reason: "the app never sends Cookie headers across redirects",
			Expires: day(t, "2026-07-01"), Line: 9},
		{ID: "CVE-2021-31542", Package: "Django@3.2.1", Reason: "fixed in our fork of 3.2.1", Line: 15},
		{ID: "KS-IMG-004", Path: "/usr/bin/passwd", Reason: "needed by the login flow of the debug image", Line: 20},
		{ID: "CVE-2021-33503", Package: "urllib3@1.26.4", Path: "app/requirements.*", Reason: "waiting for the base image update",
			Expires: day(t, "2026-02-01"), Expired: true, Line: 25},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseIgnore(kubeshieldignore.yaml) differs (-want +got):\n%s", diff)
	}
}

func TestParseIgnoreEmpty(t *testing.T) {
	for _, data := range []string{
		string(readTestdata(t, "ignore/empty.yaml")),
		"",
		"---\n",
		"~\n",
		"ignore:\n",
		"ignore: []\n",
	} {
		got, err := ParseIgnore([]byte(data), now)
		if err != nil || got == nil || len(got.Entries) != 0 {
			t.Errorf("ParseIgnore(%q) = %+v, %v; want no entries", data, got, err)
		}
	}
}

// TestIgnoreExpiry checks that an entry applies through its whole expiry
// day (UTC) and not after.
func TestIgnoreExpiry(t *testing.T) {
	data := []byte("ignore:\n  - id: CVE-2021-33203\n    reason: admindocs is off\n    expires: 2026-06-30\n")
	tests := []struct {
		now     time.Time
		expired bool
	}{
		{time.Date(2026, 6, 29, 12, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 6, 30, 23, 59, 59, 0, time.UTC), false},
		{time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 7, 1, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), false}, // 23:00 UTC on the 30th
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		ig, err := ParseIgnore(data, tt.now)
		if err != nil {
			t.Fatal(err)
		}
		e := ig.Entries[0]
		if e.Expired != tt.expired {
			t.Errorf("ParseIgnore(expires 2026-06-30, now %v).Expired = %v; want %v", tt.now, e.Expired, tt.expired)
		}
		if e.ExpiryDate() != "2026-06-30" {
			t.Errorf("ExpiryDate() = %q; want 2026-06-30", e.ExpiryDate())
		}
	}
	if d := (IgnoreEntry{}).ExpiryDate(); d != "" {
		t.Errorf("ExpiryDate() of an entry without expiry = %q; want \"\"", d)
	}
}

func TestParseIgnoreErrors(t *testing.T) {
	tests := []struct {
		file  string
		field string
		line  int
	}{
		{"unknown-field.yaml", "ignore[0].reasons", 3},
		{"unknown-top.yaml", "ignores", 1},
		{"missing-reason.yaml", "ignore[1].reason", 4},
		{"missing-id.yaml", "ignore[0].id", 2},
		{"bad-date.yaml", "ignore[0].expires", 2},
		{"timestamp-not-date.yaml", "ignore[0].expires", 2},
		{"bad-purl.yaml", "ignore[0].package", 2},
		{"bad-pattern.yaml", "ignore[0].path", 2},
		{"two-documents.yaml", "", 0},
		{"alias.yaml", "", 2},
		{"list-at-top.yaml", "", 1},
		{"duplicate-key.yaml", "ignore[0].id", 4},
		{"tab.yaml", "", 0},
		{"id-list.yaml", "ignore[0].id", 2},
	}
	for _, tt := range tests {
		got, err := ParseIgnore(readTestdata(t, "ignore/bad/"+tt.file), now)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseIgnore(%s) = %v, %v; want a *ParseError wrapping ErrInvalid", tt.file, got, err)
			continue
		}
		if got != nil {
			t.Errorf("ParseIgnore(%s) returned %+v with an error", tt.file, got)
		}
		if pe.Field != tt.field || pe.Line != tt.line {
			t.Errorf("ParseIgnore(%s) = %v; want field %q, line %d", tt.file, err, tt.field, tt.line)
		}
	}
}

func TestParseIgnoreTooLarge(t *testing.T) {
	data := []byte("# " + strings.Repeat("x", MaxIgnoreSize) + "\n")
	_, err := ParseIgnore(data, now)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseIgnore(%d bytes) = %v; want ErrTooLarge", len(data), err)
	}
}
