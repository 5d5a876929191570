package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// python reads Python packages: installed distributions (the METADATA of a
// .dist-info directory, the PKG-INFO of an .egg-info directory, or an
// .egg-info file written by distutils) and the lock files of poetry
// (poetry.lock), pipenv (Pipfile.lock) and pip (requirements*.txt, exactly
// pinned lines only).
type python struct{}

// Name returns "python".
func (python) Name() string { return "python" }

// Required accepts the METADATA of a .dist-info directory, the PKG-INFO of an
// .egg-info directory, .egg-info files, poetry.lock, Pipfile.lock and
// requirements*.txt; it looks only at the path.
func (python) Required(name string, _ fs.FileMode) bool {
	dir, base := path.Split(name)
	switch base {
	case "METADATA":
		return strings.HasSuffix(dir, ".dist-info/")
	case "PKG-INFO":
		return strings.HasSuffix(dir, ".egg-info/")
	case "poetry.lock", "Pipfile.lock":
		return true
	}
	if strings.HasSuffix(base, ".egg-info") {
		return true
	}
	return strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt")
}

// Catalog parses the accepted files. A file that cannot be read or parsed
// becomes a *FileError joined into the returned error; a cancelled context
// returns the context's error.
func (p python) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachFile(ctx, in, p.Name(), func(name string) ([]Package, error) {
		return p.catalogFile(in.FS, name)
	})
}

// catalogFile reads and parses one file that Required accepted.
func (python) catalogFile(fsys fs.FS, name string) ([]Package, error) {
	base := path.Base(name)
	switch {
	case base == "METADATA" || base == "PKG-INFO" || strings.HasSuffix(base, ".egg-info"):
		data, err := readHead(fsys, name, maxPythonHeaders)
		if err != nil {
			return nil, err
		}
		p, err := parsePythonMetadata(data, name)
		if err != nil && int64(len(data)) >= maxPythonHeaders {
			return nil, fmt.Errorf("%w in the first %d bytes", err, maxPythonHeaders)
		}
		if err != nil {
			return nil, err
		}
		return []Package{p}, nil
	}
	data, err := readFile(fsys, name, maxManifest)
	if err != nil {
		return nil, err
	}
	switch base {
	case "poetry.lock":
		return parsePoetryLock(data, name)
	case "Pipfile.lock":
		return parsePipfileLock(data, name)
	}
	return parseRequirements(data, name), nil
}

// maxPythonHeaders bounds the bytes read from a METADATA or PKG-INFO file:
// the headers come first and are all the cataloger needs; the long
// description after them is not read.
const maxPythonHeaders = 1 << 20

// readHead reads at most max bytes from the start of the file at name. The
// error names the file.
func readHead(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

// parsePythonMetadata parses core metadata (METADATA, PKG-INFO, a distutils
// .egg-info file): RFC 822 style headers, ending at the first blank line,
// with continuation lines that start with white space. Name and Version are
// required. The licence is License-Expression when present, else the first
// line of License (older files put the whole licence text there), unless
// it is UNKNOWN.
func parsePythonMetadata(data []byte, location string) (Package, error) {
	h := pythonHeaders(data)
	name, version := h["name"], h["version"]
	if name == "" || version == "" {
		return Package{}, errors.New("core metadata: no Name or Version header")
	}
	var lics []string
	if l := h["license-expression"]; l != "" {
		lics = []string{l}
	} else if l := h["license"]; l != "" && !strings.EqualFold(l, "UNKNOWN") {
		lics = []string{l}
	}
	p := pythonPackage(name, version, location, false)
	p.Licenses = lics
	return p, nil
}

// pythonHeaders reads the Name, Version, License and License-Expression
// headers of core metadata into a map keyed by the lower-case header name.
// The first occurrence of a header wins. Continuation lines start with a
// space or a tab; only the first non-blank line of a value is kept (older
// files put a whole licence text in License), which keeps the work linear
// in the input. The headers end at the first empty line.
func pythonHeaders(data []byte) map[string]string {
	h := map[string]string{}
	var last string // the wanted header being continued, or ""
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break // the body starts here
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" && h[last] == "" {
				h[last] = strings.TrimSpace(string(line))
			}
			continue
		}
		last = ""
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(string(k)))
		if _, dup := h[key]; dup || !pythonWanted[key] {
			continue
		}
		last = key
		h[key] = strings.TrimSpace(string(v))
	}
	return h
}

// pythonWanted are the core metadata headers that parsePythonMetadata uses.
var pythonWanted = map[string]bool{
	"name": true, "version": true, "license": true, "license-expression": true,
}

// pythonPackage builds a PyPI package. The name is kept as written; the purl
// uses the name normalized as PEP 503 says.
func pythonPackage(name, version, location string, dev bool) Package {
	return Package{
		Name:      name,
		Version:   version,
		Ecosystem: PyPI,
		Type:      "python",
		PURL:      purl("pypi", "", normalizePythonName(name), version, nil),
		Locations: []Location{{Path: location}},
		Dev:       dev,
	}
}

// normalizePythonName normalizes a distribution name as PEP 503 says: lower
// case, with every run of "-", "_" and "." replaced by one "-".
func normalizePythonName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}
