package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/kubeshield/kubeshield/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Layer and manifest digests of the test image.
const (
	testDigest  = "sha256:0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728ff"
	testImageID = "sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
	testLayer1  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	testLayer2  = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// testCreated is the fixed document timestamp of the tests.
var testCreated = time.Date(2025, 11, 27, 12, 30, 45, 123, time.FixedZone("CET", 3600))

// testPackages returns a small inventory: a Debian package with a source
// package and licences that are partly not SPDX, a scoped npm development
// package found in two files, a Go module with an SPDX expression and a
// Maven package in a jar nested in a war.
func testPackages() []inventory.Package {
	return []inventory.Package{
		{
			Name:      "libc6",
			Version:   "2.36-9+deb12u9",
			Ecosystem: inventory.Debian,
			Type:      "deb",
			PURL:      "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12",
			Arch:      "amd64",
			Source:    &inventory.Source{Name: "glibc", Version: "2.36-9+deb12u9"},
			Licenses:  []string{"GPL-2", "LGPL-2.1"},
			Locations: []inventory.Location{{Path: "var/lib/dpkg/status", Layer: testLayer1}},
		},
		{
			Name:      "github.com/klauspost/compress",
			Version:   "v1.17.11",
			Ecosystem: inventory.Go,
			Type:      "go-module",
			PURL:      "pkg:golang/github.com/klauspost/compress@v1.17.11",
			Licenses:  []string{"Apache-2.0 AND BSD-3-Clause AND MIT"},
			Locations: []inventory.Location{{Path: "usr/local/bin/server", Layer: testLayer2}},
		},
		{
			Name:      "org.apache.logging.log4j:log4j-core",
			Version:   "2.17.1",
			Ecosystem: inventory.Maven,
			Type:      "java-archive",
			PURL:      "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
			Licenses:  []string{"Apache-2.0"},
			Locations: []inventory.Location{{Path: "opt/app/app.war!WEB-INF/lib/log4j-core-2.17.1.jar", Layer: testLayer2}},
		},
		{
			Name:      "@babel/core",
			Version:   "7.24.0",
			Ecosystem: inventory.NPM,
			Type:      "npm",
			PURL:      "pkg:npm/%40babel/core@7.24.0",
			Licenses:  []string{"MIT"},
			Locations: []inventory.Location{
				{Path: "opt/app/node_modules/@babel/core/package.json", Layer: testLayer2},
				{Path: "opt/app/package-lock.json", Layer: testLayer2},
			},
			Dev: true,
		},
	}
}

// testSBOMs are the documents of the golden tests, by golden file stem.
func testSBOMs() map[string]SBOM {
	tool := Tool{Name: "kubeshield", Version: "0.1.0"}
	// A directory has no layers.
	dirPackages := testPackages()[1:3]
	for i := range dirPackages {
		for j := range dirPackages[i].Locations {
			dirPackages[i].Locations[j].Layer = ""
		}
	}
	return map[string]SBOM{
		"image": {
			Subject: Subject{
				Kind:     KindImage,
				Name:     "registry.example.com:5000/team/app:1.2.3",
				Digest:   testDigest,
				ImageID:  testImageID,
				Platform: "linux/amd64",
				Layers:   []string{testLayer1, testLayer2},
			},
			Result: &inventory.Result{
				Distro: &inventory.Distro{
					ID:              "debian",
					VersionID:       "12",
					VersionCodename: "bookworm",
					PrettyName:      "Debian GNU/Linux 12 (bookworm)",
				},
				Packages: testPackages(),
			},
			Tool:    tool,
			Created: testCreated,
		},
		"directory": {
			Subject: Subject{Kind: KindDirectory, Name: "./services/api"},
			Result:  &inventory.Result{Packages: dirPackages},
			Tool:    tool,
			Created: testCreated,
		},
		"empty": {
			Subject: Subject{Kind: KindImage, Name: "scratch-app"},
			Result:  &inventory.Result{Packages: []inventory.Package{}},
			Tool:    tool,
			Created: testCreated,
		},
	}
}

// writer is an SBOM writer with what its tests need to know about its
// format.
type writer struct {
	name     string
	write    func(io.Writer, SBOM) error
	schema   string // the $id of the format's JSON schema
	validate func(t *testing.T, doc []byte)
}

func writers() []writer {
	return []writer{
		{"cyclonedx", WriteCycloneDX, cycloneDXSchema, checkCycloneDX},
		{"spdx", WriteSPDX, spdxSchema, checkSPDX},
	}
}

func TestWritersGolden(t *testing.T) {
	schemas := compileSchemas(t)
	for _, w := range writers() {
		for stem, s := range testSBOMs() {
			t.Run(w.name+"/"+stem, func(t *testing.T) {
				var buf bytes.Buffer
				if err := w.write(&buf, s); err != nil {
					t.Fatalf("write(%s) = %v", stem, err)
				}
				got := buf.Bytes()

				golden := filepath.Join("testdata", stem+"."+w.name+".json")
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("read golden file (run with -update to create it): %v", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("write(%s) differs from %s (-want +got):\n%s", stem, golden, diff)
				}

				validateSchema(t, schemas[w.schema], got)
				w.validate(t, got)

				var again bytes.Buffer
				if err := w.write(&again, s); err != nil {
					t.Fatalf("second write(%s) = %v", stem, err)
				}
				if !bytes.Equal(got, again.Bytes()) {
					t.Errorf("write(%s) is not deterministic", stem)
				}
			})
		}
	}
}

// TestWritersEmpty checks that an inventory with nothing in it, or none at
// all, still gives valid documents, for every kind of subject.
func TestWritersEmpty(t *testing.T) {
	schemas := compileSchemas(t)
	results := map[string]*inventory.Result{
		"nil result":    nil,
		"zero result":   {},
		"no packages":   {Packages: []inventory.Package{}},
		"distro only":   {Distro: &inventory.Distro{ID: "alpine"}},
		"blank licence": {Packages: []inventory.Package{{Name: "x", Licenses: []string{" "}}}},
	}
	for _, w := range writers() {
		for _, kind := range []SubjectKind{KindImage, KindDirectory} {
			for name, res := range results {
				t.Run(fmt.Sprintf("%s/%s/%s", w.name, kind, name), func(t *testing.T) {
					s := SBOM{Subject: Subject{Kind: kind, Name: "subject"}, Result: res}
					var buf bytes.Buffer
					if err := w.write(&buf, s); err != nil {
						t.Fatalf("write(%+v) = %v", s, err)
					}
					validateSchema(t, schemas[w.schema], buf.Bytes())
					w.validate(t, buf.Bytes())
				})
			}
		}
	}
}

func TestWritersInvalid(t *testing.T) {
	tests := map[string]Subject{
		"no kind":           {Name: "app"},
		"unknown kind":      {Kind: "vm", Name: "app"},
		"no name":           {Kind: KindImage},
		"blank name":        {Kind: KindDirectory, Name: "  "},
		"digest no alg":     {Kind: KindImage, Name: "app", Digest: strings.TrimPrefix(testDigest, "sha256:")},
		"digest short":      {Kind: KindImage, Name: "app", Digest: "sha256:abc"},
		"digest upper case": {Kind: KindImage, Name: "app", Digest: strings.ToUpper(testDigest)},
		"digest md5":        {Kind: KindImage, Name: "app", Digest: "md5:d41d8cd98f00b204e9800998ecf8427e"},
	}
	for _, w := range writers() {
		for name, sub := range tests {
			t.Run(w.name+"/"+name, func(t *testing.T) {
				var buf bytes.Buffer
				err := w.write(&buf, SBOM{Subject: sub})
				if !errors.Is(err, ErrInvalidSBOM) {
					t.Errorf("write(%+v) = %v; want %v", sub, err, ErrInvalidSBOM)
				}
				if buf.Len() != 0 {
					t.Errorf("write(%+v) wrote %d bytes; want none", sub, buf.Len())
				}
			})
		}
	}
}

// errWriter fails every write.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWritersWriteError(t *testing.T) {
	errDisk := errors.New("disk full")
	for _, w := range writers() {
		err := w.write(errWriter{errDisk}, testSBOMs()["image"])
		if !errors.Is(err, errDisk) {
			t.Errorf("%s to a failing writer = %v; want %v", w.name, err, errDisk)
		}
	}
}

