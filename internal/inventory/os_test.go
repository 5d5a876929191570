package inventory

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestDpkg(t *testing.T) {
	debian12 := &Distro{ID: "debian", VersionID: "12", VersionCodename: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"}
	tests := []struct {
		dir      string
		distro   *Distro
		count    int
		pick     string // a package to check in full
		want     Package
		problems int
	}{
		{
			dir: "testdata/dpkg/debian12", distro: debian12, count: 88, pick: "bash",
			want: Package{
				Name: "bash", Version: "5.2.15-2+b13", Ecosystem: Debian, Type: "deb", Arch: "amd64",
				PURL:      "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
				Source:    &Source{Name: "bash", Version: "5.2.15-2"},
				Locations: []Location{{Path: "var/lib/dpkg/status"}},
			},
		},
		{
			dir: "testdata/dpkg/debian12", distro: debian12, count: 88, pick: "libc6",
			want: Package{
				Name: "libc6", Version: "2.36-9+deb12u14", Ecosystem: Debian, Type: "deb", Arch: "amd64",
				PURL:      "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc",
				Source:    &Source{Name: "glibc", Version: "2.36-9+deb12u14"},
				Locations: []Location{{Path: "var/lib/dpkg/status"}},
			},
		},
		{
			dir: "testdata/dpkg/distroless", distro: debian12, count: 4, pick: "tzdata",
			want: Package{
				Name: "tzdata", Version: "2026b-0+deb12u1", Ecosystem: Debian, Type: "deb", Arch: "all",
				PURL:      "pkg:deb/debian/tzdata@2026b-0%2Bdeb12u1?arch=all&distro=debian-12",
				Source:    &Source{Name: "tzdata", Version: "2026b-0+deb12u1"},
				Locations: []Location{{Path: "var/lib/dpkg/status.d/tzdata"}},
			},
		},
		{
			// config-files and not-installed are left out; unpacked stays;
			// the stanza without a Version is a problem.
			dir: "testdata/dpkg/states", count: 2, pick: "gzip", problems: 1,
			want: Package{
				Name: "gzip", Version: "1.12-1", Ecosystem: Debian, Type: "deb", Arch: "amd64",
				PURL:      "pkg:deb/debian/gzip@1.12-1?arch=amd64",
				Source:    &Source{Name: "gzip", Version: "1.12-1"},
				Locations: []Location{{Path: "var/lib/dpkg/status"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.pick, func(t *testing.T) {
			pkgs := checkCataloger(t, dpkg{}, os.DirFS(tt.dir), tt.distro)
			if len(pkgs) != tt.count {
				t.Errorf("got %d packages; want %d", len(pkgs), tt.count)
			}
			got := find(pkgs, tt.pick)
			if got == nil {
				t.Fatalf("no package %s", tt.pick)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("package %s (-want +got):\n%s", tt.pick, diff)
			}
			_, err := dpkg{}.Catalog(context.Background(), Input{FS: os.DirFS(tt.dir), Paths: []string{"var/lib/dpkg/status"}})
			files, _ := splitFileErrors(err)
			if tt.dir == "testdata/dpkg/states" && len(files) != tt.problems {
				t.Errorf("got %d file errors (%v); want %d", len(files), err, tt.problems)
			}
		})
	}
}

func find(pkgs []Package, name string) *Package {
	for i := range pkgs {
		if pkgs[i].Name == name {
			return &pkgs[i]
		}
	}
	return nil
}

func TestAPK(t *testing.T) {
	fsys := os.DirFS("testdata/apk/alpine")
	distro, err := DetectDistro(fsys)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := checkCataloger(t, apk{}, fsys, distro)
	var got []string
	for _, p := range pkgs {
		got = append(got, p.PURL)
	}
	want := []string{
		"pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3",
		"pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=alpine-3.20.3&upstream=openssl",
		"pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3",
		"pkg:apk/alpine/ssl_client@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3&upstream=busybox",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("purls (-want +got):\n%s", diff)
	}
	if p := find(pkgs, "libcrypto3"); p == nil || p.Source.Name != "openssl" || p.Licenses[0] != "Apache-2.0" || p.Ecosystem != Alpine {
		t.Errorf("libcrypto3 = %+v", p)
	}
}

func TestDetectDistro(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  *Distro
	}{
		{"os-release", map[string]string{"etc/os-release": "ID=ubuntu\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n"},
			&Distro{ID: "ubuntu", VersionID: "24.04", VersionCodename: "noble", PrettyName: "Ubuntu 24.04.1 LTS", IDLike: []string{"debian"}}},
		{"usr lib fallback", map[string]string{"usr/lib/os-release": "ID='rhel'\nVERSION_ID='9.4'\nID_LIKE=\"fedora\"\n"},
			&Distro{ID: "rhel", VersionID: "9.4", IDLike: []string{"fedora"}}},
		{"symlinked os-release", map[string]string{"usr/lib/os-release": "ID=debian\nVERSION_ID=\"12\"\n", "etc/os-release": "@../usr/lib/os-release"},
			&Distro{ID: "debian", VersionID: "12"}},
		{"alpine-release", map[string]string{"etc/alpine-release": "3.19.1\n"},
			&Distro{ID: "alpine", VersionID: "3.19.1", PrettyName: "Alpine Linux v3.19.1"}},
		{"centos-release", map[string]string{"etc/centos-release": "CentOS Linux release 7.9.2009 (Core)\n"},
			&Distro{ID: "centos", VersionID: "7.9.2009", PrettyName: "CentOS Linux release 7.9.2009 (Core)"}},
		{"debian_version", map[string]string{"etc/debian_version": "11.9\n"},
			&Distro{ID: "debian", VersionID: "11", PrettyName: "Debian GNU/Linux 11.9"}},
		{"debian testing", map[string]string{"etc/debian_version": "trixie/sid\n"},
			&Distro{ID: "debian", PrettyName: "Debian GNU/Linux trixie/sid"}},
		{"lsb-release", map[string]string{"etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n"},
			&Distro{ID: "ubuntu", VersionID: "22.04", VersionCodename: "jammy"}},
		{"none", map[string]string{"bin/busybox": "x"}, nil},
		{"escaped quotes", map[string]string{"etc/os-release": "ID=x\nPRETTY_NAME=\"A \\\"quoted\\\" name\"\n"},
			&Distro{ID: "x", PrettyName: `A "quoted" name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, body := range tt.files {
				if target, ok := cutPrefix(body, "@"); ok {
					fsys[name] = &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink}
					continue
				}
				fsys[name] = &fstest.MapFile{Data: []byte(body)}
			}
			got, err := DetectDistro(fsys)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DetectDistro (-want +got):\n%s", diff)
			}
		})
	}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// dirTree writes files to a new directory and returns it as an fs.FS. A body
// "@target" makes a symbolic link to target. Unlike fstest.MapFS, the
// result fails as a real filesystem (and image.FS) does: ELOOP for a
// symbolic link loop, ENOTDIR below a regular file.
func dirTree(t *testing.T, files map[string]string) fs.FS {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := cutPrefix(body, "@"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return os.DirFS(dir)
}

// TestDetectDistroUnreadable: a release file that exists but cannot be read
// is skipped, the next one is tried, and the failure comes back as a
// *FileError beside the distro found.
func TestDetectDistroUnreadable(t *testing.T) {
	const debian = "ID=debian\nVERSION_ID=\"12\"\n"
	debian12 := &Distro{ID: "debian", VersionID: "12"}
	tests := []struct {
		name  string
		fsys  fs.FS
		want  *Distro
		paths []string // of the files that could not be read
		errIs error
	}{
		{
			name:  "os-release too big",
			fsys:  fstest.MapFS{"etc/os-release": {Data: make([]byte, maxReleaseFile+1)}},
			paths: []string{"etc/os-release"},
		},
		{
			name: "os-release too big, usr/lib fallback",
			fsys: fstest.MapFS{
				"etc/os-release":     {Data: make([]byte, maxReleaseFile+1)},
				"usr/lib/os-release": {Data: []byte(debian)},
			},
			want:  debian12,
			paths: []string{"etc/os-release"},
		},
		{
			name: "os-release a directory",
			fsys: fstest.MapFS{
				"etc/os-release":     {Mode: fs.ModeDir | 0o755},
				"usr/lib/os-release": {Data: []byte(debian)},
			},
			want:  debian12,
			paths: []string{"etc/os-release"},
		},
		{
			name: "os-release a directory with files",
			fsys: fstest.MapFS{
				"etc/os-release/x":   {Data: []byte("ID=evil\n")},
				"etc/debian_version": {Data: []byte("11.9\n")},
			},
			want:  &Distro{ID: "debian", VersionID: "11", PrettyName: "Debian GNU/Linux 11.9"},
			paths: []string{"etc/os-release"},
		},
		{
			name: "FIFOs",
			fsys: fstest.MapFS{
				"etc/os-release":     {Mode: fs.ModeNamedPipe | 0o644},
				"usr/lib/os-release": {Mode: fs.ModeNamedPipe | 0o644},
				"etc/alpine-release": {Data: []byte("3.20.0\n")},
			},
			want:  &Distro{ID: "alpine", VersionID: "3.20.0", PrettyName: "Alpine Linux v3.20.0"},
			paths: []string{"etc/os-release", "usr/lib/os-release"},
		},
		{
			// fstest.MapFS would recurse for ever on a loop: a real directory.
			name: "symlink loop",
			fsys: dirTree(t, map[string]string{
				"etc/os-release":     "@os-release.d",
				"etc/os-release.d":   "@os-release",
				"usr/lib/os-release": debian,
			}),
			want:  debian12,
			paths: []string{"etc/os-release"},
			errIs: syscall.ELOOP,
		},
		{
			// ENOTDIR below a file counts as absent, as not-exist does.
			name: "etc a regular file",
			fsys: dirTree(t, map[string]string{"etc": "not a directory", "usr/lib/os-release": debian}),
			want: debian12,
		},
		{
			name: "etc a regular file, nothing else",
			fsys: dirTree(t, map[string]string{"etc": "not a directory"}),
		},
		{
			name: "etc a regular file in a MapFS",
			fsys: fstest.MapFS{"etc": {Data: []byte("not a directory")}, "usr/lib/os-release": {Data: []byte(debian)}},
			want: debian12,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectDistro(tt.fsys)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DetectDistro distro (-want +got):\n%s", diff)
			}
			fileErrs, rest := splitFileErrors(err)
			if rest != nil {
				t.Fatalf("DetectDistro: error that is not a *FileError: %v", rest)
			}
			var paths []string
			for _, fe := range fileErrs {
				paths = append(paths, fe.Path)
				if fe.Cataloger != "distro" {
					t.Errorf("DetectDistro error %v: Cataloger = %q; want distro", fe, fe.Cataloger)
				}
				if errors.Is(fe, fs.ErrNotExist) {
					t.Errorf("DetectDistro error %v is fs.ErrNotExist; a missing file is no error", fe)
				}
				if tt.errIs != nil && !errors.Is(fe, tt.errIs) {
					t.Errorf("DetectDistro error %v; want %v", fe, tt.errIs)
				}
			}
			if diff := cmp.Diff(tt.paths, paths); diff != "" {
				t.Errorf("DetectDistro unreadable files (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

// TestRunUnreadableRelease: an os-release that cannot be read does not end
// the scan; it becomes a Problem of the "distro" cataloger, and the distro
// comes from the next release file.
func TestRunUnreadableRelease(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/os-release":     {Mode: fs.ModeDir | 0o755},
		"usr/lib/os-release": {Data: []byte("ID=debian\nVERSION_ID=\"12\"\n")},
		"var/lib/dpkg/status": {Data: []byte("Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n\n" +
			"Package: broken\n")},
	}
	res, err := Run(t.Context(), fsys, []Cataloger{dpkg{}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(&Distro{ID: "debian", VersionID: "12"}, res.Distro); diff != "" {
		t.Errorf("Run distro (-want +got):\n%s", diff)
	}
	var got []Problem
	for _, p := range res.Problems {
		if p.Message == "" {
			t.Errorf("Run problem %+v has no message", p)
		}
		got = append(got, Problem{Cataloger: p.Cataloger, Path: p.Path})
	}
	want := []Problem{{Cataloger: "distro", Path: "etc/os-release"}, {Cataloger: "dpkg", Path: "var/lib/dpkg/status"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Run problems, without messages (-want +got):\n%s", diff)
	}
	if len(res.Packages) != 1 || res.Packages[0].Name != "a" {
		t.Errorf("Run packages = %+v; want a", res.Packages)
	}
}

func FuzzDpkgStatus(f *testing.F) {
	for _, p := range []string{"testdata/dpkg/states/var/lib/dpkg/status", "testdata/dpkg/distroless/var/lib/dpkg/status.d/libc6"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parseDpkgStatus(data, "status", nil)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Fatalf("incomplete package %+v", p)
			}
		}
	})
}

func FuzzAPKInstalled(f *testing.F) {
	b, err := os.ReadFile("testdata/apk/alpine/lib/apk/db/installed")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parseAPKInstalled(data, "installed", nil)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Fatalf("incomplete package %+v", p)
			}
		}
	})
}

func FuzzOSRelease(f *testing.F) {
	f.Add([]byte("ID=debian\nVERSION_ID=\"12\"\n"))
	f.Add([]byte("PRETTY_NAME=\"a \\\" b\"\nID='x'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseOSRelease(data)
	})
}

func TestEachFileRecovers(t *testing.T) {
	in := Input{Paths: []string{"a", "b"}}
	pkgs, err := eachFile(context.Background(), in, "test", func(name string) ([]Package, error) {
		if name == "a" {
			var m map[string]int
			//lint:ignore SA5000 the test needs a panic
			m["boom"]++ // a nil map write panics
		}
		return []Package{{Name: name}}, nil
	})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != "a" {
		t.Errorf("eachFile error = %v; want a *FileError for a", err)
	}
	if len(pkgs) != 1 || pkgs[0].Name != "b" {
		t.Errorf("eachFile packages = %+v; want b's", pkgs)
	}
}
