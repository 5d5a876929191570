package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// copyTree copies the regular files, directories and symbolic links under
// src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, info.Mode().Perm())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSBOMMixedImage builds a two-layer image: a base layer with the
// Debian status file of the tests, and an application layer with every
// cataloger's fixtures and a real Go binary (large enough to be spooled).
// Scanning it as an image and as the equivalent directory must give the
// same packages, and the application's packages must be attributed to the
// second layer.
func TestSBOMMixedImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary and an image; skipped in -short mode")
	}
	base := t.TempDir()
	copyTree(t, "../inventory/testdata/dpkg/debian12", base)
	app := t.TempDir()
	for _, eco := range []string{"npm", "python", "ruby", "php", "dotnet", "rust"} {
		copyTree(t, "../inventory/testdata/"+eco, filepath.Join(app, "srv", eco))
	}
	if err := os.MkdirAll(filepath.Join(app, "usr/local/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(app, "usr/local/bin/kubeshield"), "../../cmd/kubeshield")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	work := t.TempDir()
	baseTar, appTar := filepath.Join(work, "base.tar.gz"), filepath.Join(work, "app.tar.gz")
	if err := fixture.TarGz(base, baseTar); err != nil {
		t.Fatal(err)
	}
	if err := fixture.TarGz(app, appTar); err != nil {
		t.Fatal(err)
	}
	img, err := fixture.ImageFromLayers(baseTar, appTar)
	if err != nil {
		t.Fatal(err)
	}
	forms := &fixture.Images{Layout: filepath.Join(work, "layout"), Tarball: filepath.Join(work, "image.tar"), Tag: "kubeshield.test/mixed:1"}
	if err := fixture.WriteForms(img, forms); err != nil {
		t.Fatal(err)
	}
	merged := t.TempDir()
	copyTree(t, base, merged)
	copyTree(t, app, merged)

	dirDoc := sbomJSON(t, "dir:"+merged)
	types := map[string]int{}
	for _, p := range dirDoc.Packages {
		types[p.Type]++
	}
	for _, typ := range []string{"deb", "go-module", "npm", "python", "gem", "php-composer", "dotnet", "rust-crate"} {
		if types[typ] == 0 {
			t.Errorf("the directory scan found no %s packages (found %v)", typ, types)
		}
	}
	for _, src := range []string{"oci:" + forms.Layout, forms.Tarball} {
		doc := sbomJSON(t, src)
		if diff := cmp.Diff(pkgKeys(dirDoc.Packages), pkgKeys(doc.Packages)); diff != "" {
			t.Errorf("%s lists other packages than the directory (-dir +image):\n%s", src, diff)
		}
		for _, p := range doc.Packages {
			want := doc.Subject.Layers[1]
			if p.Type == "deb" {
				want = doc.Subject.Layers[0]
			}
			if p.Locations[0].Layer != want {
				t.Errorf("%s: %s %s in layer %s; want %s", src, p.Type, p.Name, p.Locations[0].Layer, want)
				break
			}
		}
	}
}