// TestWritersIdentifiers checks that document identifiers follow the
// content: another timestamp or another package list gives another one.
func TestWritersIdentifiers(t *testing.T) {
	base := testSBOMs()["image"]
	later := base
	later.Created = base.Created.Add(time.Second)
	fewer := base
	fewer.Result = &inventory.Result{Distro: base.Result.Distro, Packages: testPackages()[:2]}

	for _, w := range writers() {
		ids := map[string]string{}
		for name, s := range map[string]SBOM{"base": base, "later": later, "fewer": fewer} {
			var buf bytes.Buffer
			if err := w.write(&buf, s); err != nil {
				t.Fatalf("%s(%s) = %v", w.name, name, err)
			}
			id := documentID(t, w.name, buf.Bytes())
			if other, ok := ids[id]; ok {
				t.Errorf("%s: %s and %s share the document identifier %s", w.name, name, other, id)
			}
			ids[id] = name
		}
	}
}

// documentID returns the serialNumber or documentNamespace of a document.
func documentID(t *testing.T, format string, doc []byte) string {
	t.Helper()
	switch format {
	case "cyclonedx":
		return decodeCycloneDX(t, doc).SerialNumber
	case "spdx":
		return decodeSPDX(t, doc).DocumentNamespace
	}
	t.Fatalf("unknown format %s", format)
	return ""
}

