package cli

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/imagefacts"
	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/report"
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

Exit codes: 0 when nothing reaches the thresholds, 3 when a finding is at or
above --fail-on, the --exit-code value when any finding is left after the
filters, 1 on errors.`,
		Example: `  kubeshield image scan nginx:1.25
  kubeshield image scan --severity CRITICAL,HIGH --ignore-unfixed --fail-on HIGH app.tar
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
	f := cmd.Flags()
	f.StringSliceVar(&o.severities, "severity", nil, "report only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,INFO,UNKNOWN); default all")
	f.BoolVar(&o.ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities that no released version fixes")
	f.IntVar(&o.exitCode, "exit-code", 0, "exit with this code when any finding is left after the filters (0: do not)")
	f.StringVar(&o.failOn, "fail-on", "", "exit with code 3 when a finding is at or above this severity")
	f.BoolVar(&o.noImageChecks, "no-image-checks", false, "report vulnerabilities only, not the KS-IMG image rules")
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
	if o.failOn != "" {
		if _, err := finding.ParseSeverity(o.failOn); err != nil {
			return &UsageError{Err: fmt.Errorf("--fail-on: %w", err)}
		}
	}
	if o.exitCode < 0 || o.exitCode > 125 {
		return usageErrorf("--exit-code %d: want 0-125", o.exitCode)
	}
	return o.image.validate()
}

func (o *scanOptions) run(cmd *cobra.Command, arg string) error {
	ctx := cmd.Context()
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
	findings := vuln.Findings(matched.Matches, res)
	if !o.noImageChecks {
		findings = append(findings, imagefacts.Check(c.facts, res)...)
	}
	findings = o.filter(findings)

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
	if o.failOn != "" {
		min, _ := finding.ParseSeverity(o.failOn)
		n := 0
		for _, f := range counted {
			if f.Severity >= min {
				n++
			}
		}
		if n > 0 {
			return &FindingsError{Count: n, Code: ExitFindings}
		}
	}
	if o.exitCode != 0 && len(counted) > 0 {
		return &FindingsError{Count: len(counted), Code: o.exitCode}
	}
	return nil
}
