package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/kubeshield/kubeshield/internal/inventory"
)

// The names of the CycloneDX properties the writer adds, all in the
// "kubeshield:" namespace. Location properties carry the index of the
// location in the package ("kubeshield:location:0:path"); a layer property
// appears once per image layer, bottom first.
const (
	propEcosystem     = propertyPrefix + "package:ecosystem"
	propType          = propertyPrefix + "package:type"
	propSourceName    = propertyPrefix + "package:source:name"
	propSourceVersion = propertyPrefix + "package:source:version"
	propDev           = propertyPrefix + "package:dev"
	propLocation      = propertyPrefix + "location:"
	propImageID       = propertyPrefix + "image:id"
	propPlatform      = propertyPrefix + "image:platform"
	propLayer         = propertyPrefix + "image:layer"
	propCodename      = propertyPrefix + "distro:codename"
	propIDLike        = propertyPrefix + "distro:id-like"
)

// WriteCycloneDX writes s to w as a CycloneDX 1.6 JSON document.
//
// The subject is metadata.component: a container (with its manifest digest
// as version and hash, and a pkg:oci purl) for an image, an application for
// a directory. Each inventory package is a library component and the distro,
// if any, an operating-system component; the subject depends on all of them.
// Where a package was found, its ecosystem, cataloger type and source
// package are properties in the "kubeshield:" namespace.
//
// Identifiers are deterministic. A package's bom-ref is "pkg-" and 16 hex
// digits of a hash of its purl, name, version and locations, so it is the
// same in every scan that finds the package at the same place; the subject
// is "subject-…" and the distro "os-…" likewise. The serialNumber is a
// urn:uuid whose UUID (version 5) is derived from the rest of the document,
// timestamp included: the same input gives byte-identical output.
//
// WriteCycloneDX returns an error wrapping [ErrInvalidSBOM] when s has no
// valid subject, and the error of w when writing fails.
func WriteCycloneDX(w io.Writer, s SBOM) error {
	s, err := s.normalize()
	if err != nil {
		return fmt.Errorf("cyclonedx: %w", err)
	}
	bom, _ := cycloneDXBOM(s)
	return writeCycloneDX(w, bom)
}

// writeCycloneDX derives the serial number of bom from the rest of it, as
// [WriteCycloneDX] documents, and writes it to w.
func writeCycloneDX(w io.Writer, bom *cdx.BOM) error {
	var buf bytes.Buffer
	if err := encodeCycloneDX(&buf, bom); err != nil {
		return err
	}
	bom.SerialNumber = documentUUID("cyclonedx", buf.Bytes()).URN()
	buf.Reset()
	if err := encodeCycloneDX(&buf, bom); err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write cyclonedx: %w", err)
	}
	return nil
}

// encodeCycloneDX encodes bom as indented CycloneDX 1.6 JSON.
func encodeCycloneDX(w io.Writer, bom *cdx.BOM) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("encode cyclonedx: %w", err)
	}
	return nil
}

// cycloneDXBOM builds the document for a normalised s, without its serial
// number. It also returns the bom-ref of each package of s.Result, in
// order, for the writers that refer to the packages.
func cycloneDXBOM(s SBOM) (*cdx.BOM, []string) {
	subject := cycloneDXSubject(s.Subject)
	var components []cdx.Component
	if d := s.Result.Distro; d != nil {
		components = append(components, cycloneDXDistro(d))
	}
	refs := packageRefs(s.Result.Packages)
	for i, p := range s.Result.Packages {
		components = append(components, cycloneDXPackage(p, refs[i]))
	}
	dep := cdx.Dependency{Ref: subject.BOMRef}
	if len(components) > 0 {
		on := make([]string, len(components))
		for i, c := range components {
			on[i] = c.BOMRef
		}
		dep.Dependencies = &on
	}

	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: s.Created.Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type:    cdx.ComponentTypeApplication,
			Name:    s.Tool.Name,
			Version: s.Tool.Version,
		}}},
		Component: &subject,
	}
	bom.Components = optional(components)
	bom.Dependencies = &[]cdx.Dependency{dep}
	return bom, refs
}

// packageRefs returns the bom-ref of each package: "pkg-" and its
// [packageIDs] identifier.
func packageRefs(pkgs []inventory.Package) []string {
	refs := packageIDs(pkgs)
	for i, id := range refs {
		refs[i] = "pkg-" + id
	}
	return refs
}

