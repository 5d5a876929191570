package inventory

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// poetryLock is a poetry.lock. Lock files before lock-version 2.0 put each
// package in a category ("main" or "dev"); from 2.1 (poetry 2) they list its
// dependency groups; 2.0 records neither.
type poetryLock struct {
	Package []struct {
		Name     string   `toml:"name"`
		Version  string   `toml:"version"`
		Category string   `toml:"category"`
		Groups   []string `toml:"groups"`
		Source   struct {
			Type string `toml:"type"`
		} `toml:"source"`
	} `toml:"package"`
}

// parsePoetryLock parses a poetry.lock. A package is Dev when its category is
// "dev", or when it has groups and "main" is not one of them. Local
// directory packages (source type "directory") are the project's own code
// and are left out.
func parsePoetryLock(data []byte, location string) ([]Package, error) {
	var lock poetryLock
	if err := toml.Unmarshal(data, &lock); err != nil {
		return nil, fmt.Errorf("decode poetry.lock: %w", err)
	}
	var pkgs []Package
	for _, p := range lock.Package {
		if p.Name == "" || p.Version == "" || p.Source.Type == "directory" {
			continue
		}
		dev := p.Category == "dev" || (len(p.Groups) > 0 && !slices.Contains(p.Groups, "main"))
		pkgs = append(pkgs, pythonPackage(p.Name, p.Version, location, dev))
	}
	return mergeRepeated(pkgs), nil
}

// pipfileLock is a Pipfile.lock: the "default" packages and the "develop"
// ones, each keyed by name with a version like "==1.2.3".
type pipfileLock struct {
	Default map[string]pipfileLockEntry `json:"default"`
	Develop map[string]pipfileLockEntry `json:"develop"`
}

// pipfileLockEntry is a package of a Pipfile.lock. Version is empty for a
// VCS or path requirement.
type pipfileLockEntry struct {
	Version string `json:"version"`
}

// parsePipfileLock parses a Pipfile.lock. Packages of "develop" are Dev;
// entries without an exact version ("==x") are left out.
func parsePipfileLock(data []byte, location string) ([]Package, error) {
	var lock pipfileLock
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, fmt.Errorf("decode Pipfile.lock: %w", err)
	}
	var pkgs []Package
	for _, section := range []struct {
		entries map[string]pipfileLockEntry
		dev     bool
	}{{lock.Default, false}, {lock.Develop, true}} {
		for _, name := range slices.Sorted(maps.Keys(section.entries)) {
			v := pythonPinnedVersion(section.entries[name].Version)
			if !validPythonName(name) || v == "" {
				continue
			}
			pkgs = append(pkgs, pythonPackage(name, v, location, section.dev))
		}
	}
	return mergeRepeated(pkgs), nil
}

// pythonPinnedVersion returns the version of an exact specifier ("==1.2.3" or
// "===1.2.3"), or "" when spec is not exact (a range, a wildcard, a list).
func pythonPinnedVersion(spec string) string {
	spec = strings.TrimSpace(spec)
	v, ok := strings.CutPrefix(spec, "===")
	if !ok {
		if v, ok = strings.CutPrefix(spec, "=="); !ok {
			return ""
		}
	}
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, ",*;<>=!~ \t()") {
		return ""
	}
	return v
}

// parseRequirements reads the exactly pinned requirements of a pip
// requirements file: "name==1.2.3", with optional extras
// ("name[extra]==1.2.3"), an environment marker ("; python_version < '3.8'",
// not evaluated), and per-requirement options ("--hash=sha256:…").
// Physical lines ending in a backslash are joined first, then comments
// ("#" at the start or after white space) are removed. Unpinned
// requirements, URLs, and option lines (-r, -c, -e, --index-url) are
// ignored, as are lines that are not requirements: the file format has no
// errors worth reporting.
func parseRequirements(data []byte, location string) []Package {
	var pkgs []Package
	for _, line := range requirementLines(string(data)) {
		if name, version, ok := parseRequirement(line); ok {
			pkgs = append(pkgs, pythonPackage(name, version, location, false))
		}
	}
	return mergeRepeated(pkgs)
}

// requirementLines joins continuation lines and strips comments and blank
// lines.
func requirementLines(s string) []string {
	var (
		out  []string
		cont strings.Builder
	)
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cont.WriteString(l)
			continue
		}
		if cont.Len() > 0 {
			cont.WriteString(line)
			line = cont.String()
			cont.Reset()
		}
		if l := stripRequirementComment(line); l != "" {
			out = append(out, l)
		}
	}
	if cont.Len() > 0 {
		if l := stripRequirementComment(cont.String()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// stripRequirementComment removes a comment, which starts with "#" at the
// start of the line or after white space, and trims the line.
func stripRequirementComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i]
			break
		}
	}
	return strings.TrimSpace(line)
}

// parseRequirement parses one logical requirements line and reports whether
// it pins one package to one version.
func parseRequirement(line string) (name, version string, ok bool) {
	if strings.HasPrefix(line, "-") {
		return "", "", false // an option line: -r, -c, -e, --index-url…
	}
	// Options after the requirement start a new word with "-".
	fields := strings.Fields(line)
	for i, f := range fields {
		if strings.HasPrefix(f, "-") {
			fields = fields[:i]
			break
		}
	}
	req := strings.Join(fields, " ")
	req, _, _ = strings.Cut(req, ";") // the environment marker
	req = strings.TrimSpace(req)
	end := 0
	for end < len(req) && isPythonNameByte(req[end]) {
		end++
	}
	name, rest := req[:end], strings.TrimSpace(req[end:])
	if !validPythonName(name) {
		return "", "", false
	}
	if strings.HasPrefix(rest, "[") {
		i := strings.IndexByte(rest, ']')
		if i < 0 {
			return "", "", false
		}
		rest = strings.TrimSpace(rest[i+1:])
	}
	if version = pythonPinnedVersion(rest); version == "" {
		return "", "", false
	}
	return name, version, true
}

// validPythonName reports whether name is a valid distribution name: ASCII
// letters, digits, ".", "_" and "-", starting and ending with a letter or
// digit.
func validPythonName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isPythonNameByte(name[i]) {
			return false
		}
	}
	first, last := name[0], name[len(name)-1]
	return isPythonAlnum(first) && isPythonAlnum(last)
}

// isPythonNameByte reports whether c may appear in a distribution name.
func isPythonNameByte(c byte) bool {
	return isPythonAlnum(c) || c == '.' || c == '_' || c == '-'
}

// isPythonAlnum reports whether c is an ASCII letter or digit.
func isPythonAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
