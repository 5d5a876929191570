package inventory

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// cachedFixtureDir returns the directory that holds fixtures built at test time
// (binaries, jars), which are reused between runs: $KUBESHIELD_TEST_CACHE,
// else kubeshield-test in the user's cache directory.
func cachedFixtureDir(t *testing.T, kind string) string {
	t.Helper()
	dir := os.Getenv("KUBESHIELD_TEST_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			t.Skipf("no cache directory for built fixtures (set KUBESHIELD_TEST_CACHE): %v", err)
		}
		dir = filepath.Join(base, "kubeshield-test")
	}
	dir = filepath.Join(dir, kind)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create fixture cache: %v", err)
	}
	return dir
}

// cachedFixtureKey hashes the given strings and the contents of every file under
// the given paths, to name a cached fixture.
func cachedFixtureKey(t *testing.T, parts []string, paths ...string) string {
	t.Helper()
	h := sha256.New()
	for _, p := range parts {
		io.WriteString(h, p+"\x00")
	}
	for _, root := range paths {
		err := filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(name)
			if err != nil {
				return err
			}
			io.WriteString(h, filepath.ToSlash(name)+"\x00")
			h.Write(data)
			return nil
		})
		if err != nil {
			t.Fatalf("hash fixture sources: %v", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// goCommand returns the go command that runs the tests, skipping the test when
// there is none.
func goCommand(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build fixtures: %v", err)
	}
	return goCmd
}

// buildGoFixture builds the main package pkg of the module in dir with the
// go command and extra build flags, or reuses the binary built before from
// the same sources, and returns its path.
func buildGoFixture(t *testing.T, dir, pkg string, flags ...string) string {
	t.Helper()
	goCmd := goCommand(t)
	srcs := []string{filepath.Join(dir, pkg)}
	for _, f := range []string{"go.mod", "go.sum"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			srcs = append(srcs, filepath.Join(dir, f))
		}
	}
	key := cachedFixtureKey(t, append([]string{runtime.Version(), runtime.GOOS, runtime.GOARCH, pkg}, flags...), srcs...)
	cache := cachedFixtureDir(t, "gobinary")
	out := filepath.Join(cache, key)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	f, err := os.CreateTemp(cache, key+".*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	tmp := f.Name()
	defer os.Remove(tmp)
	args := append(append([]string{"build", "-o", tmp}, flags...), "./"+filepath.ToSlash(pkg))
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatalf("store fixture: %v", err)
	}
	return out
}

// goModuleRoot returns the directory of this module's go.mod.
func goModuleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return dir
}

// goVersionM is the oracle for the go-binary cataloger: it runs
// `go version -m` on bin and applies the documented rules to its "mod",
// "dep" and "=>" lines and its Go version.
func goVersionM(t *testing.T, bin, location string) []Package {
	t.Helper()
	out, err := exec.Command(goCommand(t), "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m %s: %v", bin, err)
	}
	type mod struct{ path, version string }
	var (
		mods      []mod
		toolchain string
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		if first {
			_, toolchain, _ = strings.Cut(line, ": ")
			continue
		}
		f := strings.Split(strings.TrimPrefix(line, "\t"), "\t")
		switch {
		case len(f) >= 3 && (f[0] == "mod" || f[0] == "dep"):
			mods = append(mods, mod{f[1], f[2]})
		case len(f) >= 3 && f[0] == "=>":
			last := &mods[len(mods)-1]
			if strings.HasPrefix(f[1], "./") || strings.HasPrefix(f[1], "../") || strings.HasPrefix(f[1], "/") {
				last.version = "(devel)"
			} else {
				*last = mod{f[1], f[2]}
			}
		}
	}
	pkg := func(name, version, purl string) Package {
		return Package{
			Name: name, Version: version, Ecosystem: Go, Type: "go-module", PURL: purl,
			Locations: []Location{{Path: location}},
		}
	}
	var want []Package
	for _, m := range mods {
		p := "pkg:golang/" + m.path + "@" + m.version
		if m.version == "(devel)" {
			p = "pkg:golang/" + m.path
		}
		want = append(want, pkg(m.path, m.version, p))
	}
	if m := releaseGo.FindStringSubmatch(toolchain); m != nil {
		v := m[1]
		want = append(want, pkg("stdlib", v, "pkg:golang/stdlib@"+v))
	}
	return want
}

