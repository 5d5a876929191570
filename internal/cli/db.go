package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubeshield/kubeshield/internal/vulndb"
)

func newDBCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the vulnerability database (OSV records)",
		Long: `Manage the vulnerability database: one file (--db, default in the user cache
directory) holding OSV records indexed by ecosystem and package.`,
	}
	cmd.AddCommand(newDBImportCommand(g), newDBStatusCommand(g), newDBUpdateCommand(g))
	return cmd
}

func newDBImportCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "import PATH...",
		Short: "Build the database from OSV JSON files, directories and all.zip exports (-o table|json)",
		Long: `Build the vulnerability database from OSV records: JSON files, directory
trees of them, and the per-ecosystem all.zip exports of OSV. The new database
is written beside the old one and replaces it only when every import
succeeded, so scans running meanwhile keep reading the old one. Withdrawn
records are left out; records that do not parse are skipped and listed.`,
		Example: `  kubeshield db import ../shared/data/osv/*/all.zip
  kubeshield --db ./vuln.db db import advisories/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput("table", "json"); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(g.db), 0o755); err != nil {
				return fmt.Errorf("create database directory: %w", err)
			}
			start := time.Now()
			st, err := vulndb.Build(cmd.Context(), g.db, nil, func(w *vulndb.Writer) error {
				for _, p := range args {
					ss, err := w.Import(cmd.Context(), vulndb.Source{Path: p})
					if err != nil {
						return err
					}
					g.logger.Info("imported", slog.String("source", ss.Name), slog.Int("stored", ss.Stored), slog.Int("skipped", len(ss.Skipped)))
					for _, s := range ss.Skipped {
						g.logger.Warn("record skipped", slog.String("source", ss.Name), slog.String("entry", s.Entry), slog.String("id", s.ID), slog.String("error", s.Reason))
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("import into %s: %w", g.db, err)
			}
			g.logger.Info("database built", slog.String("path", g.db), slog.Int("records", st.Records), slog.Duration("took", time.Since(start)))
			return writeStatus(g, st)
		},
	}
}

func newDBStatusCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the database's sources, record counts and age (-o table|json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput("table", "json"); err != nil {
				return err
			}
			db, err := vulndb.Open(cmd.Context(), g.db, nil)
			if err != nil {
				return fmt.Errorf("open database %s: %w (build one with: kubeshield db import PATH...)", g.db, err)
			}
			defer db.Close()
			st, err := db.Status()
			if err != nil {
				return err
			}
			return writeStatus(g, st)
		},
	}
}

func writeStatus(g *globalOptions, st vulndb.Status) error {
	if g.output == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(g.stdout, "database: %s\nbuilt: %s (%s ago)\nrecords: %d\n\n", g.db, st.Built.Format(time.RFC3339), time.Since(st.Built).Round(time.Second), st.Records)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTORED\tWITHDRAWN\tSKIPPED\tIMPORTED\tPATH")
	for _, s := range st.Sources {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.Stored, s.Withdrawn, len(s.Skipped), s.Imported.Format(time.RFC3339), s.Path)
	}
	return tw.Flush()
}
