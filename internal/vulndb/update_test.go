package vulndb

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// exportServer serves OSV exports over TLS on 127.0.0.1 as the public
// bucket does: /mirror/<ecosystem>/all.zip with ETag, Last-Modified and
// x-goog-hash headers, answering conditional and range requests with
// http.ServeContent. It records every request.
type exportServer struct {
	*httptest.Server
	mu      sync.Mutex
	exports map[string]*export // by escaped URL path
	puts    int
	seen    []seenRequest
}

// export is one served all.zip.
type export struct {
	data     []byte
	etag     string
	modified time.Time
	googHash string // x-goog-hash; the data's when empty
	// dropAt > 0 cuts the next full (not range) response off after that
	// many bytes. If sent is set, the server then closes it and waits for
	// the client to go away.
	dropAt int
	sent   chan struct{}
}

// seenRequest is what the server saw of a request and answered.
type seenRequest struct {
	Path, Range, IfRange, IfNoneMatch, IfModifiedSince string
	Status                                             int
}

func newExportServer(t *testing.T) *exportServer {
	t.Helper()
	s := &exportServer{exports: map[string]*export{}}
	s.Server = httptest.NewTLSServer(s)
	t.Cleanup(s.Close)
	return s
}

func exportPath(eco string) string { return "/mirror/" + url.PathEscape(eco) + "/all.zip" }

// put serves data as eco's export and returns it for adjustments.
func (s *exportServer) put(eco string, data []byte, etag string) *export {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	e := &export{data: data, etag: etag, modified: time.Date(2026, 11, 1, 10, s.puts, 0, 0, time.UTC)}
	s.exports[exportPath(eco)] = e
	return e
}

// requests returns the requests for eco's export, oldest first.
func (s *exportServer) requests(eco string) []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []seenRequest
	for _, r := range s.seen {
		if r.Path == exportPath(eco) {
			out = append(out, r)
		}
	}
	return out
}

func (s *exportServer) options(ecosystems ...string) UpdateOptions {
	return UpdateOptions{BaseURL: s.URL + "/mirror/", Ecosystems: ecosystems, HTTPClient: s.Client()}
}

func (s *exportServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var e export
	found := s.exports[r.URL.EscapedPath()]
	if found != nil {
		e = *found
		if r.Header.Get("Range") == "" {
			found.dropAt, found.sent = 0, nil // once
		}
	}
	s.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() { // also when the handler aborts
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{
			Path: r.URL.EscapedPath(), Range: r.Header.Get("Range"), IfRange: r.Header.Get("If-Range"),
			IfNoneMatch: r.Header.Get("If-None-Match"), IfModifiedSince: r.Header.Get("If-Modified-Since"),
			Status: rec.status,
		})
		s.mu.Unlock()
	}()
	if found == nil {
		http.NotFound(rec, r)
		return
	}
	h := e.googHash
	if h == "" {
		h = googHashOf(e.data)
	}
	rec.Header().Set("ETag", e.etag)
	rec.Header().Set("X-Goog-Hash", h)
	if e.dropAt > 0 && r.Header.Get("Range") == "" {
		rec.Header().Set("Last-Modified", e.modified.Format(http.TimeFormat))
		rec.Header().Set("Content-Length", fmt.Sprint(len(e.data)))
		rec.WriteHeader(http.StatusOK)
		rec.Write(e.data[:e.dropAt])
		http.NewResponseController(w).Flush()
		if e.sent != nil {
			close(e.sent)
			<-r.Context().Done()
		}
		panic(http.ErrAbortHandler) // closes the connection
	}
	http.ServeContent(rec, r, "all.zip", e.modified, bytes.NewReader(e.data))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// googHashOf returns the x-goog-hash header Cloud Storage sends for data.
func googHashOf(data []byte) string {
	m := md5.Sum(data)
	c := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	return "crc32c=" + base64.StdEncoding.EncodeToString([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}) +
		",md5=" + base64.StdEncoding.EncodeToString(m[:])
}

// recordsZip returns a zip of the real OSV records in one directory of
// realRecords, plus extra entries.
func recordsZip(t *testing.T, dir string, extra ...zipEntry) []byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(realRecords, dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no records in %s: %v", dir, err)
	}
	var entries []zipEntry
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, zipEntry{Name: filepath.Base(f), Data: data})
	}
	return makeZip(t, append(entries, extra...)...)
}

func readBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fetches sums up how each source was obtained: "Go downloaded 1234".
func fetches(st Status) []string {
	var out []string
	for _, s := range st.Sources {
		out = append(out, fmt.Sprintf("%s %s %d", s.Name, s.Fetch, s.Downloaded))
	}
	return out
}

