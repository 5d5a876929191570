package rpmdb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kubeshield/kubeshield/internal/rpmdb"
	"github.com/kubeshield/kubeshield/internal/rpmdb/rpmdbtest"
)

// fullFormat adds the optional tags to rpmdbtest.QueryFormat.
// ("[...]" would be an rpm array iterator).
const fullFormat = "%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE} %{ARCH} %{SOURCERPM} |%{LICENSE}|%{VENDOR}|%{MODULARITYLABEL}|\n"

// line formats a package as rpm prints fullFormat, or QueryFormat when
// short is true.
func line(p rpmdb.Package, short bool) string {
	none := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	s := fmt.Sprintf("%s %d %s %s %s %s", p.Name, p.Epoch, p.Version, p.Release, none(p.Arch), none(p.SourceRPM))
	if short {
		return s
	}
	return fmt.Sprintf("%s |%s|%s|%s|", s, none(p.License), none(p.Vendor), none(p.ModularityLabel))
}

func lines(pkgs []rpmdb.Package, short bool) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, line(p, short))
	}
	slices.Sort(out)
	return out
}

// TestReadersAgreeWithRPM reads the databases that rpmdbtest builds with the
// real rpm tools and compares what each reader finds with what rpm -qa
// prints. Debian's rpm cannot read NDB, so the NDB database, which holds the
// same headers, is compared with rpm's listing of the SQLite one.
func TestReadersAgreeWithRPM(t *testing.T) {
	f := rpmdbtest.Build(t)
	sqliteWant := rpmdbtest.Query(t, f.SQLite, "sqlite", fullFormat)
	sqliteBlobs, _, err := rpmdb.ReadFile(context.Background(), f.SQLite)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", f.SQLite, err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		backend string // for rpm; empty when rpm cannot read it
		format  rpmdb.Format
	}{
		{"sqlite", f.SQLite, "sqlite", rpmdb.SQLite},
		{"ndb", f.NDB, "", rpmdb.NDB},
		{"bdb", f.BerkeleyDB, "bdb_ro", rpmdb.BerkeleyDB},
		{"bdb big-endian", f.BerkeleyDBBigEndian, "bdb_ro", rpmdb.BerkeleyDB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := sqliteWant
			if tc.backend != "" {
				want = rpmdbtest.Query(t, tc.path, tc.backend, fullFormat)
			}
			blobs, format, err := rpmdb.ReadFile(context.Background(), tc.path)
			if err != nil {
				t.Fatalf("ReadFile(%s): %v", tc.path, err)
			}
			if format != tc.format {
				t.Errorf("ReadFile(%s) format = %v; want %v", tc.path, format, tc.format)
			}
			pkgs, err := rpmdb.Packages(blobs)
			if err != nil {
				t.Fatalf("Packages: %v", err)
			}
			if diff := cmp.Diff(want, lines(pkgs, false)); diff != "" {
				t.Errorf("packages differ from rpm -qa (-rpm +ours):\n%s", diff)
			}
			// The same header blobs under the same instances.
			if diff := cmp.Diff(sqliteBlobs, blobs); diff != "" {
				t.Errorf("blobs differ from those of the SQLite database (-sqlite +%s):\n%s", tc.name, diff)
			}
		})
	}
}

// TestFixturePackages checks every field of the packages in the fixture
// databases.
func TestFixturePackages(t *testing.T) {
	f := rpmdbtest.Build(t)
	want := []rpmdb.Package{
		{
			Name: "epochal", Epoch: 7, HasEpoch: true, Version: "2.0", Release: "1.el9", Arch: "x86_64",
			SourceRPM: "epochal-2.0-1.el9.src.rpm", License: "GPL-2.0-or-later AND (MIT OR Apache-2.0)", Vendor: "Kubeshield Test",
		},
		{
			Name: "epochal-libs", Epoch: 7, HasEpoch: true, Version: "2.0", Release: "1.el9", Arch: "x86_64",
			SourceRPM: "epochal-2.0-1.el9.src.rpm", License: "LGPL-2.1-or-later", Vendor: "Kubeshield Test",
		},
		// rpm --import records the source rpm as the string "(none)".
		{Name: "gpg-pubkey", Version: "348d549d", Release: "6b09c169", SourceRPM: "(none)", License: "pubkey"},
		{
			Name: "hello", Version: "1.2.3", Release: "4.ks1", Arch: "noarch",
			SourceRPM: "hello-1.2.3-4.ks1.src.rpm", License: "MIT", Vendor: "Kubeshield Test",
			ModularityLabel: "hello:1:20240101:abcdef",
		},
		{
			Name: "zero-epoch", HasEpoch: true, Version: "0.9", Release: "3", Arch: "x86_64",
			SourceRPM: "zero-epoch-0.9-3.src.rpm", License: "BSD-3-Clause",
		},
	}
	for _, path := range []string{f.SQLite, f.NDB, f.BerkeleyDB, f.BerkeleyDBBigEndian} {
		blobs, _, err := rpmdb.ReadFile(context.Background(), path)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", path, err)
		}
		got, err := rpmdb.Packages(blobs)
		if err != nil {
			t.Fatalf("Packages(%s): %v", path, err)
		}
		slices.SortFunc(got, func(a, b rpmdb.Package) int { return strings.Compare(a.Name, b.Name) })
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(rpmdb.Package{}, "Instance")); diff != "" {
			t.Errorf("Packages(%s) mismatch (-want +got):\n%s", path, diff)
		}
	}
}

