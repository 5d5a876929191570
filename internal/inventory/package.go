package inventory

import (
	"cmp"
	"slices"
)

// Ecosystem names a package universe. The values are the ecosystem names of
// the OSV schema, so that a package can be matched against OSV records without
// translation; the release (Debian 12, Alpine v3.20) is kept in [Distro].
type Ecosystem string

// The ecosystems the catalogers report.
const (
	Debian     Ecosystem = "Debian"
	Ubuntu     Ecosystem = "Ubuntu"
	Alpine     Ecosystem = "Alpine"
	RedHat     Ecosystem = "Red Hat"
	AlmaLinux  Ecosystem = "AlmaLinux"
	Rocky      Ecosystem = "Rocky Linux"
	SUSE       Ecosystem = "SUSE"
	OpenSUSE   Ecosystem = "openSUSE"
	Wolfi      Ecosystem = "Wolfi"
	Chainguard Ecosystem = "Chainguard"
	Go         Ecosystem = "Go"
	NPM        Ecosystem = "npm"
	PyPI       Ecosystem = "PyPI"
	Maven      Ecosystem = "Maven"
	RubyGems   Ecosystem = "RubyGems"
	CratesIO   Ecosystem = "crates.io"
	Packagist  Ecosystem = "Packagist"
	NuGet      Ecosystem = "NuGet"
)

// Package is one installed or declared package.
type Package struct {
	// Name is the package name as its ecosystem spells it: the binary package
	// name for dpkg and rpm, the module path for Go, "group:artifact" for Maven.
	Name string `json:"name"`
	// Version is the exact version string as recorded (with epoch and revision
	// for OS packages, without a leading "v" stripped for Go modules).
	Version string `json:"version"`
	// Ecosystem is the OSV ecosystem of the package.
	Ecosystem Ecosystem `json:"ecosystem"`
	// Type says which cataloger found the package: "deb", "apk", "rpm",
	// "go-module", "npm", "python", "java-archive", "gem", "rust-crate",
	// "php-composer" or "dotnet".
	Type string `json:"type"`
	// PURL is the package URL (https://github.com/package-url/purl-spec).
	PURL string `json:"purl"`
	// Arch is the CPU architecture of an OS package, when recorded.
	Arch string `json:"arch,omitempty"`
	// Source is the source package an OS package was built from.
	Source *Source `json:"source,omitempty"`
	// Licenses are the declared licences, as recorded (SPDX expressions where
	// the ecosystem records them).
	Licenses []string `json:"licenses,omitempty"`
	// Locations says where the package was found; the first is the primary
	// evidence (the database or manifest that records it).
	Locations []Location `json:"locations"`
	// Dev marks a package that a lock file records as a development-only
	// dependency.
	Dev bool `json:"dev,omitempty"`
}

// Source is the source package of an OS package.
type Source struct {
	// Name is the name of the source package: dpkg's Source field, apk's
	// origin, or the name in rpm's SOURCERPM.
	Name string `json:"name"`
	// Version is the version of the source package, written as the binary
	// package's [Package.Version] is (with the epoch for rpm). When the
	// database records no version of its own for the source (apk, a dpkg
	// Source field without one), it is the binary package's version.
	Version string `json:"version,omitempty"`
}

// Location is a file that records a package.
type Location struct {
	// Path is the slash-separated path inside the filesystem, without a
	// leading slash. For a file nested in an archive the archive's path is
	// followed by "!" and the inner path (app.war!WEB-INF/lib/x.jar).
	Path string `json:"path"`
	// Layer is the digest of the image layer that holds the file; empty for a
	// directory source.
	Layer string `json:"layer,omitempty"`
}

// Distro identifies the operating system of an image, from /etc/os-release
// or its fallbacks.
type Distro struct {
	// ID is the os-release ID ("debian", "alpine", "rhel", "ubuntu").
	ID string `json:"id"`
	// VersionID is the os-release VERSION_ID ("12", "3.20.3").
	VersionID string `json:"versionID,omitempty"`
	// VersionCodename is the os-release VERSION_CODENAME ("bookworm").
	VersionCodename string `json:"versionCodename,omitempty"`
	// PrettyName is the os-release PRETTY_NAME.
	PrettyName string `json:"prettyName,omitempty"`
	// IDLike lists the os-release ID_LIKE values.
	IDLike []string `json:"idLike,omitempty"`
}

// compare orders packages by ecosystem, name, version and first location.
func compare(a, b Package) int {
	if c := cmp.Compare(a.Ecosystem, b.Ecosystem); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return slices.CompareFunc(a.Locations, b.Locations, func(x, y Location) int {
		return cmp.Or(cmp.Compare(x.Path, y.Path), cmp.Compare(x.Layer, y.Layer))
	})
}

// Sort orders packages deterministically: by ecosystem, name, version, type
// and locations.
func Sort(pkgs []Package) {
	slices.SortFunc(pkgs, compare)
}
