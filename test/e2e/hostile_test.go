package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// maxRSS is the memory the binary may use on hostile images.
const maxRSS = 512 << 20

// hostileLayout builds (or reuses from the test cache) a one-layer image
// from a generated layer.
func hostileLayout(t *testing.T, key string, gen func(dest string) error) string {
	t.Helper()
	dir := filepath.Join(fixture.CacheDir(t), "hostile", key)
	layout := filepath.Join(dir, "layout")
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return layout
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	layer := filepath.Join(dir, "layer.tar.gz")
	if err := gen(layer); err != nil {
		t.Fatal(err)
	}
	img, err := fixture.ImageFromLayers(layer)
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.WriteForms(img, &fixture.Images{Layout: layout, Tarball: filepath.Join(dir, "image.tar"), Tag: "kubeshield.test/" + key + ":1"}); err != nil {
		t.Fatal(err)
	}
	os.Remove(layer)
	os.Remove(filepath.Join(dir, "image.tar"))
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return layout
}

// measured runs the binary with TMPDIR set to a fresh directory and returns
// the exit code, stderr, peak RSS, and whether TMPDIR was left empty.
func measured(t *testing.T, args ...string) (int, string, int64, bool) {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.Command(kubeshield(t), args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
	left, _ := os.ReadDir(tmp)
	return code, stderr.String(), rss, len(left) == 0
}

// TestHostileImagesMemory runs the built binary on a million tiny entries
// and on a gzip bomb: each ends in a clear result, peak memory stays under
// 512 MiB, and nothing is left in the temporary directory.
func TestHostileImagesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a million-entry layer and a 1 GiB bomb; skipped in -short mode")
	}
	many := hostileLayout(t, "million-entries", func(dest string) error {
		return fixture.StreamLayer(dest, fixture.ManyFiles(1000, 999))
	})
	bomb := hostileLayout(t, "gzip-bomb-1g", func(dest string) error {
		return fixture.StreamLayer(dest, fixture.ZeroFile("usr/bin/zeros", 1<<30))
	})
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"million entries", []string{"sbom", "-q", "-o", "json", "oci:" + many}, 0, ""},
		{"million entries, lower limit", []string{"sbom", "-q", "--max-entries", "500000", "oci:" + many}, 1, "--max-entries"},
		{"gzip bomb, small budget", []string{"sbom", "-q", "--max-total-bytes", "268435456", "oci:" + bomb}, 1, "--max-total-bytes"},
		// The bomb is an executable the catalogers want: over the file
		// size limit it is not kept, and the scan goes on.
		{"gzip bomb, defaults", []string{"sbom", "-q", "--max-file-size", "67108864", "oci:" + bomb}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr, rss, clean := measured(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.msg)
			}
			if rss > maxRSS {
				t.Errorf("peak RSS %d MiB; want under %d MiB", rss>>20, maxRSS>>20)
			}
			if !clean {
				t.Error("files left in TMPDIR")
			}
			t.Logf("peak RSS %d MiB", rss>>20)
		})
	}
}
