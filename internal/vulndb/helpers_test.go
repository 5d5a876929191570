package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// realRecords holds real OSV records (see its README for sources).
const realRecords = "../osv/testdata/records"

// build builds a database at path from the sources and fails the test on
// error.
func build(t *testing.T, path string, sources ...Source) Status {
	t.Helper()
	st, err := Build(context.Background(), path, nil, func(w *Writer) error {
		for _, s := range sources {
			if _, err := w.Import(context.Background(), s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Build(%s) = %v", path, err)
	}
	return st
}

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ids(recs []*osv.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func query(t *testing.T, db *DB, ecosystem, name string) []string {
	t.Helper()
	recs, err := db.Query(context.Background(), ecosystem, name)
	if err != nil {
		t.Fatalf("Query(%q, %q) = %v", ecosystem, name, err)
	}
	return ids(recs)
}

// zipEntry is one entry of a test archive.
type zipEntry struct {
	Name string
	Data []byte
}

// makeZip returns a deflated zip archive of the entries.
func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		f, err := zw.Create(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// record returns a small valid OSV record affecting one package.
func record(id, ecosystem, name, modified string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"modified":%q,"affected":[{"package":{"ecosystem":%q,"name":%q},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2"}]}]}]}`,
		id, modified, ecosystem, name)
}

// sharedOSV returns the project's shared OSV data directory, or skips the
// test when it is absent.
func sharedOSV(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("KUBESHIELD_OSV_DATA"); d != "" {
		return d
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared OSV data not found: no go.mod above the test directory")
		}
		dir = parent
	}
	d := filepath.Join(filepath.Dir(dir), "shared", "data", "osv")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("shared OSV data not found at %s (set KUBESHIELD_OSV_DATA): %v", d, err)
	}
	return d
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
