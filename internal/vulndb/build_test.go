package vulndb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/osv"
)

func tempFiles(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(path + tempInfix + "*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBuildFailureKeepsOld checks that a Build that fails in any way leaves
// the old file byte for byte, readable by a scanner that has it open, and
// no temporary file behind.
func TestBuildFailureKeepsOld(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		fn      func(ctx context.Context, cancel func(), w *Writer) error
		wantErr error
	}{
		{"callback fails", func(ctx context.Context, _ func(), w *Writer) error {
			if _, err := w.Import(ctx, Source{Path: "testdata/written"}); err != nil {
				return err
			}
			return errBoom
		}, errBoom},
		{"import fails, callback ignores it", func(ctx context.Context, _ func(), w *Writer) error {
			w.Import(ctx, Source{Path: "testdata/written"})
			w.Import(ctx, Source{Path: "testdata/no-such-dir"})
			return nil
		}, os.ErrNotExist},
		{"context cancelled", func(ctx context.Context, cancel func(), w *Writer) error {
			w.Import(ctx, Source{Path: "testdata/written"})
			cancel()
			return nil
		}, context.Canceled},
		{"context cancelled during an import", func(ctx context.Context, cancel func(), w *Writer) error {
			cancel()
			_, err := w.Import(ctx, Source{Path: realRecords})
			return err
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vuln.db")
			build(t, path, Source{Path: realRecords})
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			reader := open(t, path)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err = Build(ctx, path, nil, func(w *Writer) error { return tt.fn(ctx, cancel, w) })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Build = %v; want an error wrapping %v", err, tt.wantErr)
			}
			after, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(before, after) {
				t.Errorf("the failed Build changed the database file (read error %v)", err)
			}
			if diff := cmp.Diff([]string{"DSA-5343-1"}, query(t, reader, "Debian:11", "openssl")); diff != "" {
				t.Errorf("open reader: Query mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"DSA-5343-1"}, query(t, open(t, path), "Debian:11", "openssl")); diff != "" {
				t.Errorf("new reader: Query mismatch (-want +got):\n%s", diff)
			}
			if m := tempFiles(t, path); len(m) > 0 {
				t.Errorf("temporary files left: %v", m)
			}
		})
	}
}

func TestWriterAfterBuild(t *testing.T) {
	var kept *Writer
	build := func(w *Writer) error { kept = w; return nil }
	if _, err := Build(context.Background(), filepath.Join(t.TempDir(), "vuln.db"), nil, build); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Import(context.Background(), Source{Path: "testdata/written"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Import after Build = %v; want ErrClosed", err)
	}
	if _, err := Build(context.Background(), filepath.Join(t.TempDir(), "no-dir", "vuln.db"), nil, build); err == nil {
		t.Error("Build into a missing directory succeeded")
	}
}

// TestBuildKilled kills a process in the middle of a Build: the old file
// stays as it was and opens; the next Open ignores the temporary file left
// behind, and the next Build removes it.
func TestBuildKilled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vuln.db")
	build(t, path, Source{Path: realRecords})
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledBuildHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "VULNDB_KILL_HELPER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "helper: importing" {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("helper ended before it started building")
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("helper did not start building within a minute")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	left := tempFiles(t, path)
	if len(left) != 1 {
		t.Fatalf("temporary files after the kill: %v; want one", left)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the killed Build changed the database file")
	}
	if diff := cmp.Diff([]string{"DSA-5343-1"}, query(t, open(t, path), "Debian:11", "openssl")); diff != "" {
		t.Errorf("Query after the kill mismatch (-want +got):\n%s", diff)
	}
	build(t, path, Source{Path: "testdata/written"})
	if m := tempFiles(t, path); len(m) > 0 {
		t.Errorf("temporary files after the next Build: %v; want none", m)
	}
}

// TestKilledBuildHelper is the process TestBuildKilled kills: it imports,
// says so, and waits to be killed.
func TestKilledBuildHelper(t *testing.T) {
	path := os.Getenv("VULNDB_KILL_HELPER")
	if path == "" {
		t.Skip("runs only as the child process of TestBuildKilled")
	}
	Build(context.Background(), path, nil, func(w *Writer) error {
		if _, err := w.Import(context.Background(), Source{Path: realRecords}); err != nil {
			return err
		}
		fmt.Println("helper: importing")
		time.Sleep(time.Hour)
		return nil
	})
}

// TestConcurrentBuilds checks that a Build does not remove the temporary
// file of another Build still running, and that the last to finish wins.
func TestConcurrentBuilds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vuln.db")
	slow := writeFile(t, dir, "slow.json", record("SLOW-1", "npm", "p", "2024-01-01T00:00:00Z"))
	fast := writeFile(t, dir, "fast.json", record("FAST-1", "npm", "p", "2024-01-01T00:00:00Z"))
	inSlow, release := make(chan bool), make(chan bool)
	done := make(chan error, 1)
	go func() {
		_, err := Build(context.Background(), path, nil, func(w *Writer) error {
			if _, err := w.Import(context.Background(), Source{Path: slow}); err != nil {
				return err
			}
			close(inSlow)
			<-release
			return nil
		})
		done <- err
	}()
	<-inSlow
	build(t, path, Source{Path: fast})
	if diff := cmp.Diff([]string{"FAST-1"}, query(t, open(t, path), "npm", "p")); diff != "" {
		t.Errorf("after the fast build (-want +got):\n%s", diff)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("slow Build = %v", err)
	}
	if diff := cmp.Diff([]string{"SLOW-1"}, query(t, open(t, path), "npm", "p")); diff != "" {
		t.Errorf("after the slow build (-want +got):\n%s", diff)
	}
}

