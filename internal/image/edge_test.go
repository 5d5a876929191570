package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// TestRepeatedName: a layer may hold the same name twice; the later entry
// wins, also when the file is read on demand (not prefetched), and through
// a hard link made after it.
func TestRepeatedName(t *testing.T) {
	layout, _, _ := buildImage(t, []fixture.TarEntry{
		{Name: "opt/blob", Body: "first"},
		{Name: "opt/blob", Body: "second!"},
		{Name: "lib/app", Type: tar.TypeLink, Linkname: "opt/blob"},
	})
	im, err := Open(context.Background(), layout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	for _, name := range []string{"opt/blob", "lib/app"} {
		if got := readAll(t, im.FS, name); got != "second!" {
			t.Errorf("ReadFile(%q) = %q; want the later entry", name, got)
		}
	}
}

// TestOpaqueKeepsSameLayer: an opaque marker hides only what lower layers
// wrote, also below a lower directory the layer merely passes through.
func TestOpaqueKeepsSameLayer(t *testing.T) {
	layout, _, _ := buildImage(t,
		[]fixture.TarEntry{{Name: "d/sub/old", Body: "old"}, {Name: "d/gone/x", Body: "x"}},
		[]fixture.TarEntry{{Name: "d/sub/new", Body: "new"}, {Name: "d/.wh..wh..opq"}},
	)
	im, err := Open(context.Background(), layout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if got := readAll(t, im.FS, "d/sub/new"); got != "new" {
		t.Errorf("d/sub/new = %q", got)
	}
	for _, gone := range []string{"d/sub/old", "d/gone", "d/gone/x"} {
		if _, err := fs.Stat(im.FS, gone); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v; want not exist", gone, err)
		}
	}
}

func TestPathBounds(t *testing.T) {
	deep := strings.Repeat("a/", 1000)
	tests := []struct {
		name    string
		entries []fixture.TarEntry
		limits  Limits
		want    error
	}{
		{"long name", []fixture.TarEntry{{Name: strings.Repeat("n", maxPathLen+1)}}, Limits{}, ErrBadEntry},
		{"deep name", []fixture.TarEntry{{Name: strings.Repeat("a/", maxPathDepth+1) + "f"}}, Limits{}, ErrBadEntry},
		{"long link target", []fixture.TarEntry{{Name: "l", Type: tar.TypeSymlink, Linkname: strings.Repeat("t", maxPathLen+1)}}, Limits{}, ErrBadEntry},
		{"implied directories count", []fixture.TarEntry{{Name: deep + "f"}}, Limits{MaxEntries: 100}, ErrLimit},
		{"link chain work", append([]fixture.TarEntry{{Name: "l", Type: tar.TypeSymlink, Linkname: deep}, {Name: deep, Type: tar.TypeDir}},
			manyThrough("l", 200)...), Limits{MaxEntries: 1100}, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layout, _, _ := buildImage(t, tt.entries)
			im, err := Open(context.Background(), layout, Options{Limits: tt.limits})
			if err == nil {
				im.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v; want %v", err, tt.want)
			}
		})
	}
}

func manyThrough(link string, n int) []fixture.TarEntry {
	var out []fixture.TarEntry
	for i := 0; i < n; i++ {
		out = append(out, fixture.TarEntry{Name: fmt.Sprintf("%s/f%d", link, i), Body: "x"})
	}
	return out
}

// TestPrefetchCharged: bytes kept for the catalogers count against the
// budget as they are produced.
func TestPrefetchCharged(t *testing.T) {
	layout, _, _ := buildImage(t, []fixture.TarEntry{{Name: "usr/bin/app", Body: strings.Repeat("z", 900<<10), Mode: 0o755}})
	want := func(string, fs.FileMode) bool { return true }
	if _, err := Open(context.Background(), layout, Options{Want: want, Limits: Limits{MaxTotalBytes: 1536 << 10}}); !errors.Is(err, ErrLimit) {
		t.Errorf("Open with a 1.5 MiB budget = %v; want ErrLimit (900 KiB streamed + 900 KiB kept)", err)
	}
	im, err := Open(context.Background(), layout, Options{Want: want, Limits: Limits{MaxTotalBytes: 2 << 20}})
	if err != nil {
		t.Fatalf("Open with a 2 MiB budget: %v", err)
	}
	im.Close()
}