// cycloneDXSubject describes the scanned image or directory.
func cycloneDXSubject(sub Subject) cdx.Component {
	c := cdx.Component{
		BOMRef: "subject-" + subjectID(sub),
		Type:   cdx.ComponentTypeApplication,
		Name:   sub.Name,
	}
	if sub.Kind != KindImage {
		return c
	}
	c.Type = cdx.ComponentTypeContainer
	c.Version = sub.Digest
	c.PackageURL = imagePURL(sub)
	if sub.Digest != "" {
		alg, value, _ := splitDigest(sub.Digest) // checked by normalize
		c.Hashes = &[]cdx.Hash{{Algorithm: cycloneDXHashAlg[alg], Value: value}}
	}
	var props []cdx.Property
	props = appendProperty(props, propImageID, sub.ImageID)
	props = appendProperty(props, propPlatform, sub.Platform)
	for _, l := range sub.Layers {
		props = appendProperty(props, propLayer, l)
	}
	c.Properties = optional(props)
	return c
}

// cycloneDXHashAlg maps digest algorithms to CycloneDX hash algorithms.
var cycloneDXHashAlg = map[string]cdx.HashAlgorithm{
	"sha256": cdx.HashAlgoSHA256,
	"sha384": cdx.HashAlgoSHA384,
	"sha512": cdx.HashAlgoSHA512,
}

// cycloneDXDistro describes the operating system.
func cycloneDXDistro(d *inventory.Distro) cdx.Component {
	var props []cdx.Property
	props = appendProperty(props, propCodename, d.VersionCodename)
	props = appendProperty(props, propIDLike, strings.Join(d.IDLike, " "))
	return cdx.Component{
		BOMRef:      "os-" + shortHash(d.ID, d.VersionID),
		Type:        cdx.ComponentTypeOS,
		Name:        d.ID,
		Version:     d.VersionID,
		Description: d.PrettyName,
		Properties:  optional(props),
	}
}

// cycloneDXPackage describes one inventory package.
func cycloneDXPackage(p inventory.Package, ref string) cdx.Component {
	group, name := splitName(p)
	var props []cdx.Property
	props = appendProperty(props, propEcosystem, string(p.Ecosystem))
	props = appendProperty(props, propType, p.Type)
	if p.Source != nil {
		props = appendProperty(props, propSourceName, p.Source.Name)
		props = appendProperty(props, propSourceVersion, p.Source.Version)
	}
	if p.Dev {
		props = appendProperty(props, propDev, "true")
	}
	for i, l := range p.Locations {
		prefix := propLocation + strconv.Itoa(i) + ":"
		props = appendProperty(props, prefix+"path", l.Path)
		props = appendProperty(props, prefix+"layer", l.Layer)
	}
	return cdx.Component{
		BOMRef:     ref,
		Type:       cdx.ComponentTypeLibrary,
		Group:      group,
		Name:       name,
		Version:    p.Version,
		PackageURL: p.PURL,
		Licenses:   cycloneDXLicenses(p.Licenses),
		Properties: optional(props),
	}
}

// cycloneDXLicenses describes declared licences. CycloneDX takes either a
// list of licences (each an SPDX identifier or a free-form name) or exactly
// one SPDX expression. Valid expressions are joined with AND into one
// expression unless some licence is not valid SPDX; then every licence that
// is not a single identifier is listed by its recorded name.
func cycloneDXLicenses(raw []string) *cdx.Licenses {
	ls := parseLicenses(raw)
	if len(ls) == 0 {
		return nil
	}
	var expression, invalid bool
	for _, l := range ls {
		switch {
		case l.expr == "":
			invalid = true
		case !l.id:
			expression = true
		}
	}
	if expression && !invalid {
		return &cdx.Licenses{{Expression: conjunction(ls)}}
	}
	out := make(cdx.Licenses, len(ls))
	for i, l := range ls {
		if l.id {
			out[i] = cdx.LicenseChoice{License: &cdx.License{ID: l.expr}}
		} else {
			out[i] = cdx.LicenseChoice{License: &cdx.License{Name: l.raw}}
		}
	}
	return &out
}

// appendProperty appends a property unless its value is empty.
func appendProperty(props []cdx.Property, name, value string) []cdx.Property {
	if value == "" {
		return props
	}
	return append(props, cdx.Property{Name: name, Value: value})
}

// optional returns a pointer to a non-empty slice, or nil, since the
// CycloneDX model leaves out nil fields only.
func optional[T any](s []T) *[]T {
	if len(s) == 0 {
		return nil
	}
	return &s
}
