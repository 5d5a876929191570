// Package vulndb is the on-disk store of OSV vulnerability records that
// scanners query: one bbolt file, built in full by [Build] from OSV exports
// (an all.zip per ecosystem, a directory tree of OSV JSON files, or one
// file) and opened read-only by any number of scanners with [Open].
//
// # Building
//
// Build writes a new file next to the target and renames it over the old
// one only when everything succeeded, so a failed, cancelled or killed
// import never leaves a broken database, and scanners that have the old file
// open keep reading it undisturbed. Withdrawn records are not stored. A
// record that does not parse is skipped and reported in the import's
// [SourceStatus] (a mirror with one broken record is still worth using),
// unless more than Limits.MaxSkipped are: then the import fails. A source
// that is itself damaged (a corrupt or truncated zip, an entry that escapes
// the archive, sizes over the limits) fails the import, and with it the
// build. The same record id met twice (OSV exports repeat a record in the
// zip of each ecosystem it affects) is stored once: the copy with the later
// modified time wins, the first one on a tie. Records are parsed and
// compressed on several goroutines but stored in the order the source lists
// them, so a build's result does not depend on scheduling; memory stays
// bounded (bbolt commits every few thousand records, and at most 64 MiB of
// record files wait between reading and storing).
//
// # Updating
//
// [Update] fetches OSV's per-ecosystem exports (BASE/<ecosystem>/all.zip)
// from the public bucket, an https mirror, or a local directory for
// air-gapped sites, then rebuilds the database from them with Build, so the
// same guarantee holds: the old file stays until the new one is complete.
// Downloads are kept in a cache directory ("<db>.d" by default) beside a
// small JSON file per download with the URL, the ETag and Last-Modified to
// send back in conditional requests (a 304 reuses the cached file), and the
// checksums the server sent (x-goog-hash: md5 and crc32c). A download goes
// to "<ecosystem>.zip.part" first and is resumed with a range request
// guarded by If-Range; it replaces the cached file only once it is a
// readable zip archive matching the checksums. Every ecosystem asked for
// must be there: one missing export fails the update (ErrNoExport), as
// scans against a database silently lacking an ecosystem would miss its
// vulnerabilities.
//
// # File layout (schema version 1)
//
// Three top-level buckets:
//
//   - "records": record id → one format byte (0 = the record's compacted
//     JSON, 1 = that JSON compressed with zstd; whichever is smaller), the
//     record's modified time (8 bytes of Unix seconds and 4 of nanoseconds,
//     big-endian), then the payload.
//   - "index": one empty-valued key per (package, record):
//     base ecosystem NUL name NUL release NUL id, for example
//     "Debian\x00openssl\x0012\x00DSA-5343-1". Names are normalised as OSV
//     compares them ([osv.NormalizeName]: PEP 503 for PyPI, exact
//     otherwise); the release is empty for ecosystems without one ("Go")
//     and for entries that apply to every release ("Debian"). A query is a
//     prefix scan: one seek for the release-less entries, one for the
//     release's.
//   - "meta": "schema" (the schema version in decimal) and "status" (the
//     [Status] as JSON: build time, record counts, and per source its name,
//     path, ETag and modified time, how [Update] fetched it, counts and
//     skipped records).
//
// The package never logs; it returns errors and reports.
package vulndb
