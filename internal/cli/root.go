// Package cli holds Kubeshield's commands: one file per verb group. A
// command parses its flags into an options struct, validates them, calls the
// engines and writes their results; it holds no logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// Build information, set with -ldflags "-X" at release time.
var (
	version = "dev"
	commit  = ""
)

// globalOptions are the flags every command has.
type globalOptions struct {
	db        string
	output    string
	quiet     bool
	logLevel  string
	logFormat string

	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
}

func (g *globalOptions) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.db, "db", defaultDBPath(), "vulnerability database file")
	f.StringVarP(&g.output, "output", "o", "table", "output format (the formats each command supports are listed in its help)")
	f.BoolVarP(&g.quiet, "quiet", "q", false, "no progress and no logs below error level")
	f.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&g.logFormat, "log-format", "auto", "log format: text, json, or auto (json inside a Kubernetes pod, text elsewhere)")
}

// setup validates the global flags and builds the logger.
func (g *globalOptions) setup() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return usageErrorf("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	if g.quiet && level < slog.LevelError {
		level = slog.LevelError
	}
	format := g.logFormat
	if format == "auto" {
		format = "text"
		if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
			format = "json"
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		g.logger = slog.New(slog.NewTextHandler(g.stderr, opts))
	case "json":
		g.logger = slog.New(slog.NewJSONHandler(g.stderr, opts))
	default:
		return usageErrorf("--log-format %q: want text, json or auto", g.logFormat)
	}
	return nil
}

// defaultDBPath is the database file in the user cache directory
// ($XDG_CACHE_HOME/kubeshield/vuln.db, ~/.cache/kubeshield/vuln.db).
func defaultDBPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "kubeshield-vuln.db"
	}
	return filepath.Join(dir, "kubeshield", "vuln.db")
}

// checkOutput returns a usage error unless --output is one of allowed.
func (g *globalOptions) checkOutput(allowed ...string) error {
	for _, a := range allowed {
		if g.output == a {
			return nil
		}
	}
	return usageErrorf("--output %q: this command writes %s", g.output, strings.Join(allowed, ", "))
}

// NewRootCommand returns the kubeshield command with all its verbs. Results
// go to stdout, logs and progress to stderr.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "kubeshield",
		Short: "Secure Kubernetes workloads from build to runtime",
		Long: `Kubeshield secures the whole life of a workload: it lists what is inside
images (SBOMs) and scans them for known vulnerabilities, signs and verifies
them (cosign and Notation formats), analyses a cluster's RBAC exactly as the
API server decides, and enforces admission policies (Pod Security, signed
images, Rego) as a webhook or on manifests; runtime protection comes next.

Exit codes: 0 success, 1 error (rbac can-i: no), 2 usage error, 3 findings
at or above the --fail-on threshold (rbac check: policy violated; admission
test: an object denied),
130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.setup()
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &UsageError{Err: err}
	})
	g.addFlags(root)
	root.AddCommand(
		newVersionCommand(g),
		newSBOMCommand(g),
		newImageCommand(g),
		newFSCommand(g),
		newSignCommand(g),
		newVerifyCommand(g),
		newAttestCommand(g),
		newVerifyAttestationCommand(g),
		newDBCommand(g),
		newKeyCommand(g),
		newRBACCommand(g),
		newAdmissionCommand(g),
		newWebhookCommand(g),
	)
	return root
}

// Execute runs the root command with args and returns the process exit
// code, printing the error (if any) on stderr.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var (
		fe *FindingsError
		de *DeniedError
	)
	if errors.As(err, &fe) {
		return fe.Code // the report says what was found
	}
	if errors.As(err, &de) {
		return ExitError // the answer printed says no
	}
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		if _, ok := err.(*UsageError); ok || isCobraUsage(err) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", root.Name())
			return ExitUsage
		}
	}
	return ExitCode(err)
}

// isCobraUsage recognises the argument errors cobra returns before a command
// runs (unknown command, wrong number of arguments).
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.Contains(msg, "arg(s)") || strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "unknown shorthand")
}
