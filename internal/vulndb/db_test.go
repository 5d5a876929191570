package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// testDB builds a database from the real test records and the records
// written for the tests.
func testDB(t *testing.T) (*DB, Status) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vuln.db")
	st := build(t, path, Source{Path: realRecords, Name: "real"}, Source{Path: "testdata/written"})
	return open(t, path), st
}

func TestQuery(t *testing.T) {
	db, _ := testDB(t)
	tests := []struct {
		ecosystem, name string
		want            []string
	}{
		{"Debian:11", "openssl", []string{"DSA-5343-1", "x_TEST-DEBIAN-ALL"}},
		{"Debian:12", "openssl", []string{"x_TEST-DEBIAN-ALL", "x_TEST-DEBIAN12"}},
		{"Debian", "openssl", []string{"x_TEST-DEBIAN-ALL"}},
		{"Debian:12", "OpenSSL", nil},
		{"Ubuntu:22.04:LTS", "openssl", nil},
		{"Alpine:v3.5", "openssl", []string{"ALPINE-CVE-2016-2105"}},
		{"Alpine:v3.9", "openssl", nil},
		{"Alpine:3.5", "openssl", nil},
		{"Go", "github.com/gin-gonic/gin", []string{"GO-2020-0001"}},
		{"Go", "k8s.io/kubernetes", nil}, // GO-2022-0617 is withdrawn
		{"PyPI", "jw.util", []string{"PYSEC-2020-341"}},
		{"PyPI", "JW_Util", []string{"PYSEC-2020-341"}},
		{"PyPI", "zope-interface", []string{"x_TEST-DEBIAN12"}},
		{"PyPI", "sosreport", []string{"PYSEC-2017-72"}},
		{"npm", "lodash.set", []string{"GHSA-p6mc-m468-83gw"}},
		{"npm", "Lodash", nil},
		{"crates.io", "spin", nil}, // RUSTSEC-2019-0031 is withdrawn
		{"crates.io", "pqcrypto-dilithium", []string{"RUSTSEC-2024-0380"}},
		{"AlmaLinux:9", "grafana-pcp", []string{"ALSA-2024:1502"}},
		{"AlmaLinux:8", "grafana-pcp", nil},
		{"", "", nil},
		{"Go\x00x", "\x00", nil},
	}
	for _, tt := range tests {
		got := query(t, db, tt.ecosystem, tt.name)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Query(%q, %q) mismatch (-want +got):\n%s", tt.ecosystem, tt.name, diff)
		}
	}
}

