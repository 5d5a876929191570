// Package differential compares kubeshield's vulnerability findings with
// those of a peer scanner, osv-scanner v2.5.0, on the same inputs and the
// same OSV data, both offline. Every difference must be explained in the
// allow-list (allow_test.go); the rest fail the test.
package differential

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/image"
	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/peer"
)

// osvScannerVersion is the peer the allow-list was written against.
const osvScannerVersion = "2.5.0"

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// osvScanner returns osv-scanner from the tools cache (see fixture.Tool),
// or skips the test; a version other than the one the allow-list is
// written for also skips it.
func osvScanner(t *testing.T) string {
	t.Helper()
	p := fixture.Tool(t, "osv-scanner", "go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v"+osvScannerVersion)
	out, err := exec.Command(p, "--version").Output()
	if err != nil || !strings.Contains(string(out), "osv-scanner version: "+osvScannerVersion) {
		t.Skipf("%s is not osv-scanner %s (%q): the allow-list is written for that version", p, osvScannerVersion, firstLine(out))
	}
	return p
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

// sharedData returns ../shared/data/osv beside the clone, or skips.
func sharedData(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(), "..", "shared", "data", "osv")
	if _, err := os.Stat(filepath.Join(dir, "Debian", "all.zip")); err != nil {
		t.Skipf("shared OSV data absent (%v): CI puts shared/ beside the clone", err)
	}
	return dir
}

// TestOSVScanner scans four inputs with kubeshield and osv-scanner on the
// same OSV data and compares the vulnerabilities found per package:
//
//   - debian: the debootstrap Debian 12 minbase image (docker save tarball),
//     `image scan archive:` against `scan image --archive`. The shared
//     Debian records stop at Debian 11, so the data both tools get adds a
//     Debian:12 copy of every Debian:11 entry and five synthetic records per
//     installed source package around its installed version (debian_data_test.go).
//   - go: a Go binary linking old golang.org/x modules (testdata/gobin),
//     `image scan dir:` against `scan source --experimental-plugins go/binary`.
//   - npm: a package-lock.json v3 (testdata/node), against `scan source`.
//   - python: a pinned requirements.txt (testdata/python), against `scan source`.
//
// kubeshield merges records that alias one another into one finding;
// osv-scanner reports alias groups. A finding and a group match when their
// ID and alias sets meet; every finding without a group and every group
// without a finding is a difference.
func TestOSVScanner(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Debian image and a Go program and runs two scanners; skipped in -short mode")
	}
	osvBin := osvScanner(t)
	shared := sharedData(t)
	ctx := context.Background()
	tmp := t.TempDir()

	ks := filepath.Join(tmp, "kubeshield")
	build := exec.Command("go", "build", "-o", ks, "./cmd/kubeshield")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build kubeshield: %v\n%s", err, out)
	}

	rootfs := fixture.DebianRootfs(t)
	debianImage := fixture.ImagesFromDir(t, "debian12", rootfs)
	debPkgs := debianPackages(ctx, t, rootfs)

	// The same zips for both: osv-scanner's offline layout
	// (DIR/osv-scalibr/<ecosystem>/all.zip) and kubeshield's db import.
	dbRoot := filepath.Join(tmp, "osvdb")
	var zips []string
	for _, eco := range []string{"Go", "npm", "PyPI"} {
		dst := filepath.Join(dbRoot, "osv-scalibr", eco, "all.zip")
		copyFile(t, filepath.Join(shared, eco, "all.zip"), dst)
		zips = append(zips, dst)
	}
	debZip := filepath.Join(dbRoot, "osv-scalibr", "Debian", "all.zip")
	nRelabelled, nSynthetic := writeDebianData(t, filepath.Join(shared, "Debian", "all.zip"), debZip, debPkgs)
	zips = append(zips, debZip)
	t.Logf("Debian data: %d real records given Debian:12 copies of their Debian:11 entries, %d synthetic records", nRelabelled, nSynthetic)
	db := filepath.Join(tmp, "vuln.db")
	if _, stderr, err := runTool(ks, append([]string{"--db", db, "-q", "db", "import"}, zips...)...); err != nil {
		t.Fatalf("kubeshield db import: %v\n%s", err, stderr)
	}

	goBin := buildGoProgram(t, filepath.Join(tmp, "gobin"))
	testdata := filepath.Join(repoRoot(), "test", "differential", "testdata")
	osvCommon := []string{"--offline", "--local-db-path", dbRoot, "--format", "json", "--all-packages"}
	inputs := []struct {
		name string
		ks   string   // kubeshield image scan SOURCE
		osv  []string // osv-scanner arguments before the common ones
		last string   // osv-scanner's last argument
	}{
		{"debian", "archive:" + debianImage.Tarball, []string{"scan", "image", "--archive"}, debianImage.Tarball},
		{"go", "dir:" + filepath.Dir(goBin), []string{"scan", "source", "--experimental-plugins", "go/binary"}, filepath.Dir(goBin)},
		{"npm", "dir:" + filepath.Join(testdata, "node"), []string{"scan", "source"}, filepath.Join(testdata, "node")},
		{"python", "dir:" + filepath.Join(testdata, "python"), []string{"scan", "source"}, filepath.Join(testdata, "python")},
	}
	used, ran := map[int]bool{}, map[string]bool{}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			ran[in.name] = true
			stdout, stderr, err := runTool(ks, "--db", db, "image", "scan", "--no-image-checks", "-o", "json", in.ks)
			if err != nil {
				t.Fatalf("kubeshield image scan %s: %v\n%s", in.ks, err, stderr)
			}
			ksFound, err := peer.KubeshieldGroups(stdout)
			if err != nil {
				t.Fatal(err)
			}
			args := append(append(slices.Clone(in.osv), osvCommon...), in.last)
			stdout, stderr, err = runTool(osvBin, args...)
			var ee *exec.ExitError
			if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: vulnerabilities found
				t.Fatalf("osv-scanner %v: %v\n%s", args, err, stderr)
			}
			osvFound, err := peer.OSVScannerGroups(stdout)
			if err != nil {
				t.Fatal(err)
			}
			diffs, info := peer.Compare(ksFound, osvFound)
			unexplained := 0
			for _, d := range diffs {
				i, why := explain(in.name, d, debPkgs)
				if i >= 0 {
					used[i] = true
				}
				if why == "" {
					unexplained++
					t.Errorf("only %s: %s %s", d.Side, d.Package, strings.Join(d.IDs, " "))
					continue
				}
				t.Logf("allowed: only %s: %s %s (%s)", d.Side, d.Package, strings.Join(d.IDs, " "), why)
			}
			for _, s := range info {
				t.Logf("grouping: %s", s)
			}
			t.Logf("%s: kubeshield %d findings in %d packages, osv-scanner %d groups in %d packages; %d differences, %d unexplained",
				in.name, ksFound.Count(), len(ksFound), osvFound.Count(), osvFound.Vulnerable(), len(diffs), unexplained)
		})
	}
	if !t.Failed() {
		for i, a := range allowList {
			if ran[a.input] && !used[i] {
				t.Errorf("allow-list entry no longer needed (remove it): %+v", a)
			}
		}
	}
}

