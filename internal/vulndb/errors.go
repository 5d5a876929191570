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
