package report

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/kubeshield/kubeshield/internal/inventory"
)

// spdxNamespaceBase starts every SPDX documentNamespace the writer makes.
const spdxNamespaceBase = "https://github.com/kubeshield/kubeshield/sbom/spdx/"

// WriteSPDX writes s to w as an SPDX 2.3 JSON document.
//
// The document DESCRIBES one package for the subject (purpose CONTAINER for
// an image, with its manifest digest as version and checksum and a pkg:oci
// purl; APPLICATION for a directory), which CONTAINS one package per
// inventory package and one for the distro, if any (purpose
// OPERATING_SYSTEM, as the JSON schema spells it). Each package has its purl
// as a PACKAGE-MANAGER external reference, where it was found in
// sourceInfo, downloadLocation and supplier NOASSERTION and filesAnalyzed
// false. licenseDeclared is the AND of the
// declared licences when all are valid SPDX expressions without
// LicenseRef-/DocumentRef- references, NOASSERTION otherwise (the recorded
// licences then go to licenseComments); licenseConcluded is NOASSERTION.
//
// Identifiers are deterministic. A package's SPDXID is
// "SPDXRef-Package-<type>-<name>-<hash>", the hash being the 16 hex digits
// that also end its CycloneDX bom-ref, with every character outside
// [A-Za-z0-9.-] replaced by "-". The documentNamespace is
// spdxNamespaceBase + "<kind>/<name>-<uuid>", the UUID (version 5) derived
// from the rest of the document, timestamp included: the same input gives
// byte-identical output.
//
// WriteSPDX returns an error wrapping [ErrInvalidSBOM] when s has no valid
// subject, and the error of w when writing fails.
func WriteSPDX(w io.Writer, s SBOM) error {
	s, err := s.normalize()
	if err != nil {
		return fmt.Errorf("spdx: %w", err)
	}
	doc := spdxDocument(s)
	var buf bytes.Buffer
	if err := encodeSPDX(&buf, doc); err != nil {
		return err
	}
	doc.DocumentNamespace = spdxNamespaceBase + string(s.Subject.Kind) + "/" +
		namespaceName.ReplaceAllString(s.Subject.Name, "-") + "-" +
		documentUUID("spdx", buf.Bytes()).String()
	buf.Reset()
	if err := encodeSPDX(&buf, doc); err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write spdx: %w", err)
	}
	return nil
}

// namespaceName matches the characters of a subject name that are replaced
// in the documentNamespace.
var namespaceName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// encodeSPDX encodes doc as indented JSON.
func encodeSPDX(w io.Writer, doc *v2_3.Document) error {
	if err := spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return fmt.Errorf("encode spdx: %w", err)
	}
	return nil
}

// spdxDocument builds the document for a normalised s, without its
// namespace.
func spdxDocument(s SBOM) *v2_3.Document {
	creator := s.Tool.Name
	if s.Tool.Version != "" {
		creator += "-" + s.Tool.Version
	}
	subject := spdxSubject(s.Subject)
	doc := &v2_3.Document{
		SPDXVersion:    v2_3.Version,
		DataLicense:    v2_3.DataLicense,
		SPDXIdentifier: "DOCUMENT",
		DocumentName:   s.Subject.Name,
		CreationInfo: &v2_3.CreationInfo{
			LicenseListVersion: spdxLicenseListVersion(),
			Creators:           []common.Creator{{CreatorType: "Tool", Creator: creator}},
			Created:            s.Created.Format(time.RFC3339),
		},
		Packages: []*v2_3.Package{subject},
		Relationships: []*v2_3.Relationship{{
			RefA:         common.MakeDocElementID("", "DOCUMENT"),
			RefB:         common.MakeDocElementID("", string(subject.PackageSPDXIdentifier)),
			Relationship: common.TypeRelationshipDescribe,
		}},
	}
	if d := s.Result.Distro; d != nil {
		doc.Packages = append(doc.Packages, spdxDistro(d))
	}
	ids := packageIDs(s.Result.Packages)
	for i, p := range s.Result.Packages {
		doc.Packages = append(doc.Packages, spdxPackage(p, ids[i]))
	}
	for _, p := range doc.Packages[1:] {
		doc.Relationships = append(doc.Relationships, &v2_3.Relationship{
			RefA:         common.MakeDocElementID("", string(subject.PackageSPDXIdentifier)),
			RefB:         common.MakeDocElementID("", string(p.PackageSPDXIdentifier)),
			Relationship: common.TypeRelationshipContains,
		})
	}
	return doc
}

