package inventory

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"strings"
)

// goBinary reads the build information that the Go linker writes into every
// executable built in module mode: what `go version -m` prints.
//
// It reports
//   - the main module, with the version the go command recorded. A binary
//     built from a checkout without VCS stamping records "(devel)"; the module
//     is still reported (it names the program), with Version "(devel)" and a
//     PURL without a version, so that a matcher sees it cannot compare it;
//   - every dependency, as the build used it: a module replaced by another
//     module is reported under the replacement's path and version (the "=>"
//     line of `go version -m`); a module replaced by a local directory keeps
//     its own path and gets the version "(devel)", since the directory is not
//     the published version and its path is not a module path;
//   - the Go toolchain as the module "stdlib", with the version form of the
//     OSV Go ecosystem (go1.22.5 gives "1.22.5", go1.21rc2 gives
//     "1.21.0-rc.2"), and the same version in its PURL
//     (pkg:golang/stdlib@1.22.5). A development toolchain ("devel go1.23-…")
//     has no comparable version and is not reported.
//
// Module versions keep their leading "v", as the go command records them.
// The PURL keeps the module path's case: Go module paths are case-sensitive.
//
// An executable that is not Go gives nothing, and so does a Go executable
// linked before Go 1.13, which records no build information. A Go executable
// whose build information cannot be read (a truncated file) is a
// *FileError.
type goBinary struct{}

// maxBuffered bounds how much of a file a cataloger reads into memory when
// the filesystem offers neither io.ReaderAt nor io.Seeker on its files.
// Image and directory filesystems offer io.ReaderAt, so this is only a
// fallback.
const maxBuffered = 512 << 20

// goEvidenceScan is how much of the start of an executable is searched for the
// marks of the Go linker when its build information cannot be read. The Go
// build ID sits in the first few KiB: in an ELF note right after the program
// headers, or at the start of the text section.
const goEvidenceScan = 64 << 10

// goDevel is the version the go command records for a module built from a
// directory rather than from a downloaded version.
const goDevel = "(devel)"

func (goBinary) Name() string { return "go-binary" }

func (goBinary) Required(_ string, mode fs.FileMode) bool {
	return mode.IsRegular() && mode&0o111 != 0
}

func (g goBinary) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachFile(ctx, in, g.Name(), func(name string) ([]Package, error) {
		return readGoBinary(in.FS, name)
	})
}

// readGoBinary opens name and returns the packages of its build information,
// or nothing when it is not a Go executable.
func readGoBinary(fsys fs.FS, name string) ([]Package, error) {
	f, err := openRandom(fsys, name, maxBuffered)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseGoBinary(f, f.size, name)
}

// parseGoBinary returns the packages recorded in the Go executable r of size
// bytes, with location as their location. A file that is not a Go executable
// (a script, a C program) gives no packages and no error; a Go executable
// whose build information cannot be read (a truncated file) is an error.
func parseGoBinary(r io.ReaderAt, size int64, location string) ([]Package, error) {
	bi, err := buildinfo.Read(r)
	if err != nil {
		// debug/buildinfo does not say whether the file is a broken Go
		// executable or not a Go executable at all, so look for the marks the
		// Go linker leaves near the start of every executable.
		if !goEvidence(r, size) || oldGoELF(r, size) {
			return nil, nil
		}
		return nil, fmt.Errorf("read Go build information: %w", err)
	}
	return goPackages(bi, location), nil
}

// goMarks are byte strings that the Go linker writes near the start of an
// executable: the header of the ELF note holding the Go build ID (type 4,
// name "Go", in either byte order), the build ID string that other formats
// carry at the start of their text, and the magic of the build information
// blob.
var goMarks = [][]byte{
	[]byte("\x04\x00\x00\x00Go\x00\x00"),
	[]byte("\x00\x00\x00\x04Go\x00\x00"),
	[]byte("\xff Go build ID: \""),
	[]byte("\xff Go buildinf:"),
}

// goEvidence reports whether the first goEvidenceScan bytes of r hold one of
// goMarks.
func goEvidence(r io.ReaderAt, size int64) bool {
	n := min(size, goEvidenceScan)
	if n <= 0 {
		return false
	}
	buf := make([]byte, n)
	got, err := r.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) && got == 0 {
		return false
	}
	buf = buf[:got]
	for _, m := range goMarks {
		if bytes.Contains(buf, m) {
			return true
		}
	}
	return false
}

// oldGoELF reports whether r is a whole ELF file without a .go.buildinfo
// section: a Go executable linked before Go 1.13, which recorded no build
// information, rather than a damaged one. Every section must lie inside the
// file.
func oldGoELF(r io.ReaderAt, size int64) bool {
	f, err := elf.NewFile(r)
	if err != nil {
		return false
	}
	for _, s := range f.Sections {
		if s.Name == ".go.buildinfo" {
			return false
		}
		if s.Type != elf.SHT_NOBITS && (s.Offset > uint64(size) || s.FileSize > uint64(size)-s.Offset) {
			return false
		}
	}
	return len(f.Sections) > 0
}

