package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/imagefacts"
	"github.com/kubeshield/kubeshield/internal/inventory"
)

// The $id of the scan schemas in testdata/schema.
const (
	sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	scanSchema  = "https://github.com/kubeshield/kubeshield/schema/kubeshield.scan-v1.schema.json"
)

// testImageRef is the reference of the test image.
const testImageRef = "registry.example.com:5000/team/app:1.2.3"

// testScan returns the scan of the golden tests: the image of the SBOM
// tests with a Debian package affected by a CVE fixed in a later version,
// an npm package affected by a GHSA without a fix, a suppressed
// vulnerability in a Go module and two image findings, in no particular
// order.
func testScan() Scan {
	sbom := testSBOMs()["image"]
	pkgs := sbom.Result.Packages
	image := finding.Resource{Kind: "Image", Image: testImageRef, Digest: testDigest}
	affects := func(p inventory.Package) finding.Resource {
		res := image
		res.Package = &finding.Package{
			Name: p.Name, Version: p.Version, Ecosystem: string(p.Ecosystem), PURL: p.PURL,
			Path: p.Locations[0].Path, Layer: p.Locations[0].Layer,
		}
		if p.Source != nil {
			res.Package.Source = p.Source.Name
		}
		return res
	}
	libc, compress, babel := pkgs[0], pkgs[1], pkgs[3]
	setuid := image
	setuid.Path = "/usr/bin/passwd"
	return Scan{
		Subject: sbom.Subject,
		Result:  sbom.Result,
		Findings: []finding.Finding{
			imagefacts.RuleSetuid.New(setuid, "/usr/bin/passwd mode -rwsr-xr-x (setuid)"),
			{
				RuleID:      "GHSA-2345-6789-cfgh",
				Severity:    finding.Medium,
				Title:       "Prototype pollution in @babel/core option merging",
				Description: "Merging user-supplied options can set properties on Object.prototype.",
				Resource:    affects(babel),
				Evidence:    "installed @babel/core 7.24.0",
				Remediation: "No fixed version is known yet.",
				References:  []string{"https://github.com/advisories/GHSA-2345-6789-cfgh", "not a URL"},
			},
			{
				RuleID:        "CVE-2025-40002",
				Severity:      finding.Critical,
				Score:         9.8,
				Title:         "compress: out-of-bounds write in zstd decoder",
				Resource:      affects(compress),
				Evidence:      "installed github.com/klauspost/compress v1.17.11",
				Remediation:   "Upgrade github.com/klauspost/compress to v1.17.12.",
				FixedVersions: []string{"v1.17.12"},
				Suppressed:    &finding.Suppression{Kind: "vex", Reason: "vulnerable_code_not_in_execute_path"},
			},
			imagefacts.RuleRoot.New(image, "config User: (not set)"),
			{
				RuleID:        "CVE-2025-40001",
				Aliases:       []string{"DSA-5999-1"},
				Severity:      finding.High,
				Score:         7.8,
				Title:         "glibc: buffer overflow in iconv() with ISO-2022-CN-EXT",
				Description:   "A crafted conversion request overflows the output buffer\nby up to four bytes.",
				Resource:      affects(libc),
				Evidence:      "installed libc6 2.36-9+deb12u9",
				Remediation:   "Upgrade libc6 to 2.36-9+deb12u10.",
				FixedVersions: []string{"2.36-9+deb12u10"},
				References: []string{
					"https://security-tracker.debian.org/tracker/CVE-2025-40001",
					"https://www.cve.org/CVERecord?id=CVE-2025-40001",
				},
			},
		},
		Tool:    sbom.Tool,
		Created: testCreated,
	}
}

// testScans are the scans of the golden tests, by golden file stem.
func testScans() map[string]Scan {
	empty := testScan()
	empty.Subject = Subject{Kind: KindImage, Name: "scratch-app"}
	empty.Result = nil
	empty.Findings = nil
	return map[string]Scan{"scan": testScan(), "scan-empty": empty}
}

