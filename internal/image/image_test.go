package image

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// buildImage writes the layers (bottom first) as an OCI layout and a docker
// save tarball under a temp dir and returns both sources.
func buildImage(t *testing.T, layers ...[]fixture.TarEntry) (layout, archive Source, img v1.Image) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, entries := range layers {
		p := filepath.Join(dir, "layer"+string(rune('0'+i))+".tar.gz")
		if err := fixture.Layer(p, entries); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	img, err := fixture.ImageFromLayers(paths...)
	if err != nil {
		t.Fatal(err)
	}
	forms := &fixture.Images{Layout: filepath.Join(dir, "layout"), Tarball: filepath.Join(dir, "image.tar"), Tag: "test.invalid/img:1"}
	if err := fixture.WriteForms(img, forms); err != nil {
		t.Fatal(err)
	}
	return Source{Kind: Layout, Ref: forms.Layout}, Source{Kind: Archive, Ref: forms.Tarball}, img
}

func readAll(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("ReadFile(%q): %v", name, err)
	}
	return string(b)
}

func TestSquash(t *testing.T) {
	lower := []fixture.TarEntry{
		{Name: "etc/", Type: tar.TypeDir},
		{Name: "etc/a", Body: "a1"},
		{Name: "etc/b", Body: "b1"},
		{Name: "etc/hl", Type: tar.TypeLink, Linkname: "etc/a"},
		{Name: "etc/abs", Type: tar.TypeSymlink, Linkname: "/etc/a"},
		{Name: "etc/rel", Type: tar.TypeSymlink, Linkname: "../etc/a"},
		{Name: "etc/out", Type: tar.TypeSymlink, Linkname: "../../../../../etc/a"},
		{Name: "etc/loop1", Type: tar.TypeSymlink, Linkname: "loop2"},
		{Name: "etc/loop2", Type: tar.TypeSymlink, Linkname: "loop1"},
		{Name: "d/", Type: tar.TypeDir},
		{Name: "d/x", Body: "x"},
		{Name: "d/sub/y", Body: "y"},
		{Name: "usr/bin/sh", Body: "#!", Mode: 0o4755},
		{Name: "bin", Type: tar.TypeSymlink, Linkname: "usr/bin"},
	}
	upper := []fixture.TarEntry{
		{Name: "etc/.wh.b"},
		{Name: "etc/a", Body: "a2"},
		{Name: "d/sub/", Type: tar.TypeDir},
		{Name: "d/.wh..wh..opq"},
		{Name: "d/z", Body: "z"},
		{Name: "bin/new", Body: "new"},
		{Name: "./etc/dot", Body: "dot"},
	}
	layout, archive, img := buildImage(t, lower, upper)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	upperDigest, _ := layers[1].Digest()

	for _, src := range []Source{layout, archive} {
		t.Run(string(src.Kind), func(t *testing.T) {
			tmp := t.TempDir()
			im, err := Open(context.Background(), src, Options{TempDir: tmp})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			fsys := im.FS
			for name, want := range map[string]string{
				"etc/a":       "a2",
				"etc/hl":      "a1", // a hard link keeps the lower file
				"etc/abs":     "a2",
				"etc/rel":     "a2",
				"etc/out":     "a2", // ".." stops at the root
				"usr/bin/new": "new",
				"bin/new":     "new",
				"d/z":         "z",
				"etc/dot":     "dot",
			} {
				if got := readAll(t, fsys, name); got != want {
					t.Errorf("ReadFile(%q) = %q; want %q", name, got, want)
				}
			}
			for _, gone := range []string{"etc/b", "d/x", "d/sub/y"} {
				if _, err := fs.Stat(fsys, gone); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Stat(%q) = %v; want not exist", gone, err)
				}
			}
			entries, err := fs.ReadDir(fsys, "d")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if diff := cmp.Diff([]string{"sub", "z"}, names); diff != "" {
				t.Errorf("ReadDir(d) (-want +got):\n%s", diff)
			}
			if _, err := fsys.Open("etc/loop1"); !errors.Is(err, syscall.ELOOP) {
				t.Errorf("Open(etc/loop1) = %v; want ELOOP", err)
			}
			if got := fsys.Layer("etc/a"); got != upperDigest.String() {
				t.Errorf("Layer(etc/a) = %q; want %q", got, upperDigest)
			}
			info, err := fsys.Stat("bin/sh")
			if err != nil || info.Mode()&fs.ModeSetuid == 0 {
				t.Errorf("Stat(bin/sh) = %v, %v; want setuid", info, err)
			}
			if target, err := fsys.ReadLink("bin"); err != nil || target != "usr/bin" {
				t.Errorf("ReadLink(bin) = %q, %v", target, err)
			}
			if err := im.Close(); err != nil {
				t.Fatal(err)
			}
			left, _ := os.ReadDir(tmp)
			if len(left) != 0 {
				t.Errorf("temp dir holds %d entries after Close", len(left))
			}
		})
	}
}