// TestUpdateConditional downloads two exports, then updates with
// conditional requests: the server answers 304 for both, then 200 for the
// one that changed.
func TestUpdateConditional(t *testing.T) {
	ctx := context.Background()
	s := newExportServer(t)
	goZip, rockyZip := recordsZip(t, "Go"), recordsZip(t, "AlmaLinux")
	goExport := s.put("Go", goZip, `"go-1"`)
	rocky := s.put("Rocky Linux", rockyZip, `"rocky-1"`)
	path := filepath.Join(t.TempDir(), "vuln.db")
	opts := s.options("Go", "Rocky Linux")

	st, err := Update(ctx, path, opts)
	if err != nil {
		t.Fatalf("first Update = %v", err)
	}
	want := []string{fmt.Sprintf("Go downloaded %d", len(goZip)), fmt.Sprintf("Rocky Linux downloaded %d", len(rockyZip))}
	if diff := cmp.Diff(want, fetches(st)); diff != "" {
		t.Errorf("first Update fetches (-want +got):\n%s", diff)
	}
	rs := st.Sources[1]
	if rs.URL != s.URL+"/mirror/Rocky%20Linux/all.zip" || rs.ETag != `"rocky-1"` || !rs.Modified.Equal(rocky.modified) || rs.Stored != 1 {
		t.Errorf("Rocky Linux source = %+v; want URL %s, ETag %q, Modified %v, 1 stored", rs, s.URL+"/mirror/Rocky%20Linux/all.zip", `"rocky-1"`, rocky.modified)
	}
	for _, eco := range []string{"Go", "Rocky Linux"} {
		if got := s.requests(eco); len(got) != 1 || got[0].Status != http.StatusOK || got[0].IfNoneMatch != "" || got[0].IfModifiedSince != "" || got[0].Range != "" {
			t.Errorf("first requests for %s = %+v; want one unconditional 200", eco, got)
		}
	}
	db := open(t, path)
	if got := query(t, db, "Go", "github.com/gin-gonic/gin"); !slices.Equal(got, []string{"GO-2020-0001"}) {
		t.Errorf("Query(Go, gin) = %v; want [GO-2020-0001]", got)
	}
	db.Close()

	st, err = Update(ctx, path, opts)
	if err != nil {
		t.Fatalf("second Update = %v", err)
	}
	if diff := cmp.Diff([]string{"Go not-modified 0", "Rocky Linux not-modified 0"}, fetches(st)); diff != "" {
		t.Errorf("second Update fetches (-want +got):\n%s", diff)
	}
	for eco, e := range map[string]*export{"Go": goExport, "Rocky Linux": rocky} {
		got := s.requests(eco)
		want := seenRequest{Path: exportPath(eco), IfNoneMatch: e.etag, IfModifiedSince: e.modified.Format(http.TimeFormat), Status: http.StatusNotModified}
		if len(got) != 2 || got[1] != want {
			t.Errorf("requests for %s = %+v; want the second to be %+v", eco, got, want)
		}
	}
	if st.Records != 2 || st.Sources[1].ETag != `"rocky-1"` || !st.Sources[1].Modified.Equal(rocky.modified) {
		t.Errorf("second Update status = %+v; want 2 records and Rocky Linux's ETag and time kept", st)
	}

	newGo := recordsZip(t, "Go", zipEntry{"NEW-1.json", record("NEW-1", "Go", "example.com/new", "2026-11-02T00:00:00Z")})
	s.put("Go", newGo, `"go-2"`)
	st, err = Update(ctx, path, opts)
	if err != nil {
		t.Fatalf("third Update = %v", err)
	}
	if diff := cmp.Diff([]string{fmt.Sprintf("Go downloaded %d", len(newGo)), "Rocky Linux not-modified 0"}, fetches(st)); diff != "" {
		t.Errorf("third Update fetches (-want +got):\n%s", diff)
	}
	if got := query(t, open(t, path), "Go", "example.com/new"); !slices.Equal(got, []string{"NEW-1"}) {
		t.Errorf("after the third Update, Query(Go, example.com/new) = %v; want [NEW-1]", got)
	}
}

