package admission

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/vulndb"
)

// TestImageGates scans the bundled example image (Django 3.2.0 and other
// old packages, a shell, a package manager, root) from a registry on
// 127.0.0.1 against a database built from the bundled OSV slice: the first
// request is answered once the scan is done, later ones from the cache; a
// request whose deadline is shorter than the scan fails (the failure
// policy decides) and the scan finishes in the background.
func TestImageGates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := vulndb.Build(ctx, filepath.Join(dir, "vuln.db"), nil, func(w *vulndb.Writer) error {
		_, err := w.Import(ctx, vulndb.Source{Name: "examples", Path: "../../examples/osv"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	layer := filepath.Join(dir, "layer.tar.gz")
	if err := fixture.TarGz("../../examples/image/rootfs", layer); err != nil {
		t.Fatal(err)
	}
	img, err := fixture.ImageFromLayers(layer)
	if err != nil {
		t.Fatal(err)
	}
	host := fixture.Registry(t)
	ref := fixture.Push(t, host, "shop/example:1", img)

	cfg := func(extra string) string {
		return "apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\nimageGates:\n  db: vuln.db\n  insecure: [\"" + host + "\"]\n" + extra
	}
	e := engineOf(t, cfg("  severity: HIGH\n  minimal: [shell, root]\n"), dir, nil)
	start := time.Now()
	d := e.Admit(ctx, create(t, "", "v1", "Pod", "pods", pod(ref, false)))
	cold := time.Since(start)
	if d.Allowed {
		t.Fatalf("example image admitted: %+v", d.Results)
	}
	for _, want := range []string{"fixable vulnerabilities at or above HIGH", "contains a shell (KS-IMG-002)", "runs as root (KS-IMG-001)"} {
		if !strings.Contains(d.Message, want) {
			t.Errorf("message lacks %q: %s", want, d.Message)
		}
	}
	start = time.Now()
	d2 := e.Admit(ctx, create(t, "", "v1", "Pod", "pods", pod(ref, false)))
	if warm := time.Since(start); d2.Message != d.Message || warm > cold {
		t.Errorf("second request: %s in %v (first %v); want the same answer from the cache", d2.Message, warm, cold)
	}
	t.Logf("cold %v, warm %v", cold, time.Since(start))

	// The image holds apt and dpkg: a package-manager gate denies it.
	if d := engineOf(t, cfg("  minimal: [packageManager]\n"), dir, nil).Admit(ctx, create(t, "", "v1", "Pod", "pods", pod(ref, false))); d.Allowed {
		t.Error("package manager gate: admitted")
	}

	// A deadline shorter than the scan: the policy fails (Ignore admits
	// here) and the scan finishes in the background, into the cache the
	// next configuration shares, which then answers without scanning.
	scans := NewScanCache()
	build := func(extra string) *Engine {
		c, err := ParseConfig([]byte(cfg(extra)))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := c.Bindings(ctx, BuildEnv{Dir: dir, ScanCache: scans})
		if err != nil {
			t.Fatal(err)
		}
		e, err := NewEngine(nil, nil, bs...)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	other := fixture.Push(t, host, "shop/example:2", img) // same digest, another tag
	d = build("  severity: HIGH\n  failurePolicy: Ignore\n  timeout: 1ms\n").Admit(ctx, create(t, "", "v1", "Pod", "pods", pod(other, false)))
	if !d.Allowed || d.AuditAnnotations["imageGates.failed-open"] == "" {
		t.Errorf("scan past the deadline: %+v; want admitted by the failure policy", d)
	}
	d = build("  severity: HIGH\n").Admit(ctx, create(t, "", "v1", "Pod", "pods", pod(other, false)))
	if d.Allowed || !strings.Contains(d.Message, "at or above HIGH") {
		t.Errorf("answer after the background scan: %+v", d)
	}
	scans.mu.Lock()
	n := len(scans.results)
	scans.mu.Unlock()
	if n != 1 {
		t.Errorf("%d scans in the shared cache; want 1 (one digest)", n)
	}

	if _, err := ParseConfig([]byte(cfg("  minimal: [tiny]\n"))); err == nil || !strings.Contains(err.Error(), "unknown check") {
		t.Errorf("unknown minimal check: %v", err)
	}
	if _, err := ParseConfig([]byte(cfg(""))); err == nil {
		t.Error("no gate at all: no error")
	}
}