// spdxSubject describes the scanned image or directory.
func spdxSubject(sub Subject) *v2_3.Package {
	p := newSPDXPackage("Directory-"+sub.Name, sub.Name)
	p.PrimaryPackagePurpose = "APPLICATION"
	if sub.Kind != KindImage {
		return p
	}
	p.PackageSPDXIdentifier = spdxID("Image-" + sub.Name)
	p.PrimaryPackagePurpose = "CONTAINER"
	p.PackageVersion = sub.Digest
	if sub.Digest != "" {
		alg, value, _ := splitDigest(sub.Digest) // checked by normalize
		p.PackageChecksums = []common.Checksum{{Algorithm: spdxChecksumAlg[alg], Value: value}}
	}
	if purl := imagePURL(sub); purl != "" {
		p.PackageExternalReferences = []*v2_3.PackageExternalReference{purlRef(purl)}
	}
	var comment []string
	if sub.ImageID != "" {
		comment = append(comment, "image ID: "+sub.ImageID)
	}
	if sub.Platform != "" {
		comment = append(comment, "platform: "+sub.Platform)
	}
	if len(sub.Layers) > 0 {
		comment = append(comment, "layers: "+strings.Join(sub.Layers, " "))
	}
	p.PackageComment = strings.Join(comment, "\n")
	return p
}

// spdxChecksumAlg maps digest algorithms to SPDX checksum algorithms.
var spdxChecksumAlg = map[string]common.ChecksumAlgorithm{
	"sha256": common.SHA256,
	"sha384": common.SHA384,
	"sha512": common.SHA512,
}

// spdxDistro describes the operating system.
func spdxDistro(d *inventory.Distro) *v2_3.Package {
	p := newSPDXPackage("OperatingSystem-"+d.ID+"-"+d.VersionID, d.ID)
	p.PackageVersion = d.VersionID
	p.PackageDescription = d.PrettyName
	p.PrimaryPackagePurpose = "OPERATING_SYSTEM"
	return p
}

// spdxPackage describes one inventory package; id is its identifier from
// packageIDs.
func spdxPackage(p inventory.Package, id string) *v2_3.Package {
	sp := newSPDXPackage("Package-"+p.Type+"-"+p.Name+"-"+id, p.Name)
	sp.PackageVersion = p.Version
	if p.PURL != "" {
		sp.PackageExternalReferences = []*v2_3.PackageExternalReference{purlRef(p.PURL)}
	}
	sp.PackageSourceInfo = spdxSourceInfo(p)
	if p.Dev {
		sp.PackageComment = "development dependency"
	}

	ls := parseLicenses(p.Licenses)
	valid := len(ls) > 0
	for _, l := range ls {
		valid = valid && l.expr != "" && !l.ref
	}
	if valid {
		sp.PackageLicenseDeclared = conjunction(ls)
	} else if len(ls) > 0 {
		raw := make([]string, len(ls))
		for i, l := range ls {
			raw[i] = l.raw
		}
		sp.PackageLicenseComments = "declared licences that are not all valid SPDX expressions: " + strings.Join(raw, "; ")
	}
	return sp
}

// spdxSourceInfo says where a package was found and, for an OS package,
// which source package it was built from.
func spdxSourceInfo(p inventory.Package) string {
	var found []string
	for _, l := range p.Locations {
		if l.Layer != "" {
			found = append(found, l.Path+" (layer "+l.Layer+")")
		} else {
			found = append(found, l.Path)
		}
	}
	var info []string
	if len(found) > 0 {
		info = append(info, "acquired package info from "+strings.Join(found, ", "))
	}
	if p.Source != nil && p.Source.Name != "" {
		src := "built from source package " + p.Source.Name
		if p.Source.Version != "" {
			src += " " + p.Source.Version
		}
		info = append(info, src)
	}
	return strings.Join(info, "; ")
}

// newSPDXPackage returns a package with the given identifier (sanitised)
// and name, and the NOASSERTION values the writer cannot know.
func newSPDXPackage(id, name string) *v2_3.Package {
	return &v2_3.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   spdxID(id),
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation: noAssertion,
		FilesAnalyzed:           false,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
	}
}

// purlRef is the PACKAGE-MANAGER external reference of a package URL.
func purlRef(purl string) *v2_3.PackageExternalReference {
	return &v2_3.PackageExternalReference{
		Category: common.CategoryPackageManager,
		RefType:  common.TypePackageManagerPURL,
		Locator:  purl,
	}
}

// spdxIDChars matches runs of hyphens and of characters an SPDXID may not
// hold.
var spdxIDChars = regexp.MustCompile(`(?:-|[^A-Za-z0-9.])+`)

// spdxID turns s into an SPDX element identifier (without its "SPDXRef-"
// prefix, which the model adds): each run of hyphens and characters outside
// [A-Za-z0-9.-] becomes one "-", and none starts or ends the identifier.
func spdxID(s string) common.ElementID {
	return common.ElementID(strings.Trim(spdxIDChars.ReplaceAllString(s, "-"), "-"))
}
