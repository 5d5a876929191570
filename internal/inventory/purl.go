package inventory

import (
	"sort"

	"github.com/package-url/packageurl-go"
)

// purl builds a package URL string. Empty qualifier values are left out and
// qualifiers are sorted by key, as the purl specification's canonical form
// requires.
func purl(typ, namespace, name, version string, qualifiers map[string]string) string {
	var qs packageurl.Qualifiers
	keys := make([]string, 0, len(qualifiers))
	for k, v := range qualifiers {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		qs = append(qs, packageurl.Qualifier{Key: k, Value: qualifiers[k]})
	}
	return packageurl.NewPackageURL(typ, namespace, name, version, qs, "").ToString()
}

// distroQualifier is the purl "distro" qualifier of an OS package
// ("debian-12", "alpine-3.20.3").
func distroQualifier(d *Distro) string {
	if d == nil || d.ID == "" {
		return ""
	}
	if d.VersionID == "" {
		return d.ID
	}
	return d.ID + "-" + d.VersionID
}
