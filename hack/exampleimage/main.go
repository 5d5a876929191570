// Command exampleimage builds the bundled example image, offline, as an OCI
// image layout: one layer made from examples/image/rootfs and a config from
// examples/image/config.json. Owners are root and times are fixed, so the
// same sources give the same digest.
//
// Usage: go run ./hack/exampleimage -o examples/.build/app
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/kubeshield/kubeshield/internal/fixture"
)

type config struct {
	User         string            `json:"user"`
	Env          []string          `json:"env"`
	ExposedPorts []string          `json:"exposedPorts"`
	Entrypoint   []string          `json:"entrypoint"`
	Modes        map[string]string `json:"modes"`
	Comment      string            `json:"comment"`
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	src := flag.String("src", "examples/image", "directory holding rootfs/ and config.json")
	out := flag.String("o", "examples/.build/app", "OCI layout directory to write")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "exampleimage:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	raw, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		return err
	}
	var cfg config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("parse config.json: %w", err)
	}
	modes := map[string]int64{}
	for name, m := range cfg.Modes {
		mode, err := strconv.ParseInt(m, 8, 64)
		if err != nil {
			return fmt.Errorf("mode of %s: %w", name, err)
		}
		modes[name] = mode
	}
	tmp, err := os.MkdirTemp("", "exampleimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	layerPath := filepath.Join(tmp, "layer.tar.gz")
	if err := fixture.TarTree(filepath.Join(src, "rootfs"), layerPath, fixture.TarOptions{Gzip: true, ModTime: epoch, Modes: modes}); err != nil {
		return err
	}
	layer, err := tarball.LayerFromFile(layerPath)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", "amd64", v1.Time{Time: epoch}
	cf.Config.User, cf.Config.Env, cf.Config.Entrypoint = cfg.User, cfg.Env, cfg.Entrypoint
	cf.Config.ExposedPorts = map[string]struct{}{}
	for _, p := range cfg.ExposedPorts {
		cf.Config.ExposedPorts[p] = struct{}{}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "example/app:1.0"})); err != nil {
		return err
	}
	d, _ := img.Digest()
	fmt.Fprintf(os.Stderr, "wrote %s (%s)\n", out, d)
	return nil
}