// goPackages turns build information into packages: the main module, the
// dependencies and the standard library, without duplicates.
func goPackages(bi *buildinfo.BuildInfo, location string) []Package {
	var pkgs []Package
	seen := map[string]bool{}
	add := func(path, version string) {
		if path == "" {
			return
		}
		if version == "" {
			version = goDevel
		}
		if seen[path+"@"+version] {
			return
		}
		seen[path+"@"+version] = true
		pkgs = append(pkgs, Package{
			Name:      path,
			Version:   version,
			Ecosystem: Go,
			Type:      "go-module",
			PURL:      goPURL(path, version),
			Locations: []Location{{Path: location}},
		})
	}
	add(bi.Main.Path, bi.Main.Version)
	for _, d := range bi.Deps {
		path, version := goModule(d)
		add(path, version)
	}
	if v, ok := goToolchainVersion(bi.GoVersion); ok {
		add("stdlib", v)
	}
	return pkgs
}

// goModule is the module path and version that a dependency contributed to
// the build: the replacement when it is a module, the original path with the
// version "(devel)" when the replacement is a local directory.
func goModule(d *debug.Module) (path, version string) {
	r := d.Replace
	if r == nil {
		return d.Path, d.Version
	}
	if isLocalModulePath(r.Path) {
		return d.Path, goDevel
	}
	return r.Path, r.Version
}

// isLocalModulePath reports whether a replacement path is a directory, which
// go.mod writes as a relative ("./x", "../x") or absolute path.
func isLocalModulePath(p string) bool {
	if p == "." || p == ".." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") ||
		strings.HasPrefix(p, "/") || strings.HasPrefix(p, `.\`) || strings.HasPrefix(p, `..\`) || strings.HasPrefix(p, `\`) {
		return true
	}
	// A Windows drive letter: C:\x or C:/x.
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		('a' <= p[0] && p[0] <= 'z' || 'A' <= p[0] && p[0] <= 'Z')
}

// goPURL is the package URL of a Go module: the path up to its last slash is
// the namespace. A "(devel)" version is left out, since it is not a version.
func goPURL(path, version string) string {
	namespace, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		namespace, name = path[:i], path[i+1:]
	}
	if version == goDevel {
		version = ""
	}
	return purl("golang", namespace, name, version, nil)
}

// goToolchainVersion converts the Go version recorded in a binary
// ("go1.22.5", "go1.22.5 X:boringcrypto", "go1.20", "go1.21rc2") into the
// semantic version that OSV records for the "stdlib" module ("1.22.5",
// "1.22.5", "1.20.0", "1.21.0-rc.2"). A suffix after "-" or "+" (a vendor's
// build) is dropped. It reports false for a version it does not recognise,
// such as a development toolchain's "devel go1.23-abcdef".
func goToolchainVersion(v string) (string, bool) {
	v, _, _ = strings.Cut(v, " ")
	v, ok := strings.CutPrefix(v, "go")
	if !ok {
		return "", false
	}
	num := func() (string, bool) {
		i := 0
		for i < len(v) && '0' <= v[i] && v[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 || (v[0] == '0' && i > 1) {
			return "", false
		}
		n := v[:i]
		v = v[i:]
		return n, true
	}
	major, ok := num()
	if !ok || !strings.HasPrefix(v, ".") {
		return "", false
	}
	v = v[1:]
	minor, ok := num()
	if !ok {
		return "", false
	}
	patch := "0"
	if rest, ok := strings.CutPrefix(v, "."); ok {
		v = rest
		if patch, ok = num(); !ok {
			return "", false
		}
	}
	pre := ""
	for _, kind := range []string{"rc", "beta"} {
		if rest, ok := strings.CutPrefix(v, kind); ok {
			v = rest
			n, ok := num()
			if !ok {
				return "", false
			}
			pre = "-" + kind + "." + n
			break
		}
	}
	if v != "" && v[0] != '-' && v[0] != '+' {
		return "", false
	}
	return major + "." + minor + "." + patch + pre, true
}

// randomFile is a file opened for random access, with its size.
type randomFile struct {
	io.ReaderAt
	size  int64
	close func() error
}

// Close closes the underlying file.
func (f *randomFile) Close() error { return f.close() }

// openRandom opens name for random access. A file that implements io.ReaderAt
// is used as is and one that implements io.Seeker is read through Seek; any
// other file is read into memory, which fails when it is larger than max
// bytes. The returned file is not safe for concurrent use.
func openRandom(fsys fs.FS, name string, max int64) (*randomFile, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	size := info.Size()
	if ra, ok := f.(io.ReaderAt); ok {
		return &randomFile{ReaderAt: ra, size: size, close: f.Close}, nil
	}
	if rs, ok := f.(io.ReadSeeker); ok {
		return &randomFile{ReaderAt: &seekReaderAt{r: rs}, size: size, close: f.Close}, nil
	}
	defer f.Close()
	if size > max {
		return nil, fmt.Errorf("read %s: %d bytes is more than the limit of %d", name, size, max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("read %s: more than the limit of %d bytes", name, max)
	}
	return &randomFile{ReaderAt: bytes.NewReader(data), size: int64(len(data)), close: func() error { return nil }}, nil
}

// seekReaderAt reads at an offset by seeking first. It is not safe for
// concurrent use.
type seekReaderAt struct {
	r io.ReadSeeker
}

// ReadAt implements io.ReaderAt.
func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: negative offset", off)
	}
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, fmt.Errorf("seek to %d: %w", off, err)
	}
	n, err := io.ReadFull(s.r, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}
