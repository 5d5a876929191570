package osv

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that what it accepts keeps the
// promised invariants, and that encoding an accepted record and parsing it
// again gives the same record.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "records", "*", "*.json"))
	for _, name := range files[:min(len(files), 4)] {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"id":"X-1","affected":[{"package":{"ecosystem":"PyPI","name":"A.b"},"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"},{"limit":"*"}]}]}]}`))
	f.Add([]byte(`{"id":"X-1","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`))
	f.Add([]byte(`{"id":"X\u0000","withdrawn":"2020-01-01T00:00:00+02:00","AFFECTED":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			if r != nil {
				t.Fatalf("Parse returned a record and an error: %v", err)
			}
			return
		}
		if r.ID == "" {
			t.Fatal("Parse accepted a record without an id")
		}
		for _, a := range r.Affected {
			for _, rg := range a.Ranges {
				if len(rg.Events) == 0 {
					t.Fatal("Parse accepted a range without events")
				}
				for _, e := range rg.Events {
					switch e.Kind {
					case Introduced, Fixed, LastAffected, Limit:
					default:
						t.Fatalf("Parse accepted an event of kind %q", e.Kind)
					}
					if e.Version == "" {
						t.Fatal("Parse accepted an event without a version")
					}
				}
			}
		}
		if len(data) > 1<<20 {
			return
		}
		first, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal(Parse(%q)) = %v", data, err)
		}
		r2, err := Parse(first)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%q))) = %v\nencoded: %s", data, err, first)
		}
		second, err := json.Marshal(r2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip differs:\n%s\n%s", first, second)
		}
	})
}
