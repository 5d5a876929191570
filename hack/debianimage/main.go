// Command debianimage turns the debootstrap Debian 12 root filesystem (from
// hack/debian-rootfs.sh) into a one-layer image, written as an OCI layout and
// a docker save tarball in the test cache, the same forms the integration
// tests build. It prints the tarball's path. Existing output is reused.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

func main() {
	cache := os.Getenv("KUBESHIELD_TEST_CACHE")
	if cache == "" {
		base, _ := os.UserCacheDir()
		cache = filepath.Join(base, "kubeshield-test")
	}
	rootfs := flag.String("rootfs", filepath.Join(cache, "debian12-rootfs"), "root filesystem to package")
	out := flag.String("o", filepath.Join(cache, "images", "debian12"), "output directory")
	flag.Parse()
	forms := &fixture.Images{Layout: filepath.Join(*out, "layout"), Tarball: filepath.Join(*out, "image.tar"), Tag: "kubeshield.test/debian12:latest"}
	if _, err := os.Stat(filepath.Join(*out, "done")); err == nil {
		fmt.Println(forms.Tarball)
		return
	}
	if err := build(*rootfs, *out, forms); err != nil {
		fmt.Fprintln(os.Stderr, "debianimage:", err)
		os.Exit(1)
	}
	fmt.Println(forms.Tarball)
}

func build(rootfs, out string, forms *fixture.Images) error {
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	layer := filepath.Join(out, "layer.tar.gz")
	if err := fixture.TarGz(rootfs, layer); err != nil {
		return fmt.Errorf("tar %s: %w", rootfs, err)
	}
	img, err := fixture.ImageFromLayers(layer)
	if err != nil {
		return err
	}
	if err := fixture.WriteForms(img, forms); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "done"), nil, 0o644)
}
