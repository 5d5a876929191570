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
	// Source.Modified). Update's conditional requests use the validators
	// kept beside the cached file, which a 304 needs anyway.
	ETag     string    `json:"etag,omitempty"`
	Modified time.Time `json:"modified,omitzero"`
	// URL is where Update downloaded the source from; empty for Import
	// alone and for local mirrors.
	URL string `json:"url,omitempty"`
	// Fetch says how Update obtained the source; empty for Import alone.
	Fetch Fetch `json:"fetch,omitempty"`
	// Downloaded is the number of bytes Update transferred for the source
	// (0 when it was not modified or read from a local mirror).
	Downloaded int64 `json:"downloaded,omitempty"`
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

// Fetch says how Update obtained a source's all.zip.
type Fetch string

// The ways Update obtains a source.
const (
	// FetchDownloaded means the whole file was downloaded (HTTP 200).
	FetchDownloaded Fetch = "downloaded"
	// FetchResumed means a partial download, of this update or an earlier
	// interrupted one, was completed with a range request (HTTP 206).
	FetchResumed Fetch = "resumed"
	// FetchNotModified means the server answered the conditional request
	// with HTTP 304 and the cached copy was used.
	FetchNotModified Fetch = "not-modified"
	// FetchLocal means the file was read in place from a local mirror.
	FetchLocal Fetch = "local"
)

// Skipped is a record an import left out because it did not parse.
type Skipped struct {
	// Entry is the zip entry name or the path relative to the source.
	Entry string `json:"entry"`
	// ID is the record's id, or "" if it could not be read.
	ID string `json:"id,omitempty"`
	// Reason is the parse error's message.
	Reason string `json:"reason"`
}
