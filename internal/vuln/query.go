package vuln

import (
	"strings"

	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/version"
)

// query is what to look up in the database for one package, and the
// version to compare.
type query struct {
	ecosystem string   // with the release: "Debian:12", "Alpine:v3.20", "Go"
	also      []string // other spellings of the ecosystem the records use

	name    string         // the name the records use
	version string         // the version the records' ranges speak of
	scheme  version.Scheme // the order of ECOSYSTEM ranges
}

// queryOf maps an inventory package to the OSV key its records use. It
// returns false for packages no OSV ecosystem covers (or an OS package of
// an unknown release).
func queryOf(p inventory.Package, d *inventory.Distro) (query, bool) {
	switch p.Ecosystem {
	case inventory.Debian, inventory.Ubuntu:
		// Debian's records name the source package and its version (which
		// differs from the binary's after a binNMU).
		rel := release(p.Ecosystem, d)
		if rel == "" {
			return query{}, false
		}
		name, ver := p.Name, p.Version
		if p.Source != nil {
			name, ver = p.Source.Name, p.Source.Version
		}
		q := query{ecosystem: string(p.Ecosystem) + ":" + rel, name: name, version: ver, scheme: version.Dpkg}
		if p.Ecosystem == inventory.Ubuntu {
			// Ubuntu's records mark LTS releases: "Ubuntu:22.04:LTS".
			q.also = []string{q.ecosystem + ":LTS"}
		}
		return q, true
	case inventory.Alpine, inventory.Wolfi, inventory.Chainguard:
		name := p.Name
		if p.Source != nil && p.Source.Name != "" {
			name = p.Source.Name // the origin
		}
		eco := string(p.Ecosystem)
		if rel := release(p.Ecosystem, d); rel != "" {
			eco += ":" + rel
		} else if p.Ecosystem == inventory.Alpine {
			return query{}, false
		}
		return query{ecosystem: eco, name: name, version: p.Version, scheme: version.APK}, true
	case inventory.RedHat, inventory.AlmaLinux, inventory.Rocky, inventory.SUSE, inventory.OpenSUSE:
		rel := release(p.Ecosystem, d)
		if rel == "" {
			return query{}, false
		}
		// AlmaLinux and Rocky records name binary packages and write the
		// epoch always ("0:1.2-3.el9").
		ver := p.Version
		if !strings.Contains(ver, ":") {
			ver = "0:" + ver
		}
		return query{ecosystem: string(p.Ecosystem) + ":" + rel, name: p.Name, version: ver, scheme: version.RPM}, true
	case inventory.Go:
		ver := strings.TrimPrefix(p.Version, "v")
		if p.Version == "(devel)" || ver == "" {
			return query{}, false
		}
		return query{ecosystem: "Go", name: p.Name, version: ver, scheme: version.SemVer}, true
	case inventory.NPM, inventory.CratesIO, inventory.Packagist:
		return query{ecosystem: string(p.Ecosystem), name: p.Name, version: p.Version, scheme: version.SemVer}, true
	case inventory.PyPI:
		return query{ecosystem: "PyPI", name: p.Name, version: p.Version, scheme: version.PEP440}, true
	case inventory.Maven:
		return query{ecosystem: "Maven", name: p.Name, version: p.Version, scheme: version.Maven}, true
	case inventory.RubyGems:
		return query{ecosystem: "RubyGems", name: p.Name, version: p.Version, scheme: version.Gem}, true
	case inventory.NuGet:
		return query{ecosystem: "NuGet", name: p.Name, version: p.Version, scheme: version.NuGet}, true
	}
	return query{}, false
}

// release is the OSV release suffix of an OS ecosystem: "12" for Debian 12,
// "v3.20" for Alpine 3.20.3, "22.04" for Ubuntu, "9" for AlmaLinux 9.4.
func release(eco inventory.Ecosystem, d *inventory.Distro) string {
	if d == nil || d.VersionID == "" {
		return ""
	}
	v := d.VersionID
	switch eco {
	case inventory.Alpine:
		parts := strings.SplitN(v, ".", 3)
		if len(parts) < 2 {
			return "v" + v
		}
		return "v" + parts[0] + "." + parts[1]
	case inventory.Debian, inventory.Ubuntu:
		return v // Debian's releases are "12", "11", and "6.0" for squeeze
	case inventory.Wolfi, inventory.Chainguard:
		return ""
	}
	major, _, _ := strings.Cut(v, ".")
	return major
}