// scanWriter is a scan writer with what its tests need to know about its
// format.
type scanWriter struct {
	name     string // the golden file suffix
	write    func(io.Writer, Scan) error
	schema   string // the $id of the format's JSON schema; "" for the table
	validate func(t *testing.T, s Scan, doc []byte)
}

func scanWriters() []scanWriter {
	return []scanWriter{
		{"table.txt", WriteScanTable, "", checkScanTable},
		{"json", WriteScanJSON, scanSchema, checkScanJSON},
		{"sarif.json", WriteSARIF, sarifSchema, checkSARIF},
		{"cyclonedx.json", WriteCycloneDXScan, cycloneDXSchema, checkCycloneDXScan},
	}
}

func TestScanWritersGolden(t *testing.T) {
	schemas := compileScanSchemas(t)
	for _, w := range scanWriters() {
		for stem, s := range testScans() {
			t.Run(w.name+"/"+stem, func(t *testing.T) {
				var buf bytes.Buffer
				if err := w.write(&buf, s); err != nil {
					t.Fatalf("write(%s) = %v", stem, err)
				}
				got := buf.Bytes()

				golden := filepath.Join("testdata", stem+"."+w.name)
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

				if w.schema != "" {
					validateSchema(t, schemas[w.schema], got)
				}
				w.validate(t, s, got)

				// The same scan, with its findings in another order, gives
				// the same bytes.
				reversed := s
				reversed.Findings = slices.Clone(s.Findings)
				slices.Reverse(reversed.Findings)
				var again bytes.Buffer
				if err := w.write(&again, reversed); err != nil {
					t.Fatalf("second write(%s) = %v", stem, err)
				}
				if !bytes.Equal(got, again.Bytes()) {
					t.Errorf("write(%s) depends on the order of the findings", stem)
				}
			})
		}
	}
}

// TestScanWritersEmpty checks that scans with nothing in them still give
// valid documents, for every kind of subject.
func TestScanWritersEmpty(t *testing.T) {
	schemas := compileScanSchemas(t)
	scans := map[string]Scan{
		"nil result, nil findings": {},
		"no findings":              {Result: testSBOMs()["image"].Result, Findings: []finding.Finding{}},
		"unmatched package": {Findings: []finding.Finding{{
			RuleID: "PYSEC-2025-1", Title: "t",
			Resource: finding.Resource{Kind: "Package", Package: &finding.Package{Name: "x", Version: "1", Ecosystem: "PyPI", PURL: "pkg:pypi/x@1"}},
		}}},
		"bare finding": {Findings: []finding.Finding{{RuleID: "KS-X-001"}, {RuleID: "CVE-2025-1"}}},
	}
	for _, w := range scanWriters() {
		for _, kind := range []SubjectKind{KindImage, KindDirectory} {
			for name, s := range scans {
				t.Run(fmt.Sprintf("%s/%s/%s", w.name, kind, name), func(t *testing.T) {
					s.Subject = Subject{Kind: kind, Name: "subject"}
					var buf bytes.Buffer
					if err := w.write(&buf, s); err != nil {
						t.Fatalf("write(%+v) = %v", s, err)
					}
					if w.schema != "" {
						validateSchema(t, schemas[w.schema], buf.Bytes())
					}
					w.validate(t, s, buf.Bytes())
				})
			}
		}
	}
}

func TestScanWritersInvalid(t *testing.T) {
	for _, w := range scanWriters() {
		if w.schema == "" {
			continue // the table does not describe the subject
		}
		for _, sub := range []Subject{{Name: "app"}, {Kind: KindImage}, {Kind: KindImage, Name: "app", Digest: "sha256:abc"}} {
			var buf bytes.Buffer
			err := w.write(&buf, Scan{Subject: sub, Findings: testScan().Findings})
			if !errors.Is(err, ErrInvalidSBOM) {
				t.Errorf("%s(%+v) = %v; want %v", w.name, sub, err, ErrInvalidSBOM)
			}
			if buf.Len() != 0 {
				t.Errorf("%s(%+v) wrote %d bytes; want none", w.name, sub, buf.Len())
			}
		}
	}
}

