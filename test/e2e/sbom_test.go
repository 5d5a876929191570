// Package e2e runs whole flows through the built kubeshield binary.
package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// kubeshield builds the binary once per test run, into a directory
// TestMain removes.
func kubeshield(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kubeshield-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kubeshield")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/kubeshield")
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build kubeshield: %v", buildErr)
	}
	return binPath
}

// run runs the binary and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(kubeshield(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// exampleImage builds the bundled example image the quick start scans.
func exampleImage(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "app")
	cmd := exec.Command("go", "run", "./hack/exampleimage", "-src", "examples/image", "-o", out)
	cmd.Dir = repoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build example image: %v\n%s", err, b)
	}
	return out
}

func TestQuickStart(t *testing.T) {
	img := exampleImage(t)
	stdout, stderr, code := run(t, "sbom", "oci:"+img)
	if code != 0 {
		t.Fatalf("sbom exit %d: %s", code, stderr)
	}
	for _, want := range []string{"NAME", "libc6", "2.36-9+deb12u14", "lodash", "4.17.20", "Django", "3.2.0"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}

	stdout, stderr, code = run(t, "sbom", "-o", "json", "oci:"+img)
	if code != 0 {
		t.Fatalf("sbom -o json exit %d: %s", code, stderr)
	}
	var doc struct {
		Schema string
		Facts  struct {
			RunsAsRoot      bool     `json:"runsAsRoot"`
			Shells          []string `json:"shells"`
			PackageManagers []string `json:"packageManagers"`
			SecretEnv       []string `json:"secretEnv"`
			SpecialFiles    []struct{ Path, Mode string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "kubeshield.sbom/v1" || !doc.Facts.RunsAsRoot || len(doc.Facts.Shells) == 0 || len(doc.Facts.PackageManagers) == 0 ||
		len(doc.Facts.SecretEnv) != 1 || len(doc.Facts.SpecialFiles) != 1 || doc.Facts.SpecialFiles[0].Mode != "4755" {
		t.Errorf("facts = %+v", doc.Facts)
	}
	if strings.Contains(stdout, "example-not-a-real-secret") || strings.Contains(stderr, "example-not-a-real-secret") {
		t.Error("the secret environment value was printed")
	}

	for _, format := range []string{"cyclonedx", "spdx"} {
		stdout, stderr, code = run(t, "sbom", "-o", format, "oci:"+img)
		if code != 0 || !json.Valid([]byte(stdout)) {
			t.Errorf("sbom -o %s: exit %d, valid JSON %v: %s", format, code, json.Valid([]byte(stdout)), stderr)
		}
	}
}

func TestExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.tar")
	empty := filepath.Join(t.TempDir(), "empty.tar")
	os.WriteFile(empty, []byte("not a tar at all"), 0o644)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"version", "-o", "json"}, 0, ""},
		{[]string{"sbom"}, 2, "accepts 1 arg"},
		{[]string{"sbom", "--no-such-flag", "x"}, 2, "unknown flag"},
		{[]string{"nosuchcommand"}, 2, "unknown command"},
		{[]string{"sbom", "-o", "sarif", "dir:/nonexistent"}, 2, "--output"},
		{[]string{"sbom", "--catalogers", "nope", "dir:/nonexistent"}, 2, "unknown cataloger"},
		{[]string{"sbom", "--log-level", "loud", "dir:/x"}, 2, "--log-level"},
		{[]string{"sbom", "archive:" + missing}, 1, "no such file"},
		{[]string{"sbom", "archive:" + empty}, 1, "archive"},
		{[]string{"sbom", "dir:/nonexistent/root"}, 1, "no such file"},
		{[]string{"sbom", "--max-entries", "0", "dir:/x"}, 2, "must be positive"},
	}
	for _, tt := range tests {
		_, stderr, code := run(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("kubeshield %v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.msg)
		}
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
			t.Errorf("kubeshield %v panicked:\n%s", tt.args, stderr)
		}
	}
}
