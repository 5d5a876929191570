package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/imagefacts"
	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/report"
	"github.com/kubeshield/kubeshield/internal/suppress"
	"github.com/kubeshield/kubeshield/internal/vuln"
	"github.com/kubeshield/kubeshield/internal/vulndb"
)

func newImageCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Scan container images",
	}
	cmd.AddCommand(newImageScanCommand(g))
	return cmd
}

// scanOptions are the flags of `kubeshield image scan`.
type scanOptions struct {
	g             *globalOptions
	image         imageFlags
	severities    []string
	ignoreUnfixed bool
	exitCode      int
	failOn        string
	noImageChecks bool
	ignoreFile    string
	vexFiles      []string
	fs            bool // kubeshield fs scan: a source tree, no image rules
}

func newImageScanCommand(g *globalOptions) *cobra.Command {
	o := &scanOptions{g: g}
	cmd := &cobra.Command{
		Use:   "scan SOURCE",
		Short: "Find known vulnerabilities and non-minimal configuration in an image (-o table|json|sarif|cyclonedx)",
		Long: `Find the known vulnerabilities of every package in an image (OS and language
packages alike), from the OSV records in the vulnerability database (--db;
build it with kubeshield db import), and the image facts that make it
non-minimal (runs as root, has a shell or a package manager, setuid files,
secret-looking environment variables: rules KS-IMG-*, see docs/rules.md).

SOURCE is any image source kubeshield sbom reads (registry ref, oci:DIR,
archive:FILE or FILE.tar, dir:PATH).

Output formats: table (default), json (kubeshield.scan/v1), sarif (SARIF
2.1.0 for GitHub code scanning), cyclonedx (CycloneDX 1.6 with a
vulnerabilities array).

Findings that the ignore file (--ignorefile) lists, or that an OpenVEX
document (--vex) says do not affect the image (not_affected, fixed), stay in
the report marked as suppressed, with the reason, but do not count for
--fail-on and --exit-code. Expired ignore entries suppress nothing and are
logged as warnings. docs/cli.md describes both formats.

Exit codes: 0 when nothing reaches the thresholds, 3 when a finding that
counts is at or above --fail-on, the --exit-code value when any finding that
counts is left after the filters, 1 on errors (an ignore file or a VEX
document that does not parse is one).`,
		Example: `  kubeshield image scan nginx:1.25
  kubeshield image scan --severity CRITICAL,HIGH --ignore-unfixed --fail-on HIGH app.tar
  kubeshield image scan --vex app.openvex.json --ignorefile ci/ignore.yaml --fail-on HIGH app.tar
  kubeshield image scan -o sarif oci:./layout > results.sarif`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd, args[0])
		},
	}
	o.image.addFlags(cmd.Flags())
	o.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.noImageChecks, "no-image-checks", false, "report vulnerabilities only, not the KS-IMG image rules")
	return cmd
}

// addFlags adds the flags image scan and fs scan share.
func (o *scanOptions) addFlags(f *pflag.FlagSet) {
	f.StringSliceVar(&o.severities, "severity", nil, "report only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,INFO,UNKNOWN); default all")
	f.BoolVar(&o.ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities that no released version fixes")
	f.IntVar(&o.exitCode, "exit-code", 0, "exit with this code when any finding is left after the filters (0: do not)")
	f.StringVar(&o.failOn, "fail-on", "", "exit with code 3 when a finding is at or above this severity")
	f.StringVar(&o.ignoreFile, "ignorefile", suppress.DefaultIgnoreFile, "YAML file of findings that do not count; the default is read only when it exists (\"\": none)")
	f.StringArrayVar(&o.vexFiles, "vex", nil, "OpenVEX document whose not_affected and fixed statements suppress findings (repeatable)")
}

func newFSCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fs",
		Short: "Scan source trees and directories",
	}
	cmd.AddCommand(newFSScanCommand(g))
	return cmd
}

