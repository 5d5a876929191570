package vulndb

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// rawZip returns a zip whose one entry has a header written by hand: the
// way to make archives that lie about their sizes.
func rawZip(t *testing.T, h *zip.FileHeader, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	return buf.Bytes()
}

// namedZip returns a zip with one valid record under the given entry name.
func namedZip(t *testing.T, name string) []byte {
	return makeZip(t, zipEntry{Name: "ok.json", Data: record("X-1", "npm", "a", "2024-01-01T00:00:00Z")}, zipEntry{Name: name, Data: record("X-2", "npm", "b", "2024-01-01T00:00:00Z")})
}

// TestImportHostile imports damaged and hostile sources over an existing
// database: each fails with a clear error, leaves the old file as it was,
// and writes nothing anywhere else.
func TestImportHostile(t *testing.T) {
	good := makeZip(t, zipEntry{"a.json", record("X-1", "npm", "a", "2024-01-01T00:00:00Z")}, zipEntry{"b.json", record("X-2", "npm", "b", "2024-01-01T00:00:00Z")})
	corrupt := bytes.Clone(good)
	corrupt[40] ^= 0xff // inside the first entry's compressed data
	zeros := make([]byte, osv.MaxSize+1)
	bad := func(i int) zipEntry {
		return zipEntry{Name: "bad" + string(rune('a'+i)) + ".json", Data: []byte(`{"id":"BAD-1","aliases":7}`)}
	}

	tests := []struct {
		name    string
		file    string // input file name, "" for a directory
		data    []byte
		limits  Limits
		wantErr error
		check   func(t *testing.T, err error)
	}{
		{name: "zip bomb entry", file: "all.zip", data: makeZip(t, zipEntry{"bomb.json", zeros}), wantErr: ErrLimit},
		{name: "zip bomb lying about its size", file: "all.zip", data: rawZip(t, &zip.FileHeader{
			Name: "bomb.json", Method: zip.Deflate, UncompressedSize64: 100, CompressedSize64: uint64(len(deflate(t, zeros))),
		}, deflate(t, zeros)), wantErr: zip.ErrFormat},
		{name: "total over the limit", file: "all.zip", data: good, limits: Limits{MaxTotalBytes: 100}, wantErr: ErrLimit},
		{name: "too many entries", file: "all.zip", data: good, limits: Limits{MaxEntries: 1}, wantErr: ErrLimit},
		{name: "entry climbing out", file: "all.zip", data: namedZip(t, "../evil.json"), wantErr: ErrUnsafePath},
		{name: "entry climbing out deep", file: "all.zip", data: namedZip(t, "a/../../../evil.json"), wantErr: ErrUnsafePath},
		{name: "absolute entry", file: "all.zip", data: namedZip(t, "/tmp/evil.json"), wantErr: ErrUnsafePath},
		{name: "backslash entry", file: "all.zip", data: namedZip(t, `..\evil.json`), wantErr: ErrUnsafePath},
		{name: "drive letter entry", file: "all.zip", data: namedZip(t, "C:/evil.json"), wantErr: ErrUnsafePath},
		{name: "truncated zip", file: "all.zip", data: good[:len(good)/2], wantErr: zip.ErrFormat},
		{name: "zip missing its last byte", file: "all.zip", data: good[:len(good)-1], wantErr: zip.ErrFormat},
		{name: "corrupt entry data", file: "all.zip", data: corrupt, check: func(t *testing.T, err error) {
			var ce flate.CorruptInputError
			if !errors.Is(err, zip.ErrChecksum) && !errors.As(err, &ce) {
				t.Errorf("error %v is neither a checksum nor a deflate error", err)
			}
		}},
		{name: "not a zip", file: "all.zip", data: []byte("<html>503 Service Unavailable</html>"), wantErr: zip.ErrFormat},
		{name: "empty zip", file: "all.zip", data: makeZip(t), wantErr: ErrEmpty},
		{name: "zip without records", file: "all.zip", data: makeZip(t, zipEntry{"README.md", []byte("hi")}), wantErr: ErrEmpty},
		{name: "too many bad records", file: "all.zip", data: makeZip(t, bad(0), bad(1), bad(2), zipEntry{"ok.json", record("X-1", "npm", "a", "2024-01-01T00:00:00Z")}),
			limits: Limits{MaxSkipped: 2}, wantErr: ErrTooManyBad, check: func(t *testing.T, err error) {
				var re *RecordError
				if !errors.As(err, &re) || re.Entry != "bada.json" || re.ID != "BAD-1" || !errors.Is(err, osv.ErrInvalid) {
					t.Errorf("error %v does not name the first bad entry and its id", err)
				}
			}},
		{name: "single bad file", file: "one.json", data: []byte(`{"id":"BAD-1","affected":[{"ranges":[{"type":"DATE","events":[{"introduced":"0"}]}]}]}`),
			wantErr: osv.ErrInvalid, check: func(t *testing.T, err error) {
				var re *RecordError
				if !errors.As(err, &re) || re.Entry != "one.json" || re.ID != "BAD-1" {
					t.Errorf("error %v does not name the entry and the id", err)
				}
			}},
		{name: "single file too large", file: "one.json", data: append([]byte(`{"id":"X-1","details":"`), zeros...), wantErr: ErrLimit},
		{name: "missing source", file: "", wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			in, out := filepath.Join(root, "in"), filepath.Join(root, "out")
			os.Mkdir(in, 0o755)
			os.Mkdir(out, 0o755)
			path := filepath.Join(out, "vuln.db")
			build(t, path, Source{Path: "testdata/written"})
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(in, "missing")
			if tt.file != "" {
				src = writeFile(t, in, tt.file, tt.data)
			}
			_, err = Build(context.Background(), path, &BuildOptions{Limits: tt.limits}, func(w *Writer) error {
				_, err := w.Import(context.Background(), Source{Path: src})
				if err == nil {
					_, err = w.Import(context.Background(), Source{Path: "testdata/written"})
				}
				return err
			})
			if err == nil {
				t.Fatal("Build succeeded")
			}
			t.Logf("error: %v", err)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Build error = %v; want one wrapping %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("the failed Build changed the database file")
			}
			if diff := cmp.Diff([]string{"in", "out"}, dirNames(t, root)); diff != "" {
				t.Errorf("files next to in/ and out/ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"vuln.db"}, dirNames(t, out)); diff != "" {
				t.Errorf("files in out/ (-want +got):\n%s", diff)
			}
			if _, err := os.Stat("/tmp/evil.json"); err == nil {
				t.Error("/tmp/evil.json exists")
			}
		})
	}
}

