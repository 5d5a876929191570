package inventory

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"debug/pe"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// crateWant is an expected crate.
func crateWant(name, version, purl, location string) Package {
	return Package{
		Name: name, Version: version, Ecosystem: CratesIO, Type: "rust-crate", PURL: purl,
		Locations: []Location{{Path: location}},
	}
}

func TestRustCargoLock(t *testing.T) {
	const (
		v4 = "src/ks/Cargo.lock" // cargo 1.95 generate-lockfile
		v3 = "opt/v3/Cargo.lock" // the same, kept at version 3 by cargo
		v1 = "opt/v1/Cargo.lock" // hand-written in the version 1 format
	)
	const tinybits = "pkg:cargo/tinybits@0.2.0?vcs_url=git%2Bfile:%2F%2F%2Ftmp%2Frsd%2Frust%2Fgitdep%405dbaf02ad142779b8121106a594a50b087c3d862"
	tests := []struct {
		name string
		fsys fs.FS
		want []Package
	}{
		{
			name: "lock files of format versions 1, 3 and 4",
			fsys: os.DirFS("testdata/rust"),
			want: []Package{
				crateWant("cfg-if", "0.1.10", "pkg:cargo/cfg-if@0.1.10", v1),
				crateWant("cfg-if", "1.0.0", "pkg:cargo/cfg-if@1.0.0", v3),
				crateWant("cfg-if", "1.0.0", "pkg:cargo/cfg-if@1.0.0", v4),
				crateWant("corp-metrics", "2.3.0", "pkg:cargo/corp-metrics@2.3.0?repository_url=https:%2F%2Fcrates.corp.example%2Findex", v1),
				crateWant("hex", "0.4.3", "pkg:cargo/hex@0.4.3", v3),
				crateWant("hex", "0.4.3", "pkg:cargo/hex@0.4.3", v4),
				crateWant("itoa", "1.0.1", "pkg:cargo/itoa@1.0.1", v3),
				crateWant("itoa", "1.0.1", "pkg:cargo/itoa@1.0.1", v4),
				crateWant("log", "0.4.8", "pkg:cargo/log@0.4.8", v1),
				crateWant("smolstr", "0.1.0", "pkg:cargo/smolstr@0.1.0?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fexample%2Fsmolstr%402f0e1a3c5e4d9a8b7c6d5e4f3a2b1c0d9e8f7a6b", v1),
				crateWant("tinybits", "0.2.0", tinybits, v3),
				crateWant("tinybits", "0.2.0", tinybits, v4),
			},
		},
		{
			name: "sparse crates.io index, git without commit",
			fsys: fstest.MapFS{"Cargo.lock": {Data: []byte(`version = 4

[[package]]
name = "serde"
version = "1.0.210"
source = "sparse+https://index.crates.io/"

[[package]]
name = "wip"
version = "0.0.1"
source = "git+https://example.com/wip.git?branch=main"
`)}},
			want: []Package{
				crateWant("serde", "1.0.210", "pkg:cargo/serde@1.0.210", "Cargo.lock"),
				crateWant("wip", "0.0.1", "pkg:cargo/wip@0.0.1?vcs_url=git%2Bhttps:%2F%2Fexample.com%2Fwip.git", "Cargo.lock"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkCataloger(t, rust{}, tt.fsys, nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rust.Catalog (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRustRequired(t *testing.T) {
	tests := []struct {
		path string
		mode fs.FileMode
		want bool
	}{
		{"src/app/Cargo.lock", 0o644, true},
		{"Cargo.lock", 0o644, true},
		{"usr/local/bin/rg", 0o755, true},
		{"usr/local/bin/only-group", 0o710, true},
		{"app/tool.exe", 0o644, true},
		{"app/TOOL.EXE", 0o644, true},
		{"src/app/Cargo.toml", 0o644, false},
		{"usr/lib/libfoo.so", 0o644, false},
		{"usr/local/bin/rg", 0o755 | fs.ModeSymlink, false},
	}
	for _, tt := range tests {
		if got := (rust{}).Required(tt.path, tt.mode); got != tt.want {
			t.Errorf("rust.Required(%q, %v) = %v; want %v", tt.path, tt.mode, got, tt.want)
		}
	}
}

// rustTestCache is the directory where test executables are kept between
// runs: $KUBESHIELD_TEST_CACHE, or kubeshield-test in the user cache
// directory.
func rustTestCache(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KUBESHIELD_TEST_CACHE")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("no cache directory for test executables: %v", err)
		}
		dir = filepath.Join(c, "kubeshield-test")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create test cache: %v", err)
	}
	return dir
}

// goRootExecutable returns the path of a real executable that Go keeps in
// its source tree for the debug/elf and debug/pe tests (built by gcc and
// mingw gcc).
func goRootExecutable(t testing.TB, format string) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	root := strings.TrimSpace(string(out))
	name := map[string]string{
		"elf": filepath.Join(root, "src", "debug", "elf", "testdata", "gcc-amd64-linux-exec"),
		"pe":  filepath.Join(root, "src", "debug", "pe", "testdata", "gcc-amd64-mingw-exec"),
	}[format]
	if _, err := os.Stat(name); err != nil {
		t.Skipf("Go's test executable is missing: %v", err)
	}
	return name
}

// depV0Compress compresses data into a zlib stream, as cargo-auditable
// stores it.
func depV0Compress(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, zlib.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// auditableExecutable returns a copy of a real ELF or PE executable with a
// .dep-v0 section holding section, added by objcopy (binutils), the way
// cargo-auditable's linker step leaves it. Results are cached by content in
// rustTestCache.
func auditableExecutable(t testing.TB, format string, section []byte) []byte {
	t.Helper()
	objcopy, err := exec.LookPath("objcopy")
	if err != nil {
		t.Skipf("objcopy (binutils) is needed to add a .dep-v0 section: %v", err)
	}
	base := goRootExecutable(t, format)
	orig, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "v1 %s %d %d ", format, len(orig), len(section))
	h.Write(orig)
	h.Write(section)
	out := filepath.Join(rustTestCache(t), "rust-auditable-"+format+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if data, err := os.ReadFile(out); err == nil {
		return data
	}

	tmp := t.TempDir()
	sectionFile := filepath.Join(tmp, "dep-v0")
	if err := os.WriteFile(sectionFile, section, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--add-section", ".dep-v0=" + sectionFile}
	if format == "pe" {
		// A PE section needs an address above the image's last section.
		addr, err := peNextSectionAddress(base)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args,
			"--set-section-flags", ".dep-v0=contents,readonly,data",
			"--change-section-address", fmt.Sprintf(".dep-v0=%#x", addr))
	}
	built := filepath.Join(tmp, "out")
	args = append(args, base, built)
	if msg, err := exec.Command(objcopy, args...).CombinedOutput(); err != nil {
		t.Fatalf("objcopy %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	data, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	// Write under a temporary name and rename, so that a concurrent test
	// run never reads half a file.
	part := out + ".part" + filepath.Base(tmp)
	if err := os.WriteFile(part, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(part, out); err != nil {
		t.Fatal(err)
	}
	return data
}

// peNextSectionAddress is the first section-aligned virtual address after
// the sections of the PE file at name, as an absolute address.
func peNextSectionAddress(name string) (uint64, error) {
	f, err := pe.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		return 0, errors.New("not a PE32+ file")
	}
	var end uint64
	for _, s := range f.Sections {
		end = max(end, uint64(s.VirtualAddress)+uint64(max(s.VirtualSize, s.Size)))
	}
	align := uint64(oh.SectionAlignment)
	return oh.ImageBase + (end+align-1)/align*align, nil
}

// rustFileAccess wraps a filesystem so that its regular files offer only
// Read, or Read and Seek, and not ReadAt: the fallbacks of
// catalogRustBinary.
type rustFileAccess struct {
	fs.FS
	seek bool
}

func (a rustFileAccess) Open(name string) (fs.File, error) {
	f, err := a.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err != nil || info.IsDir() {
		return f, err
	}
	if rs, ok := f.(io.Seeker); ok && a.seek {
		return struct {
			fs.File
			io.Seeker
		}{f, rs}, nil
	}
	return struct{ fs.File }{f}, nil
}

func TestRustAuditableBinaries(t *testing.T) {
	audit, err := os.ReadFile("testdata/rust/auditable/ks-app.json")
	if err != nil {
		t.Fatal(err)
	}
	section := depV0Compress(t, audit)
	elfBin := auditableExecutable(t, "elf", section)
	peBin := auditableExecutable(t, "pe", section)
	corrupt := auditableExecutable(t, "elf", []byte("not zlib at all"))
	plain, err := os.ReadFile(goRootExecutable(t, "elf"))
	if err != nil {
		t.Fatal(err)
	}
	files := fstest.MapFS{
		"usr/local/bin/ks-app":  {Data: elfBin, Mode: 0o755},
		"srv/ks-app.exe":        {Data: peBin, Mode: 0o644},
		"usr/bin/hello":         {Data: plain, Mode: 0o755},
		"usr/bin/script":        {Data: []byte("#!/bin/sh\necho hi\n"), Mode: 0o755},
		"usr/bin/tiny":          {Data: []byte("MZ"), Mode: 0o755},
		"usr/bin/truncated-elf": {Data: elfBin[:100], Mode: 0o755},
		"usr/share/doc/README":  {Data: elfBin, Mode: 0o644},
	}
	var want []Package
	for _, loc := range []string{"srv/ks-app.exe", "usr/local/bin/ks-app"} {
		want = append(want,
			crateWant("cc", "1.0.83", "pkg:cargo/cc@1.0.83", loc),
			crateWant("cfg-if", "1.0.0", "pkg:cargo/cfg-if@1.0.0", loc),
			crateWant("hex", "0.4.3", "pkg:cargo/hex@0.4.3", loc),
			crateWant("itoa", "1.0.1", "pkg:cargo/itoa@1.0.1", loc),
			crateWant("tinybits", "0.2.0", "pkg:cargo/tinybits@0.2.0", loc),
		)
	}
	Sort(want)

	tests := []struct {
		name string
		fsys fs.FS
	}{
		{"files with ReadAt", files},
		{"files with Seek only", rustFileAccess{FS: files, seek: true}},
		{"files read whole", rustFileAccess{FS: files}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkCataloger(t, rust{}, tt.fsys, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rust.Catalog (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("corrupt section", func(t *testing.T) {
		fsys := fstest.MapFS{"bin/app": {Data: corrupt, Mode: 0o755}}
		got, err := rust{}.Catalog(t.Context(), Input{FS: fsys, Paths: []string{"bin/app"}})
		var fe *FileError
		if !errors.As(err, &fe) || fe.Path != "bin/app" {
			t.Errorf("rust.Catalog(corrupt .dep-v0) error = %v; want a *FileError for bin/app", err)
		}
		if len(got) != 0 {
			t.Errorf("rust.Catalog(corrupt .dep-v0) = %v; want nothing", got)
		}
	})
}

func TestParseDepV0(t *testing.T) {
	tests := []struct {
		name    string
		section []byte
		want    []Package
		wantErr bool
	}{
		{
			name:    "registry, other and unknown sources",
			section: depV0Compress(t, []byte(`{"packages":[{"name":"a","version":"1.0.0","source":"registry"},{"name":"b","version":"2.0.0","source":{"Other":"svn"}},{"name":"c","version":"3.0.0","source":"hg"},{"name":"d","version":"4.0.0"}]}`)),
			want:    []Package{crateWant("a", "1.0.0", "pkg:cargo/a@1.0.0", "bin")},
		},
		{
			name:    "package without version",
			section: depV0Compress(t, []byte(`{"packages":[{"name":"a","source":"crates.io"},{"name":"b","version":"2.0.0","source":"crates.io"}]}`)),
			want:    []Package{crateWant("b", "2.0.0", "pkg:cargo/b@2.0.0", "bin")},
			wantErr: true,
		},
		{
			name:    "decompression bomb",
			section: depV0Compress(t, bytes.Repeat([]byte(" "), maxDepV0+1)),
			wantErr: true,
		},
		{
			name:    "not JSON",
			section: depV0Compress(t, []byte("{")),
			wantErr: true,
		},
		{
			name:    "not zlib",
			section: []byte("{}"),
			wantErr: true,
		},
		{
			name:    "truncated",
			section: depV0Compress(t, []byte(`{"packages":[]}`))[:8],
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDepV0(bytes.NewReader(tt.section), "bin")
			if (err != nil) != tt.wantErr {
				t.Errorf("parseDepV0() error = %v; want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseDepV0() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRustBadCargoLock(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []Package
	}{
		{name: "not TOML", data: "[[package]\nname = "},
		{name: "package is not an array of tables", data: "package = 3\n"},
		{
			name: "package without version",
			data: "[[package]]\nname = \"a\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n" +
				"[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
			want: []Package{crateWant("b", "1.0.0", "pkg:cargo/b@1.0.0", "Cargo.lock")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"Cargo.lock": {Data: []byte(tt.data)}}
			got, err := rust{}.Catalog(t.Context(), Input{FS: fsys, Paths: []string{"Cargo.lock"}})
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != "Cargo.lock" {
				t.Errorf("rust.Catalog(%q) error = %v; want a *FileError for Cargo.lock", tt.data, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rust.Catalog(%q) (-want +got):\n%s", tt.data, diff)
			}
		})
	}
}

func FuzzCargoLock(f *testing.F) {
	for _, name := range []string{"testdata/rust/src/ks/Cargo.lock", "testdata/rust/opt/v1/Cargo.lock"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parseCargoLock(data, "Cargo.lock")
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Errorf("parseCargoLock(%q) gave incomplete %+v", data, p)
			}
		}
	})
}

func FuzzDepV0(f *testing.F) {
	audit, err := os.ReadFile("testdata/rust/auditable/ks-app.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(depV0Compress(f, audit))
	f.Add(depV0Compress(f, []byte(`{"packages":[{"name":"a","version":"1","source":{"Other":"x"}}]}`)))
	f.Fuzz(func(t *testing.T, section []byte) {
		pkgs, _ := parseDepV0(bytes.NewReader(section), "bin")
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Errorf("parseDepV0(%q) gave incomplete %+v", section, p)
			}
		}
	})
}

func FuzzRustExecutable(f *testing.F) {
	audit, err := os.ReadFile("testdata/rust/auditable/ks-app.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(auditableExecutable(f, "elf", depV0Compress(f, audit)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"bin/app": {Data: data, Mode: 0o755}}
		pkgs, _ := catalogRustBinary(fsys, "bin/app")
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Errorf("catalogRustBinary gave incomplete %+v", p)
			}
		}
	})
}
