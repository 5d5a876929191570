package report

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/kubeshield/kubeshield/internal/imagefacts"
	"github.com/kubeshield/kubeshield/internal/inventory"
)

// InventorySchema names the version of Kubeshield's own SBOM JSON format,
// documented in docs/sbom.md.
const InventorySchema = "kubeshield.sbom/v1"

// InventoryDocument is Kubeshield's own JSON SBOM: the subject, its
// operating system, every package with its locations, the image facts and
// the files that could not be parsed.
type InventoryDocument struct {
	Schema   string              `json:"schema"`
	Tool     jsonTool            `json:"tool"`
	Subject  jsonSubject         `json:"subject"`
	Distro   *inventory.Distro   `json:"distro"`
	Packages []inventory.Package `json:"packages"`
	Facts    *imagefacts.Facts   `json:"facts,omitempty"`
	Problems []inventory.Problem `json:"problems"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type jsonSubject struct {
	Kind     SubjectKind `json:"kind"`
	Name     string      `json:"name"`
	Digest   string      `json:"digest,omitempty"`
	ImageID  string      `json:"imageID,omitempty"`
	Platform string      `json:"platform,omitempty"`
	Layers   []string    `json:"layers,omitempty"`
}

// WriteInventoryJSON writes s and facts (which may be nil) as an
// [InventoryDocument], indented. It returns ErrInvalidSBOM for a subject it
// cannot describe and the writer's error otherwise.
func WriteInventoryJSON(w io.Writer, s SBOM, facts *imagefacts.Facts) error {
	s, err := s.normalize()
	if err != nil {
		return err
	}
	doc := InventoryDocument{
		Schema: InventorySchema,
		Tool:   jsonTool{Name: s.Tool.Name, Version: s.Tool.Version},
		Subject: jsonSubject{
			Kind: s.Subject.Kind, Name: s.Subject.Name, Digest: s.Subject.Digest,
			ImageID: s.Subject.ImageID, Platform: s.Subject.Platform, Layers: s.Subject.Layers,
		},
		Distro:   s.Result.Distro,
		Packages: s.Result.Packages,
		Facts:    facts,
		Problems: s.Result.Problems,
	}
	if doc.Packages == nil {
		doc.Packages = []inventory.Package{}
	}
	if doc.Problems == nil {
		doc.Problems = []inventory.Problem{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// WriteInventoryTable writes one line per package: name, version, type and
// where it was found.
func WriteInventoryTable(w io.Writer, res *inventory.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tTYPE\tLOCATION")
	for _, p := range res.Packages {
		loc := ""
		if len(p.Locations) > 0 {
			loc = "/" + p.Locations[0].Path
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Type, loc)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