// releaseGo matches the Go version of a released toolchain.
var releaseGo = regexp.MustCompile(`^go(\d+\.\d+\.\d+)$`)

// copyGoFixture copies src to dst with the given mode, keeping only the first n
// bytes when n >= 0.
func copyGoFixture(t *testing.T, src, dst string, mode fs.FileMode, n int64) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if n >= 0 && n < int64(len(data)) {
		data = data[:n]
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

func TestGoBinaryBuilt(t *testing.T) {
	root := goModuleRoot(t)
	app := buildGoFixture(t, root, "internal/inventory/testdata/gobinary/app")
	stripped := buildGoFixture(t, root, "internal/inventory/testdata/gobinary/app", "-ldflags=-s -w")
	replaced := buildGoFixture(t, filepath.Join(root, "internal/inventory/testdata/gobinary/replaced"), ".")

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyGoFixture(t, app, filepath.Join(dir, "usr/bin/app"), 0o755, -1)
	copyGoFixture(t, stripped, filepath.Join(dir, "usr/bin/stripped"), 0o711, -1)
	copyGoFixture(t, replaced, filepath.Join(dir, "usr/bin/replaced"), 0o755, -1)
	// Not executable, so not read even though it is a Go binary.
	copyGoFixture(t, app, filepath.Join(dir, "usr/bin/app.copy"), 0o644, -1)
	// Not Go: an ELF executable and a script.
	if _, err := os.Stat("/bin/true"); err == nil {
		copyGoFixture(t, "/bin/true", filepath.Join(dir, "usr/bin/true"), 0o755, -1)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/bin/script.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A Go binary cut in half: an error, not silence.
	info, err := os.Stat(app)
	if err != nil {
		t.Fatal(err)
	}
	copyGoFixture(t, app, filepath.Join(dir, "usr/bin/truncated"), 0o755, info.Size()/2)

	var want []Package
	want = append(want, goVersionM(t, app, "usr/bin/app")...)
	want = append(want, goVersionM(t, replaced, "usr/bin/replaced")...)
	want = append(want, goVersionM(t, stripped, "usr/bin/stripped")...)
	Sort(want)

	// The oracle must itself show what the fixtures are for.
	shows := []string{"github.com/google/go-cmp@v0.7.0", "golang.org/x/sync@v0.24.0", "example.com/lib@(devel)", "example.com/replaced@(devel)"}
	if releaseGo.MatchString(runtime.Version()) {
		shows = append(shows, "stdlib@"+strings.TrimPrefix(runtime.Version(), "go"))
	}
	for _, p := range shows {
		if !slices.ContainsFunc(want, func(q Package) bool { return q.Name+"@"+q.Version == p }) {
			t.Errorf("go version -m does not show %s; the fixtures are not what the test expects", p)
		}
	}

	for _, tc := range []struct {
		name string
		fsys fs.FS
	}{
		{"ReaderAt", os.DirFS(dir)},
		{"Seeker", hideFS{os.DirFS(dir), true}},
		{"Reader", hideFS{os.DirFS(dir), false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkCataloger(t, goBinary{}, tc.fsys, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("packages differ from go version -m (-want +got):\n%s", diff)
			}
			paths := []string{"usr/bin/app.copy", "usr/bin/script.sh", "usr/bin/truncated"}
			if _, err := fs.Stat(tc.fsys, "usr/bin/true"); err == nil {
				paths = append(paths, "usr/bin/true")
			}
			_, err := goBinary{}.Catalog(context.Background(), Input{FS: tc.fsys, Paths: paths})
			fileErrs, rest := splitFileErrors(err)
			if rest != nil {
				t.Fatalf("Catalog: %v", rest)
			}
			var failed []string
			for _, fe := range fileErrs {
				failed = append(failed, fe.Path)
			}
			// app.copy is a whole Go binary: read when asked, although
			// Required refuses it.
			if diff := cmp.Diff([]string{"usr/bin/truncated"}, failed); diff != "" {
				t.Errorf("files with errors (-want +got):\n%s", diff)
			}
		})
	}
}

// hideFS wraps a filesystem so that its files offer only Read, and Seek when
// seek is set: the fallbacks of openRandom.
type hideFS struct {
	fsys fs.FS
	seek bool
}

// Open opens name and hides the methods of the file that h hides.
func (h hideFS) Open(name string) (fs.File, error) {
	f, err := h.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if rs, ok := f.(io.ReadSeeker); ok && h.seek {
		return hiddenSeekFile{f, rs}, nil
	}
	return hiddenReadFile{f}, nil
}

// ReadDir lets fs.WalkDir walk a hideFS.
func (h hideFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(h.fsys, name) }

// hiddenReadFile offers only Read, Stat and Close.
type hiddenReadFile struct{ f fs.File }

func (r hiddenReadFile) Read(p []byte) (int, error) { return r.f.Read(p) }
func (r hiddenReadFile) Stat() (fs.FileInfo, error) { return r.f.Stat() }
func (r hiddenReadFile) Close() error               { return r.f.Close() }

// hiddenSeekFile offers only Read, Seek, Stat and Close.
type hiddenSeekFile struct {
	f  fs.File
	rs io.ReadSeeker
}

func (s hiddenSeekFile) Read(p []byte) (int, error)                { return s.rs.Read(p) }
func (s hiddenSeekFile) Seek(off int64, whence int) (int64, error) { return s.rs.Seek(off, whence) }
func (s hiddenSeekFile) Stat() (fs.FileInfo, error)                { return s.f.Stat() }
func (s hiddenSeekFile) Close() error                              { return s.f.Close() }

func TestGoBinaryDamaged(t *testing.T) {
	app := buildGoFixture(t, goModuleRoot(t), "internal/inventory/testdata/gobinary/app")
	data, err := os.ReadFile(app)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{8 << 10, 64 << 10, len(data) / 3, len(data) - 1} {
		_, err := parseGoBinary(bytes.NewReader(data[:n]), int64(n), "app")
		if err == nil {
			t.Errorf("parseGoBinary(first %d of %d bytes) = nil error; want one", n, len(data))
		}
	}
	// Only the ELF header: nothing says it is Go.
	pkgs, err := parseGoBinary(bytes.NewReader(data[:64]), 64, "app")
	if err != nil || pkgs != nil {
		t.Errorf("parseGoBinary(ELF header) = %v, %v; want nothing", pkgs, err)
	}

	// Build information that is damaged: an error.
	magic := []byte("\xff Go buildinf:")
	if bytes.Count(data, magic) != 1 {
		t.Fatalf("the fixture holds %d build information blobs; want 1", bytes.Count(data, magic))
	}
	damaged := bytes.Replace(data, magic, []byte("\xff Go XXXXXXXX:"), 1)
	if _, err := parseGoBinary(bytes.NewReader(damaged), int64(len(damaged)), "app"); err == nil {
		t.Error("parseGoBinary(damaged build information) = nil error; want one")
	}
	// Neither build information nor a .go.buildinfo section, as Go linked
	// before 1.13: nothing, and no error.
	section := []byte(".go.buildinfo\x00")
	if !bytes.Contains(damaged, section) {
		t.Fatal("the fixture has no .go.buildinfo section")
	}
	old := bytes.Replace(damaged, section, []byte(".go.oldstyle1\x00"), 1)
	pkgs, err = parseGoBinary(bytes.NewReader(old), int64(len(old)), "app")
	if err != nil || pkgs != nil {
		t.Errorf("parseGoBinary(Go before 1.13) = %v, %v; want nothing", pkgs, err)
	}

	fsys := fstest.MapFS{
		"bin/damaged":   {Data: damaged, Mode: 0o755},
		"bin/old":       {Data: old, Mode: 0o755},
		"bin/truncated": {Data: data[:len(data)/2], Mode: 0o755},
	}
	if got := checkCataloger(t, goBinary{}, fsys, nil); len(got) != 0 {
		t.Errorf("packages from damaged binaries: %v; want none", got)
	}
	_, err = goBinary{}.Catalog(context.Background(), Input{FS: fsys, Paths: []string{"bin/damaged", "bin/old", "bin/truncated"}})
	fileErrs, rest := splitFileErrors(err)
	var failed []string
	for _, fe := range fileErrs {
		failed = append(failed, fe.Path)
	}
	if diff := cmp.Diff([]string{"bin/damaged", "bin/truncated"}, failed); rest != nil || diff != "" {
		t.Errorf("Catalog(damaged binaries): files with errors (-want +got):\n%s\nother errors: %v", diff, rest)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (goBinary{}).Catalog(ctx, Input{FS: fsys, Paths: []string{"bin/old"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Catalog(cancelled) error = %v; want context.Canceled", err)
	}
}

func TestGoBinaryRequired(t *testing.T) {
	for _, tc := range []struct {
		mode fs.FileMode
		want bool
	}{
		{0o755, true},
		{0o700, true},
		{0o001, true},
		{0o644, false},
		{fs.ModeSymlink | 0o777, false},
		{fs.ModeDir | 0o755, false},
	} {
		if got := (goBinary{}).Required("usr/bin/x", tc.mode); got != tc.want {
			t.Errorf("Required(usr/bin/x, %v) = %v; want %v", tc.mode, got, tc.want)
		}
	}
}

func TestGoPackages(t *testing.T) {
	loc := []Location{{Path: "bin/x"}}
	mod := func(name, version, purl string) Package {
		return Package{Name: name, Version: version, Ecosystem: Go, Type: "go-module", PURL: purl, Locations: loc}
	}
	for _, tc := range []struct {
		name string
		bi   buildinfo.BuildInfo
		want []Package
	}{
		{
			name: "released main module and replacements",
			bi: buildinfo.BuildInfo{
				GoVersion: "go1.22.5 X:boringcrypto",
				Main:      debug.Module{Path: "example.com/Tool", Version: "v1.2.3"},
				Deps: []*debug.Module{
					{Path: "a.example/x", Version: "v0.1.0"},
					{Path: "b.example/y", Version: "v1.0.0", Replace: &debug.Module{Path: "fork.example/y", Version: "v1.0.1-fork"}},
					{Path: "c.example/z", Version: "v2.0.0", Replace: &debug.Module{Path: "../z", Version: "(devel)"}},
					{Path: "d.example/w", Version: "v2.0.0", Replace: &debug.Module{Path: `C:\src\w`}},
					// Replaced by a module already listed: one package.
					{Path: "e.example/v", Version: "v0.0.1", Replace: &debug.Module{Path: "a.example/x", Version: "v0.1.0"}},
				},
			},
			want: []Package{
				mod("example.com/Tool", "v1.2.3", "pkg:golang/example.com/Tool@v1.2.3"),
				mod("a.example/x", "v0.1.0", "pkg:golang/a.example/x@v0.1.0"),
				mod("fork.example/y", "v1.0.1-fork", "pkg:golang/fork.example/y@v1.0.1-fork"),
				mod("c.example/z", "(devel)", "pkg:golang/c.example/z"),
				mod("d.example/w", "(devel)", "pkg:golang/d.example/w"),
				mod("stdlib", "1.22.5", "pkg:golang/stdlib@1.22.5"),
			},
		},
		{
			name: "development build",
			bi: buildinfo.BuildInfo{
				GoVersion: "devel go1.24-abcdef Tue Jan 2 2024",
				Path:      "example.com/tool/cmd/tool",
				Main:      debug.Module{Path: "example.com/tool", Version: "(devel)"},
			},
			want: []Package{mod("example.com/tool", "(devel)", "pkg:golang/example.com/tool")},
		},
		{
			name: "GOPATH build",
			bi:   buildinfo.BuildInfo{GoVersion: "go1.20", Path: "command-line-arguments"},
			want: []Package{mod("stdlib", "1.20.0", "pkg:golang/stdlib@1.20.0")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := goPackages(&tc.bi, "bin/x")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("goPackages(%+v) (-want +got):\n%s", tc.bi, diff)
			}
		})
	}
}

func TestGoToolchainVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"go1.22.5", "1.22.5", true},
		{"go1.22.5 X:boringcrypto,loopvar", "1.22.5", true},
		{"go1.20", "1.20.0", true},
		{"go1.21rc2", "1.21.0-rc.2", true},
		{"go1.19beta1", "1.19.0-beta.1", true},
		{"go1.21.0-1-fips", "1.21.0", true},
		{"go1.9.7", "1.9.7", true},
		{"devel go1.24-abcdef Tue Jan 2 2024", "", false},
		{"go1", "", false},
		{"go1.", "", false},
		{"go01.2", "", false},
		{"go1.22x", "", false},
		{"go1.21rc", "", false},
		{"1.22.5", "", false},
		{"", "", false},
	} {
		got, ok := goToolchainVersion(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("goToolchainVersion(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzGoToolchainVersion(f *testing.F) {
	for _, s := range []string{"go1.22.5", "go1.21rc2 X:nocoverage", "go1.20", "devel go1.24-abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := goToolchainVersion(s)
		if !ok {
			if v != "" {
				t.Errorf("goToolchainVersion(%q) = %q, false; want an empty version", s, v)
			}
			return
		}
		if strings.Count(v, ".") < 2 || strings.ContainsAny(v, " +") || !strings.HasPrefix(s, "go") {
			t.Errorf("goToolchainVersion(%q) = %q; not a semantic version", s, v)
		}
	})
}

func TestSeekReaderAt(t *testing.T) {
	r := &seekReaderAt{r: strings.NewReader("hello world")}
	buf := make([]byte, 5)
	if n, err := r.ReadAt(buf, 6); n != 5 || err != nil || string(buf) != "world" {
		t.Errorf("ReadAt(5 bytes, 6) = %d, %v, %q; want 5, nil, world", n, err, buf)
	}
	if n, err := r.ReadAt(buf, 8); n != 3 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt(5 bytes, 8) = %d, %v; want 3, EOF", n, err)
	}
	if _, err := r.ReadAt(buf, -1); err == nil {
		t.Error("ReadAt(5 bytes, -1) = nil error; want one")
	}
}

// goModInfoStart and goModInfoEnd frame the module information in a Go
// executable (cmd/go/internal/modload.infoStart and infoEnd).
const (
	goModInfoStart = "0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6"
	goModInfoEnd   = "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
)

// goELF returns a minimal 64-bit little-endian ELF executable whose
// .go.buildinfo section holds the Go version vers and the build information
// bi, as the Go linker writes them since Go 1.18 (a 32-byte header, then
// both strings inline). It is a few hundred bytes where a real Go
// executable is megabytes: a fuzz seed that reaches the whole parser.
func goELF(t testing.TB, vers string, bi *debug.BuildInfo) []byte {
	t.Helper()
	blob := make([]byte, 32)
	copy(blob, "\xff Go buildinf:")
	blob[14] = 8   // pointer size
	blob[15] = 0x2 // strings inline, little-endian
	blob = binary.AppendUvarint(blob, uint64(len(vers)))
	blob = append(blob, vers...)
	mod := goModInfoStart + bi.String() + goModInfoEnd
	blob = binary.AppendUvarint(blob, uint64(len(mod)))
	blob = append(blob, mod...)

	const (
		dataOff  = 128 // after the ELF and program headers, 16-aligned
		dataAddr = 0x401000
	)
	shstrtab := []byte("\x00.go.buildinfo\x00.shstrtab\x00")
	strOff := uint64(dataOff + len(blob))
	shOff := (strOff + uint64(len(shstrtab)) + 7) &^ 7
	var buf bytes.Buffer
	write := func(v any) {
		if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
			t.Fatal(err)
		}
	}
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: dataAddr, Phoff: 64, Shoff: shOff, Ehsize: 64,
		Phentsize: 56, Phnum: 1, Shentsize: 64, Shnum: 3, Shstrndx: 2,
	}
	copy(hdr.Ident[:], "\x7fELF")
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	write(hdr)
	write(elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: dataOff,
		Vaddr: dataAddr, Paddr: dataAddr, Filesz: uint64(len(blob)), Memsz: uint64(len(blob)), Align: 16,
	})
	buf.Write(make([]byte, dataOff-buf.Len()))
	buf.Write(blob)
	buf.Write(shstrtab)
	buf.Write(make([]byte, int(shOff)-buf.Len()))
	write(elf.Section64{}) // the null section
	write(elf.Section64{
		Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC | elf.SHF_WRITE),
		Addr: dataAddr, Off: dataOff, Size: uint64(len(blob)), Addralign: 16,
	})
	write(elf.Section64{Name: 15, Type: uint32(elf.SHT_STRTAB), Off: strOff, Size: uint64(len(shstrtab)), Addralign: 1})
	return buf.Bytes()
}

