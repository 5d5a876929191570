// Command exampleimage builds the bundled example image, offline, as an OCI
// image layout: one layer made from examples/image/rootfs and a config from
// examples/image/config.json. Owners are root and times are fixed, so the
// same sources give the same digest.
//
// Usage: go run ./hack/exampleimage -o examples/.build/app
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
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
	layerBytes, err := tarDir(filepath.Join(src, "rootfs"), cfg.Modes)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	})
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

// tarDir makes a gzipped layer of dir with root owners and fixed times;
// modes overrides permissions (git keeps no setuid bits).
func tarDir(dir string, modes map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname, hdr.ModTime = rel, 0, 0, "", "", epoch
		if info.IsDir() {
			hdr.Name += "/"
		}
		if m, ok := modes[rel]; ok {
			mode, err := strconv.ParseInt(m, 8, 64)
			if err != nil {
				return fmt.Errorf("mode of %s: %w", rel, err)
			}
			hdr.Mode = mode
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
