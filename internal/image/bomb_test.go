package image

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// writeStreamLayer writes a gzipped tar layer at dest from a generator that
// writes entries into tw.
func writeStreamLayer(t *testing.T, dest string, gen func(tw *tar.Writer) error) {
	t.Helper()
	f, err := os.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	if err := gen(tw); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func layoutOf(t *testing.T, layerPaths ...string) Source {
	t.Helper()
	img, err := fixture.ImageFromLayers(layerPaths...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	forms := &fixture.Images{Layout: filepath.Join(dir, "layout"), Tarball: filepath.Join(dir, "image.tar"), Tag: "test.invalid/bomb:1"}
	if err := fixture.WriteForms(img, forms); err != nil {
		t.Fatal(err)
	}
	return Source{Kind: Layout, Ref: forms.Layout}
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM).
func peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmHWM")
	return 0
}

const maxPeak = 512 << 20

// TestGzipBomb: a layer holding a 1 GiB file of zeros (about 1 MiB
// compressed). With a 256 MiB budget the open fails with a limit error;
// with the default budget it succeeds without holding the file, and memory
// stays low either way.
func TestGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 1 GiB; skipped in -short mode")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bomb.tar.gz")
	const size = 1 << 30
	writeStreamLayer(t, p, func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.CopyN(tw, zeroReader{}, size)
		return err
	})
	src := layoutOf(t, p)
	tmp := t.TempDir()
	_, err := Open(context.Background(), src, Options{TempDir: tmp, Limits: Limits{MaxTotalBytes: 256 << 20}})
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("Open with a 256 MiB budget = %v; want ErrLimit", err)
	}
	im, err := Open(context.Background(), src, Options{TempDir: tmp, Want: func(string, os.FileMode) bool { return true }, Limits: Limits{MaxFileSize: 64 << 20}})
	if err != nil {
		t.Fatalf("Open with defaults: %v", err)
	}
	if _, err := im.FS.Open("zeros"); !errors.Is(err, ErrLimit) {
		t.Errorf("Open(zeros) = %v; want the file size limit", err)
	}
	im.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temp dir holds %d entries", len(left))
	}
	if peak := peakRSS(t); peak > maxPeak {
		t.Errorf("peak RSS %d MiB; want under %d MiB", peak>>20, maxPeak>>20)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestMillionEntries: a layer of a million tiny entries opens within the
// default entry limit and 512 MiB of memory, and a lower limit stops it
// with a clear error.
func TestMillionEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a million entries; skipped in -short mode")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "many.tar.gz")
	const dirs, perDir = 1000, 999
	writeStreamLayer(t, p, func(tw *tar.Writer) error {
		for d := 0; d < dirs; d++ {
			dn := fmt.Sprintf("d%04d/", d)
			if err := tw.WriteHeader(&tar.Header{Name: dn, Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
				return err
			}
			for f := 0; f < perDir; f++ {
				if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%sf%03d", dn, f), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	src := layoutOf(t, p)
	_, err := Open(context.Background(), src, Options{Limits: Limits{MaxEntries: 500_000}})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "max-entries" {
		t.Fatalf("Open with 500k entries allowed = %v; want a max-entries LimitError", err)
	}
	im, err := Open(context.Background(), src, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	n := 0
	for _, d := range im.FS.root.children {
		n += 1 + len(d.children)
	}
	if n != dirs*(perDir+1) {
		t.Errorf("tree holds %d entries; want %d", n, dirs*(perDir+1))
	}
	runtime.KeepAlive(im)
	im.Close()
	if peak := peakRSS(t); peak > maxPeak {
		t.Errorf("peak RSS %d MiB; want under %d MiB", peak>>20, maxPeak>>20)
	}
}
