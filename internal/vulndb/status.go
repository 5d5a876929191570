package vulndb

import "time"

// Status describes a database: when it was built and from what.
type Status struct {
	// SchemaVersion is the file layout version (SchemaVersion).
	SchemaVersion int `json:"schemaVersion"`
	// Built is when the Build that wrote the file finished.
	Built time.Time `json:"built"`
	// Records is the number of records stored (distinct ids).
	Records int `json:"records"`
	// IndexKeys is the number of (package, record) index entries.
	IndexKeys int `json:"indexKeys"`
	// Sources are the imports, in the order they ran.
	Sources []SourceStatus `json:"sources"`
	// Size is the file's size in bytes. Open's Status fills it; it is not
	// stored.
	Size int64 `json:"-"`
}

// SourceStatus describes one import.
type SourceStatus struct {
	// Name is the source's name (Source.Name).
	Name string `json:"name"`
	// Path is where the records were read from.
	Path string `json:"path"`
	// ETag and Modified describe the downloaded copy (Source.ETag,
	// Source.Modified), for updates that only fetch what changed.
	ETag     string    `json:"etag,omitempty"`
	Modified time.Time `json:"modified,omitzero"`
	// Imported is when the import finished.
	Imported time.Time `json:"imported"`
	// Entries is the number of JSON files or zip entries read.
	Entries int `json:"entries"`
	// Stored is the number of records stored, new or replacing an older
	// copy of the same id.
	Stored int `json:"stored"`
	// Duplicates is the number of records not stored because a copy with
	// the same id and the same or a later modified time was already there.
	Duplicates int `json:"duplicates"`
	// Withdrawn is the number of withdrawn records left out.
	Withdrawn int `json:"withdrawn"`
	// Skipped are the records that did not parse.
	Skipped []Skipped `json:"skipped,omitempty"`
}

// Skipped is a record an import left out because it did not parse.
type Skipped struct {
	// Entry is the zip entry name or the path relative to the source.
	Entry string `json:"entry"`
	// ID is the record's id, or "" if it could not be read.
	ID string `json:"id,omitempty"`
	// Reason is the parse error's message.
	Reason string `json:"reason"`
}
