package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

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
// Under the race detector, which multiplies memory use, the check is left
// to test/e2e, which measures the built binary.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	if raceEnabled {
		return 0
	}
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
	if err := fixture.StreamLayer(p, fixture.ZeroFile("zeros", size)); err != nil {
		t.Fatal(err)
	}
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
	if err := fixture.StreamLayer(p, fixture.ManyFiles(dirs, perDir)); err != nil {
		t.Fatal(err)
	}
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