func TestScanWritersWriteError(t *testing.T) {
	errDisk := errors.New("disk full")
	for _, w := range scanWriters() {
		err := w.write(errWriter{errDisk}, testScan())
		if !errors.Is(err, errDisk) {
			t.Errorf("%s to a failing writer = %v; want %v", w.name, err, errDisk)
		}
	}
}

// TestCycloneDXScanKeepsSBOM checks that the scan document is the SBOM
// document plus vulnerabilities: the components, dependencies and metadata
// are those WriteCycloneDX writes.
func TestCycloneDXScanKeepsSBOM(t *testing.T) {
	s := testScan()
	var sbom, scan bytes.Buffer
	if err := WriteCycloneDX(&sbom, s.sbom()); err != nil {
		t.Fatal(err)
	}
	if err := WriteCycloneDXScan(&scan, s); err != nil {
		t.Fatal(err)
	}
	want, got := decodeCycloneDX(t, sbom.Bytes()), decodeCycloneDX(t, scan.Bytes())
	if got.Vulnerabilities == nil {
		t.Fatal("no vulnerabilities")
	}
	if got.SerialNumber == want.SerialNumber {
		t.Errorf("serialNumber %s is that of the SBOM; want another for other content", got.SerialNumber)
	}
	got.Vulnerabilities, got.SerialNumber, want.SerialNumber = nil, "", ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WriteCycloneDXScan without vulnerabilities differs from WriteCycloneDX (-sbom +scan):\n%s", diff)
	}
}

func TestComponentIndex(t *testing.T) {
	pkgs := testPackages()
	// The same package at another place, and a package without a purl.
	moved := pkgs[0]
	moved.Locations = []inventory.Location{{Path: "var/lib/dpkg/status", Layer: testLayer2}}
	pkgs = append(pkgs, moved, inventory.Package{Name: "nopurl", Locations: []inventory.Location{{Path: "x"}}})
	refs := packageRefs(pkgs)
	ix := newComponentIndex(pkgs, refs)
	libc := pkgs[0].PURL
	tests := []struct {
		pkg  *finding.Package
		want string
	}{
		{nil, ""},
		{&finding.Package{Name: "nopurl"}, ""},
		{&finding.Package{PURL: libc, Path: "var/lib/dpkg/status", Layer: testLayer1}, refs[0]},
		{&finding.Package{PURL: libc, Path: "var/lib/dpkg/status", Layer: testLayer2}, refs[4]},
		{&finding.Package{PURL: libc, Path: "var/lib/dpkg/status", Layer: "sha256:00"}, refs[0]},
		{&finding.Package{PURL: libc}, refs[0]},
		{&finding.Package{PURL: pkgs[3].PURL, Path: "opt/app/package-lock.json", Layer: testLayer2}, refs[3]},
		{&finding.Package{PURL: "pkg:deb/debian/libc6@1.0"}, ""},
	}
	for _, tt := range tests {
		if got := ix.ref(tt.pkg); got != tt.want {
			t.Errorf("ref(%+v) = %q; want %q", tt.pkg, got, tt.want)
		}
	}
}

