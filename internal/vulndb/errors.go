package vulndb

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped with detail by the functions of this package.
var (
	// ErrNotFound means no record has the id asked for.
	ErrNotFound = errors.New("record not found")
	// ErrFormat means the file is not a vulnerability database of the
	// schema version this build reads (rebuild it).
	ErrFormat = errors.New("not a vulnerability database of this schema version")
	// ErrCorrupt means the database file is damaged.
	ErrCorrupt = errors.New("vulnerability database is corrupt")
	// ErrLimit means a source exceeds one of the import Limits or a record
	// file exceeds osv.MaxSize.
	ErrLimit = errors.New("import limit exceeded")
	// ErrUnsafePath means a zip entry's name is absolute or climbs out of
	// the archive ("../x").
	ErrUnsafePath = errors.New("unsafe path in archive")
	// ErrTooManyBad means more records failed to parse than
	// Limits.MaxSkipped allows.
	ErrTooManyBad = errors.New("too many bad records")
	// ErrEmpty means a source holds no OSV record.
	ErrEmpty = errors.New("no OSV records")
	// ErrClosed means a Writer was used after its Build ended, or a DB after
	// Close.
	ErrClosed = errors.New("closed")
	// ErrInvalidBaseURL means Update's base URL is neither an https URL, a
	// file URL nor a directory.
	ErrInvalidBaseURL = errors.New("invalid base URL")
	// ErrEcosystem means an ecosystem name cannot be part of a URL path or a
	// file name (empty, ".", "..", a slash, a control character).
	ErrEcosystem = errors.New("invalid ecosystem name")
	// ErrNoExport means the base URL has no all.zip for an ecosystem (HTTP
	// 404 or 410, or no file in a local mirror).
	ErrNoExport = errors.New("no OSV export for the ecosystem")
	// ErrIntegrity means a downloaded or mirrored all.zip is not a readable
	// zip archive, or does not match the checksums the server sent.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrBusy means another update holds the download cache.
	ErrBusy = errors.New("another update is running")
)

// RecordError is a record that could not be imported: the entry it came
// from, its id when known, and why. It wraps the parse error.
type RecordError struct {
	// Entry is the zip entry name or the path relative to the source.
	Entry string
	// ID is the record id, or "" if it could not be read.
	ID string
	// Err is the problem (an *osv.ParseError, or ErrLimit).
	Err error
}

// Error implements error.
func (e *RecordError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("%s: %v", e.Entry, e.Err)
	}
	return fmt.Sprintf("%s (record %s): %v", e.Entry, e.ID, e.Err)
}

// Unwrap returns the problem.
func (e *RecordError) Unwrap() error { return e.Err }

// FetchError is an ecosystem whose all.zip Update could not obtain. Update
// joins one per failed ecosystem.
type FetchError struct {
	// Ecosystem is the ecosystem's name ("Debian").
	Ecosystem string
	// URL is the file's URL, or its path in a local mirror.
	URL string
	// Err is the problem: ErrNoExport, ErrIntegrity, ErrLimit, a transport
	// error or an unexpected HTTP status.
	Err error
}

// Error implements error.
func (e *FetchError) Error() string {
	return fmt.Sprintf("fetch %s (%s): %v", e.Ecosystem, e.URL, e.Err)
}

// Unwrap returns the problem.
func (e *FetchError) Unwrap() error { return e.Err }