func TestPackageIDs(t *testing.T) {
	pkgs := testPackages()
	ids := packageIDs(pkgs)
	// The same package list gives the same identifiers.
	if diff := cmp.Diff(ids, packageIDs(testPackages())); diff != "" {
		t.Errorf("packageIDs is not deterministic (-first +second):\n%s", diff)
	}
	// An identifier does not depend on the other packages.
	if got := packageIDs(pkgs[2:3]); got[0] != ids[2] {
		t.Errorf("packageIDs(%s alone) = %s; want %s", pkgs[2].Name, got[0], ids[2])
	}
	// Duplicates get a suffix; another location gives another identifier.
	moved := pkgs[0]
	moved.Locations = []inventory.Location{{Path: "var/lib/dpkg/status.d/libc6"}}
	got := packageIDs([]inventory.Package{pkgs[0], pkgs[0], pkgs[0], moved})
	want := []string{ids[0], ids[0] + "-2", ids[0] + "-3", got[3]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packageIDs(duplicates) (-want +got):\n%s", diff)
	}
	if got[3] == ids[0] {
		t.Errorf("packageIDs gives %s for two locations", got[3])
	}
}

func TestImagePURL(t *testing.T) {
	tests := []struct {
		sub  Subject
		want string
	}{
		{
			Subject{Kind: KindImage, Name: "nginx:1.25", Digest: testDigest, Platform: "linux/arm64/v8"},
			"pkg:oci/nginx@" + testDigest + "?arch=arm64&repository_url=index.docker.io%2Flibrary%2Fnginx&tag=1.25",
		},
		{
			Subject{Kind: KindImage, Name: "docker.io/bitnami/redis", Digest: testDigest},
			"pkg:oci/redis@" + testDigest + "?repository_url=index.docker.io%2Fbitnami%2Fredis",
		},
		{
			Subject{Kind: KindImage, Name: "docker.io/alpine@" + testDigest, Digest: testDigest},
			"pkg:oci/alpine@" + testDigest + "?repository_url=index.docker.io%2Flibrary%2Falpine",
		},
		{
			Subject{Kind: KindImage, Name: "localhost:5000/a/b:dev", Digest: testDigest},
			"pkg:oci/b@" + testDigest + "?repository_url=localhost:5000%2Fa%2Fb&tag=dev",
		},
		{
			Subject{Kind: KindImage, Name: "ghcr.io/org/tool:v1@" + testDigest, Digest: testDigest},
			"pkg:oci/tool@" + testDigest + "?repository_url=ghcr.io%2Forg%2Ftool&tag=v1",
		},
		{
			Subject{Kind: KindImage, Name: "build/My-App.tar", Digest: testDigest},
			"pkg:oci/my-app@" + testDigest,
		},
		{
			Subject{Kind: KindImage, Name: "out/app.tar.gz", Digest: testDigest},
			"pkg:oci/app@" + testDigest,
		},
		{
			Subject{Kind: KindImage, Name: "./layout/", Digest: testDigest},
			"pkg:oci/layout@" + testDigest,
		},
		{Subject{Kind: KindImage, Name: "nginx:1.25"}, ""},
		{Subject{Kind: KindDirectory, Name: "nginx", Digest: testDigest}, ""},
	}
	for _, tt := range tests {
		if got := imagePURL(tt.sub); got != tt.want {
			t.Errorf("imagePURL(%+v) = %q; want %q", tt.sub, got, tt.want)
		}
	}
}

