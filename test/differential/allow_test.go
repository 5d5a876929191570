package differential

import (
	"regexp"
	"slices"
	"strings"

	"github.com/kubeshield/kubeshield/internal/peer"
)

var synthID = regexp.MustCompile(`^x_KSDIFF-[0-9]{3}[A-E]$`)

// allowed is one explained difference: on input, for the package key pkg
// (see key), only side reports the vulnerability named id (any of its IDs).
type allowed struct {
	input, pkg, side, id string
	why                  string
}

// allowList holds the differences between kubeshield and osv-scanner 2.5.0
// that are explained. An entry that no longer matches a difference fails
// the test, so the list stays true.
var allowList = []allowed{
	// osv-scanner stops evaluating an affected entry's ranges at the first
	// range that is neither ECOSYSTEM nor SEMVER (rangeAffectsVersion in
	// osv-scalibr's vulnmatch returns false there), and compares the
	// versions list by string. PYSEC-2022-304 lists a GIT range first, then
	// ECOSYSTEM introduced 3.2 / fixed 3.2.16; its versions list has "3.2",
	// not "3.2.0". Under PEP 440, 3.2.0 == 3.2 is affected: kubeshield is
	// right.
	{"python", "PyPI django 3.2.0", "kubeshield", "PYSEC-2022-304",
		"osv-scanner skips the ECOSYSTEM range after a GIT range and compares versions[] as strings (3.2.0 vs 3.2)"},
}

// explain says why d is allowed ("" when it is not) and which allow-list
// entry explains it (-1 for none, or for a rule).
func explain(input string, d peer.Difference, debPkgs []debPackage) (int, string) {
	for i, a := range allowList {
		if a.input == input && a.pkg == d.Package && a.side == d.Side && slices.Contains(d.IDs, a.id) {
			return i, a.why
		}
	}
	// Rule: osv-scanner evaluates a Debian binary package with the binary's
	// version against the source package's records (osvutil.ParsePackage
	// takes the source name from the dpkg metadata but keeps pkg.Version).
	// The records speak of source versions, so where the binary's version
	// is above its source's (a binNMU "+bN" suffix; bsdutils, whose binary
	// carries the epoch "1:" that util-linux's source version lacks)
	// osv-scanner evaluates another version than the one the records mean,
	// and kubeshield, which uses the source version, is right. Of the
	// synthetic records (syntheticDebian) that flips C (last_affected = the
	// source version: only kubeshield) and, when the binary's version is
	// also above "source+ksfix1" (the epoch case), E (introduced there: only
	// osv-scanner). A and D share an alias, so one of them still matches.
	if input == "debian" {
		want := map[string]string{"kubeshield": "C", "osv-scanner": "E"}[d.Side]
		for _, p := range debPkgs {
			if peer.Key("Debian", p.name, p.version) != d.Package || p.version == p.sourceVersion {
				continue
			}
			for _, id := range d.IDs {
				if synthID.MatchString(id) && strings.HasSuffix(id, want) {
					return -1, "osv-scanner compares the binary version " + p.version + " with ranges of source " + p.sourceName + " " + p.sourceVersion
				}
			}
		}
	}
	return -1, ""
}
