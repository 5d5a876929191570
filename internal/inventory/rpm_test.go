package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/rpmdb"
	"github.com/kubeshield/kubeshield/internal/rpmdb/rpmdbtest"
)

// wantRPM is what the rpm cataloger finds in rpmdbtest's databases (all of
// them hold the same packages) at location, for a distribution with the
// purl namespace ns and the purl distro qualifier dq.
func wantRPM(location string, eco Ecosystem, ns, dq string) []Package {
	distro := ""
	if dq != "" {
		distro = "&distro=" + dq
	}
	loc := []Location{{Path: location}}
	pkgs := []Package{
		{
			Name: "epochal", Version: "7:2.0-1.el9", Ecosystem: eco, Type: "rpm", Arch: "x86_64",
			PURL:      fmt.Sprintf("pkg:rpm/%s/epochal@2.0-1.el9?arch=x86_64%s&epoch=7&upstream=epochal-2.0-1.el9.src.rpm", ns, distro),
			Source:    &Source{Name: "epochal", Version: "7:2.0-1.el9"},
			Licenses:  []string{"GPL-2.0-or-later AND (MIT OR Apache-2.0)"},
			Locations: loc,
		},
		{
			Name: "epochal-libs", Version: "7:2.0-1.el9", Ecosystem: eco, Type: "rpm", Arch: "x86_64",
			PURL:      fmt.Sprintf("pkg:rpm/%s/epochal-libs@2.0-1.el9?arch=x86_64%s&epoch=7&upstream=epochal-2.0-1.el9.src.rpm", ns, distro),
			Source:    &Source{Name: "epochal", Version: "7:2.0-1.el9"},
			Licenses:  []string{"LGPL-2.1-or-later"},
			Locations: loc,
		},
		{
			Name: "hello", Version: "1.2.3-4.ks1", Ecosystem: eco, Type: "rpm", Arch: "noarch",
			PURL:      fmt.Sprintf("pkg:rpm/%s/hello@1.2.3-4.ks1?arch=noarch%s&upstream=hello-1.2.3-4.ks1.src.rpm", ns, distro),
			Source:    &Source{Name: "hello", Version: "1.2.3-4.ks1"},
			Licenses:  []string{"MIT"},
			Locations: loc,
		},
		{
			Name: "zero-epoch", Version: "0:0.9-3", Ecosystem: eco, Type: "rpm", Arch: "x86_64",
			PURL:      fmt.Sprintf("pkg:rpm/%s/zero-epoch@0.9-3?arch=x86_64%s&epoch=0&upstream=zero-epoch-0.9-3.src.rpm", ns, distro),
			Source:    &Source{Name: "zero-epoch", Version: "0:0.9-3"},
			Licenses:  []string{"BSD-3-Clause"},
			Locations: loc,
		},
	}
	Sort(pkgs)
	return pkgs
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRPM runs the conformance check on each database format at each of its
// usual places, for several distributions.
func TestRPM(t *testing.T) {
	f := rpmdbtest.Build(t)
	for _, tc := range []struct {
		name   string
		db     string
		path   string
		distro *Distro
		eco    Ecosystem
		ns, dq string
	}{
		{"rhel sqlite", f.SQLite, "var/lib/rpm/rpmdb.sqlite", &Distro{ID: "rhel", VersionID: "9.4"}, RedHat, "rhel", "rhel-9.4"},
		{"fedora sqlite", f.SQLite, "usr/lib/sysimage/rpm/rpmdb.sqlite", &Distro{ID: "fedora", VersionID: "40"}, RedHat, "fedora", "fedora-40"},
		{"centos bdb", f.BerkeleyDB, "var/lib/rpm/Packages", &Distro{ID: "centos", VersionID: "7"}, RedHat, "centos", "centos-7"},
		{"amazon bdb big-endian", f.BerkeleyDBBigEndian, "var/lib/rpm/Packages", &Distro{ID: "amzn", VersionID: "2"}, RedHat, "amzn", "amzn-2"},
		{"alma bdb", f.BerkeleyDB, "usr/lib/sysimage/rpm/Packages", &Distro{ID: "almalinux", VersionID: "8.10"}, AlmaLinux, "almalinux", "almalinux-8.10"},
		{"rocky sqlite", f.SQLite, "var/lib/rpm/rpmdb.sqlite", &Distro{ID: "rocky", VersionID: "9.3"}, Rocky, "rocky", "rocky-9.3"},
		{"sles ndb", f.NDB, "usr/lib/sysimage/rpm/Packages.db", &Distro{ID: "sles", VersionID: "15.5"}, SUSE, "sles", "sles-15.5"},
		{"sle-micro ndb", f.NDB, "usr/lib/sysimage/rpm/Packages.db", &Distro{ID: "sle-micro", VersionID: "5.5"}, SUSE, "sle-micro", "sle-micro-5.5"},
		{"opensuse ndb", f.NDB, "var/lib/rpm/Packages.db", &Distro{ID: "opensuse-leap", VersionID: "15.6"}, OpenSUSE, "opensuse-leap", "opensuse-leap-15.6"},
		{"no distro", f.SQLite, "var/lib/rpm/rpmdb.sqlite", nil, RedHat, "redhat", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				tc.path:             {Data: readFixture(t, tc.db)},
				"var/lib/rpm/Name":  {Data: []byte("an index rpm does not need")},
				"etc/os-release":    {Data: []byte("ID=whatever\n")},
				"usr/bin/rpm":       {Data: []byte("\x7fELF")},
				"var/lib/rpm/.lock": {Data: nil},
			}
			got := checkCataloger(t, rpm{}, fsys, tc.distro)
			if diff := cmp.Diff(wantRPM(tc.path, tc.eco, tc.ns, tc.dq), got); diff != "" {
				t.Errorf("Catalog mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRPMDir reads every format at once from a directory, through os
// files, which the Berkeley DB and NDB readers read in place.
func TestRPMDir(t *testing.T) {
	f := rpmdbtest.Build(t)
	root := t.TempDir()
	files := map[string]string{
		"var/lib/rpm/Packages":              f.BerkeleyDB,
		"var/lib/rpm/rpmdb.sqlite":          f.SQLite,
		"usr/lib/sysimage/rpm/Packages.db":  f.NDB,
		"usr/lib/sysimage/rpm/rpmdb.sqlite": f.SQLite,
	}
	var want []Package
	for name, src := range files {
		dst := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, readFixture(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, wantRPM(name, RedHat, "rhel", "rhel-9")...)
	}
	Sort(want)
	got := checkCataloger(t, rpm{}, os.DirFS(root), &Distro{ID: "rhel", VersionID: "9"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Catalog mismatch (-want +got):\n%s", diff)
	}
}

// streamFS hides the io.ReaderAt of its files, as a filesystem that can only
// stream would.
type streamFS struct{ fs.FS }

type streamFile struct{ fs.File }

func (s streamFS) Open(name string) (fs.File, error) {
	f, err := s.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return streamFile{f}, nil
}

func TestRPMStreamingFS(t *testing.T) {
	f := rpmdbtest.Build(t)
	for _, tc := range []struct{ db, path string }{
		{f.BerkeleyDB, "var/lib/rpm/Packages"},
		{f.NDB, "usr/lib/sysimage/rpm/Packages.db"},
		{f.SQLite, "var/lib/rpm/rpmdb.sqlite"},
	} {
		fsys := streamFS{fstest.MapFS{tc.path: {Data: readFixture(t, tc.db)}}}
		pkgs, err := rpm{}.Catalog(context.Background(), Input{FS: fsys, Paths: []string{tc.path}})
		if err != nil {
			t.Fatalf("Catalog(%s): %v", tc.path, err)
		}
		Sort(pkgs)
		if diff := cmp.Diff(wantRPM(tc.path, RedHat, "redhat", ""), pkgs); diff != "" {
			t.Errorf("Catalog(%s) mismatch (-want +got):\n%s", tc.path, diff)
		}
	}
}

// TestRPMBadFile checks that a broken database is a FileError and does not
// hide the packages of a good one.
func TestRPMBadFile(t *testing.T) {
	f := rpmdbtest.Build(t)
	bdb := readFixture(t, f.BerkeleyDB)
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"truncated bdb", bdb[:len(bdb)/2], rpmdb.ErrCorrupt},
		{"not a database", []byte("hello, world"), rpmdb.ErrUnknownFormat},
		{"empty", nil, rpmdb.ErrUnknownFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := "usr/lib/sysimage/rpm/rpmdb.sqlite"
			fsys := fstest.MapFS{
				"var/lib/rpm/Packages": {Data: tc.data},
				good:                   {Data: readFixture(t, f.SQLite)},
			}
			got := checkCataloger(t, rpm{}, fsys, nil)
			if diff := cmp.Diff(wantRPM(good, RedHat, "redhat", ""), got); diff != "" {
				t.Errorf("Catalog mismatch (-want +got):\n%s", diff)
			}
			_, err := rpm{}.Catalog(context.Background(), Input{FS: fsys, Paths: []string{"var/lib/rpm/Packages", good}})
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != "var/lib/rpm/Packages" || fe.Cataloger != "rpm" || !errors.Is(err, tc.want) {
				t.Errorf("Catalog error = %v; want a FileError for var/lib/rpm/Packages wrapping %v", err, tc.want)
			}
		})
	}
}

// hugeFS holds one file that says it is larger than maxRPMDB.
type hugeFS struct{}

type hugeFile struct{ fs.File }

type hugeInfo struct{ fs.FileInfo }

func (hugeFS) Open(name string) (fs.File, error) {
	f, err := fstest.MapFS{name: {Data: []byte("SQLite format 3\x00")}}.Open(name)
	return hugeFile{f}, err
}

func (f hugeFile) Stat() (fs.FileInfo, error) {
	info, err := f.File.Stat()
	return hugeInfo{info}, err
}

func (hugeInfo) Size() int64 { return maxRPMDB + 1 }

func TestRPMTooLarge(t *testing.T) {
	_, err := rpm{}.Catalog(context.Background(), Input{FS: hugeFS{}, Paths: []string{"var/lib/rpm/rpmdb.sqlite"}})
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Errorf("Catalog error = %v; want a FileError", err)
	}
}

func TestRPMCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fsys := fstest.MapFS{"var/lib/rpm/Packages": {Data: []byte("x")}}
	_, err := rpm{}.Catalog(ctx, Input{FS: fsys, Paths: []string{"var/lib/rpm/Packages"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Catalog error = %v; want context.Canceled", err)
	}
}

func TestRPMRequired(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"var/lib/rpm/Packages", true},
		{"var/lib/rpm/Packages.db", true},
		{"var/lib/rpm/rpmdb.sqlite", true},
		{"usr/lib/sysimage/rpm/Packages", true},
		{"usr/lib/sysimage/rpm/Packages.db", true},
		{"usr/lib/sysimage/rpm/rpmdb.sqlite", true},
		{"var/lib/rpm/Name", false},
		{"var/lib/rpm/Index.db", false},
		{"var/lib/rpm/rpmdb.sqlite-wal", false},
		{"var/lib/rpm/Packages.bak", false},
		{"root/var/lib/rpm/Packages", false},
		{"/var/lib/rpm/Packages", false},
		{"Packages", false},
	} {
		if got := (rpm{}).Required(tc.path, 0o644); got != tc.want {
			t.Errorf("Required(%q) = %v; want %v", tc.path, got, tc.want)
		}
	}
}

func TestParseSourceRPM(t *testing.T) {
	for _, tc := range []struct {
		in, name, vr string
		ok           bool
	}{
		{"bash-5.1.8-6.el9.src.rpm", "bash", "5.1.8-6.el9", true},
		{"python-setuptools-53.0.0-12.el9.src.rpm", "python-setuptools", "53.0.0-12.el9", true},
		{"gcc11-11.2.1+git610-1.3.9.src.rpm", "gcc11", "11.2.1+git610-1.3.9", true},
		{"kernel-5.14.0-1.nosrc.rpm", "kernel", "5.14.0-1", true},
		{"", "", "", false},
		{"(none)", "", "", false},
		{"bash.src.rpm", "", "", false},
		{"bash-5.src.rpm", "", "", false},
		{"-5-1.src.rpm", "", "", false},
		{"bash--1.src.rpm", "", "", false},
		{"bash-5-.src.rpm", "", "", false},
		{"bash-5.1-1.x86_64.rpm", "", "", false},
	} {
		name, vr, ok := parseSourceRPM(tc.in)
		if name != tc.name || vr != tc.vr || ok != tc.ok {
			t.Errorf("parseSourceRPM(%q) = %q, %q, %v; want %q, %q, %v", tc.in, name, vr, ok, tc.name, tc.vr, tc.ok)
		}
	}
}

func TestRPMEcosystem(t *testing.T) {
	for _, tc := range []struct {
		id  string
		ns  string
		eco Ecosystem
	}{
		{"", "redhat", RedHat},
		{"rhel", "rhel", RedHat},
		{"centos", "centos", RedHat},
		{"fedora", "fedora", RedHat},
		{"amzn", "amzn", RedHat},
		{"ol", "ol", RedHat},
		{"almalinux", "almalinux", AlmaLinux},
		{"rocky", "rocky", Rocky},
		{"sles", "sles", SUSE},
		{"sled", "sled", SUSE},
		{"sle-micro", "sle-micro", SUSE},
		{"opensuse-leap", "opensuse-leap", OpenSUSE},
		{"opensuse-tumbleweed", "opensuse-tumbleweed", OpenSUSE},
	} {
		var d *Distro
		if tc.id != "" {
			d = &Distro{ID: tc.id}
		}
		ns, eco := rpmEcosystem(d)
		if ns != tc.ns || eco != tc.eco {
			t.Errorf("rpmEcosystem(%q) = %q, %q; want %q, %q", tc.id, ns, eco, tc.ns, tc.eco)
		}
	}
}