func TestLicenses(t *testing.T) {
	id := func(s string) cdx.LicenseChoice { return cdx.LicenseChoice{License: &cdx.License{ID: s}} }
	name := func(s string) cdx.LicenseChoice { return cdx.LicenseChoice{License: &cdx.License{Name: s}} }
	expr := func(s string) cdx.LicenseChoice { return cdx.LicenseChoice{Expression: s} }
	tests := []struct {
		in       []string
		cdx      cdx.Licenses // nil means none
		declared string
	}{
		{nil, nil, noAssertion},
		{[]string{"", " "}, nil, noAssertion},
		{[]string{"mit"}, cdx.Licenses{id("MIT")}, "MIT"},
		{[]string{"MIT", "Apache-2.0", "MIT"}, cdx.Licenses{id("MIT"), id("Apache-2.0")}, "MIT AND Apache-2.0"},
		{[]string{"GPL-2.0+"}, cdx.Licenses{id("GPL-2.0+")}, "GPL-2.0+"},
		{[]string{"MIT OR Apache-2.0"}, cdx.Licenses{expr("MIT OR Apache-2.0")}, "MIT OR Apache-2.0"},
		{
			[]string{"BSD-3-Clause", "MIT OR Apache-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"},
			cdx.Licenses{expr("BSD-3-Clause AND (MIT OR Apache-2.0) AND (GPL-2.0-only WITH Classpath-exception-2.0)")},
			"BSD-3-Clause AND (MIT OR Apache-2.0) AND (GPL-2.0-only WITH Classpath-exception-2.0)",
		},
		{[]string{"GPL-2", "LGPL-2.1"}, cdx.Licenses{name("GPL-2"), id("LGPL-2.1")}, noAssertion},
		{[]string{"MIT OR Apache-2.0", "public domain"}, cdx.Licenses{name("MIT OR Apache-2.0"), name("public domain")}, noAssertion},
		{[]string{"LicenseRef-acme"}, cdx.Licenses{expr("LicenseRef-acme")}, noAssertion},
		{[]string{"MIT OR LicenseRef-acme"}, cdx.Licenses{expr("MIT OR LicenseRef-acme")}, noAssertion},
		{[]string{"apache-2.0 and mit"}, cdx.Licenses{name("apache-2.0 and mit")}, noAssertion},
	}
	for _, tt := range tests {
		var got cdx.Licenses
		if l := cycloneDXLicenses(tt.in); l != nil {
			got = *l
		}
		if diff := cmp.Diff(tt.cdx, got); diff != "" {
			t.Errorf("cycloneDXLicenses(%q) (-want +got):\n%s", tt.in, diff)
		}
		p := spdxPackage(inventory.Package{Name: "p", Licenses: tt.in}, "0")
		if p.PackageLicenseDeclared != tt.declared {
			t.Errorf("spdxPackage(%q).PackageLicenseDeclared = %q; want %q", tt.in, p.PackageLicenseDeclared, tt.declared)
		}
	}
}

