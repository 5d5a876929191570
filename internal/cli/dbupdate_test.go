package cli

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/vulndb"
)

// TestDBUpdateLocalMirror runs `db update` against a local mirror: the
// database is built from it, a missing ecosystem fails the command and a
// bad --base-url is a usage error.
func TestDBUpdateLocalMirror(t *testing.T) {
	mirror := t.TempDir()
	if err := os.MkdirAll(filepath.Join(mirror, "Go"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(mirror, "Go", "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	records, _ := filepath.Glob("../osv/testdata/records/Go/*.json")
	for _, r := range records {
		data, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(filepath.Base(r))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(zw.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "sub", "vuln.db")

	out, errOut, code := runCLI(t, "--db", db, "db", "update", "--base-url", mirror, "--ecosystems", "Go", "-o", "json")
	if code != 0 {
		t.Fatalf("db update: exit %d\n%s", code, errOut)
	}
	var st vulndb.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("parse status: %v\n%s", err, out)
	}
	type src struct {
		Name   string
		Fetch  vulndb.Fetch
		Stored int
	}
	var got []src
	for _, s := range st.Sources {
		got = append(got, src{s.Name, s.Fetch, s.Stored})
	}
	if diff := cmp.Diff([]src{{"Go", vulndb.FetchLocal, 1}}, got); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}

	if _, errOut, code := runCLI(t, "--db", db, "db", "update", "--base-url", mirror, "--ecosystems", "Go,PyPI"); code != ExitError {
		t.Errorf("db update with PyPI missing: exit %d; want %d\n%s", code, ExitError, errOut)
	}
	for _, base := range []string{"http://127.0.0.1:1/osv", filepath.Join(mirror, "missing")} {
		if _, errOut, code := runCLI(t, "--db", db, "db", "update", "--base-url", base); code != ExitUsage {
			t.Errorf("db update --base-url %s: exit %d; want %d\n%s", base, code, ExitUsage, errOut)
		}
	}
	if out, _, code := runCLI(t, "--db", db, "db", "status", "-o", "json"); code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Records != 1 {
		t.Errorf("db status after the failed updates: exit %d, %d records; want 0, 1", code, st.Records)
	}
}