func TestPrefetch(t *testing.T) {
	big := make([]byte, memMax+10)
	for i := range big {
		big[i] = byte(i)
	}
	layout, _, _ := buildImage(t, []fixture.TarEntry{
		{Name: "small", Body: "s"},
		{Name: "big", Body: string(big)},
		{Name: "lazy", Body: "l"},
	})
	tmp := t.TempDir()
	im, err := Open(context.Background(), layout, Options{TempDir: tmp, Want: func(name string, _ fs.FileMode) bool {
		return name != "lazy"
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	root := im.FS.root
	if c := root.children["small"].content; !c.loaded || c.spool != "" {
		t.Errorf("small: loaded=%v spool=%q; want in memory", c.loaded, c.spool)
	}
	if c := root.children["big"].content; !c.loaded || c.spool == "" || filepath.Dir(filepath.Dir(c.spool)) != tmp {
		t.Errorf("big: loaded=%v spool=%q; want spooled under %s", c.loaded, c.spool, tmp)
	}
	if c := root.children["lazy"].content; c.loaded {
		t.Errorf("lazy was prefetched")
	}
	if got := readAll(t, im.FS, "lazy"); got != "l" {
		t.Errorf("lazy = %q", got)
	}
	if got := readAll(t, im.FS, "big"); got != string(big) {
		t.Errorf("big differs")
	}
	f, err := im.FS.Open("big")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		t.Fatal("open file is not an io.ReaderAt")
	}
	b := make([]byte, 3)
	if _, err := ra.ReadAt(b, 256); err != nil || b[0] != 0 || b[1] != 1 {
		t.Errorf("ReadAt = %v, %v", b, err)
	}
}

func TestHostileLayers(t *testing.T) {
	tests := []struct {
		name    string
		entries []fixture.TarEntry
		limits  Limits
		want    error
	}{
		{"traversal", []fixture.TarEntry{{Name: "../../etc/x", Body: "x"}}, Limits{}, ErrUnsafePath},
		{"traversal inside", []fixture.TarEntry{{Name: "a/../../../x", Body: "x"}}, Limits{}, ErrUnsafePath},
		{"hard link out", []fixture.TarEntry{{Name: "x", Type: tar.TypeLink, Linkname: "../../etc/passwd"}}, Limits{}, ErrUnsafePath},
		{"whiteout dotdot", []fixture.TarEntry{{Name: "a/", Type: tar.TypeDir}, {Name: "a/.wh..."}}, Limits{}, ErrUnsafePath},
		{"whiteout dot", []fixture.TarEntry{{Name: "a/", Type: tar.TypeDir}, {Name: "a/.wh.."}}, Limits{}, ErrUnsafePath},
		{"too many entries", []fixture.TarEntry{{Name: "a"}, {Name: "b"}, {Name: "c"}}, Limits{MaxEntries: 2}, ErrLimit},
		{"too many bytes", []fixture.TarEntry{{Name: "a", Body: string(make([]byte, 1<<20))}}, Limits{MaxTotalBytes: 1 << 19}, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layout, _, _ := buildImage(t, tt.entries)
			tmp := t.TempDir()
			im, err := Open(context.Background(), layout, Options{TempDir: tmp, Limits: tt.limits})
			if err == nil {
				im.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v; want %v", err, tt.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temp dir holds %d entries", len(left))
			}
		})
	}
}

