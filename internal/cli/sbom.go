package cli

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubeshield/kubeshield/internal/image"
	"github.com/kubeshield/kubeshield/internal/imagefacts"
	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/report"
)

// sbomOptions are the flags of `kubeshield sbom`.
type sbomOptions struct {
	g          *globalOptions
	image      imageFlags
	catalogers []string
}

func newSBOMCommand(g *globalOptions) *cobra.Command {
	o := &sbomOptions{g: g}
	cmd := &cobra.Command{
		Use:   "sbom SOURCE",
		Short: "List every package in an image or root filesystem (-o table|json|cyclonedx|spdx)",
		Long: `List every package in an image or root filesystem.

SOURCE is one of:
  REF or registry:REF      an image in a registry (nginx:1.25, 127.0.0.1:5000/app@sha256:…)
  oci:DIR[:TAG]            an OCI image layout directory
  archive:FILE[:TAG]       a docker save tarball or an OCI archive (FILE.tar also works)
  dir:PATH                 a root filesystem directory

Output formats: table (default), json (Kubeshield's own, see docs/sbom.md),
cyclonedx (CycloneDX 1.6 JSON), spdx (SPDX 2.3 JSON).`,
		Example: `  kubeshield sbom examples/rootfs
  kubeshield sbom nginx:1.25 -o cyclonedx > nginx.cdx.json
  kubeshield sbom --insecure 127.0.0.1:5000/app:1 -o spdx`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd, args[0])
		},
	}
	o.image.addFlags(cmd.Flags())
	cmd.Flags().StringSliceVar(&o.catalogers, "catalogers", nil, "run only these catalogers (default all: "+strings.Join(catalogerNames(inventory.Catalogers()), ",")+")")
	return cmd
}

func catalogerNames(cats []inventory.Cataloger) []string {
	var names []string
	for _, c := range cats {
		names = append(names, c.Name())
	}
	return names
}

func (o *sbomOptions) validate() error {
	if err := o.g.checkOutput("table", "json", "cyclonedx", "spdx"); err != nil {
		return err
	}
	if _, err := o.selected(); err != nil {
		return err
	}
	return o.image.validate()
}

// selected returns the catalogers --catalogers names, in their usual order.
func (o *sbomOptions) selected() ([]inventory.Cataloger, error) {
	all := inventory.Catalogers()
	if len(o.catalogers) == 0 {
		return all, nil
	}
	names := catalogerNames(all)
	for _, n := range o.catalogers {
		if !slices.Contains(names, n) {
			return nil, usageErrorf("--catalogers: unknown cataloger %q (known: %s)", n, strings.Join(names, ", "))
		}
	}
	var out []inventory.Cataloger
	for _, c := range all {
		if slices.Contains(o.catalogers, c.Name()) {
			out = append(out, c)
		}
	}
	return out, nil
}

// catalogued is an image with its inventory and facts.
type catalogued struct {
	img   *image.Image
	res   *inventory.Result
	facts *imagefacts.Facts
}

// catalog opens the image named by arg and lists its packages and facts,
// logging the files that could not be parsed. The caller closes c.img.
func catalog(ctx context.Context, g *globalOptions, flags *imageFlags, cats []inventory.Cataloger, arg string) (*catalogued, error) {
	img, err := flags.open(ctx, g, arg, inventory.Wants(cats))
	if err != nil {
		return nil, err
	}
	res, err := inventory.Run(ctx, img.FS, cats)
	if err != nil {
		img.Close()
		return nil, fmt.Errorf("catalog %s: %w", img.Source, err)
	}
	for _, p := range res.Problems {
		g.logger.Warn("file skipped", slog.String("cataloger", p.Cataloger), slog.String("path", p.Path), slog.String("error", p.Message))
	}
	facts, err := imagefacts.Collect(ctx, img.FS, img.Config, img.Size(), len(img.Layers))
	if err != nil {
		img.Close()
		return nil, fmt.Errorf("collect facts of %s: %w", img.Source, err)
	}
	return &catalogued{img: img, res: res, facts: facts}, nil
}

func (o *sbomOptions) run(cmd *cobra.Command, arg string) error {
	cats, err := o.selected()
	if err != nil {
		return err
	}
	c, err := catalog(cmd.Context(), o.g, &o.image, cats, arg)
	if err != nil {
		return err
	}
	defer c.img.Close()
	img, res, facts := c.img, c.res, c.facts
	doc := report.SBOM{
		Subject: subjectOf(img),
		Result:  res,
		Tool:    report.Tool{Name: "kubeshield", Version: version},
	}
	switch o.g.output {
	case "cyclonedx":
		return report.WriteCycloneDX(o.g.stdout, doc)
	case "spdx":
		return report.WriteSPDX(o.g.stdout, doc)
	case "json":
		return report.WriteInventoryJSON(o.g.stdout, doc, facts)
	}
	return report.WriteInventoryTable(o.g.stdout, res)
}

// subjectOf describes an opened image for the reports.
func subjectOf(img *image.Image) report.Subject {
	s := report.Subject{Kind: report.KindImage, Name: subjectName(img.Source), Digest: img.Digest, ImageID: img.ImageID, Platform: img.Platform}
	if img.Source.Kind == image.Dir {
		s.Kind = report.KindDirectory
		s.Name = img.Source.Ref
	}
	for _, l := range img.Layers {
		s.Layers = append(s.Layers, l.Digest)
	}
	return s
}