// goSeedBuildInfo is the build information of the goELF seeds: a main
// module, a plain dependency, one replaced by a module and one replaced by
// a directory.
func goSeedBuildInfo() *debug.BuildInfo {
	return &debug.BuildInfo{
		Path: "example.com/app/cmd/app",
		Main: debug.Module{Path: "example.com/app", Version: "v1.2.3", Sum: "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		Deps: []*debug.Module{
			{Path: "golang.org/x/text", Version: "v0.14.0", Sum: "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="},
			{Path: "example.com/old", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/new", Version: "v1.1.0", Sum: "h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC="}},
			{Path: "example.com/local", Version: "v0.0.0", Replace: &debug.Module{Path: "../local"}},
		},
		Settings: []debug.BuildSetting{{Key: "-compiler", Value: "gc"}, {Key: "GOOS", Value: "linux"}},
	}
}

// TestGoBinaryMinimalELF checks that goELF makes an executable the
// cataloger reads in full, so that the fuzz seeds built with it reach past
// the format checks.
func TestGoBinaryMinimalELF(t *testing.T) {
	data := goELF(t, "go1.22.5", goSeedBuildInfo())
	got, err := parseGoBinary(bytes.NewReader(data), int64(len(data)), "app")
	if err != nil {
		t.Fatalf("parseGoBinary(%d-byte minimal ELF): %v", len(data), err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.Name+"@"+p.Version)
	}
	want := []string{"example.com/app@v1.2.3", "golang.org/x/text@v0.14.0", "example.com/new@v1.1.0", "example.com/local@(devel)", "stdlib@1.22.5"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("parseGoBinary(minimal ELF) packages (-want +got):\n%s", diff)
	}
}

// FuzzGoBinary checks that parseGoBinary, which hands every executable of
// an image to debug/buildinfo and debug/elf, never panics, that it is
// deterministic, and that what it reports is complete. The seeds are small
// ELF files with build information (a real Go executable is megabytes), an
// ELF header alone and a non-ELF prefix.
func FuzzGoBinary(f *testing.F) {
	seed := goELF(f, "go1.22.5", goSeedBuildInfo())
	f.Add(seed)
	f.Add(goELF(f, "devel go1.24-abcdef", &debug.BuildInfo{Path: "x", Main: debug.Module{Path: "x"}}))
	f.Add(seed[:64])                              // the ELF header alone
	f.Add(seed[:len(seed)/2])                     // cut inside the build information
	f.Add([]byte("#!/bin/sh\n\xff Go buildinf:")) // a Go mark, but no ELF
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := parseGoBinary(bytes.NewReader(data), int64(len(data)), "bin/x")
		if err != nil && pkgs != nil {
			t.Fatalf("parseGoBinary = %d packages and error %v; want one or the other", len(pkgs), err)
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" || p.Ecosystem != Go || len(p.Locations) != 1 || p.Locations[0].Path != "bin/x" {
				t.Errorf("parseGoBinary: incomplete package %+v", p)
			}
		}
		again, err2 := parseGoBinary(bytes.NewReader(data), int64(len(data)), "bin/x")
		if diff := cmp.Diff(pkgs, again); diff != "" || (err == nil) != (err2 == nil) {
			t.Errorf("parseGoBinary is not deterministic (-first +second):\n%s", diff)
		}
	})
}