// TestImportSkipsBadRecords checks that records that do not parse are left
// out and reported, and the rest imported.
func TestImportSkipsBadRecords(t *testing.T) {
	dir := t.TempDir()
	huge := strings.Repeat("x", 7<<20)
	zipPath := writeFile(t, dir, "all.zip", makeZip(t,
		zipEntry{"GOOD-1.json", record("GOOD-1", "npm", "a", "2024-01-01T00:00:00Z")},
		zipEntry{"types.json", []byte(`{"id":"BAD-TYPES","modified":"2024-01-01T00:00:00Z","affected":{"package":"x"}}`)},
		zipEntry{"huge.json", []byte(`{"id":"BAD-HUGE","aliases":"` + huge + `"}`)},
		zipEntry{"deep.json", []byte(`{"id":"BAD-DEEP","database_specific":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`)},
		zipEntry{"events.json", []byte(`{"id":"BAD-EVENTS","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`)},
		zipEntry{"noid.json", []byte(`{"modified":"2024-01-01T00:00:00Z"}`)},
		zipEntry{"syntax.json", []byte(`{"id":"BAD-SYNTAX",`)},
		zipEntry{"longid.json", record(strings.Repeat("L", 2000), "npm", "a", "2024-01-01T00:00:00Z")},
		zipEntry{"GOOD-2.json", record("GOOD-2", "npm", "a", "2024-01-01T00:00:00Z")},
	))
	path := filepath.Join(dir, "vuln.db")
	st := build(t, path, Source{Path: zipPath, Name: "mirror"})
	src := st.Sources[0]
	if src.Entries != 9 || src.Stored != 2 {
		t.Errorf("import status = %d entries, %d stored; want 9, 2", src.Entries, src.Stored)
	}
	var got []Skipped
	for _, s := range src.Skipped {
		if s.Reason == "" {
			t.Errorf("skipped %s has no reason", s.Entry)
		}
		got = append(got, Skipped{Entry: s.Entry, ID: s.ID})
	}
	want := []Skipped{
		{Entry: "types.json", ID: "BAD-TYPES"},
		{Entry: "huge.json", ID: "BAD-HUGE"},
		{Entry: "deep.json", ID: "BAD-DEEP"},
		{Entry: "events.json", ID: "BAD-EVENTS"},
		{Entry: "noid.json"},
		{Entry: "syntax.json", ID: "BAD-SYNTAX"},
		{Entry: "longid.json", ID: shorten(strings.Repeat("L", 2000))},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("skipped records mismatch (-want +got):\n%s", diff)
	}
	db := open(t, path)
	if diff := cmp.Diff([]string{"GOOD-1", "GOOD-2"}, query(t, db, "npm", "a")); diff != "" {
		t.Errorf("Query(npm, a) mismatch (-want +got):\n%s", diff)
	}
	stored, err := db.Status()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st.Sources, stored.Sources); diff != "" {
		t.Errorf("stored status differs from Build's (-build +stored):\n%s", diff)
	}
}