// TestUpdateResumes cuts the first response off halfway: Update resumes
// it at once with a range request and builds a complete database.
func TestUpdateResumes(t *testing.T) {
	s := newExportServer(t)
	goZip := recordsZip(t, "Go")
	half := len(goZip) / 2
	s.put("Go", goZip, `"go-1"`).dropAt = half
	s.put("PyPI", recordsZip(t, "PyPI"), `"pypi-1"`)
	dir := t.TempDir()
	path := filepath.Join(dir, "vuln.db")

	st, err := Update(context.Background(), path, s.options("Go", "PyPI"))
	if err != nil {
		t.Fatalf("Update = %v", err)
	}
	got := s.requests("Go")
	want := []seenRequest{
		{Path: exportPath("Go"), Status: http.StatusOK},
		{Path: exportPath("Go"), Range: fmt.Sprintf("bytes=%d-", half), IfRange: `"go-1"`, Status: http.StatusPartialContent},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests for Go (-want +got):\n%s", diff)
	}
	if st.Sources[0].Fetch != FetchResumed || st.Sources[0].Downloaded != int64(len(goZip)) {
		t.Errorf("Go source = %+v; want resumed, %d bytes downloaded", st.Sources[0], len(goZip))
	}
	if !bytes.Equal(readBytes(t, filepath.Join(path+".d", "Go.zip")), goZip) {
		t.Error("the cached Go.zip differs from the served file")
	}
	db := open(t, path)
	if got := query(t, db, "Go", "github.com/gin-gonic/gin"); !slices.Equal(got, []string{"GO-2020-0001"}) {
		t.Errorf("Query(Go, gin) = %v; want [GO-2020-0001]", got)
	}
	if got := query(t, db, "PyPI", "sosreport"); !slices.Equal(got, []string{"PYSEC-2017-72"}) {
		t.Errorf("Query(PyPI, sosreport) = %v; want [PYSEC-2017-72]", got)
	}
}

// TestUpdateIntegrity serves a new export that fails a check: Update fails
// with ErrIntegrity, deletes the download, and leaves the old database and
// cached file as they were.
func TestUpdateIntegrity(t *testing.T) {
	oldZip := recordsZip(t, "Go")
	newZip := recordsZip(t, "Go", zipEntry{"NEW-1.json", record("NEW-1", "Go", "example.com/new", "2026-11-02T00:00:00Z")})
	otherMD5 := md5.Sum([]byte("something else"))
	tests := []struct {
		name     string
		data     []byte
		googHash string
	}{
		{"md5 mismatch", newZip, "md5=" + base64.StdEncoding.EncodeToString(otherMD5[:])},
		{"crc32c mismatch", newZip, "crc32c=AAAAAA==," + googHashOf(newZip)[len("crc32c=AAAAAA==,"):]},
		{"malformed hash", newZip, "md5=not-base64"},
		{"not a zip", []byte("<html>captive portal</html>"), ""},
		{"truncated zip", newZip[:len(newZip)-30], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newExportServer(t)
			s.put("Go", oldZip, `"go-1"`)
			dir := t.TempDir()
			path := filepath.Join(dir, "vuln.db")
			if _, err := Update(ctx, path, s.options("Go")); err != nil {
				t.Fatalf("first Update = %v", err)
			}
			before := readBytes(t, path)

			s.put("Go", tt.data, `"go-2"`).googHash = tt.googHash
			_, err := Update(ctx, path, s.options("Go"))
			var fe *FetchError
			if !errors.Is(err, ErrIntegrity) || !errors.As(err, &fe) || fe.Ecosystem != "Go" {
				t.Fatalf("Update = %v; want a *FetchError for Go wrapping ErrIntegrity", err)
			}
			if !bytes.Equal(readBytes(t, path), before) {
				t.Error("the failed update changed the database file")
			}
			if got := query(t, open(t, path), "Go", "github.com/gin-gonic/gin"); !slices.Equal(got, []string{"GO-2020-0001"}) {
				t.Errorf("old database: Query(Go, gin) = %v; want [GO-2020-0001]", got)
			}
			if diff := cmp.Diff([]string{"Go.zip", "Go.zip.json", "lock"}, dirNames(t, path+".d")); diff != "" {
				t.Errorf("cache files (-want +got):\n%s", diff)
			}
			if !bytes.Equal(readBytes(t, filepath.Join(path+".d", "Go.zip")), oldZip) {
				t.Error("the failed update changed the cached Go.zip")
			}
		})
	}
}