// TestQueryRecords checks that stored records come back as parsed from
// their files.
func TestQueryRecords(t *testing.T) {
	db, _ := testDB(t)
	for _, file := range []string{"Go/GO-2020-0001.json", "GHSA/GHSA-p6mc-m468-83gw.json", "AlmaLinux/ALSA-2024-1502.json"} {
		data, err := os.ReadFile(filepath.Join(realRecords, file))
		if err != nil {
			t.Fatal(err)
		}
		want, err := osv.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Get(context.Background(), want.ID)
		if err != nil {
			t.Fatalf("Get(%s) = %v", want.ID, err)
		}
		// Stored JSON is compacted: compare the encodings, which compact
		// the raw parts too.
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if diff := cmp.Diff(string(wj), string(gj)); diff != "" {
			t.Errorf("Get(%s) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}
	for _, id := range []string{"GO-2022-0617", "RUSTSEC-2019-0031", "NOPE-1", ""} {
		if r, err := db.Get(context.Background(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, %v; want ErrNotFound", id, r, err)
		}
	}
}

func TestStatus(t *testing.T) {
	db, built := testDB(t)
	st, err := db.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Size <= 0 || st.Size != built.Size {
		t.Errorf("Status().Size = %d, Build's = %d; want the same positive size", st.Size, built.Size)
	}
	if st.Built.IsZero() || !st.Built.Equal(built.Built) {
		t.Errorf("Status().Built = %v; want %v", st.Built, built.Built)
	}
	for i := range st.Sources {
		if st.Sources[i].Imported.IsZero() {
			t.Errorf("source %s has no import time", st.Sources[i].Name)
		}
		st.Sources[i].Imported = time.Time{}
	}
	want := Status{
		SchemaVersion: SchemaVersion,
		Records:       10,
		IndexKeys:     22, // 19 real (the Alpine record names 6 releases, GHSA 7 packages), 3 written
		Sources: []SourceStatus{
			{Name: "real", Path: realRecords, Entries: 10, Stored: 8, Withdrawn: 2},
			{Name: "written", Path: "testdata/written", Entries: 2, Stored: 2},
		},
	}
	if diff := cmp.Diff(want, st, cmp.FilterPath(func(p cmp.Path) bool {
		return p.String() == "Built" || p.String() == "Size"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("Status() mismatch (-want +got):\n%s", diff)
	}
}

// TestImportZip checks that a zip of the records gives the same answers as
// the directory, and that a single-file source works.
func TestImportZip(t *testing.T) {
	dir := t.TempDir()
	var entries []zipEntry
	files, _ := filepath.Glob(filepath.Join(realRecords, "*", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, zipEntry{Name: filepath.Base(f), Data: data})
	}
	entries = append(entries, zipEntry{Name: "README.md", Data: []byte("not a record")}, zipEntry{Name: "sub/", Data: nil})
	zipPath := writeFile(t, dir, "all.zip", makeZip(t, entries...))
	path := filepath.Join(dir, "vuln.db")
	st := build(t, path, Source{Path: zipPath, ETag: `"abc"`}, Source{Path: "testdata/written/x_TEST-DEBIAN12.json"})
	if got := st.Sources[0]; got.Name != filepath.Base(dir) || got.Entries != 10 || got.Stored != 8 || got.Withdrawn != 2 || got.ETag != `"abc"` {
		t.Errorf("zip import status = %+v; want the directory's name, 10 entries, 8 stored, 2 withdrawn, the ETag", got)
	}
	if got := st.Sources[1]; got.Name != "x_TEST-DEBIAN12" || got.Stored != 1 {
		t.Errorf("file import status = %+v; want name x_TEST-DEBIAN12, 1 stored", got)
	}
	db := open(t, path)
	if diff := cmp.Diff([]string{"DSA-5343-1"}, query(t, db, "Debian:11", "openssl")); diff != "" {
		t.Errorf("Query(Debian:11, openssl) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"x_TEST-DEBIAN12"}, query(t, db, "Debian:12", "openssl")); diff != "" {
		t.Errorf("Query(Debian:12, openssl) mismatch (-want +got):\n%s", diff)
	}
}

// TestDuplicates checks that the copy with the later modified time wins
// and that the loser's index entries go.
func TestDuplicates(t *testing.T) {
	dir := t.TempDir()
	older := writeFile(t, dir, "older.json", record("X-1", "npm", "old-name", "2024-01-01T00:00:00Z"))
	newer := writeFile(t, dir, "newer.json", record("X-1", "npm", "new-name", "2024-06-01T00:00:00Z"))
	same := writeFile(t, dir, "same.json", record("X-1", "npm", "same-time", "2024-06-01T00:00:00Z"))
	withdrawn := writeFile(t, dir, "withdrawn.json", []byte(`{"id":"X-1","modified":"2024-07-01T00:00:00Z","withdrawn":"2024-07-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"new-name"}}]}`))
	tests := []struct {
		name    string
		sources []string
		want    map[string][]string // package → ids
		records int
	}{
		{"newer replaces", []string{older, newer}, map[string][]string{"old-name": nil, "new-name": {"X-1"}}, 1},
		{"older is ignored", []string{newer, older}, map[string][]string{"old-name": nil, "new-name": {"X-1"}}, 1},
		{"first wins a tie", []string{newer, same}, map[string][]string{"same-time": nil, "new-name": {"X-1"}}, 1},
		{"newer withdrawal removes", []string{older, newer, withdrawn}, map[string][]string{"old-name": nil, "new-name": nil}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vuln.db")
			var srcs []Source
			for _, s := range tt.sources {
				srcs = append(srcs, Source{Path: s})
			}
			st := build(t, path, srcs...)
			if st.Records != tt.records {
				t.Errorf("Records = %d; want %d", st.Records, tt.records)
			}
			db := open(t, path)
			for name, want := range tt.want {
				if diff := cmp.Diff(want, query(t, db, "npm", name)); diff != "" {
					t.Errorf("Query(npm, %s) mismatch (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := Open(ctx, filepath.Join(dir, "missing.db"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v; want fs.ErrNotExist", err)
	}
	garbage := writeFile(t, dir, "garbage.db", []byte("this is not a database, just some text that goes on for a while"))
	if _, err := Open(ctx, garbage, nil); err == nil {
		t.Error("Open(garbage) succeeded")
	}
	// A bbolt file of someone else.
	other := filepath.Join(dir, "other.db")
	b, err := bolt.Open(other, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	b.Close()
	if _, err := Open(ctx, other, nil); !errors.Is(err, ErrFormat) {
		t.Errorf("Open(other bbolt file) = %v; want ErrFormat", err)
	}
	// A database of a later schema.
	later := filepath.Join(dir, "later.db")
	build(t, later)
	b, err = bolt.Open(later, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaSchema, []byte("2")) })
	b.Close()
	if _, err := Open(ctx, later, nil); !errors.Is(err, ErrFormat) {
		t.Errorf("Open(schema 2) = %v; want ErrFormat", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Open(cancelled, later, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Open(cancelled ctx) = %v; want context.Canceled", err)
	}
}

// TestCorruptFile overwrites the pages of a database with garbage, from
// each page on: opening or querying fails with ErrCorrupt or still works,
// and never crashes the process.
func TestCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vuln.db")
	build(t, path, Source{Path: realRecords})
	clean, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	for from := 2 * page; from < len(clean); from += page {
		data := bytes.Clone(clean)
		for i := from; i < len(data); i++ {
			data[i] = byte(i*7 + 3)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		db, err := Open(context.Background(), path, nil)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFormat) {
				t.Errorf("garbage from %d: Open = %v; want ErrCorrupt or ErrFormat", from, err)
			}
			continue
		}
		// Garbage in pages the query does not read changes nothing.
		if _, err := db.Query(context.Background(), "Debian:11", "openssl"); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("garbage from %d: Query = %v; want ErrCorrupt", from, err)
		}
		db.Get(context.Background(), "DSA-5343-1")
		db.Status()
		db.Close()
	}
}

// TestCorruptRecords damages stored values and the index with bbolt itself:
// queries fail with ErrCorrupt.
func TestCorruptRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vuln.db")
	build(t, path, Source{Path: realRecords})
	b, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		return errors.Join(
			tx.Bucket(bucketRecords).Put([]byte("DSA-5343-1"), append(make([]byte, valueHeader), "not zstd"...)),
			tx.Bucket(bucketRecords).Put([]byte("GO-2020-0001"), []byte{formatZstd, 1, 2}),
			tx.Bucket(bucketRecords).Put([]byte("ALSA-2024:1502"), append([]byte{7}, make([]byte, valueHeader)...)),
			tx.Bucket(bucketIndex).Put(append(indexPrefix("npm", "ghost", ""), "GHOST-1"...), nil),
		)
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, path)
	for _, q := range [][2]string{{"Debian:11", "openssl"}, {"Go", "github.com/gin-gonic/gin"}, {"AlmaLinux:9", "grafana-pcp"}, {"npm", "ghost"}} {
		if recs, err := db.Query(context.Background(), q[0], q[1]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Query(%s, %s) = %v, %v; want ErrCorrupt", q[0], q[1], ids(recs), err)
		}
	}
}

func TestClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vuln.db")
	build(t, path)
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(context.Background(), "Go", "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Query after Close = %v; want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
