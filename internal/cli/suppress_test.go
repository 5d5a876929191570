package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/report"
)

// exampleImageLayout builds the example image (examples/image/rootfs, one
// layer) as an OCI layout and returns the layout and the image digest.
func exampleImageLayout(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	layer := filepath.Join(dir, "layer.tar.gz")
	rootfs := filepath.Join(fixture.RepoRoot(t), "examples", "image", "rootfs")
	if err := fixture.TarTree(rootfs, layer, fixture.TarOptions{Gzip: true, ModTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	img, err := fixture.ImageFromLayers(layer)
	if err != nil {
		t.Fatal(err)
	}
	out := &fixture.Images{Layout: filepath.Join(dir, "layout"), Tarball: filepath.Join(dir, "image.tar"), Tag: "example/app:1.0"}
	if err := fixture.WriteForms(img, out); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return out.Layout, digest.String()
}

// exampleDB builds a database from the records named, from examples/osv.
func exampleDB(t *testing.T, records ...string) string {
	t.Helper()
	src := t.TempDir()
	for _, r := range records {
		data, err := os.ReadFile(filepath.Join(fixture.RepoRoot(t), "examples", "osv", "PyPI", r))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, r), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "vuln.db")
	if _, stderr, code := runCLI(t, "--db", db, "-q", "db", "import", src); code != 0 {
		t.Fatalf("db import: exit %d: %s", code, stderr)
	}
	return db
}

func writeSuppressFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	// The records of CVE-2021-33203 (Django) and CVE-2023-32681
	// (requests) in examples/osv.
	djangoRecord   = "PYSEC-2021-98.json"
	requestsRecord = "PYSEC-2023-74.json"

	testIgnoreFile = `# reviewed findings
ignore:
  - id: CVE-2021-33203
    package: pkg:pypi/django
    reason: django.contrib.admindocs is not installed
    expires: 2099-12-31
  - id: CVE-2021-33503
    reason: waiting for the base image update
    expires: 2020-01-01
`
	requestsImpact = "The app sends requests only to its own backend, never through a proxy."
)

// testVEX is an OpenVEX document saying that requests in the image with
// this digest is not affected by CVE-2023-32681.
func testVEX(digest string) string {
	return `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://app.example/vex/app-1.0",
  "author": "Example App Security Team <security@app.example>",
  "timestamp": "2026-02-01T10:00:00Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"name": "CVE-2023-32681", "aliases": ["GHSA-j8r2-6x86-q33q"]},
      "products": [
        {
          "@id": "pkg:oci/app@` + strings.Replace(digest, ":", "%3A", 1) + `?repository_url=ghcr.io%2Fexample%2Fapp",
          "subcomponents": [{"@id": "pkg:pypi/requests@2.25.0"}]
        }
      ],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "` + requestsImpact + `"
    }
  ]
}
`
}

// TestScanSuppressions runs kubeshield image scan on the example image
// with an ignore file and an OpenVEX document: the findings they cover are
// marked suppressed in the JSON report and no longer count for --fail-on
// and --exit-code.
func TestScanSuppressions(t *testing.T) {
	layout, digest := exampleImageLayout(t)
	src := "oci:" + layout
	dir := t.TempDir()
	ignore := writeSuppressFile(t, dir, "ignore.yaml", testIgnoreFile)
	vex := writeSuppressFile(t, dir, "app.openvex.json", testVEX(digest))

	// The whole example database: exactly the two findings are suppressed.
	db := exampleDB(t, exampleRecords(t)...)
	stdout, stderr, code := runCLI(t, "--db", db, "image", "scan", "-o", "json", "--ignorefile", ignore, "--vex", vex, src)
	if code != 0 {
		t.Fatalf("image scan: exit %d: %s", code, stderr)
	}
	var doc report.ScanDocument
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]finding.Suppression{}
	for _, f := range doc.Findings {
		if f.Suppressed != nil {
			got[f.RuleID] = *f.Suppressed
		}
	}
	want := map[string]finding.Suppression{
		"CVE-2021-33203": {Kind: "ignore", Reason: "django.contrib.admindocs is not installed"},
		"CVE-2023-32681": {Kind: "vex", Reason: "vulnerable_code_not_in_execute_path: " + requestsImpact},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suppressed findings differ (-want +got):\n%s", diff)
	}
	if doc.Summary.Suppressed != 2 || doc.Summary.Findings != len(doc.Findings)-2 {
		t.Errorf("summary = %+v for %d findings; want 2 suppressed", doc.Summary, len(doc.Findings))
	}
	if !strings.Contains(stderr, `msg="ignore entry expired" id=CVE-2021-33503 expires=2020-01-01`) {
		t.Errorf("no warning about the expired entry:\n%s", stderr)
	}

	// Only the two findings: they count until both are suppressed.
	db = exampleDB(t, djangoRecord, requestsRecord)
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"--fail-on", "UNKNOWN"}, ExitFindings},
		{[]string{"--fail-on", "UNKNOWN", "--ignorefile", ignore}, ExitFindings},
		{[]string{"--fail-on", "UNKNOWN", "--vex", vex}, ExitFindings},
		{[]string{"--fail-on", "UNKNOWN", "--ignorefile", ignore, "--vex", vex}, ExitOK},
		{[]string{"--exit-code", "7", "--vex", vex}, 7},
		{[]string{"--exit-code", "7", "--ignorefile", ignore, "--vex", vex}, ExitOK},
		{[]string{"--exit-code", "7", "--ignorefile", ignore, "--vex", vex, "--vex", vex}, ExitOK},
	}
	for _, tt := range tests {
		args := append([]string{"--db", db, "-q", "image", "scan", "--no-image-checks"}, tt.args...)
		_, stderr, code := runCLI(t, append(args, src)...)
		if code != tt.code {
			t.Errorf("image scan %v: exit %d; want %d\n%s", tt.args, code, tt.code, stderr)
		}
	}
}

