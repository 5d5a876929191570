// Package vuln matches an inventory against vulnerability records with the
// OSV schema's semantics exactly: ECOSYSTEM and SEMVER ranges evaluated with
// the ecosystem's own version order (introduced, fixed, last_affected
// events), explicit version lists, Debian and Alpine through the source
// package and the release, Go through the module path and the toolchain as
// stdlib. Records that name the same flaw (aliases, upstream IDs) are merged
// so that one flaw in one package is one finding.
//
// The matcher is pure: records come from a [Source] (the vulndb store, or
// anything else), the result is a list of [Match] values, and [Findings]
// turns them into finding.Finding values with severities computed from CVSS
// vectors.
package vuln
