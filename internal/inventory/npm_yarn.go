package inventory

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// parseYarnLock parses a yarn.lock: the classic text format of yarn 1, or
// the YAML format of yarn 2 and later ("berry"), which has a __metadata
// entry. Yarn does not record development dependencies.
func parseYarnLock(data []byte, location string) ([]Package, error) {
	if isYarnBerry(data) {
		return parseYarnBerry(data, location)
	}
	return parseYarnClassic(data, location)
}

// isYarnBerry reports whether a yarn.lock has the __metadata entry of the
// berry format at the start of a line.
func isYarnBerry(data []byte) bool {
	return bytes.HasPrefix(data, []byte("__metadata:")) || bytes.Contains(data, []byte("\n__metadata:"))
}

// parseYarnClassic parses the yarn 1 format:
//
//	"@scope/a@^1.0.0", "@scope/a@^1.1.0":
//	  version "1.2.0"
//	  resolved "https://…"
//	  dependencies:
//	    b "^2.0.0"
//
// An entry starts at a line without indentation that ends with ":" and lists
// the specifiers it satisfies; its fields are indented by two spaces. The
// package name comes from the first specifier (the target of an "npm:"
// alias); an entry for a local directory (file:, link:) is left out. The
// first malformed line or entry is reported; parsing goes on after it.
func parseYarnClassic(data []byte, location string) ([]Package, error) {
	var (
		pkgs     []Package
		firstErr error
		name     string // the current entry's package name
		version  string
		start    int  // the current entry's line
		inEntry  bool // whether a line without indentation opened an entry
		skip     bool // whether the current entry is a local directory
	)
	flush := func() {
		if !inEntry || skip {
			return
		}
		if version == "" {
			if firstErr == nil {
				firstErr = fmt.Errorf("yarn.lock line %d: entry %s has no version", start, name)
			}
			return
		}
		if validNPMVersion(version) {
			pkgs = append(pkgs, npmPackage(name, version, location, false, nil))
		}
	}
	n := 0
	for line := range strings.Lines(string(data)) {
		n++
		line = strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			flush()
			inEntry, skip, version, start = false, false, "", n
			specs, ok := strings.CutSuffix(trimmed, ":")
			if !ok {
				if firstErr == nil {
					firstErr = fmt.Errorf("yarn.lock line %d: %q is not an entry header", n, yarnSnippet(trimmed))
				}
				continue
			}
			first, _, _ := strings.Cut(specs, ",")
			first = yarnUnquote(strings.TrimSpace(first))
			var rng string
			name, rng = npmSplitSpecifier(first)
			if target, ok := strings.CutPrefix(rng, "npm:"); ok {
				name, _ = npmSplitSpecifier(target)
			}
			if name == "" {
				if firstErr == nil {
					firstErr = fmt.Errorf("yarn.lock line %d: entry header has no package name", n)
				}
				continue
			}
			inEntry = true
			skip = strings.HasPrefix(rng, "file:") || strings.HasPrefix(rng, "link:") ||
				strings.HasPrefix(rng, "portal:")
			continue
		}
		// Only the fields of the entry itself, indented by exactly two
		// spaces, matter; deeper lines list dependencies.
		if !inEntry || !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "   ") {
			continue
		}
		if v, ok := strings.CutPrefix(trimmed, "version "); ok {
			version = yarnUnquote(strings.TrimSpace(v))
		} else if v, ok := strings.CutPrefix(trimmed, "version:"); ok {
			version = yarnUnquote(strings.TrimSpace(v))
		}
	}
	flush()
	return mergeRepeated(pkgs), firstErr
}

// yarnUnquote removes the double quotes around a yarn 1 string, decoding
// its escapes; an unquoted or malformed string is returned as it is.
func yarnUnquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s[1 : len(s)-1]
}

// yarnSnippet shortens a line to at most 80 bytes for an error message.
func yarnSnippet(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// yarnBerryEntry is an entry of a yarn 2+ lock file.
type yarnBerryEntry struct {
	Version string `yaml:"version"`
	// Resolution is "name@protocol:reference": "ms@npm:2.0.0",
	// "app@workspace:.", "resolve@patch:resolve@npm%3A1.22.8#…".
	Resolution string `yaml:"resolution"`
}

// parseYarnBerry parses a yarn 2+ lock file, a YAML map from the
// comma-separated specifiers of an entry to the entry. The package name comes
// from the resolution; workspaces, links and portals are left out.
func parseYarnBerry(data []byte, location string) ([]Package, error) {
	var lock map[string]yarnBerryEntry
	if err := npmDecodeYAML(data, &lock); err != nil {
		return nil, fmt.Errorf("decode yarn.lock: %w", err)
	}
	var pkgs []Package
	for _, key := range slices.Sorted(maps.Keys(lock)) {
		if key == "__metadata" {
			continue
		}
		e := lock[key]
		ref := e.Resolution
		if ref == "" {
			ref, _, _ = strings.Cut(key, ",")
			ref = strings.TrimSpace(ref)
		}
		name, rng := npmSplitSpecifier(ref)
		if name == "" || strings.HasPrefix(rng, "workspace:") || strings.HasPrefix(rng, "link:") ||
			strings.HasPrefix(rng, "portal:") || !validNPMVersion(e.Version) {
			continue
		}
		pkgs = append(pkgs, npmPackage(name, e.Version, location, false, nil))
	}
	return mergeRepeated(pkgs), nil
}