func TestSPDXID(t *testing.T) {
	tests := map[string]common.ElementID{
		"Package-npm-@babel/core-0123":    "Package-npm-babel-core-0123",
		"Image-ghcr.io/a/b:v1@sha256:abc": "Image-ghcr.io-a-b-v1-sha256-abc",
		"Directory-./src":                 "Directory-.-src",
		"Package-go-module-x_y+z~1":       "Package-go-module-x-y-z-1",
	}
	for in, want := range tests {
		if got := spdxID(in); got != want {
			t.Errorf("spdxID(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestSchemasReject checks that the schema validation the tests rely on
// rejects broken documents, so that it cannot pass vacuously.
func TestSchemasReject(t *testing.T) {
	schemas := compileSchemas(t)
	tests := []struct {
		golden, schema, old, new string
	}{
		{"image.cyclonedx.json", cycloneDXSchema, `"serialNumber": "urn:uuid:`, `"serialNumber": "uuid:`},
		{"image.cyclonedx.json", cycloneDXSchema, `"timestamp": "2025-11-27T11:30:45Z"`, `"timestamp": "yesterday"`},
		{"image.cyclonedx.json", cycloneDXSchema, `"id": "MIT"`, `"id": "not-an-spdx-id"`},
		{"image.cyclonedx.json", cycloneDXSchema, `"type": "library"`, `"type": "package"`},
		{"image.spdx.json", spdxSchema, `"primaryPackagePurpose": "CONTAINER"`, `"primaryPackagePurpose": "IMAGE"`},
		{"image.spdx.json", spdxSchema, `"filesAnalyzed": false,`, `"filesAnalyzed": "no",`},
	}
	for _, tt := range tests {
		doc, err := os.ReadFile(filepath.Join("testdata", tt.golden))
		if err != nil {
			t.Fatal(err)
		}
		broken := bytes.Replace(doc, []byte(tt.old), []byte(tt.new), 1)
		if bytes.Equal(doc, broken) {
			t.Fatalf("%s does not contain %s", tt.golden, tt.old)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(broken))
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[tt.schema].Validate(v); err == nil {
			t.Errorf("%s with %s = valid; want a validation error", tt.golden, tt.new)
		}
	}
}

// The $id of the schemas in testdata/schema.
const (
	cycloneDXSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	spdxSchema      = "http://spdx.org/rdf/terms/2.3"
)

// schemaFiles maps the $id of every schema the tests load, including those
// the CycloneDX schema refers to, to its file in testdata/schema.
var schemaFiles = map[string]string{
	cycloneDXSchema: "bom-1.6.schema.json",
	"http://cyclonedx.org/schema/spdx.schema.json":     "spdx.schema.json",
	"http://cyclonedx.org/schema/jsf-0.82.schema.json": "jsf-0.82.schema.json",
	spdxSchema: "spdx-schema-2.3.json",
}

// offline is a schema loader that refuses every URL, so that a schema the
// tests did not add from testdata is an error rather than a download.
type offline struct{}

func (offline) Load(url string) (any, error) {
	return nil, fmt.Errorf("load %s: not in testdata/schema", url)
}

// compileSchemas compiles the CycloneDX and SPDX schemas from testdata,
// asserting formats (date-time, iri-reference…) as well as structure.
func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.UseLoader(offline{})
	c.AssertFormat()
	for id, file := range schemaFiles {
		f, err := os.Open(filepath.Join("testdata", "schema", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("parse %s: %v", file, err)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("add %s: %v", file, err)
		}
	}
	schemas := map[string]*jsonschema.Schema{}
	for _, id := range []string{cycloneDXSchema, spdxSchema} {
		s, err := c.Compile(id)
		if err != nil {
			t.Fatalf("compile %s: %v", id, err)
		}
		schemas[id] = s
	}
	return schemas
}

// validateSchema validates a JSON document against a schema.
func validateSchema(t *testing.T, s *jsonschema.Schema, doc []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("parse document: %v", err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("document does not match %s:\n%v", s.Location, err)
	}
}

func decodeCycloneDX(t *testing.T, doc []byte) *cdx.BOM {
	t.Helper()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(doc), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("decode cyclonedx: %v", err)
	}
	return &bom
}

func decodeSPDX(t *testing.T, doc []byte) *v2_3.Document {
	t.Helper()
	var d v2_3.Document
	if err := spdxjson.ReadInto(bytes.NewReader(doc), &d); err != nil {
		t.Fatalf("decode spdx: %v", err)
	}
	return &d
}

// checkCycloneDX checks what the schema cannot: that the document decodes,
// that bom-refs are unique and that the dependencies name them, and that
// the serial number is a UUID.
func checkCycloneDX(t *testing.T, doc []byte) {
	t.Helper()
	bom := decodeCycloneDX(t, doc)
	if bom.SpecVersion != cdx.SpecVersion1_6 {
		t.Errorf("specVersion = %v; want %v", bom.SpecVersion, cdx.SpecVersion1_6)
	}
	if !uuidURN.MatchString(bom.SerialNumber) {
		t.Errorf("serialNumber = %q; want a urn:uuid", bom.SerialNumber)
	}
	refs := map[string]bool{}
	var all []string
	add := func(ref string) {
		if ref == "" || refs[ref] {
			t.Errorf("bom-ref %q is empty or not unique", ref)
		}
		refs[ref] = true
		all = append(all, ref)
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil {
		t.Fatal("no metadata.component")
	}
	subject := bom.Metadata.Component.BOMRef
	add(subject)
	var components []string
	if bom.Components != nil {
		for _, c := range *bom.Components {
			add(c.BOMRef)
			components = append(components, c.BOMRef)
		}
	}
	if bom.Dependencies == nil || len(*bom.Dependencies) != 1 {
		t.Fatalf("dependencies = %v; want one for the subject", bom.Dependencies)
	}
	dep := (*bom.Dependencies)[0]
	var on []string
	if dep.Dependencies != nil {
		on = *dep.Dependencies
	}
	if dep.Ref != subject {
		t.Errorf("dependency of %q; want the subject %q", dep.Ref, subject)
	}
	if diff := cmp.Diff(components, on); diff != "" {
		t.Errorf("subject dependencies differ from the components (-components +dependsOn):\n%s", diff)
	}
}

// checkSPDX checks what the schema cannot: that the document decodes, that
// SPDXIDs are well formed and unique, that the relationships name them and
// that the namespace is a URI without a fragment.
func checkSPDX(t *testing.T, doc []byte) {
	t.Helper()
	d := decodeSPDX(t, doc)
	if d.SPDXVersion != v2_3.Version || d.DataLicense != v2_3.DataLicense {
		t.Errorf("spdxVersion, dataLicense = %s, %s; want %s, %s", d.SPDXVersion, d.DataLicense, v2_3.Version, v2_3.DataLicense)
	}
	if !strings.HasPrefix(d.DocumentNamespace, spdxNamespaceBase) || strings.Contains(d.DocumentNamespace, "#") ||
		!uuidSuffix.MatchString(d.DocumentNamespace) {
		t.Errorf("documentNamespace = %q; want %s…-<uuid>", d.DocumentNamespace, spdxNamespaceBase)
	}
	ids := map[common.ElementID]bool{d.SPDXIdentifier: true}
	for _, p := range d.Packages {
		id := p.PackageSPDXIdentifier
		if !spdxIDPattern.MatchString(common.RenderElementID(id)) || ids[id] {
			t.Errorf("SPDXID %q is malformed or not unique", common.RenderElementID(id))
		}
		ids[id] = true
		if p.FilesAnalyzed || p.PackageDownloadLocation != noAssertion || p.PackageSupplier == nil || p.PackageLicenseDeclared == "" {
			t.Errorf("package %s: filesAnalyzed, downloadLocation, supplier, licenseDeclared = %v, %q, %v, %q",
				id, p.FilesAnalyzed, p.PackageDownloadLocation, p.PackageSupplier, p.PackageLicenseDeclared)
		}
	}
	subject := d.Packages[0].PackageSPDXIdentifier
	var got []string
	for _, r := range d.Relationships {
		if !ids[r.RefA.ElementRefID] || !ids[r.RefB.ElementRefID] {
			t.Errorf("relationship %s %s %s names an unknown element", r.RefA.ElementRefID, r.Relationship, r.RefB.ElementRefID)
		}
		got = append(got, fmt.Sprintf("%s %s %s", r.RefA.ElementRefID, r.Relationship, r.RefB.ElementRefID))
	}
	want := []string{fmt.Sprintf("DOCUMENT DESCRIBES %s", subject)}
	for _, p := range d.Packages[1:] {
		want = append(want, fmt.Sprintf("%s CONTAINS %s", subject, p.PackageSPDXIdentifier))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("relationships (-want +got):\n%s", diff)
	}
}

var (
	uuidURN       = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	uuidSuffix    = regexp.MustCompile(`-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	spdxIDPattern = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
)
