package differential

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// writeDebianData writes the Debian all.zip both scanners read: every
// record of the shared Debian data, those with Debian:11 entries given a
// Debian:12 copy of each (the data stops at Debian 11; bullseye's ranges
// then speak of bookworm, which exercises the release match without
// inventing versions), plus synthetic records around the installed
// versions. It returns how many real records were changed and how many
// synthetic ones were added.
func writeDebianData(t *testing.T, src, dst string, pkgs []debPackage) (relabelled, synthetic int) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		b, err := readEntry(e)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		nb, changed, err := addRelease(b, "Debian:11", "Debian:12")
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		if changed {
			relabelled++
		}
		writeEntry(t, zw, e.Name, nb)
	}
	for _, r := range syntheticDebian(pkgs) {
		writeEntry(t, zw, r.ID+".json", r.json(t))
		synthetic++
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return relabelled, synthetic
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 8<<20))
}

func writeEntry(t *testing.T, zw *zip.Writer, name string, b []byte) {
	t.Helper()
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}

// addRelease appends to the record a copy of each affected entry of
// ecosystem from with the ecosystem to (purl and ranges unchanged); other
// fields pass through as they are.
func addRelease(b []byte, from, to string) ([]byte, bool, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, false, err
	}
	var affected []map[string]json.RawMessage
	if raw, ok := rec["affected"]; ok {
		if err := json.Unmarshal(raw, &affected); err != nil {
			return nil, false, err
		}
	}
	var added []map[string]json.RawMessage
	for _, a := range affected {
		var pkg map[string]string
		if err := json.Unmarshal(a["package"], &pkg); err != nil {
			return nil, false, err
		}
		if pkg["ecosystem"] != from {
			continue
		}
		pkg["ecosystem"] = to
		p, err := json.Marshal(pkg)
		if err != nil {
			return nil, false, err
		}
		c := map[string]json.RawMessage{}
		for k, v := range a {
			c[k] = v
		}
		c["package"] = p
		added = append(added, c)
	}
	if len(added) == 0 {
		return b, false, nil
	}
	raw, err := json.Marshal(append(affected, added...))
	if err != nil {
		return nil, false, err
	}
	rec["affected"] = raw
	out, err := json.MarshalIndent(rec, "", "  ")
	return out, true, err
}

// synthRecord is a record written for the test, in the shape of the
// converted Debian records.
type synthRecord struct {
	ID      string
	Alias   string
	Source  string
	Summary string
	Events  []map[string]string
}

func (r synthRecord) json(t *testing.T) []byte {
	t.Helper()
	rec := map[string]any{
		"schema_version": "1.7.0",
		"id":             r.ID,
		"modified":       "2026-01-01T00:00:00Z",
		"published":      "2026-01-01T00:00:00Z",
		"summary":        r.Summary,
		"affected": []any{map[string]any{
			"package": map[string]string{"ecosystem": "Debian:12", "name": r.Source, "purl": "pkg:deb/debian/" + r.Source + "?arch=source"},
			"ranges":  []any{map[string]any{"type": "ECOSYSTEM", "events": r.Events}},
		}},
	}
	if r.Alias != "" {
		rec["aliases"] = []string{r.Alias}
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syntheticDebian writes five records per installed source package s at
// source version v, where "v+ksfix1" is a version just above v:
//
//	A  introduced 0, fixed v+ksfix1     affected (fixed later)
//	B  introduced 0, fixed v            not affected (fixed by this very version)
//	C  introduced 0, last_affected v    affected (the last affected version)
//	D  introduced v                     affected; shares A's alias, so one flaw
//	E  introduced v+ksfix1              not affected (introduced later)
//
// The IDs use the x_ prefix of local databases; the aliases are CVE-2099-*.
func syntheticDebian(pkgs []debPackage) []synthRecord {
	type src struct{ name, version string }
	var srcs []src
	for _, p := range pkgs {
		s := src{p.sourceName, p.sourceVersion}
		if !slices.Contains(srcs, s) {
			srcs = append(srcs, s)
		}
	}
	slices.SortFunc(srcs, func(a, b src) int {
		if a.name != b.name {
			if a.name < b.name {
				return -1
			}
			return 1
		}
		if a.version < b.version {
			return -1
		}
		if a.version > b.version {
			return 1
		}
		return 0
	})
	var out []synthRecord
	for i, s := range srcs {
		id := fmt.Sprintf("x_KSDIFF-%03d", i)
		alias := fmt.Sprintf("CVE-2099-%05d", 10000+i)
		above := s.version + "+ksfix1"
		for _, r := range []synthRecord{
			{ID: id + "A", Alias: alias, Events: []map[string]string{{"introduced": "0"}, {"fixed": above}}},
			{ID: id + "B", Events: []map[string]string{{"introduced": "0"}, {"fixed": s.version}}},
			{ID: id + "C", Events: []map[string]string{{"introduced": "0"}, {"last_affected": s.version}}},
			{ID: id + "D", Alias: alias, Events: []map[string]string{{"introduced": s.version}}},
			{ID: id + "E", Events: []map[string]string{{"introduced": above}}},
		} {
			r.Source = s.name
			r.Summary = fmt.Sprintf("synthetic record for %s %s", s.name, s.version)
			out = append(out, r)
		}
	}
	return out
}
