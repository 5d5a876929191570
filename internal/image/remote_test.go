package image

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// platformImage is a one-file image for a platform; the file says which.
func platformImage(t *testing.T, os_, arch string) v1.Image {
	t.Helper()
	p := filepath.Join(t.TempDir(), "l.tar.gz")
	if err := fixture.Layer(p, []fixture.TarEntry{{Name: "platform", Body: os_ + "/" + arch}}); err != nil {
		t.Fatal(err)
	}
	img, err := fixture.ImageFromLayers(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigFile()
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = os_, arch
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func multiArch(t *testing.T) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		adds = append(adds, mutate.IndexAddendum{
			Add:        platformImage(t, "linux", arch),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}},
		})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}

func TestPlatformFromIndex(t *testing.T) {
	idx := multiArch(t)
	host := fixture.Registry(t)
	ref, _ := name.ParseReference(host + "/multi:1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	for _, src := range []Source{{Kind: Registry, Ref: ref.String()}, {Kind: Layout, Ref: dir}} {
		for _, arch := range []string{"amd64", "arm64"} {
			im, err := Open(context.Background(), src, Options{Platform: "linux/" + arch})
			if err != nil {
				t.Fatalf("Open(%s, %s): %v", src, arch, err)
			}
			if got := readAll(t, im.FS, "platform"); got != "linux/"+arch || im.Platform != "linux/"+arch {
				t.Errorf("%s --platform linux/%s gave %q (%s)", src, arch, got, im.Platform)
			}
			im.Close()
		}
		if _, err := Open(context.Background(), src, Options{Platform: "linux/s390x"}); err == nil {
			t.Errorf("%s: linux/s390x opened; want an error", src)
		}
	}
}

// TestRegistryCredentials pulls from a registry that wants basic auth, with
// the credentials in a Docker config file.
func TestRegistryCredentials(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, _ := name.ParseReference(host + "/private:1")
	if err := remote.Write(ref, platformImage(t, "linux", "amd64"), remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"})); err != nil {
		t.Fatal(err)
	}
	src := Source{Kind: Registry, Ref: ref.String()}

	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if _, err := Open(context.Background(), src, Options{Platform: "linux/amd64"}); err == nil {
		t.Fatal("Open without credentials succeeded")
	}
	cfgDir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfgDir)
	im, err := Open(context.Background(), src, Options{Platform: "linux/amd64"})
	if err != nil {
		t.Fatalf("Open with the Docker config: %v", err)
	}
	defer im.Close()
	if got := readAll(t, im.FS, "platform"); got != "linux/amd64" {
		t.Errorf("platform = %q", got)
	}
}

// TestOCIArchive opens a tarred OCI layout, picking the image by tag, and
// refuses a tampered blob.
func TestOCIArchive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if err := p.AppendImage(platformImage(t, "linux", arch), layout.WithAnnotations(map[string]string{refNameAnnotation: "app:" + arch})); err != nil {
			t.Fatal(err)
		}
	}
	tarPath := filepath.Join(t.TempDir(), "oci.tar")
	if err := fixture.TarDir(dir, tarPath); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		im, err := Open(context.Background(), Source{Kind: Archive, Ref: tarPath, Tag: arch}, Options{})
		if err != nil {
			t.Fatalf("Open(tag %s): %v", arch, err)
		}
		if got := readAll(t, im.FS, "platform"); got != "linux/"+arch {
			t.Errorf("tag %s: platform = %q", arch, got)
		}
		im.Close()
	}
	if _, err := Open(context.Background(), Source{Kind: Archive, Ref: tarPath, Tag: "nope"}, Options{}); err == nil {
		t.Error("Open(tag nope) succeeded")
	}
}

// TestTamperedArchiveLayer flips one byte of the layer inside a docker save
// tarball and an OCI archive: opening must fail, not list the altered
// files.
func TestTamperedArchiveLayer(t *testing.T) {
	_, archive, img := buildImage(t, []fixture.TarEntry{{Name: "a", Body: strings.Repeat("content ", 4096)}})
	layers, _ := img.Layers()
	d, _ := layers[0].Digest()

	ociDir := filepath.Join(t.TempDir(), "layout")
	p, _ := layout.Write(ociDir, empty.Index)
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	ociTar := filepath.Join(t.TempDir(), "oci.tar")
	if err := fixture.TarDir(ociDir, ociTar); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{archive.Ref, ociTar} {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		ar, err := indexArchive(f)
		if err != nil {
			t.Fatal(err)
		}
		var member string
		for name := range ar.entries {
			if strings.Contains(name, d.Hex) {
				member = name
			}
		}
		if member == "" {
			t.Fatalf("%s: no member named for the layer digest", path)
		}
		e := ar.entries[member]
		b := make([]byte, 1)
		pos := e.off + e.size - 10 // in the gzip trailer area: decompression may still succeed
		f.ReadAt(b, pos)
		b[0] ^= 0xff
		f.WriteAt(b, pos)
		f.Close()
		if im, err := Open(context.Background(), Source{Kind: Archive, Ref: path}, Options{}); err == nil {
			im.Close()
			t.Errorf("%s: a tampered layer opened", path)
		}
	}
}
