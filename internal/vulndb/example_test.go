package vulndb_test

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kubeshield/kubeshield/internal/vulndb"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "vulndb-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "vuln.db")

	// Build (or rebuild) the database from OSV sources: an all.zip, a
	// directory of records, or one record.
	st, err := vulndb.Build(ctx, path, nil, func(w *vulndb.Writer) error {
		_, err := w.Import(ctx, vulndb.Source{Name: "test", Path: "testdata/written"})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("records:", st.Records)

	// Scanners open it read-only and query by package.
	db, err := vulndb.Open(ctx, path, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	recs, err := db.Query(ctx, "Debian:12", "openssl")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		for _, a := range r.Affected {
			if a.Package.Matches("Debian:12", "openssl") {
				fmt.Println(r.ID, a.Package.Ecosystem, a.Ranges[0].Events)
				break
			}
		}
	}
	// Output:
	// records: 2
	// x_TEST-DEBIAN-ALL Debian [{introduced 0} {fixed 3.0.13-1~deb12u1}]
	// x_TEST-DEBIAN12 Debian:12 [{introduced 0} {fixed 3.0.14-1~deb12u1}]
}

func ExampleUpdate() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "vulndb-example-")
	defer os.RemoveAll(dir)

	// An air-gapped mirror holds the exports as the public bucket does:
	// DIR/<ecosystem>/all.zip.
	mirror := filepath.Join(dir, "mirror")
	os.MkdirAll(filepath.Join(mirror, "Debian"), 0o755)
	f, _ := os.Create(filepath.Join(mirror, "Debian", "all.zip"))
	zw := zip.NewWriter(f)
	for _, name := range []string{"x_TEST-DEBIAN-ALL.json", "x_TEST-DEBIAN12.json"} {
		data, _ := os.ReadFile(filepath.Join("testdata/written", name))
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	f.Close()

	// With an https BaseURL (DefaultBaseURL when empty), Update downloads
	// only what changed since the last update, into UpdateOptions.CacheDir.
	st, err := vulndb.Update(ctx, filepath.Join(dir, "vuln.db"), vulndb.UpdateOptions{
		BaseURL:    mirror,
		Ecosystems: []string{"Debian"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range st.Sources {
		fmt.Println(s.Name, s.Fetch, s.Stored)
	}
	// Output:
	// Debian local 2
}