// debianSamples is where Debian's golang-github-knqyf263-go-rpmdb-dev
// package installs the Berkeley DB databases of real CentOS 5 to 8 images.
const debianSamples = "/usr/share/gocode/src/github.com/knqyf263/go-rpmdb/pkg/testdata"

// TestRealBerkeleyDB compares the Berkeley DB reader with rpm on databases
// of real CentOS images, when a Debian package provides them.
func TestRealBerkeleyDB(t *testing.T) {
	var paths []string
	for _, name := range []string{"centos5-plain", "centos6-plain", "centos7-python35", "centos8-modularitylabel"} {
		p := filepath.Join(debianSamples, name, "Packages")
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		t.Skipf("no real CentOS databases in %s (apt-get install golang-github-knqyf263-go-rpmdb-dev)", debianSamples)
	}
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			want := rpmdbtest.Query(t, path, "bdb_ro", fullFormat)
			blobs, _, err := rpmdb.ReadFile(context.Background(), path)
			if err != nil {
				t.Fatalf("ReadFile(%s): %v", path, err)
			}
			pkgs, err := rpmdb.Packages(blobs)
			if err != nil {
				t.Fatalf("Packages(%s): %v", path, err)
			}
			if diff := cmp.Diff(want, lines(pkgs, false)); diff != "" {
				t.Errorf("packages differ from rpm -qa (-rpm +ours):\n%s", diff)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	f := rpmdbtest.Build(t)
	for _, tc := range []struct {
		path string
		want rpmdb.Format
	}{
		{f.SQLite, rpmdb.SQLite},
		{f.NDB, rpmdb.NDB},
		{f.BerkeleyDB, rpmdb.BerkeleyDB},
		{f.BerkeleyDBBigEndian, rpmdb.BerkeleyDB},
	} {
		file, err := os.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		info, err := file.Stat()
		if err != nil {
			t.Fatal(err)
		}
		got, err := rpmdb.Detect(file, info.Size())
		file.Close()
		if err != nil || got != tc.want {
			t.Errorf("Detect(%s) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
}

func TestDetectUnknown(t *testing.T) {
	for _, data := range []string{"", "Rpm", "hello, world", strings.Repeat("\x00", 4096), "SQLite format 2\x00 and more"} {
		_, err := rpmdb.Detect(strings.NewReader(data), int64(len(data)))
		if !errors.Is(err, rpmdb.ErrUnknownFormat) {
			t.Errorf("Detect(%q) error = %v; want ErrUnknownFormat", data, err)
		}
	}
}

func TestReadSQLiteNotRPM(t *testing.T) {
	// An SQLite database without a Packages table: rpmdbtest's SQLite file
	// cannot be altered, so make one with the driver through ReadSQLite's
	// own error path on a file that is not a database at all, and on an
	// empty database.
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.sqlite")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := rpmdb.ReadSQLite(context.Background(), empty); !errors.Is(err, rpmdb.ErrUnknownFormat) {
		t.Errorf("ReadSQLite(empty file) error = %v; want ErrUnknownFormat", err)
	}
	garbage := filepath.Join(dir, "garbage.sqlite")
	if err := os.WriteFile(garbage, []byte("SQLite format 3\x00"+strings.Repeat("garbage!", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := rpmdb.ReadSQLite(context.Background(), garbage); err == nil {
		t.Errorf("ReadSQLite(garbage) succeeded; want an error")
	}
}

func TestEVR(t *testing.T) {
	for _, tc := range []struct {
		p    rpmdb.Package
		want string
	}{
		{rpmdb.Package{Version: "1.0", Release: "2"}, "1.0-2"},
		{rpmdb.Package{Version: "1.0", Release: "2", HasEpoch: true}, "0:1.0-2"},
		{rpmdb.Package{Version: "1.0", Release: "2", Epoch: 12, HasEpoch: true}, "12:1.0-2"},
	} {
		if got := tc.p.EVR(); got != tc.want {
			t.Errorf("%+v.EVR() = %q; want %q", tc.p, got, tc.want)
		}
	}
}
