package inventory

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// packageLock is a package-lock.json or npm-shrinkwrap.json. Version 1
// records the tree in nested "dependencies"; version 3 in "packages", keyed
// by the install path; version 2 has both, and "packages" wins.
type packageLock struct {
	LockfileVersion int                           `json:"lockfileVersion"`
	Packages        map[string]packageLockEntry   `json:"packages"`
	Dependencies    map[string]packageLockV1Entry `json:"dependencies"`
}

// packageLockEntry is an entry of "packages" (lockfileVersion 2 and 3).
type packageLockEntry struct {
	// Name is set when it differs from the install path: an alias
	// ("ms-old": "npm:ms@2.0.0") or a workspace package.
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Dev     bool            `json:"dev"`
	Link    bool            `json:"link"`
	License json.RawMessage `json:"license"`
}

// packageLockV1Entry is an entry of "dependencies" (lockfileVersion 1, and
// the compatibility section of version 2).
type packageLockV1Entry struct {
	// Version is a registry version, an alias ("npm:ms@2.0.0"), or a
	// reference that is not a registry version ("file:packages/x",
	// "git+https://…#sha").
	Version      string                        `json:"version"`
	Dev          bool                          `json:"dev"`
	Dependencies map[string]packageLockV1Entry `json:"dependencies"`
}

// parsePackageLock parses a package-lock.json or npm-shrinkwrap.json. The
// root project, workspace packages and links are left out.
func parsePackageLock(data []byte, location string) ([]Package, error) {
	var lock packageLock
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, fmt.Errorf("decode package lock: %w", err)
	}
	var pkgs []Package
	if lock.Packages != nil {
		for _, key := range slices.Sorted(maps.Keys(lock.Packages)) {
			e := lock.Packages[key]
			i := strings.LastIndex(key, "node_modules/")
			if key == "" || i < 0 || e.Link {
				continue // the root project, a workspace directory, or a link to one
			}
			name := e.Name
			if name == "" {
				name = key[i+len("node_modules/"):]
			}
			if name == "" || !validNPMVersion(e.Version) {
				continue
			}
			pkgs = append(pkgs, npmPackage(name, e.Version, location, e.Dev, npmLicenses(e.License)))
		}
		return mergeRepeated(pkgs), nil
	}
	pkgs = walkPackageLockV1(lock.Dependencies, location, pkgs)
	return mergeRepeated(pkgs), nil
}

// walkPackageLockV1 appends the packages of a version 1 "dependencies" tree
// to pkgs. The depth is bounded by the JSON decoder's nesting limit.
func walkPackageLockV1(deps map[string]packageLockV1Entry, location string, pkgs []Package) []Package {
	for _, key := range slices.Sorted(maps.Keys(deps)) {
		e := deps[key]
		name, version := key, e.Version
		if rest, ok := strings.CutPrefix(version, "npm:"); ok {
			name, version = npmSplitSpecifier(rest)
		}
		if name != "" && validNPMVersion(version) {
			pkgs = append(pkgs, npmPackage(name, version, location, e.Dev, nil))
		}
		pkgs = walkPackageLockV1(e.Dependencies, location, pkgs)
	}
	return pkgs
}
