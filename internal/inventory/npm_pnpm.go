package inventory

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// pnpmLockHeader is the part of a pnpm-lock.yaml that says its format. The
// version is a number in 5.x files (5.4) and a string from 6.0 on ('9.0').
type pnpmLockHeader struct {
	LockfileVersion any `yaml:"lockfileVersion"`
}

// pnpmLock is a pnpm-lock.yaml of any supported version. Its "packages" keys
// are:
//
//	5.x  /name/1.2.3, /@scope/name/1.2.3, /name/1.2.3_peer@2.0.0
//	6.x  /name@1.2.3, /@scope/name@1.2.3, /name@1.2.3(peer@2.0.0)
//	9.x  name@1.2.3 (peers only in the keys of "snapshots")
//
// and keys of other shapes (a tarball URL, a git host path) for packages not
// from the registry, whose entries carry a name and a version.
type pnpmLock struct {
	Packages  map[string]pnpmPackage  `yaml:"packages"`
	Snapshots map[string]pnpmSnapshot `yaml:"snapshots"`
	Importers map[string]pnpmImporter `yaml:"importers"`
}

// pnpmPackage is an entry of "packages".
type pnpmPackage struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	// Dev is recorded up to version 6: true for a development-only
	// dependency, false for a production one, absent when both.
	Dev        bool `yaml:"dev"`
	Resolution struct {
		// Directory is set for a local directory dependency.
		Directory string `yaml:"directory"`
	} `yaml:"resolution"`
}

