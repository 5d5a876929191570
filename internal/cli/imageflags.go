package cli

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/kubeshield/kubeshield/internal/image"
)

// imageFlags are the flags of every command that opens an image.
type imageFlags struct {
	platform      string
	insecure      bool
	maxEntries    int
	maxFileSize   int64
	maxTotalBytes int64
}

func (o *imageFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.platform, "platform", "", "platform to pick from a multi-architecture image, as os/arch[/variant] (default linux/<this machine's arch>)")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP and unverified TLS to the registry (for registries on localhost)")
	f.IntVar(&o.maxEntries, "max-entries", image.DefaultMaxEntries, "most tar entries read across all layers")
	f.Int64Var(&o.maxFileSize, "max-file-size", image.DefaultMaxFileSize, "largest file (bytes) read from the image")
	f.Int64Var(&o.maxTotalBytes, "max-total-bytes", image.DefaultMaxTotalBytes, "most uncompressed layer bytes read")
}

func (o *imageFlags) validate() error {
	if o.maxEntries <= 0 || o.maxFileSize <= 0 || o.maxTotalBytes <= 0 {
		return usageErrorf("--max-entries, --max-file-size and --max-total-bytes must be positive")
	}
	return nil
}

// open parses the source argument and opens it, showing a progress bar on
// a terminal.
func (o *imageFlags) open(ctx context.Context, g *globalOptions, arg string, want func(string, fs.FileMode) bool) (*image.Image, error) {
	src, err := image.ParseSource(arg)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	opts := image.Options{
		Platform: o.platform,
		Insecure: o.insecure,
		Limits: image.Limits{
			MaxEntries: o.maxEntries, MaxFileSize: o.maxFileSize, MaxTotalBytes: o.maxTotalBytes,
		},
		Want: want,
	}
	bar := newProgressBar(g.stderr, g.quiet, "layers")
	if bar != nil {
		opts.Progress = bar.update
	}
	g.logger.Debug("opening image", slog.String("image", src.String()))
	img, err := image.Open(ctx, src, opts)
	bar.finish()
	if err != nil {
		return nil, err
	}
	g.logger.Debug("opened image", slog.String("image", src.String()), slog.String("digest", img.Digest), slog.Int("layers", len(img.Layers)))
	return img, nil
}

// subjectName is how a source is named in reports: the reference for a
// registry image, the path otherwise.
func subjectName(src image.Source) string {
	if src.Kind == image.Registry {
		return src.Ref
	}
	return fmt.Sprint(src)
}