func newFSScanCommand(g *globalOptions) *cobra.Command {
	o := &scanOptions{g: g, fs: true}
	cmd := &cobra.Command{
		Use:   "scan DIR",
		Short: "Find known vulnerabilities in the lock files and packages of a directory (-o table|json|sarif|cyclonedx)",
		Long: `Find the known vulnerabilities of the packages a directory declares or holds:
lock files of a source tree (package-lock.json, yarn.lock, pnpm-lock.yaml,
poetry.lock, Pipfile.lock, requirements.txt, Gemfile.lock, Cargo.lock,
composer.lock, packages.lock.json, *.deps.json), installed packages
(node_modules, site-packages, jars, Go binaries) and, for a root filesystem,
its OS packages. The filters, suppressions, output formats and exit codes are
those of kubeshield image scan; the image rules (KS-IMG-*) do not apply.`,
		Example: `  kubeshield fs scan .
  kubeshield fs scan --fail-on HIGH -o sarif ./service > results.sarif`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd, "dir:"+args[0])
		},
	}
	o.image.addFlags(cmd.Flags())
	for _, name := range []string{"platform", "insecure"} {
		cmd.Flags().MarkHidden(name)
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func (o *scanOptions) validate() error {
	if err := o.g.checkOutput("table", "json", "sarif", "cyclonedx"); err != nil {
		return err
	}
	for _, s := range o.severities {
		if _, err := finding.ParseSeverity(s); err != nil {
			return &UsageError{Err: fmt.Errorf("--severity: %w", err)}
		}
	}
	if err := checkFailOn(o.failOn); err != nil {
		return err
	}
	if o.exitCode < 0 || o.exitCode > 125 {
		return usageErrorf("--exit-code %d: want 0-125", o.exitCode)
	}
	return o.image.validate()
}

func (o *scanOptions) run(cmd *cobra.Command, arg string) error {
	ctx := cmd.Context()
	ignore, vex, err := o.suppressions(cmd.Flags().Changed("ignorefile"))
	if err != nil {
		return err
	}
	db, err := vulndb.Open(ctx, o.g.db, nil)
	if err != nil {
		return fmt.Errorf("open vulnerability database %s: %w (build one with: kubeshield db import PATH...)", o.g.db, err)
	}
	defer db.Close()
	c, err := catalog(ctx, o.g, &o.image, inventory.Catalogers(), arg)
	if err != nil {
		return err
	}
	defer c.img.Close()

	matched, err := vuln.MatchAll(ctx, db, c.res)
	if err != nil {
		return fmt.Errorf("match %s: %w", c.img.Source, err)
	}
	for _, p := range matched.Problems {
		o.g.logger.Debug("range not evaluated", slog.String("package", p.Package), slog.String("record", p.Record), slog.String("error", p.Message))
	}
	subject := subjectOf(c.img)
	res := finding.Resource{Kind: "Image", Image: subject.Name, Digest: subject.Digest}
	if o.fs {
		res = finding.Resource{Kind: "Directory", Path: subject.Name}
	}
	findings := vuln.Findings(matched.Matches, res)
	if !o.noImageChecks && !o.fs {
		findings = append(findings, imagefacts.Check(c.facts, res)...)
	}
	findings, expired := suppress.Apply(o.filter(findings), ignore, vex)
	for _, e := range expired {
		o.g.logger.Warn("ignore entry expired", slog.String("id", e.ID), slog.String("expires", e.ExpiryDate()),
			slog.String("file", o.ignoreFile), slog.Int("line", e.Line))
	}

	scan := report.Scan{Subject: subject, Result: c.res, Findings: findings, Tool: report.Tool{Name: "kubeshield", Version: version}}
	switch o.g.output {
	case "json":
		err = report.WriteScanJSON(o.g.stdout, scan)
	case "sarif":
		err = report.WriteSARIF(o.g.stdout, scan)
	case "cyclonedx":
		err = report.WriteCycloneDXScan(o.g.stdout, scan)
	default:
		err = report.WriteScanTable(o.g.stdout, scan)
	}
	if err != nil {
		return err
	}
	return o.gate(findings)
}

// suppressions reads and parses --ignorefile and --vex, before any image is
// read. The default ignore file is read only when it exists; a file named
// on the command line must exist.
func (o *scanOptions) suppressions(ignoreFileSet bool) (*suppress.Ignore, []*suppress.VEX, error) {
	var ignore *suppress.Ignore
	if o.ignoreFile != "" {
		data, err := readLimited(o.ignoreFile, suppress.MaxIgnoreSize)
		switch {
		case err == nil:
			if ignore, err = suppress.ParseIgnore(data, time.Now()); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", o.ignoreFile, err)
			}
		case ignoreFileSet || !errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("--ignorefile: %w", err)
		}
	}
	var vex []*suppress.VEX
	for _, name := range o.vexFiles {
		data, err := readLimited(name, suppress.MaxVEXSize)
		if err != nil {
			return nil, nil, fmt.Errorf("--vex: %w", err)
		}
		doc, err := suppress.ParseOpenVEX(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		vex = append(vex, doc)
	}
	return ignore, vex, nil
}

// readLimited reads a file, or its first limit+1 bytes when it is larger, so
// that the parser reports it as too large without reading it all.
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

// filter applies --severity and --ignore-unfixed.
func (o *scanOptions) filter(in []finding.Finding) []finding.Finding {
	var keep []finding.Severity
	for _, s := range o.severities {
		v, _ := finding.ParseSeverity(s)
		keep = append(keep, v)
	}
	var out []finding.Finding
	for _, f := range in {
		if len(keep) > 0 && !slices.Contains(keep, f.Severity) {
			continue
		}
		if o.ignoreUnfixed && !strings.HasPrefix(f.RuleID, "KS-") && len(f.FixedVersions) == 0 {
			continue
		}
		out = append(out, f)
	}
	return out
}

// gate decides the exit code from the findings that count (not
// suppressed).
func (o *scanOptions) gate(findings []finding.Finding) error {
	var counted []finding.Finding
	for _, f := range findings {
		if f.Suppressed == nil {
			counted = append(counted, f)
		}
	}
	if err := failOn(o.failOn, counted); err != nil {
		return err
	}
	if o.exitCode != 0 && len(counted) > 0 {
		return &FindingsError{Count: len(counted), Code: o.exitCode}
	}
	return nil
}