// pnpmSnapshot is an entry of "snapshots" (version 9): the resolved
// dependencies of one package with one set of peers.
type pnpmSnapshot struct {
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

// pnpmImporter is a project of the workspace in version 9, with its direct
// dependencies.
type pnpmImporter struct {
	Dependencies         map[string]pnpmImporterDep `yaml:"dependencies"`
	OptionalDependencies map[string]pnpmImporterDep `yaml:"optionalDependencies"`
	DevDependencies      map[string]pnpmImporterDep `yaml:"devDependencies"`
}

// pnpmImporterDep is a direct dependency of an importer.
type pnpmImporterDep struct {
	Version string `yaml:"version"`
}

// parsePnpmLock parses a pnpm-lock.yaml of lockfileVersion 5.x, 6.x or 9.x.
// Peer suffixes are stripped from versions, so a package resolved with two
// sets of peers is reported once. Version 9 no longer marks development
// dependencies; they are found by walking the dependency graph from the
// importers' dependencies and devDependencies.
func parsePnpmLock(data []byte, location string) ([]Package, error) {
	var h pnpmLockHeader
	if err := npmDecodeYAML(data, &h); err != nil {
		return nil, fmt.Errorf("decode pnpm lock: %w", err)
	}
	major, err := pnpmMajor(h.LockfileVersion)
	if err != nil {
		return nil, err
	}
	var lock pnpmLock
	if major >= 9 {
		err = npmDecodeYAML(data, &lock)
	} else {
		// Importers of versions 5 and 6 have other shapes and are not
		// needed: entries carry the dev flag.
		var old struct {
			Packages map[string]pnpmPackage `yaml:"packages"`
		}
		err = npmDecodeYAML(data, &old)
		lock.Packages = old.Packages
	}
	if err != nil {
		return nil, fmt.Errorf("decode pnpm lock version %d: %w", major, err)
	}
	var dev map[string]bool
	if major >= 9 {
		dev = pnpmDevOnly(&lock)
	}
	var pkgs []Package
	for _, key := range slices.Sorted(maps.Keys(lock.Packages)) {
		e := lock.Packages[key]
		if e.Resolution.Directory != "" {
			continue
		}
		name, version := pnpmSplitKey(key, major)
		if e.Name != "" && e.Version != "" {
			name, version = e.Name, e.Version
		} else if e.Version != "" && !validNPMVersion(version) {
			version = e.Version
		}
		if name == "" || !validNPMVersion(version) {
			continue
		}
		isDev := e.Dev
		if dev != nil {
			isDev = dev[name+"@"+version]
		}
		pkgs = append(pkgs, npmPackage(name, version, location, isDev, nil))
	}
	return mergeRepeated(pkgs), nil
}

// pnpmMajor returns the major version of a lockfileVersion value (5.4,
// '6.0', '9.0'), which must be 5 or more.
func pnpmMajor(v any) (int, error) {
	s := fmt.Sprint(v)
	if v == nil {
		s = ""
	}
	head, _, _ := strings.Cut(s, ".")
	major, err := strconv.Atoi(head)
	if err != nil || major < 5 || major > 99 {
		return 0, fmt.Errorf("pnpm lockfileVersion %q is not supported", s)
	}
	return major, nil
}

// pnpmSplitKey returns the name and version in a "packages" or "snapshots"
// key, without the peer suffix. It returns empty strings for a key of
// another shape.
func pnpmSplitKey(key string, major int) (name, version string) {
	if major < 6 {
		rest, ok := strings.CutPrefix(key, "/")
		if !ok {
			return "", ""
		}
		parts := strings.SplitN(rest, "/", 3)
		if strings.HasPrefix(rest, "@") {
			if len(parts) < 3 {
				return "", ""
			}
			name, version = parts[0]+"/"+parts[1], parts[2]
		} else {
			if len(parts) < 2 {
				return "", ""
			}
			name, version = parts[0], strings.Join(parts[1:], "/")
		}
		version, _, _ = strings.Cut(version, "_")
		return name, version
	}
	if major < 9 {
		var ok bool
		if key, ok = strings.CutPrefix(key, "/"); !ok {
			return "", ""
		}
	}
	key = pnpmStripPeers(key)
	return npmSplitSpecifier(key)
}

// pnpmStripPeers removes the "(peer@1.0.0)…" suffix of a version 6+ key.
func pnpmStripPeers(key string) string {
	if i := strings.IndexByte(key, '('); i > 0 {
		return key[:i]
	}
	return key
}

// pnpmDevOnly walks the "snapshots" graph of a version 9 lock file and
// returns the packages ("name@version", without peers) that only
// development dependencies of the importers reach. The walk visits every
// snapshot at most once per root set.
func pnpmDevOnly(lock *pnpmLock) map[string]bool {
	var prodRoots, devRoots []string
	for _, imp := range slices.Sorted(maps.Keys(lock.Importers)) {
		deps := lock.Importers[imp]
		for _, m := range []map[string]pnpmImporterDep{deps.Dependencies, deps.OptionalDependencies} {
			for _, n := range slices.Sorted(maps.Keys(m)) {
				prodRoots = append(prodRoots, pnpmSnapshotKey(lock, n, m[n].Version))
			}
		}
		for _, n := range slices.Sorted(maps.Keys(deps.DevDependencies)) {
			devRoots = append(devRoots, pnpmSnapshotKey(lock, n, deps.DevDependencies[n].Version))
		}
	}
	prod := pnpmReach(lock, prodRoots)
	devReached := pnpmReach(lock, devRoots)
	out := map[string]bool{}
	for key := range devReached {
		if !prod[key] {
			out[key] = true
		}
	}
	return out
}

// pnpmSnapshotKey returns the "snapshots" key that a dependency on name at
// version refers to: "name@version" for a registry version, or the version
// itself for an alias ("ms@2.0.0"). It returns "" when there is none (a
// link to a workspace package).
func pnpmSnapshotKey(lock *pnpmLock, name, version string) string {
	if k := name + "@" + version; hasSnapshot(lock, k) {
		return k
	}
	if hasSnapshot(lock, version) {
		return version
	}
	return ""
}

// hasSnapshot reports whether key is a snapshot, or a package when the lock
// file has no snapshots.
func hasSnapshot(lock *pnpmLock, key string) bool {
	if lock.Snapshots == nil {
		_, ok := lock.Packages[pnpmStripPeers(key)]
		return ok
	}
	_, ok := lock.Snapshots[key]
	return ok
}

// pnpmReach returns the packages ("name@version", without peers) reachable
// from the snapshot keys in roots.
func pnpmReach(lock *pnpmLock, roots []string) map[string]bool {
	seen := map[string]bool{}
	reached := map[string]bool{}
	queue := slices.Clone(roots)
	for len(queue) > 0 {
		key := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		if name, version := npmSplitSpecifier(pnpmStripPeers(key)); name != "" {
			reached[name+"@"+version] = true
		}
		snap := lock.Snapshots[key]
		for _, m := range []map[string]string{snap.Dependencies, snap.OptionalDependencies} {
			for n, v := range m {
				if k := pnpmSnapshotKey(lock, n, v); k != "" && !seen[k] {
					queue = append(queue, k)
				}
			}
		}
	}
	return reached
}

// maxYAMLLock bounds the size of a YAML lock file (pnpm-lock.yaml, a yarn
// berry yarn.lock). yaml.v3 builds a node tree for the whole document, many
// times its size, before decoding it, so the general maxManifest (256 MiB)
// would let one file take many gigabytes. The largest real lock files are a
// few MiB.
const maxYAMLLock = 32 << 20

// errYAMLLockTooLarge means a YAML lock file is larger than maxYAMLLock.
var errYAMLLockTooLarge = errors.New("YAML lock file too large")

// npmDecodeYAML decodes a YAML lock file into v. It returns an error
// wrapping errYAMLLockTooLarge, before decoding anything, for data larger
// than maxYAMLLock. A panic in the YAML decoder on malformed input becomes
// an error.
func npmDecodeYAML(data []byte, v any) (err error) {
	if len(data) > maxYAMLLock {
		return fmt.Errorf("%d bytes is more than the limit of %d (%d MiB): %w", len(data), maxYAMLLock, maxYAMLLock>>20, errYAMLLockTooLarge)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML: %v", r)
		}
	}()
	return yaml.Unmarshal(data, v)
}