// TestUpdateInterrupted cancels an update in the middle of a download: the
// old database stays usable, and the next update resumes the download.
func TestUpdateInterrupted(t *testing.T) {
	s := newExportServer(t)
	oldZip := recordsZip(t, "Go")
	s.put("Go", oldZip, `"go-1"`)
	dir := t.TempDir()
	path := filepath.Join(dir, "vuln.db")
	if _, err := Update(context.Background(), path, s.options("Go")); err != nil {
		t.Fatalf("first Update = %v", err)
	}
	before := readBytes(t, path)

	newZip := recordsZip(t, "Go", zipEntry{"NEW-1.json", record("NEW-1", "Go", "example.com/new", "2026-11-02T00:00:00Z")})
	half := len(newZip) / 2
	e := s.put("Go", newZip, `"go-2"`)
	sent := make(chan struct{})
	e.dropAt, e.sent = half, sent
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { // ends when Update returns
		_, err := Update(ctx, path, s.options("Go"))
		errc <- err
	}()
	select {
	case <-sent:
	case err := <-errc:
		t.Fatalf("Update returned before the download started: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the download did not start")
	}
	part := filepath.Join(path+".d", "Go.zip.part")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(part); err == nil && fi.Size() == int64(half) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held the %d bytes sent", part, half)
		}
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Update = %v; want context.Canceled", err)
	}
	if !bytes.Equal(readBytes(t, path), before) {
		t.Error("the cancelled update changed the database file")
	}
	if got := query(t, open(t, path), "Go", "example.com/new"); len(got) != 0 {
		t.Errorf("old database: Query(Go, example.com/new) = %v; want none", got)
	}
	if diff := cmp.Diff([]string{"vuln.db", "vuln.db.d"}, dirNames(t, dir)); diff != "" {
		t.Errorf("files beside the database (-want +got):\n%s", diff)
	}

	st, err := Update(context.Background(), path, s.options("Go"))
	if err != nil {
		t.Fatalf("Update after the cancelled one = %v", err)
	}
	reqs := s.requests("Go")
	last := reqs[len(reqs)-1]
	if want := (seenRequest{Path: exportPath("Go"), Range: fmt.Sprintf("bytes=%d-", half), IfRange: `"go-2"`, IfNoneMatch: `"go-1"`,
		IfModifiedSince: last.IfModifiedSince, Status: http.StatusPartialContent}); last != want || last.IfModifiedSince == "" {
		t.Errorf("last request = %+v; want %+v", last, want)
	}
	if st.Sources[0].Fetch != FetchResumed || st.Sources[0].Downloaded != int64(len(newZip)-half) || st.Sources[0].ETag != `"go-2"` {
		t.Errorf("Go source = %+v; want resumed, %d bytes, ETag go-2", st.Sources[0], len(newZip)-half)
	}
	if got := query(t, open(t, path), "Go", "example.com/new"); !slices.Equal(got, []string{"NEW-1"}) {
		t.Errorf("Query(Go, example.com/new) = %v; want [NEW-1]", got)
	}
}

// TestUpdateLocalMirror reads exports from a directory, given as a path
// and as a file URL, without HTTP and without a cache.
func TestUpdateLocalMirror(t *testing.T) {
	ctx := context.Background()
	mirror := t.TempDir()
	for eco, dir := range map[string]string{"Go": "Go", "Rocky Linux": "AlmaLinux"} {
		if err := os.MkdirAll(filepath.Join(mirror, eco), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(mirror, eco), "all.zip", recordsZip(t, dir))
	}
	for _, base := range []string{mirror, "file://" + filepath.ToSlash(mirror)} {
		t.Run(base, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "vuln.db")
			st, err := Update(ctx, path, UpdateOptions{BaseURL: base, Ecosystems: []string{"Go", "Rocky Linux"}})
			if err != nil {
				t.Fatalf("Update = %v", err)
			}
			if diff := cmp.Diff([]string{"Go local 0", "Rocky Linux local 0"}, fetches(st)); diff != "" {
				t.Errorf("fetches (-want +got):\n%s", diff)
			}
			if p := filepath.Join(mirror, "Rocky Linux", "all.zip"); st.Sources[1].Path != p || st.Sources[1].URL != "" {
				t.Errorf("Rocky Linux source = %+v; want path %s, no URL", st.Sources[1], p)
			}
			if got := query(t, open(t, path), "AlmaLinux:9", "grafana-pcp"); !slices.Equal(got, []string{"ALSA-2024:1502"}) {
				t.Errorf("Query(AlmaLinux:9, grafana-pcp) = %v; want [ALSA-2024:1502]", got)
			}
			if diff := cmp.Diff([]string{"vuln.db"}, dirNames(t, dir)); diff != "" {
				t.Errorf("files beside the database (-want +got):\n%s", diff)
			}

			before := readBytes(t, path)
			_, err = Update(ctx, path, UpdateOptions{BaseURL: base, Ecosystems: []string{"Go", "PyPI"}})
			var fe *FetchError
			if !errors.Is(err, ErrNoExport) || !errors.As(err, &fe) || fe.Ecosystem != "PyPI" {
				t.Errorf("Update with PyPI missing = %v; want a *FetchError for PyPI wrapping ErrNoExport", err)
			}
			if !bytes.Equal(readBytes(t, path), before) {
				t.Error("the failed update changed the database file")
			}
		})
	}

	writeFile(t, filepath.Join(mirror, "Go"), "all.zip", []byte("not a zip"))
	_, err := Update(ctx, filepath.Join(t.TempDir(), "vuln.db"), UpdateOptions{BaseURL: mirror, Ecosystems: []string{"Go"}})
	if !errors.Is(err, ErrIntegrity) {
		t.Errorf("Update from a mirror with a damaged zip = %v; want ErrIntegrity", err)
	}
}

