package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
)

// dotnet reads .NET packages: the APP.deps.json that "dotnet publish" writes
// beside an application (its "libraries" of type "package", plus the
// "runtimepack" entry of a self-contained application, reported as the NuGet
// runtime package it names, such as Microsoft.NETCore.App.Runtime.linux-x64),
// and NuGet lock files (packages.lock.json, the resolved version of every
// dependency of every target framework, reported once).
//
// Project references and framework references are not packages and are left
// out, as are the "Project" entries of a lock file.
type dotnet struct{}

func (dotnet) Name() string { return "dotnet" }

func (dotnet) Required(name string, _ fs.FileMode) bool {
	file := path.Base(name)
	return file == "packages.lock.json" || (strings.HasSuffix(file, ".deps.json") && len(file) > len(".deps.json"))
}

func (d dotnet) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachManifest(ctx, in, d.Name(), func(data []byte, name string) ([]Package, error) {
		if path.Base(name) == "packages.lock.json" {
			return parseNuGetLock(data, name)
		}
		return parseDepsJSON(data, name)
	})
}

// nugetPackage builds the package of a NuGet package ID and version.
func nugetPackage(name, version, location string) Package {
	return Package{
		Name:      name,
		Version:   version,
		Ecosystem: NuGet,
		Type:      "dotnet",
		PURL:      purl("nuget", "", name, version, nil),
		Locations: []Location{{Path: location}},
	}
}

// dotnetBOM is the byte order mark that Windows tools may put before JSON.
var dotnetBOM = []byte{0xEF, 0xBB, 0xBF}

// parseDepsJSON reads a .deps.json file. Its "libraries" object is keyed
// "NAME/VERSION"; entries of type "package" and "runtimepack" are reported,
// sorted by key. A key that is not NAME/VERSION is an error; the other
// entries are still returned.
func parseDepsJSON(data []byte, location string) ([]Package, error) {
	var deps struct {
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, dotnetBOM), &deps); err != nil {
		return nil, fmt.Errorf("decode deps.json: %w", err)
	}
	if deps.Libraries == nil {
		return nil, errors.New("deps.json: no \"libraries\" object")
	}
	var (
		pkgs []Package
		errs []error
	)
	for _, key := range slices.Sorted(maps.Keys(deps.Libraries)) {
		typ := deps.Libraries[key].Type
		if typ != "package" && typ != "runtimepack" {
			continue
		}
		name, version, ok := strings.Cut(key, "/")
		if typ == "runtimepack" {
			name = strings.TrimPrefix(name, "runtimepack.")
		}
		if !ok || name == "" || version == "" || strings.Contains(version, "/") {
			errs = append(errs, fmt.Errorf("library %q: want NAME/VERSION", key))
			continue
		}
		pkgs = append(pkgs, nugetPackage(name, version, location))
	}
	return pkgs, errors.Join(errs...)
}

// parseNuGetLock reads a NuGet packages.lock.json: for every target
// framework (and framework/runtime pair), every dependency with its type and
// resolved version. A package resolved to the same version for several
// frameworks is reported once; the packages are sorted by name and version.
func parseNuGetLock(data []byte, location string) ([]Package, error) {
	var lock struct {
		Version      int `json:"version"`
		Dependencies map[string]map[string]struct {
			Type     string `json:"type"`
			Resolved string `json:"resolved"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, dotnetBOM), &lock); err != nil {
		return nil, fmt.Errorf("decode packages.lock.json: %w", err)
	}
	if lock.Dependencies == nil {
		return nil, errors.New("packages.lock.json: no \"dependencies\" object")
	}
	type nameVersion struct{ name, version string }
	seen := map[nameVersion]bool{}
	var errs []error
	for _, tfm := range slices.Sorted(maps.Keys(lock.Dependencies)) {
		deps := lock.Dependencies[tfm]
		for _, name := range slices.Sorted(maps.Keys(deps)) {
			dep := deps[name]
			if strings.EqualFold(dep.Type, "Project") {
				continue
			}
			if name == "" || dep.Resolved == "" {
				errs = append(errs, fmt.Errorf("%s: dependency %q: no resolved version", tfm, name))
				continue
			}
			seen[nameVersion{name, dep.Resolved}] = true
		}
	}
	keys := slices.SortedFunc(maps.Keys(seen), func(a, b nameVersion) int {
		return strings.Compare(a.name+"\x00"+a.version, b.name+"\x00"+b.version)
	})
	pkgs := make([]Package, 0, len(keys))
	for _, k := range keys {
		pkgs = append(pkgs, nugetPackage(k.name, k.version, location))
	}
	return pkgs, errors.Join(errs...)
}