func TestCycloneDXAnalysis(t *testing.T) {
	tests := []struct {
		sup  *finding.Suppression
		want *cdx.VulnerabilityAnalysis
	}{
		{nil, nil},
		{
			&finding.Suppression{Kind: "ignore", Reason: "only reachable from tests"},
			&cdx.VulnerabilityAnalysis{State: cdx.IASFalsePositive, Detail: "only reachable from tests"},
		},
		{
			&finding.Suppression{Kind: "vex", Reason: "vulnerable_code_not_present"},
			&cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Justification: cdx.IAJCodeNotPresent, Detail: "vulnerable_code_not_present"},
		},
		{
			&finding.Suppression{Kind: "vex", Reason: "Protected_At_Runtime "},
			&cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Justification: cdx.IAJProtectedAtRuntime, Detail: "Protected_At_Runtime "},
		},
		{
			&finding.Suppression{Kind: "vex", Reason: "the vendor says so"},
			&cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Detail: "the vendor says so"},
		},
		{
			&finding.Suppression{Kind: "vex", Reason: "fixed"},
			&cdx.VulnerabilityAnalysis{State: cdx.IASResolved, Detail: "fixed"},
		},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, cycloneDXAnalysis(tt.sup)); diff != "" {
			t.Errorf("cycloneDXAnalysis(%+v) (-want +got):\n%s", tt.sup, diff)
		}
	}
}