func TestFileSizeLimit(t *testing.T) {
	layout, _, _ := buildImage(t, []fixture.TarEntry{{Name: "f", Body: "0123456789"}})
	im, err := Open(context.Background(), layout, Options{Limits: Limits{MaxFileSize: 4}})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	var le *LimitError
	if _, err := im.FS.Open("f"); !errors.As(err, &le) || le.Limit != "max-file-size" {
		t.Errorf("Open(f) = %v; want max-file-size LimitError", err)
	}
}

func TestSymlinkedDirOutOfRoot(t *testing.T) {
	// A symlinked directory pointing above the root must resolve to the
	// root itself, never to the host.
	layout, _, _ := buildImage(t, []fixture.TarEntry{
		{Name: "up", Type: tar.TypeSymlink, Linkname: "../../../.."},
		{Name: "etc/passwd", Body: "image"},
	})
	im, err := Open(context.Background(), layout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if got := readAll(t, im.FS, "up/etc/passwd"); got != "image" {
		t.Errorf("up/etc/passwd = %q; want the image's own", got)
	}
}

func TestDirSource(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc/os-release"), []byte("ID=x\n"), 0o644))
	must(os.Symlink("usr/bin", filepath.Join(dir, "bin")))
	must(os.Symlink("/etc/os-release", filepath.Join(dir, "usr/bin/abs")))
	must(os.Symlink("/../../../../../../etc/hostname", filepath.Join(dir, "escape")))
	im, err := Open(context.Background(), Source{Kind: Dir, Ref: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if got := readAll(t, im.FS, "bin/abs"); got != "ID=x\n" {
		t.Errorf("bin/abs = %q", got)
	}
	if _, err := im.FS.Open("escape"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(escape) = %v; want not exist (the host's /etc/hostname must not be reachable)", err)
	}
}

func TestParseSource(t *testing.T) {
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "lay")
	os.MkdirAll(layoutDir, 0o755)
	os.WriteFile(filepath.Join(layoutDir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	tarPath := filepath.Join(dir, "img.tar")
	os.WriteFile(tarPath, nil, 0o644)
	tests := []struct {
		in   string
		want Source
	}{
		{"nginx:1.25", Source{Kind: Registry, Ref: "nginx:1.25"}},
		{"127.0.0.1:5000/app@sha256:abc", Source{Kind: Registry, Ref: "127.0.0.1:5000/app@sha256:abc"}},
		{"registry:localhost/x", Source{Kind: Registry, Ref: "localhost/x"}},
		{"dir:/some/root", Source{Kind: Dir, Ref: "/some/root"}},
		{"oci:" + layoutDir, Source{Kind: Layout, Ref: layoutDir}},
		{"oci:" + layoutDir + ":v1", Source{Kind: Layout, Ref: layoutDir, Tag: "v1"}},
		{"archive:" + tarPath, Source{Kind: Archive, Ref: tarPath}},
		{tarPath, Source{Kind: Archive, Ref: tarPath}},
		{layoutDir, Source{Kind: Layout, Ref: layoutDir}},
		{dir, Source{Kind: Dir, Ref: dir}},
	}
	for _, tt := range tests {
		got, err := ParseSource(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSource(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "dir:", "oci:", "archive:"} {
		if _, err := ParseSource(bad); err == nil {
			t.Errorf("ParseSource(%q) succeeded; want an error", bad)
		}
	}
}
