package image

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options control how an image is opened.
type Options struct {
	// Platform picks an image from a multi-architecture index, as
	// "os/arch[/variant]"; empty means linux and this machine's architecture.
	Platform string
	// Insecure allows plain HTTP and unverified TLS for the registry (meant
	// for test registries on localhost; 127.0.0.1 and localhost speak plain
	// HTTP without it).
	Insecure bool
	// Keychain supplies registry credentials; nil uses the Docker config file
	// ($DOCKER_CONFIG/config.json or ~/.docker/config.json).
	Keychain authn.Keychain
	// Limits bound entries, file sizes and bytes read.
	Limits Limits
	// Want says which regular files to keep while their layer streams by,
	// given the resolved path (slash-separated, no leading slash) and mode.
	// Other files are read later by streaming their layer again. Nil keeps
	// none.
	Want func(name string, mode fs.FileMode) bool
	// TempDir is where the private spool directory is created; empty means
	// the system default.
	TempDir string
	// Progress, when set, is called as layer bytes are read, with the bytes
	// done and the total (compressed sizes for registry layers).
	Progress func(done, total int64)
}

// Image is an opened image or root filesystem.
type Image struct {
	// Source is what was opened.
	Source Source
	// Digest is the manifest digest ("sha256:…"); empty for a directory.
	Digest string
	// ImageID is the config digest; empty for a directory.
	ImageID string
	// Platform is the config's "os/arch[/variant]"; empty for a directory.
	Platform string
	// Config is the image configuration; nil for a directory.
	Config *v1.ConfigFile
	// Layers describes the layers in order; empty for a directory.
	Layers []Layer
	// FS is the squashed filesystem.
	FS *FS
}

// Layer describes one image layer.
type Layer struct {
	// Digest is the digest of the blob as stored.
	Digest string `json:"digest"`
	// DiffID is the digest of the uncompressed tar.
	DiffID string `json:"diffID,omitempty"`
	// Size is the stored blob size in bytes.
	Size int64 `json:"size"`
	// MediaType is the layer's media type.
	MediaType string `json:"mediaType,omitempty"`
}

// Close releases the filesystem (spooled files, layer handles).
func (i *Image) Close() error { return i.FS.Close() }

// Size is the sum of the stored layer sizes.
func (i *Image) Size() int64 {
	var n int64
	for _, l := range i.Layers {
		n += l.Size
	}
	return n
}

// Open opens src. For images it pulls or reads the manifest and config,
// then streams every layer once to build the squashed filesystem. Errors say
// which source, layer or entry failed; they wrap ErrLimit, ErrUnsafePath or
// the registry's transport error as appropriate.
func Open(ctx context.Context, src Source, opts Options) (*Image, error) {
	opts.Limits = opts.Limits.withDefaults()
	if opts.Platform == "" {
		opts.Platform = "linux/" + runtime.GOARCH
	}
	if src.Kind == Dir {
		fsys, err := openDir(ctx, src.Ref, opts.Limits)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", src, err)
		}
		return &Image{Source: src, FS: fsys}, nil
	}
	o, err := openV1(ctx, src, opts)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", src, err)
	}
	out, err := build(ctx, src, o, opts)
	if err != nil {
		if o.closer != nil {
			o.closer.Close()
		}
		return nil, fmt.Errorf("open %s: %w", src, err)
	}
	return out, nil
}

// opened is an image resolved from a backend.
type opened struct {
	img    v1.Image
	closer io.Closer // what to close when done (an archive file)
}

// openV1 resolves src to one image, from whichever backend holds it.
func openV1(ctx context.Context, src Source, opts Options) (opened, error) {
	platform, err := v1.ParsePlatform(opts.Platform)
	if err != nil {
		return opened{}, fmt.Errorf("parse platform %q: %w", opts.Platform, err)
	}
	switch src.Kind {
	case Registry:
		img, err := openRemote(ctx, src.Ref, platform, opts)
		return opened{img: img}, err
	case Layout:
		img, err := openLayout(src.Ref, src.Tag, platform)
		return opened{img: img}, err
	case Archive:
		return openArchive(src.Ref, src.Tag, platform)
	}
	return opened{}, fmt.Errorf("unknown source kind %q", src.Kind)
}

// build reads the image's metadata and applies its layers.
func build(ctx context.Context, src Source, o opened, opts Options) (*Image, error) {
	img := o.img
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("manifest digest: %w", err)
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("config digest: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	v1layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	out := &Image{Source: src, Digest: digest.String(), ImageID: cfgName.String(), Config: cfg}
	if cfg.OS != "" {
		p := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
		out.Platform = p.String()
	}
	var total int64
	for i, l := range v1layers {
		info, err := describeLayer(l)
		if err != nil {
			return nil, err
		}
		// The config lists the diff IDs; asking a layer for its own would
		// decompress and hash it.
		if i < len(cfg.RootFS.DiffIDs) {
			info.DiffID = cfg.RootFS.DiffIDs[i].String()
		}
		out.Layers = append(out.Layers, info)
		total += info.Size
	}

	sp := &spool{parent: opts.TempDir, max: opts.Limits.MaxTotalBytes / 4}
	b := &budget{max: opts.Limits.MaxTotalBytes}
	ld := &layerLoader{layers: v1layers, infos: out.Layers, budget: b, spool: sp, closer: o.closer}
	t := newTree(opts.Limits, opts.Want, sp, b)
	var done int64
	for i, l := range v1layers {
		var wrap func(io.Reader) io.Reader
		if opts.Progress != nil {
			base := done
			wrap = func(r io.Reader) io.Reader {
				return &progressReader{r: r, fn: func(n int64) { opts.Progress(base+n, total) }}
			}
		}
		rc, err := ld.stream(l, wrap)
		if err != nil {
			sp.remove()
			return nil, fmt.Errorf("layer %s: %w", out.Layers[i].Digest, err)
		}
		var r io.Reader = rc
		err = t.apply(ctx, i, out.Layers[i].Digest, b.reader(r))
		if err == nil {
			// Read to the end so that a verifying reader checks the digest.
			_, err = io.Copy(io.Discard, b.reader(r))
		}
		if cerr := rc.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("layer %s: %w", out.Layers[i].Digest, cerr)
		}
		if err != nil {
			sp.remove()
			return nil, err
		}
		done += out.Layers[i].Size
	}
	layerDigests := make([]string, len(out.Layers))
	for i, l := range out.Layers {
		layerDigests[i] = l.Digest
	}
	out.FS = &FS{root: t.root, layers: layerDigests, limits: opts.Limits, loader: ld}
	return out, nil
}

func describeLayer(l v1.Layer) (Layer, error) {
	d, err := l.Digest()
	if err != nil {
		return Layer{}, fmt.Errorf("layer digest: %w", err)
	}
	size, err := l.Size()
	if err != nil {
		return Layer{}, fmt.Errorf("layer %s: size: %w", d, err)
	}
	info := Layer{Digest: d.String(), Size: size}
	if mt, err := l.MediaType(); err == nil {
		info.MediaType = string(mt)
	}
	return info, nil
}

type progressReader struct {
	r  io.Reader
	n  int64
	fn func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	p.fn(p.n)
	return n, err
}
