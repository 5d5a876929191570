package vulndb

import (
	"archive/zip"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// zipCounts reads an all.zip with archive/zip and encoding/json alone and
// returns its records and how many of them are withdrawn.
func zipCounts(t *testing.T, path string) (records, withdrawn int) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Withdrawn string `json:"withdrawn"`
		}
		if err := json.NewDecoder(rc).Decode(&r); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		rc.Close()
		records++
		if r.Withdrawn != "" {
			withdrawn++
		}
	}
	return records, withdrawn
}

// TestImportShared imports whole ecosystems of the shared OSV data (Alpine
// and Go) and checks the counts and some known answers.
func TestImportShared(t *testing.T) {
	data := sharedOSV(t)
	alpine, golang := filepath.Join(data, "Alpine", "all.zip"), filepath.Join(data, "Go", "all.zip")
	path := filepath.Join(t.TempDir(), "vuln.db")
	st := build(t, path, Source{Path: alpine}, Source{Path: golang})

	total := 0
	for i, z := range []string{alpine, golang} {
		records, withdrawn := zipCounts(t, z)
		src := st.Sources[i]
		if src.Entries != records || src.Stored != records-withdrawn || src.Withdrawn != withdrawn || len(src.Skipped) != 0 || src.Duplicates != 0 {
			t.Errorf("import of %s = %+v; want %d entries, %d stored, %d withdrawn, none skipped", z, src, records, records-withdrawn, withdrawn)
		}
		total += records - withdrawn
	}
	// Known values of the shared data set (SOURCES.md): 2437 Alpine records,
	// 4291 Go records of which 17 are withdrawn.
	if st.Records != total || total != 2437+4291-17 {
		t.Errorf("Records = %d (counted %d); want %d", st.Records, total, 2437+4291-17)
	}

	db := open(t, path)
	tests := []struct {
		ecosystem, name string
		want            []string
	}{
		{"Alpine:v3.11", "openssl", []string{
			"ALPINE-CVE-2018-0734", "ALPINE-CVE-2018-0735", "ALPINE-CVE-2019-1543", "ALPINE-CVE-2019-1547",
			"ALPINE-CVE-2019-1549", "ALPINE-CVE-2019-1551", "ALPINE-CVE-2019-1563",
		}},
		{"Alpine:v3.11", "musl", []string{"ALPINE-CVE-2016-8859", "ALPINE-CVE-2019-14697"}},
		{"Alpine:v3.20", "musl", nil},
		{"Go", "github.com/gin-gonic/gin", []string{"GO-2020-0001", "GO-2021-0052", "GO-2023-1737"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, query(t, db, tt.ecosystem, tt.name)); diff != "" {
			t.Errorf("Query(%q, %q) mismatch (-want +got):\n%s", tt.ecosystem, tt.name, diff)
		}
	}
	// Counts checked against a plain scan of the zips.
	for _, c := range []struct {
		ecosystem, name string
		n               int
		has             string
	}{
		{"Alpine:v3.3", "openssl", 22, "ALPINE-CVE-2016-2105"},
		{"Go", "stdlib", 167, "GO-2021-0067"},
		{"Go", "golang.org/x/net", 30, "GO-2020-0014"},
		{"Go", "k8s.io/kubernetes", 44, "GO-2021-0066"},
	} {
		got := query(t, db, c.ecosystem, c.name)
		if len(got) != c.n || !slices.Contains(got, c.has) || !slices.IsSorted(got) {
			t.Errorf("Query(%q, %q) = %d records; want %d, sorted, with %s", c.ecosystem, c.name, len(got), c.n, c.has)
		}
	}
	// Every Go record names the package it was found under.
	recs, err := db.Query(t.Context(), "Go", "stdlib")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !slices.ContainsFunc(r.Affected, func(a osv.Affected) bool { return a.Package.Matches("Go", "stdlib") }) || r.IsWithdrawn() {
			t.Errorf("Query(Go, stdlib) returned %s, which does not affect stdlib or is withdrawn", r.ID)
		}
	}
}
