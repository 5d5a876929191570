package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubeshield/kubeshield/internal/vulndb"
)

// dbUpdateOptions are the flags of `kubeshield db update`.
type dbUpdateOptions struct {
	g          *globalOptions
	baseURL    string
	ecosystems []string
	cacheDir   string
	timeout    time.Duration
}

func newDBUpdateCommand(g *globalOptions) *cobra.Command {
	o := &dbUpdateOptions{g: g}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the OSV exports and rebuild the database (-o table|json)",
		Long: `Download OSV's per-ecosystem all.zip exports and rebuild the vulnerability
database from them. --base-url is the public OSV bucket by default; an https
mirror or, for air-gapped sites, a local directory (or file:// URL) with the
same layout (DIR/<ecosystem>/all.zip) works too.

Downloads are kept in a cache directory (--cache-dir, default "<db>.d"):
the next update asks the server only for what changed (If-None-Match,
If-Modified-Since), resumes interrupted downloads (Range, If-Range), and
checks each file (a readable zip, the md5 and crc32c the server sends).
The database is rebuilt only when every ecosystem was fetched, beside the
old one, and replaces it only when complete: a failed or interrupted update
leaves the old database in place.`,
		Example: `  kubeshield db update
  kubeshield db update --ecosystems Debian,Go,npm
  kubeshield db update --base-url /srv/osv-mirror --ecosystems Debian,Alpine`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd.Context())
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func (o *dbUpdateOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.baseURL, "base-url", vulndb.DefaultBaseURL, "where the exports are: an https URL, a file:// URL or a directory holding <ecosystem>/all.zip")
	f.StringSliceVar(&o.ecosystems, "ecosystems", nil, "fetch only these OSV ecosystems (default "+strings.Join(vulndb.DefaultEcosystems(), ",")+")")
	f.StringVar(&o.cacheDir, "cache-dir", "", `keep downloads here between updates (default "<db>.d")`)
	f.DurationVar(&o.timeout, "timeout", time.Hour, "give up after this long (0: no limit)")
}

func (o *dbUpdateOptions) validate() error {
	if err := o.g.checkOutput("table", "json"); err != nil {
		return err
	}
	if o.timeout < 0 {
		return usageErrorf("--timeout %s: want 0 or more", o.timeout)
	}
	for i, e := range o.ecosystems {
		o.ecosystems[i] = strings.TrimSpace(e)
	}
	return nil
}

// fetchMessage is the log message for the way a source was fetched.
func fetchMessage(f vulndb.Fetch) string {
	switch f {
	case vulndb.FetchResumed:
		return "download resumed"
	case vulndb.FetchNotModified:
		return "not modified"
	case vulndb.FetchLocal:
		return "read from mirror"
	}
	return "downloaded"
}

func (o *dbUpdateOptions) run(ctx context.Context) error {
	g := o.g
	if err := os.MkdirAll(filepath.Dir(g.db), 0o755); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	start := time.Now()
	st, err := vulndb.Update(ctx, g.db, vulndb.UpdateOptions{
		BaseURL:    o.baseURL,
		Ecosystems: o.ecosystems,
		CacheDir:   o.cacheDir,
	})
	switch {
	case errors.Is(err, vulndb.ErrInvalidBaseURL), errors.Is(err, vulndb.ErrEcosystem):
		return &UsageError{Err: err}
	case errors.Is(err, vulndb.ErrNoExport):
		return fmt.Errorf("%w\n(pick the ecosystems the base URL has with --ecosystems)", err)
	case err != nil:
		return err
	}
	for _, s := range st.Sources {
		g.logger.Info(fetchMessage(s.Fetch), slog.String("source", s.Name), slog.String("url", s.URL), slog.String("path", s.Path), slog.Int64("bytes", s.Downloaded), slog.Int("stored", s.Stored), slog.Int("skipped", len(s.Skipped)))
		for _, sk := range s.Skipped {
			g.logger.Warn("record skipped", slog.String("source", s.Name), slog.String("entry", sk.Entry), slog.String("id", sk.ID), slog.String("error", sk.Reason))
		}
	}
	g.logger.Info("database built", slog.String("path", g.db), slog.Int("records", st.Records), slog.Duration("took", time.Since(start)))
	return writeStatus(g, st)
}
