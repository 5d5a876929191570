package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanQuickStart builds the example database from examples/osv and
// scans the example image, as `make example` does.
func TestScanQuickStart(t *testing.T) {
	img := exampleImage(t)
	db := filepath.Join(t.TempDir(), "vuln.db")
	osvDir := filepath.Join(repoRoot(), "examples", "osv")
	if _, stderr, code := run(t, "--db", db, "-q", "db", "import", osvDir); code != 0 {
		t.Fatalf("db import: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := run(t, "--db", db, "db", "status", "-o", "json")
	if code != 0 || !strings.Contains(stdout, `"records"`) {
		t.Fatalf("db status: exit %d: %s %s", code, stdout, stderr)
	}

	stdout, stderr, code = run(t, "--db", db, "image", "scan", "-o", "json", "oci:"+img)
	if code != 0 {
		t.Fatalf("image scan: exit %d: %s", code, stderr)
	}
	var doc struct {
		Findings []struct {
			RuleID        string   `json:"ruleID"`
			FixedVersions []string `json:"fixedVersions"`
			Resource      struct {
				Package *struct{ Name, Version string }
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, f := range doc.Findings {
		pkg := ""
		if f.Resource.Package != nil {
			pkg = f.Resource.Package.Name + "@" + f.Resource.Package.Version
		}
		found[f.RuleID] = pkg + " " + strings.Join(f.FixedVersions, ",")
	}
	for id, want := range map[string]string{
		"CVE-2021-33203": "Django@3.2.0 3.2.4",
		"CVE-2023-32681": "requests@2.25.0 2.31.0",
		"CVE-2021-33503": "urllib3@1.26.4 1.26.5",
		"KS-IMG-001":     " ",
		"KS-IMG-005":     " ",
	} {
		if found[id] != want {
			t.Errorf("finding %s = %q; want %q", id, found[id], want)
		}
	}

	tests := []struct {
		args []string
		code int
	}{
		{[]string{"--fail-on", "HIGH"}, 3},
		{[]string{"--fail-on", "CRITICAL"}, 0},
		{[]string{"--exit-code", "7"}, 7},
		{[]string{"--exit-code", "7", "--severity", "CRITICAL"}, 0},
		{[]string{"--exit-code", "7", "--severity", "HIGH,CRITICAL", "--no-image-checks"}, 7},
		{[]string{"--exit-code", "7", "--severity", "UNKNOWN", "--ignore-unfixed"}, 7},
		{[]string{"--fail-on", "LOUD"}, 2},
	}
	for _, tt := range tests {
		args := append([]string{"--db", db, "image", "scan", "-q"}, tt.args...)
		_, stderr, code := run(t, append(args, "oci:"+img)...)
		if code != tt.code {
			t.Errorf("image scan %v: exit %d; want %d\n%s", tt.args, code, tt.code, stderr)
		}
	}
	for _, format := range []string{"sarif", "cyclonedx", "table"} {
		stdout, stderr, code := run(t, "--db", db, "image", "scan", "-o", format, "oci:"+img)
		if code != 0 || !strings.Contains(stdout, "CVE-2021-33203") {
			t.Errorf("image scan -o %s: exit %d, no CVE-2021-33203: %s", format, code, stderr)
		}
	}

	_, stderr, code = run(t, "--db", filepath.Join(t.TempDir(), "none.db"), "image", "scan", "oci:"+img)
	if code != 1 || !strings.Contains(stderr, "db import") {
		t.Errorf("scan without a database: exit %d, stderr %q; want 1 and a hint", code, stderr)
	}
}

// TestFSScan scans the example application's source tree (its lock files)
// with the example database.
func TestFSScan(t *testing.T) {
	db := filepath.Join(t.TempDir(), "vuln.db")
	if _, stderr, code := run(t, "--db", db, "-q", "db", "import", filepath.Join(repoRoot(), "examples", "osv")); code != 0 {
		t.Fatalf("db import: exit %d: %s", code, stderr)
	}
	app := filepath.Join(repoRoot(), "examples", "image", "rootfs", "app")
	stdout, stderr, code := run(t, "--db", db, "fs", "scan", "-o", "json", app)
	if code != 0 {
		t.Fatalf("fs scan: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"CVE-2021-33203"`) || strings.Contains(stdout, "KS-IMG-") || !strings.Contains(stdout, `"kind": "Directory"`) {
		t.Errorf("fs scan output lacks the Django CVE, has image rules, or is not about a directory:\n%.2000s", stdout)
	}
	if _, _, code := run(t, "--db", db, "fs", "scan", "-q", "--fail-on", "UNKNOWN", app); code != 3 {
		t.Errorf("fs scan --fail-on UNKNOWN: exit %d; want 3", code)
	}
}