// TestUpdateErrors checks the failures that leave no database behind.
func TestUpdateErrors(t *testing.T) {
	ctx := context.Background()
	s := newExportServer(t)
	s.put("Go", recordsZip(t, "Go"), `"go-1"`)
	notDir := writeFile(t, t.TempDir(), "file", []byte("x"))
	gone := httptest.NewTLSServer(http.NotFoundHandler())
	gone.Close()
	tests := []struct {
		name string
		opts UpdateOptions
		want error
	}{
		{"plain http", UpdateOptions{BaseURL: "http://127.0.0.1:1/mirror"}, ErrInvalidBaseURL},
		{"other scheme", UpdateOptions{BaseURL: "ftp://127.0.0.1/mirror"}, ErrInvalidBaseURL},
		{"no host", UpdateOptions{BaseURL: "https:///mirror"}, ErrInvalidBaseURL},
		{"remote file URL", UpdateOptions{BaseURL: "file://mirror.example/osv"}, ErrInvalidBaseURL},
		{"missing directory", UpdateOptions{BaseURL: filepath.Join(t.TempDir(), "missing")}, fs.ErrNotExist},
		{"file as directory", UpdateOptions{BaseURL: notDir}, ErrInvalidBaseURL},
		{"empty ecosystem", UpdateOptions{BaseURL: s.URL, Ecosystems: []string{""}}, ErrEcosystem},
		{"climbing ecosystem", UpdateOptions{BaseURL: s.URL, Ecosystems: []string{"../x"}}, ErrEcosystem},
		{"control character", UpdateOptions{BaseURL: s.URL, Ecosystems: []string{"Go\n"}}, ErrEcosystem},
		{"export missing", s.options("Go", "PyPI"), ErrNoExport},
		{"over the size limit", UpdateOptions{BaseURL: s.URL + "/mirror", Ecosystems: []string{"Go"}, HTTPClient: s.Client(), MaxDownload: 100}, ErrLimit},
		{"server gone", UpdateOptions{BaseURL: gone.URL, Ecosystems: []string{"Go"}, HTTPClient: s.Client()}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "vuln.db")
			_, err := Update(ctx, path, tt.opts)
			var fe *FetchError
			switch {
			case err == nil:
				t.Fatal("Update succeeded; want an error")
			case tt.want == nil && !errors.As(err, &fe):
				t.Errorf("Update = %v; want a *FetchError", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("Update = %v; want %v", err, tt.want)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Stat(%s) = %v; want no database", path, err)
			}
		})
	}
}

// TestUpdateBusy runs an update while another holds the cache.
func TestUpdateBusy(t *testing.T) {
	s := newExportServer(t)
	s.put("Go", recordsZip(t, "Go"), `"go-1"`)
	path := filepath.Join(t.TempDir(), "vuln.db")
	if err := os.MkdirAll(path+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockCache(path + ".d")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Update(context.Background(), path, s.options("Go"))
	unlock()
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Update while the cache is locked = %v; want ErrBusy", err)
	}
	if _, err := Update(context.Background(), path, s.options("Go")); err != nil {
		t.Fatalf("Update after unlocking = %v", err)
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in          string
		start, size int64
		ok          bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/1", 0, 1, true},
		{"bytes 5-9/*", 5, -1, true},
		{"bytes 100-150/200", 0, 0, false}, // stops early
		{"bytes 100-99/200", 0, 0, false},
		{"bytes -1-5/6", 0, 0, false},
		{"items 0-1/2", 0, 0, false},
		{"bytes 0-1", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		start, size, err := parseContentRange(tt.in)
		if (err == nil) != tt.ok || start != tt.start || size != tt.size {
			t.Errorf("parseContentRange(%q) = %d, %d, %v; want %d, %d, ok %v", tt.in, start, size, err, tt.start, tt.size, tt.ok)
		}
	}
}
