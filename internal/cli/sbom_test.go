package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/report"
)

// runCLI runs kubeshield with args and returns stdout, stderr and the exit
// code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func sbomJSON(t *testing.T, args ...string) report.InventoryDocument {
	t.Helper()
	out, errOut, code := runCLI(t, append([]string{"sbom", "-o", "json", "-q"}, args...)...)
	if code != 0 {
		t.Fatalf("kubeshield sbom %v: exit %d\n%s", args, code, errOut)
	}
	var doc report.InventoryDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("parse sbom json: %v", err)
	}
	return doc
}

// pkgKeys reduces packages to comparable lines, without layer digests
// (a directory has none).
func pkgKeys(pkgs []inventory.Package) []string {
	var out []string
	for _, p := range pkgs {
		var locs []string
		for _, l := range p.Locations {
			locs = append(locs, l.Path)
		}
		src := ""
		if p.Source != nil {
			src = p.Source.Name + "@" + p.Source.Version
		}
		out = append(out, strings.Join([]string{p.Type, p.Name, p.Version, p.Arch, src, p.PURL, strings.Join(locs, ",")}, " "))
	}
	return out
}

// TestSBOMDebianAllSources scans the debootstrap Debian 12 rootfs as a
// directory, an OCI layout, a docker save tarball and an image in a
// registry on 127.0.0.1: all four must list the same packages, and the dpkg
// packages must equal what dpkg-query prints for that root.
func TestSBOMDebianAllSources(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Debian image; skipped in -short mode")
	}
	rootfs := fixture.DebianRootfs(t)
	imgs := fixture.ImagesFromDir(t, "debian12", rootfs)
	host := fixture.Registry(t)
	ref := fixture.Push(t, host, "debian:12", imgs.Image)

	sources := map[string]string{
		"dir":      "dir:" + rootfs,
		"layout":   "oci:" + imgs.Layout,
		"tarball":  imgs.Tarball,
		"registry": ref,
	}
	docs := map[string]report.InventoryDocument{}
	for name, src := range sources {
		docs[name] = sbomJSON(t, src)
	}
	want := pkgKeys(docs["dir"].Packages)
	if len(want) < 50 {
		t.Fatalf("dir: only %d packages", len(want))
	}
	for name, doc := range docs {
		if diff := cmp.Diff(want, pkgKeys(doc.Packages)); diff != "" {
			t.Errorf("%s lists other packages than dir (-dir +%s):\n%s", name, name, diff)
		}
		if doc.Distro == nil || doc.Distro.ID != "debian" || doc.Distro.VersionID != "12" {
			t.Errorf("%s: distro = %+v; want debian 12", name, doc.Distro)
		}
	}
	for name, doc := range docs {
		if name == "dir" {
			continue
		}
		for _, p := range doc.Packages {
			if len(p.Locations) == 0 || p.Locations[0].Layer == "" || p.Locations[0].Layer != doc.Subject.Layers[0] {
				t.Errorf("%s: package %s has layer %+v; want %s", name, p.Name, p.Locations, doc.Subject.Layers[0])
				break
			}
		}
	}

	// The oracle: dpkg-query on the same root.
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg-query not installed")
	}
	out, err := exec.Command("dpkg-query", "--admindir", filepath.Join(rootfs, "var/lib/dpkg"), "-W",
		"-f", "${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	wantDpkg := strings.Split(strings.TrimSpace(string(out)), "\n")
	slices.Sort(wantDpkg)
	var got []string
	for _, p := range docs["dir"].Packages {
		if p.Type == "deb" {
			got = append(got, strings.Join([]string{p.Name, p.Version, p.Arch, p.Source.Name, p.Source.Version}, " "))
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(wantDpkg, got); diff != "" {
		t.Errorf("dpkg packages differ from dpkg-query (-dpkg-query +kubeshield):\n%s", diff)
	}
}
