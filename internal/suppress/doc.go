// Package suppress decides which findings of a scan do not count: those an
// ignore file lists and those an OpenVEX document says do not affect the
// image. Suppressed findings stay in the report, marked with the reason
// (finding.Suppression); only the exit-code gates skip them.
//
// Parsing and applying are separate steps. ParseIgnore and ParseOpenVEX
// read bytes into plain values and check them, so that a broken file is an
// error before any image is read; Apply marks findings and has no side
// effects.
//
// # Ignore file
//
// The ignore file (DefaultIgnoreFile, .kubeshieldignore.yaml) is YAML,
// decoded strictly: unknown fields, duplicate keys, anchors and aliases, and
// a second document are errors.
//
//	ignore:
//	  - id: CVE-2021-33203          # a vulnerability ID or alias, or a KS- rule
//	    package: pkg:pypi/django    # optional: a purl or a name, with or without @version
//	    path: app/requirements.txt  # optional: a file in the image (a path.Match pattern)
//	    reason: admindocs is not installed
//	    expires: 2026-06-30         # optional: the last day the entry applies (UTC)
//
// An entry suppresses a finding when its id equals the finding's rule ID or
// one of its aliases (ignoring case), its package (when given) names the
// affected package, and its path (when given) matches the finding's file or
// the file that records the package. An entry whose expiry date has passed
// suppresses nothing; Apply returns it so that the caller can ask for it to
// be removed.
//
// # OpenVEX
//
// ParseOpenVEX reads OpenVEX 0.2.0 JSON documents
// (https://github.com/openvex/spec). A statement applies to a finding when
// its vulnerability name or one of its aliases equals the finding's ID or
// one of its aliases, and one of its products names the scanned image (by
// reference, digest, a pkg:oci or pkg:docker purl whose version is the
// digest, or a sha-256 hash) and, when the product lists subcomponents, one
// of them is the affected package's purl. A product that is itself the
// affected package's purl, without subcomponents, applies too. Purls match
// as OpenVEX matches them: a purl without a version matches every version,
// and the qualifiers it gives must all be present with the same values.
//
// Statements form a history: of all the statements that apply to a
// finding, across all documents, the one with the latest timestamp wins
// (its own timestamp, else its document's, or its last_updated when later;
// on equal times the later statement in the later document). not_affected
// suppresses the finding with the justification and impact statement as
// reason; fixed suppresses it with reason "fixed"; affected and
// under_investigation do not suppress it, and an affected statement's
// action_statement is added to the finding's remediation. A finding that a
// statement suppresses is not checked against the ignore file.
package suppress