// TestImportDirectory checks the directory walk: nested *.json files only,
// symbolic links not followed (but for the root), files over osv.MaxSize
// refused.
func TestImportDirectory(t *testing.T) {
	root := t.TempDir()
	tree := filepath.Join(root, "tree")
	os.MkdirAll(filepath.Join(tree, "a", "b"), 0o755)
	writeFile(t, tree, "a/b/X-1.json", record("X-1", "npm", "a", "2024-01-01T00:00:00Z"))
	writeFile(t, tree, "notes.txt", []byte("not a record"))
	outside := writeFile(t, root, "outside.json", record("OUTSIDE-1", "npm", "a", "2024-01-01T00:00:00Z"))
	if err := os.Symlink(outside, filepath.Join(tree, "link.json")); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(root, "linked")
	if err := os.Symlink(tree, linked); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "vuln.db")
	st := build(t, path, Source{Path: linked})
	if st.Sources[0].Entries != 1 || st.Records != 1 {
		t.Errorf("import status = %+v; want one entry and one record", st.Sources[0])
	}
	writeFile(t, tree, "big.json", make([]byte, osv.MaxSize+1))
	_, err := Build(context.Background(), path, nil, func(w *Writer) error {
		_, err := w.Import(context.Background(), Source{Path: tree})
		return err
	})
	if !errors.Is(err, ErrLimit) {
		t.Errorf("import of a tree with a file over the limit = %v; want ErrLimit", err)
	}
}

func TestSourceName(t *testing.T) {
	tests := []struct {
		src  Source
		want string
	}{
		{Source{Path: "/data/osv/Debian/all.zip"}, "Debian"},
		{Source{Path: "/data/osv/Debian/all.zip", Name: "debian-main"}, "debian-main"},
		{Source{Path: "/data/go-vulns.zip"}, "go-vulns"},
		{Source{Path: "/data/advisories/"}, "advisories"},
		{Source{Path: "GO-2020-0001.json"}, "GO-2020-0001"},
	}
	for _, tt := range tests {
		if got := tt.src.name(); got != tt.want {
			t.Errorf("%+v.name() = %q; want %q", tt.src, got, tt.want)
		}
	}
}

func TestLocalName(t *testing.T) {
	for name, want := range map[string]bool{
		"GO-2020-0001.json": true, "a/b/c.json": true, "dir/": true, "a..b.json": true, "./x.json": true,
		"": false, "../x.json": false, "a/../../x.json": false, "/x.json": false, `a\..\x.json`: false,
		"C:/x.json": false, "x\x00.json": false, "..": false,
	} {
		if got := localName(name); got != want {
			t.Errorf("localName(%q) = %v; want %v", name, got, want)
		}
	}
}