func TestURIReference(t *testing.T) {
	tests := map[string]string{
		"var/lib/dpkg/status":                      "var/lib/dpkg/status",
		"opt/app/app.war!WEB-INF/lib/x-1.0.jar":    "opt/app/app.war!WEB-INF/lib/x-1.0.jar",
		"opt/my app/100%/a#b?c":                    "opt/my%20app/100%25/a%23b%3Fc",
		"nginx:1.25":                               "nginx%3A1.25",
		testImageRef:                               "registry.example.com%3A5000/team/app:1.2.3",
		"ghcr.io/a/b@sha256:0123":                  "ghcr.io/a/b@sha256:0123",
		"usr/lib/python3/dist-packages/é/METADATA": "usr/lib/python3/dist-packages/%C3%A9/METADATA",
	}
	for in, want := range tests {
		if got := uriReference(in); got != want {
			t.Errorf("uriReference(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestSecuritySeverity(t *testing.T) {
	tests := []struct {
		sev   finding.Severity
		score float64
		want  string
	}{
		{finding.Critical, 0, "9.0"},
		{finding.High, 0, "7.0"},
		{finding.Medium, 0, "4.0"},
		{finding.Low, 0, "0.1"},
		{finding.Info, 0, ""},
		{finding.Unknown, 0, ""},
		{finding.High, 8.25, "8.2"},
		{finding.Unknown, 5.3, "5.3"},
	}
	for _, tt := range tests {
		if got := securitySeverity(tt.sev, tt.score); got != tt.want {
			t.Errorf("securitySeverity(%v, %v) = %q; want %q", tt.sev, tt.score, got, tt.want)
		}
	}
}

func TestScanSummaryString(t *testing.T) {
	tests := []struct {
		s    ScanSummary
		want string
	}{
		{ScanSummary{}, "0 findings (0 critical, 0 high, 0 medium, 0 low), 0 suppressed"},
		{ScanSummary{Findings: 1, High: 1}, "1 finding (0 critical, 1 high, 0 medium, 0 low), 0 suppressed"},
		{
			ScanSummary{Findings: 4, Suppressed: 2, Critical: 1, Low: 1, Info: 1, Unknown: 1},
			"4 findings (1 critical, 0 high, 0 medium, 1 low, 1 info, 1 unknown), 2 suppressed",
		},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v.String() = %q; want %q", tt.s, got, tt.want)
		}
	}
}

// TestScanSchemasReject checks that the schema validation of the scan
// formats rejects broken documents, so that it cannot pass vacuously.
func TestScanSchemasReject(t *testing.T) {
	schemas := compileScanSchemas(t)
	tests := []struct {
		golden, schema, old, new string
	}{
		{"scan.sarif.json", sarifSchema, `"level": "error"`, `"level": "fatal"`},
		{"scan.sarif.json", sarifSchema, `"kind": "external"`, `"kind": "ignored"`},
		{"scan.sarif.json", sarifSchema, `"startLine": 1`, `"startLine": 0`},
		{"scan.sarif.json", sarifSchema, `"version": "2.1.0"`, `"version": "2.2"`},
		{"scan.json", scanSchema, `"severity": "HIGH"`, `"severity": "SEVERE"`},
		{"scan.json", scanSchema, `"kind": "vex"`, `"kind": "waiver"`},
		{"scan.cyclonedx.json", cycloneDXSchema, `"state": "not_affected"`, `"state": "ignored"`},
		{"scan.cyclonedx.json", cycloneDXSchema, `"severity": "high"`, `"severity": "HIGH"`},
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

// scanSchemaFiles maps the $id of the scan schemas to their file in
// testdata/schema.
var scanSchemaFiles = map[string]string{
	sarifSchema: "sarif-schema-2.1.0.json",
	scanSchema:  "kubeshield.scan-v1.schema.json",
}

// compileScanSchemas compiles the schemas of the SBOM tests and the scan
// schemas from testdata, without the network.
func compileScanSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	schemas := compileSchemas(t)
	c := jsonschema.NewCompiler()
	c.UseLoader(offline{})
	c.AssertFormat()
	for id, file := range scanSchemaFiles {
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
	for id := range scanSchemaFiles {
		s, err := c.Compile(id)
		if err != nil {
			t.Fatalf("compile %s: %v", id, err)
		}
		schemas[id] = s
	}
	return schemas
}

// counted returns the findings of s that are not suppressed.
func counted(s Scan) []finding.Finding {
	var out []finding.Finding
	for _, f := range s.Findings {
		if f.Suppressed == nil {
			out = append(out, f)
		}
	}
	return out
}

// checkScanTable checks that the table has a header, one line per counted
// finding, most severe first, and the summary line.
func checkScanTable(t *testing.T, s Scan, doc []byte) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(doc), "\n"), "\n")
	want := len(counted(s)) + 3 // header, blank line, summary
	if len(lines) != want {
		t.Fatalf("table has %d lines; want %d:\n%s", len(lines), want, doc)
	}
	if !strings.HasPrefix(lines[0], "SEVERITY") || lines[len(lines)-2] != "" {
		t.Errorf("table lacks its header or the blank line before the summary:\n%s", doc)
	}
	if got, want := lines[len(lines)-1], summarize(s.Findings).String(); got != want {
		t.Errorf("summary line = %q; want %q", got, want)
	}
	prev := finding.Critical
	for _, l := range lines[1 : len(lines)-2] {
		sev, err := finding.ParseSeverity(strings.Fields(l)[0])
		if err != nil || sev > prev {
			t.Errorf("line %q: severity out of order or unknown (%v)", l, err)
		}
		prev = sev
	}
}

// checkScanJSON checks that the document decodes into a ScanDocument with
// every finding and the right summary.
func checkScanJSON(t *testing.T, s Scan, doc []byte) {
	t.Helper()
	var d ScanDocument
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if d.Schema != ScanSchema {
		t.Errorf("schema = %q; want %q", d.Schema, ScanSchema)
	}
	want := sortFindings(s.Findings)
	if want == nil {
		want = []finding.Finding{}
	}
	if diff := cmp.Diff(want, d.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if got, want := d.Summary, summarize(s.Findings); got != want {
		t.Errorf("summary = %+v; want %+v", got, want)
	}
}

// sarifDoc is the part of a SARIF log the tests check.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID         string `json:"id"`
					Properties struct {
						Tags             []string `json:"tags"`
						SecuritySeverity string   `json:"security-severity"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID              string            `json:"ruleId"`
			RuleIndex           int               `json:"ruleIndex"`
			Locations           []json.RawMessage `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        *[]struct {
				Kind          string `json:"kind"`
				Justification string `json:"justification"`
			} `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

// checkSARIF checks what GitHub code scanning relies on and the schema
// cannot: one run, one result per finding naming an existing rule by ID
// and index, one location each, distinct fingerprints, suppressions on
// every result (empty unless the finding is suppressed), and one rule per
// distinct ID.
func checkSARIF(t *testing.T, s Scan, doc []byte) {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("decode sarif: %v", err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("%d runs; want 1", len(d.Runs))
	}
	run := d.Runs[0]
	rules := run.Tool.Driver.Rules
	var ids []string
	for _, f := range s.Findings {
		if !slices.Contains(ids, f.RuleID) {
			ids = append(ids, f.RuleID)
		}
	}
	if len(rules) != len(ids) {
		t.Errorf("%d rules; want %d", len(rules), len(ids))
	}
	for _, r := range rules {
		if len(r.Properties.Tags) == 0 || r.Properties.Tags[0] != "security" {
			t.Errorf("rule %s: tags = %q; want \"security\" first", r.ID, r.Properties.Tags)
		}
	}
	if len(run.Results) != len(s.Findings) {
		t.Fatalf("%d results; want %d", len(run.Results), len(s.Findings))
	}
	suppressed := 0
	fingerprints := map[string]bool{}
	for _, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(rules) || rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s: ruleIndex %d does not name its rule", r.RuleID, r.RuleIndex)
		}
		if len(r.Locations) != 1 {
			t.Errorf("result %s: %d locations; want 1", r.RuleID, len(r.Locations))
		}
		fp := r.PartialFingerprints[fingerprintKey]
		if fp == "" || fingerprints[fp] {
			t.Errorf("result %s: fingerprint %q is empty or not unique", r.RuleID, fp)
		}
		fingerprints[fp] = true
		if r.Suppressions == nil {
			t.Errorf("result %s: no suppressions; want an array in every result", r.RuleID)
			continue
		}
		suppressed += len(*r.Suppressions)
	}
	if want := len(s.Findings) - len(counted(s)); suppressed != want {
		t.Errorf("%d suppressions; want %d", suppressed, want)
	}
}

// checkCycloneDXScan checks the SBOM part as the SBOM tests do, and that
// there is one vulnerability per vulnerability finding whose affects name
// the component of its package.
func checkCycloneDXScan(t *testing.T, s Scan, doc []byte) {
	t.Helper()
	checkCycloneDX(t, doc)
	bom := decodeCycloneDX(t, doc)
	purls := map[string]string{}
	if bom.Components != nil {
		for _, c := range *bom.Components {
			purls[c.BOMRef] = c.PackageURL
		}
	}
	var vulns []cdx.Vulnerability
	if bom.Vulnerabilities != nil {
		vulns = *bom.Vulnerabilities
	}
	var want []finding.Finding
	for _, f := range sortFindings(s.Findings) {
		if isVulnerability(f) {
			want = append(want, f)
		}
	}
	if len(vulns) != len(want) {
		t.Fatalf("%d vulnerabilities; want %d", len(vulns), len(want))
	}
	refs := map[string]bool{}
	for i, v := range vulns {
		f := want[i]
		if v.ID != f.RuleID || refs[v.BOMRef] {
			t.Errorf("vulnerability %d: id %s, bom-ref %s; want %s and a unique bom-ref", i, v.ID, v.BOMRef, f.RuleID)
		}
		refs[v.BOMRef] = true
		if (v.Analysis != nil) != (f.Suppressed != nil) {
			t.Errorf("vulnerability %s: analysis %+v for suppression %+v", v.ID, v.Analysis, f.Suppressed)
		}
		if v.Affects == nil {
			if p := f.Resource.Package; p != nil && slices.Contains(slices.Collect(maps.Values(purls)), p.PURL) {
				t.Errorf("vulnerability %s: no affects; want the component of %s", v.ID, p.PURL)
			}
			continue
		}
		for _, a := range *v.Affects {
			purl, ok := purls[a.Ref]
			if !ok || f.Resource.Package == nil || purl != f.Resource.Package.PURL {
				t.Errorf("vulnerability %s affects %q (purl %q); want the component of %+v", v.ID, a.Ref, purl, f.Resource.Package)
			}
		}
	}
}
