package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// php reads PHP Composer packages: composer.lock (the "packages" and
// "packages-dev" lists; the latter are marked Dev) and the
// VENDOR/composer/installed.json that Composer writes next to the installed
// packages, in both its Composer 1 form (a bare array) and its Composer 2 form
// ({"packages": [...], "dev-package-names": [...]}, whose dev packages are
// marked Dev). Versions are kept as recorded, with the "v" some projects put
// in their tags ("v5.4.21").
type php struct{}

func (php) Name() string { return "php" }

func (php) Required(name string, _ fs.FileMode) bool {
	dir, file := path.Split(name)
	switch file {
	case "composer.lock":
		return true
	case "installed.json":
		return path.Base(dir) == "composer"
	}
	return false
}

func (c php) Catalog(ctx context.Context, in Input) ([]Package, error) {
	return eachManifest(ctx, in, c.Name(), func(data []byte, name string) ([]Package, error) {
		if path.Base(name) == "composer.lock" {
			return parseComposerLock(data, name)
		}
		return parseComposerInstalled(data, name)
	})
}

// composerPackage is one package of a composer.lock or installed.json.
type composerPackage struct {
	Name    string           `json:"name"`
	Version string           `json:"version"`
	License composerLicenses `json:"license"`
}

// composerLicenses is the "license" field: an array of SPDX identifiers, or
// a single string in old files.
type composerLicenses []string

// UnmarshalJSON accepts a string, an array of strings or null.
func (l *composerLicenses) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one != "" {
			*l = composerLicenses{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("license: %w", err)
	}
	*l = many
	return nil
}

// parseComposerLock reads a composer.lock file.
func parseComposerLock(data []byte, location string) ([]Package, error) {
	var lock struct {
		Packages    []composerPackage `json:"packages"`
		PackagesDev []composerPackage `json:"packages-dev"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, fmt.Errorf("decode composer.lock: %w", err)
	}
	pkgs, err1 := composerPackages(lock.Packages, nil, location)
	dev, err2 := composerPackages(lock.PackagesDev, nil, location)
	for i := range dev {
		dev[i].Dev = true
	}
	return append(pkgs, dev...), errors.Join(err1, err2)
}

// parseComposerInstalled reads a vendor/composer/installed.json file.
func parseComposerInstalled(data []byte, location string) ([]Package, error) {
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte("[")) {
		var list []composerPackage
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("decode installed.json (Composer 1): %w", err)
		}
		return composerPackages(list, nil, location)
	}
	var installed struct {
		Packages        []composerPackage `json:"packages"`
		DevPackageNames []string          `json:"dev-package-names"`
	}
	if err := json.Unmarshal(data, &installed); err != nil {
		return nil, fmt.Errorf("decode installed.json: %w", err)
	}
	dev := make(map[string]bool, len(installed.DevPackageNames))
	for _, n := range installed.DevPackageNames {
		dev[n] = true
	}
	return composerPackages(installed.Packages, dev, location)
}

// composerPackages converts Composer package entries; an entry without a
// name or version is an error and is left out. Names in dev are marked Dev.
func composerPackages(list []composerPackage, dev map[string]bool, location string) ([]Package, error) {
	var (
		pkgs []Package
		errs []error
	)
	for i, cp := range list {
		if cp.Name == "" || cp.Version == "" {
			errs = append(errs, fmt.Errorf("package %d (%q): no name or version", i, cp.Name))
			continue
		}
		vendor, name, ok := strings.Cut(cp.Name, "/")
		if !ok {
			vendor, name = "", cp.Name
		}
		var licenses []string
		if len(cp.License) > 0 {
			licenses = cp.License
		}
		pkgs = append(pkgs, Package{
			Name:      cp.Name,
			Version:   cp.Version,
			Ecosystem: Packagist,
			Type:      "php-composer",
			PURL:      purl("composer", vendor, name, cp.Version, nil),
			Licenses:  licenses,
			Locations: []Location{{Path: location}},
			Dev:       dev[cp.Name],
		})
	}
	return pkgs, errors.Join(errs...)
}