// runTool runs bin and returns its stdout, stderr and error.
func runTool(bin string, args ...string) ([]byte, string, error) {
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.Bytes(), stderr.String(), err
}

// buildGoProgram builds testdata/gobin into dir and returns the binary.
func buildGoProgram(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "vulnapp")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = filepath.Join(repoRoot(), "test", "differential", "testdata", "gobin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/gobin (needs its modules from the Go module proxy or the module cache): %v\n%s", err, out)
	}
	return bin
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// debPackage is an installed Debian binary package and its source.
type debPackage struct {
	name, version             string
	sourceName, sourceVersion string
}

// debianPackages catalogs the rootfs's dpkg database.
func debianPackages(ctx context.Context, t *testing.T, rootfs string) []debPackage {
	t.Helper()
	img, err := image.Open(ctx, image.Source{Kind: image.Dir, Ref: rootfs}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var cats []inventory.Cataloger
	for _, c := range inventory.Catalogers() {
		if c.Name() == "dpkg" {
			cats = append(cats, c)
		}
	}
	res, err := inventory.Run(ctx, img.FS, cats)
	if err != nil {
		t.Fatal(err)
	}
	var out []debPackage
	for _, p := range res.Packages {
		d := debPackage{name: p.Name, version: p.Version, sourceName: p.Name, sourceVersion: p.Version}
		if p.Source != nil {
			d.sourceName, d.sourceVersion = p.Source.Name, p.Source.Version
		}
		out = append(out, d)
	}
	if len(out) < 50 {
		t.Fatalf("only %d dpkg packages in %s", len(out), rootfs)
	}
	return out
}
