package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// npm reads JavaScript packages: the lock files of npm (package-lock.json and
// npm-shrinkwrap.json, lockfileVersion 1 to 3), yarn (yarn.lock, classic and
// berry) and pnpm (pnpm-lock.yaml, lockfileVersion 5 to 9), and the
// package.json at the root of every package installed in a node_modules
// directory.
//
// Lock files inside node_modules are skipped: they come with a published
// package and describe nothing that is installed. Workspace packages, links
// and local directories are the project's own code and are not reported.
type npm struct{}

// Name returns "npm".
func (npm) Name() string { return "npm" }

// Required accepts lock files outside node_modules and the package.json at
// the root of each installed package; it looks only at the path.
func (npm) Required(name string, _ fs.FileMode) bool {
	dir, base := path.Split(name)
	switch base {
	case "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml":
		return !inNodeModules(dir)
	case "package.json":
		return isNodeModulesRoot(dir)
	}
	return false
}

// Catalog parses the accepted files. A file that cannot be read or parsed
// becomes a *FileError joined into the returned error; a cancelled context
// returns the context's error.
func (n npm) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachManifest(ctx, in, n.Name(), func(data []byte, name string) ([]Package, error) {
		switch path.Base(name) {
		case "package-lock.json", "npm-shrinkwrap.json":
			return parsePackageLock(data, name)
		case "yarn.lock":
			return parseYarnLock(data, name)
		case "pnpm-lock.yaml":
			return parsePnpmLock(data, name)
		case "package.json":
			p, err := parsePackageJSON(data, name)
			if p == nil {
				return nil, err
			}
			return []Package{*p}, err
		}
		return nil, nil
	})
}

// inNodeModules reports whether dir, as returned by path.Split, has a
// node_modules segment.
func inNodeModules(dir string) bool {
	return strings.HasPrefix(dir, "node_modules/") || strings.Contains(dir, "/node_modules/")
}

// isNodeModulesRoot reports whether dir, as returned by path.Split, is the
// directory of an installed package: node_modules/name/ or
// node_modules/@scope/name/, at any depth.
func isNodeModulesRoot(dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	parent, base := path.Split(dir)
	if base == "" || base[0] == '.' {
		return false
	}
	parent = strings.TrimSuffix(parent, "/")
	up, parentBase := path.Split(parent)
	if parentBase == "node_modules" {
		return base[0] != '@'
	}
	if len(parentBase) > 1 && parentBase[0] == '@' && base[0] != '@' {
		return path.Base(up) == "node_modules"
	}
	return false
}

// npmManifest holds the fields of a package.json that the cataloger uses.
type npmManifest struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	License  json.RawMessage `json:"license"`
	Licenses json.RawMessage `json:"licenses"`
}

// parsePackageJSON reads the package.json of an installed package. It returns
// nil without an error when the file has no name or no version: such a file
// describes no installable package.
func parsePackageJSON(data []byte, location string) (*Package, error) {
	var pj npmManifest
	if err := json.Unmarshal(data, &pj); err != nil {
		return nil, fmt.Errorf("decode package.json: %w", err)
	}
	if pj.Name == "" || pj.Version == "" {
		return nil, nil
	}
	lics := npmLicenses(pj.License)
	if len(lics) == 0 {
		lics = npmLicenses(pj.Licenses)
	}
	p := npmPackage(pj.Name, pj.Version, location, false, lics)
	return &p, nil
}

// npmLicenses reads a "license" or "licenses" value: an SPDX expression
// string, a legacy {"type": "MIT"} object, or a legacy array of either.
// Values of any other shape are ignored.
func npmLicenses(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	var obj struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		if t := strings.TrimSpace(obj.Type); t != "" {
			return []string{t}
		}
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, item := range list {
		if len(item) > 0 && item[0] == '[' {
			continue // no nested arrays
		}
		for _, l := range npmLicenses(item) {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

// npmPackage builds an npm package. A scoped name (@scope/name) becomes the
// purl namespace, which the purl library encodes as %40scope.
func npmPackage(name, version, location string, dev bool, licenses []string) Package {
	ns, short := "", name
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 0 {
			ns, short = name[:i], name[i+1:]
		}
	}
	return Package{
		Name:      name,
		Version:   version,
		Ecosystem: NPM,
		Type:      "npm",
		PURL:      purl("npm", ns, short, version, nil),
		Licenses:  licenses,
		Locations: []Location{{Path: location}},
		Dev:       dev,
	}
}

// npmSplitSpecifier splits "name@range" at the "@" that ends the name, so that
// "@scope/name@^1.0.0" gives "@scope/name" and "^1.0.0". A specifier
// without a range gives an empty range.
func npmSplitSpecifier(s string) (name, rng string) {
	if len(s) < 2 {
		return s, ""
	}
	i := strings.IndexByte(s[1:], '@')
	if i < 0 {
		return s, ""
	}
	return s[:i+1], s[i+2:]
}

// validNPMVersion reports whether v looks like a registry version rather
// than a URL, path or protocol reference (file:, link:, git+https:, github:).
func validNPMVersion(v string) bool {
	return v != "" && !strings.ContainsAny(v, ":/ \t\n")
}

// mergeRepeated sorts pkgs and merges packages that have the same name,
// version and location, as when one lock file records a package at several
// places in the tree. The merged package is Dev only when every copy is, and
// keeps the first licences found; the sort is stable, so the result depends
// only on the order of pkgs.
func mergeRepeated(pkgs []Package) []Package {
	slices.SortStableFunc(pkgs, compare)
	out := pkgs[:0]
	for _, p := range pkgs {
		if n := len(out); n > 0 && sameLocatedPackage(out[n-1], p) {
			last := &out[n-1]
			last.Dev = last.Dev && p.Dev
			if len(last.Licenses) == 0 {
				last.Licenses = p.Licenses
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

// sameLocatedPackage reports whether a and b are the same package at the same
// locations.
func sameLocatedPackage(a, b Package) bool {
	return a.Name == b.Name && a.Version == b.Version && a.Ecosystem == b.Ecosystem &&
		a.Type == b.Type && slices.Equal(a.Locations, b.Locations)
}
