package inventory

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/BurntSushi/toml"
)

// rust reads Rust crates from two kinds of evidence:
//
//   - Cargo.lock files (format versions 1 to 4). Only the crates that come
//     from a registry or a git repository are listed: the packages without a
//     "source" are the workspace's own crates and path dependencies, which
//     exist nowhere else and match no advisory.
//   - Executables built with cargo-auditable, which embeds the dependency
//     tree as zlib-compressed JSON in a ".dep-v0" section of an ELF or PE
//     file. The crates whose source is "crates.io", "registry" or "git" are
//     listed, build-time dependencies included; the root package and other
//     "local" crates are not. Executables without that section (most of
//     them) give nothing, and so do files that are not well-formed ELF or PE
//     files: they are not this cataloger's to judge. Mach-O files, which do
//     not occur in Linux images, are not read.
//
// Required accepts every Cargo.lock and every regular file with an execute
// bit (or a ".exe" name); Catalog reads only the headers of an executable and
// its .dep-v0 section, through [io.ReaderAt] when the filesystem's files
// offer it (or [io.Seeker]), and otherwise reads files up to maxBuffered
// bytes into memory.
type rust struct{}

func (rust) Name() string { return "rust" }

func (rust) Required(name string, mode fs.FileMode) bool {
	file := path.Base(name)
	if file == "Cargo.lock" {
		return true
	}
	return mode.IsRegular() && (mode&0o111 != 0 || strings.HasSuffix(strings.ToLower(file), ".exe"))
}

func (r rust) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachFile(ctx, in, r.Name(), func(name string) ([]Package, error) {
		if path.Base(name) != "Cargo.lock" {
			return catalogRustBinary(in.FS, name)
		}
		data, err := readFile(in.FS, name, maxManifest)
		if err != nil {
			return nil, err
		}
		return parseCargoLock(data, name)
	})
}

// crateSource is what a Cargo.lock "source" or a cargo-auditable "source"
// says about where a crate comes from.
type crateSource int

const (
	crateLocal    crateSource = iota // workspace member, path dependency, or unknown
	crateCratesIO                    // the crates.io registry
	crateRegistry                    // another registry
	crateGit                         // a git repository
)

// cratePackage builds the package of a crate. The purl has a
// "repository_url" qualifier for a registry other than crates.io and a
// "vcs_url" qualifier for a git source, when the URL is known.
func cratePackage(name, version string, src crateSource, url, location string) Package {
	q := map[string]string{}
	switch src {
	case crateRegistry:
		q["repository_url"] = url
	case crateGit:
		q["vcs_url"] = url
	}
	return Package{
		Name:      name,
		Version:   version,
		Ecosystem: CratesIO,
		Type:      "rust-crate",
		PURL:      purl("cargo", "", name, version, q),
		Locations: []Location{{Path: location}},
	}
}

// The index URLs that mean crates.io in a Cargo.lock source.
var cratesIOIndexes = map[string]bool{
	"https://github.com/rust-lang/crates.io-index": true,
	"https://index.crates.io/":                     true,
}

// parseCargoSource classifies a Cargo.lock source ("registry+URL",
// "sparse+URL", "git+URL?branch=x#COMMIT") and returns the URL to record:
// the index URL of a registry other than crates.io, or "git+URL@COMMIT" for
// git, as the purl vcs_url qualifier is written.
func parseCargoSource(s string) (crateSource, string) {
	kind, url, ok := strings.Cut(s, "+")
	if !ok {
		return crateLocal, ""
	}
	switch kind {
	case "registry", "sparse":
		if cratesIOIndexes[url] {
			return crateCratesIO, ""
		}
		return crateRegistry, url
	case "git":
		repo, commit, _ := strings.Cut(url, "#")
		repo, _, _ = strings.Cut(repo, "?")
		if commit != "" {
			return crateGit, "git+" + repo + "@" + commit
		}
		return crateGit, "git+" + repo
	}
	return crateLocal, ""
}