// exampleRecords lists the records of examples/osv.
func exampleRecords(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(fixture.RepoRoot(t), "examples", "osv", "PyPI"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestScanDefaultIgnoreFile checks that .kubeshieldignore.yaml in the
// current directory is read when --ignorefile is not given, and that its
// absence is no error.
func TestScanDefaultIgnoreFile(t *testing.T) {
	layout, _ := exampleImageLayout(t)
	db := exampleDB(t, djangoRecord, requestsRecord)
	scan := func(want int, args ...string) {
		t.Helper()
		args = append([]string{"--db", db, "-q", "image", "scan", "--no-image-checks", "--fail-on", "UNKNOWN"}, args...)
		_, stderr, code := runCLI(t, append(args, "oci:"+layout)...)
		if code != want {
			t.Errorf("image scan %v: exit %d; want %d\n%s", args, code, want, stderr)
		}
	}
	t.Chdir(t.TempDir())
	scan(ExitFindings) // no ignore file: no error
	writeSuppressFile(t, ".", ".kubeshieldignore.yaml", `ignore:
  - id: CVE-2021-33203
    reason: admindocs is off
  - id: GHSA-j8r2-6x86-q33q
    reason: no proxy
`)
	scan(ExitOK)
	scan(ExitFindings, "--ignorefile", "")
}

// TestScanSuppressionErrors checks that a missing or broken ignore file or
// VEX document fails the scan (exit 1) with a message naming the file and
// the problem, before any image is read.
func TestScanSuppressionErrors(t *testing.T) {
	dir := t.TempDir()
	brokenIgnore := writeSuppressFile(t, dir, "broken.yaml", "ignore:\n  - id: CVE-2021-33203\n    reasons: typo\n")
	brokenVEX := writeSuppressFile(t, dir, "broken.openvex.json", strings.Replace(testVEX("sha256:00"), `"not_affected"`, `"not-affected"`, 1))
	missing := filepath.Join(dir, "missing.yaml")
	db := filepath.Join(dir, "none.db") // never opened
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--ignorefile", brokenIgnore}, []string{"broken.yaml", "ignore[0].reasons (line 3)", "unknown field"}},
		{[]string{"--ignorefile", missing}, []string{"--ignorefile", "missing.yaml", "no such file"}},
		{[]string{"--vex", brokenVEX}, []string{"broken.openvex.json", "statements[0].status", `unknown status "not-affected"`}},
		{[]string{"--vex", missing}, []string{"--vex", "missing.yaml", "no such file"}},
	}
	for _, tt := range tests {
		args := append([]string{"--db", db, "image", "scan"}, tt.args...)
		_, stderr, code := runCLI(t, append(args, "oci:"+filepath.Join(dir, "no-such-layout"))...)
		if code != ExitError {
			t.Errorf("image scan %v: exit %d; want %d\n%s", tt.args, code, ExitError, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("image scan %v: stderr lacks %q:\n%s", tt.args, w, stderr)
			}
		}
	}
}