// TestConcurrentReaders runs scanners while the database is rebuilt over
// and over: each query sees one whole version, and a scanner that opened
// the first version keeps reading it.
func TestConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vuln.db")
	a := writeFile(t, dir, "a.zip", makeZip(t, zipEntry{"A-1.json", record("A-1", "npm", "p", "2024-01-01T00:00:00Z")}))
	b := writeFile(t, dir, "b.zip", makeZip(t,
		zipEntry{"B-1.json", record("B-1", "npm", "p", "2024-01-01T00:00:00Z")},
		zipEntry{"B-2.json", record("B-2", "npm", "p", "2024-01-01T00:00:00Z")}))
	build(t, path, Source{Path: a})
	first := open(t, path)
	want := map[string]bool{"A-1": true, "B-1,B-2": true}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Go(func() { // ends when stop is called
			for n := 0; ctx.Err() == nil || n == 0; n++ {
				db, err := Open(ctx, path, nil)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("Open during rebuilds = %v", err)
					}
					return
				}
				recs, err := db.Query(ctx, "npm", "p")
				db.Close()
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("Query during rebuilds = %v", err)
					}
					return
				}
				if got := joinIDs(recs); !want[got] {
					t.Errorf("Query during rebuilds = %q; want one whole version", got)
					return
				}
			}
		})
	}
	wg.Go(func() { // ends when stop is called
		for ctx.Err() == nil {
			recs, err := first.Query(context.Background(), "npm", "p")
			if err != nil || joinIDs(recs) != "A-1" {
				t.Errorf("first reader: Query = %v, %v; want A-1", ids(recs), err)
				return
			}
		}
	})
	for i := 0; i < 10; i++ {
		src := a
		if i%2 == 0 {
			src = b
		}
		build(t, path, Source{Path: src})
	}
	stop()
	wg.Wait()
}

func joinIDs(recs []*osv.Record) string { return strings.Join(ids(recs), ",") }

// TestBuildPanics checks that a callback that panics leaves no temporary
// file and no lock behind.
func TestBuildPanics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vuln.db")
	func() {
		defer func() { recover() }()
		Build(context.Background(), path, nil, func(w *Writer) error {
			w.Import(context.Background(), Source{Path: "testdata/written"})
			panic("callback bug")
		})
	}()
	if m := tempFiles(t, path); len(m) > 0 {
		t.Errorf("temporary files after a panic: %v", m)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("database after a panicking first Build: %v; want none", err)
	}
	build(t, path, Source{Path: "testdata/written"})
}