// parseCargoLock reads a Cargo.lock file and returns its registry and git
// crates, in file order. A [[package]] without name or version is an error;
// the other crates are still returned.
func parseCargoLock(data []byte, location string) ([]Package, error) {
	var lock struct {
		Package []struct {
			Name    string `toml:"name"`
			Version string `toml:"version"`
			Source  string `toml:"source"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(string(data), &lock); err != nil {
		return nil, fmt.Errorf("decode Cargo.lock: %w", err)
	}
	var (
		pkgs []Package
		errs []error
	)
	for i, p := range lock.Package {
		if p.Name == "" || p.Version == "" {
			errs = append(errs, fmt.Errorf("package %d (%q): no name or version", i+1, p.Name))
			continue
		}
		src, url := parseCargoSource(p.Source)
		if src == crateLocal {
			continue
		}
		pkgs = append(pkgs, cratePackage(p.Name, p.Version, src, url, location))
	}
	return pkgs, errors.Join(errs...)
}

// maxDepV0 bounds the decompressed size of a .dep-v0 section. The JSON of
// a binary with a thousand dependencies is about 100 KiB.
const maxDepV0 = 16 << 20

// catalogRustBinary reads the cargo-auditable data of the executable at
// name, if it has any. It opens the file with openRandom (shared with the
// go-binary cataloger), so that only the headers and the section are read.
func catalogRustBinary(fsys fs.FS, name string) ([]Package, error) {
	f, err := openRandom(fsys, name, maxBuffered)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	section, err := depV0Section(f)
	if err != nil || section == nil {
		return nil, nil // not a well-formed executable, or no audit data
	}
	pkgs, err := parseDepV0(section, name)
	if err != nil {
		return pkgs, fmt.Errorf("cargo-auditable data: %w", err)
	}
	return pkgs, nil
}

// hasELFMagic and hasPEMagic report whether b starts like an ELF file or a
// PE file (whose DOS header starts with "MZ").
func hasELFMagic(b []byte) bool { return bytes.HasPrefix(b, []byte(elf.ELFMAG)) }
func hasPEMagic(b []byte) bool  { return bytes.HasPrefix(b, []byte("MZ")) }

// depV0Section finds the .dep-v0 section of an ELF or PE file. It returns
// nil and no error when the file has no such section, and an error when the
// file is not a well-formed ELF or PE file.
func depV0Section(ra io.ReaderAt) (io.Reader, error) {
	var magic [4]byte
	if n, _ := ra.ReadAt(magic[:], 0); n < len(magic) {
		return nil, errors.New("too short for an executable")
	}
	switch {
	case hasELFMagic(magic[:]):
		f, err := elf.NewFile(ra)
		if err != nil {
			return nil, fmt.Errorf("parse ELF: %w", err)
		}
		s := f.Section(".dep-v0")
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, nil
		}
		return s.Open(), nil
	case hasPEMagic(magic[:]):
		f, err := pe.NewFile(ra)
		if err != nil {
			return nil, fmt.Errorf("parse PE: %w", err)
		}
		s := f.Section(".dep-v0")
		if s == nil {
			return nil, nil
		}
		return s.Open(), nil
	}
	return nil, errors.New("neither ELF nor PE")
}

// parseDepV0 decompresses and reads the content of a .dep-v0 section. At
// most [maxDepV0] bytes are decompressed.
func parseDepV0(section io.Reader, location string) ([]Package, error) {
	zr, err := zlib.NewReader(section)
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, maxDepV0+1))
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	if len(data) > maxDepV0 {
		return nil, fmt.Errorf("decompress: more than the limit of %d bytes", maxDepV0)
	}
	return parseDepV0JSON(data, location)
}

// parseDepV0JSON reads cargo-auditable's JSON dependency list. A package
// without name or version is an error; the others are still returned.
func parseDepV0JSON(data []byte, location string) ([]Package, error) {
	var info struct {
		Packages []struct {
			Name    string          `json:"name"`
			Version string          `json:"version"`
			Source  json.RawMessage `json:"source"`
			Root    bool            `json:"root"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	var (
		pkgs []Package
		errs []error
	)
	for i, p := range info.Packages {
		if p.Name == "" || p.Version == "" {
			errs = append(errs, fmt.Errorf("package %d (%q): no name or version", i, p.Name))
			continue
		}
		// The source is a string; the schema also allows {"Other": "…"},
		// a source this cataloger does not know.
		var source string
		_ = json.Unmarshal(p.Source, &source)
		var src crateSource
		switch source {
		case "crates.io":
			src = crateCratesIO
		case "registry":
			src = crateRegistry
		case "git":
			src = crateGit
		}
		if p.Root || src == crateLocal {
			continue
		}
		// The audit data does not record registry or repository URLs.
		pkgs = append(pkgs, cratePackage(p.Name, p.Version, src, "", location))
	}
	return pkgs, errors.Join(errs...)
}
