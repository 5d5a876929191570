package rpmdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
)

// ReadSQLite reads the header blobs of rpm's SQLite database, rpmdb.sqlite,
// from the file at path: the table Packages, whose hnum column is the
// instance and whose blob column is the header blob.
//
// Unlike the other readers it needs a file, since the SQLite library reads
// only files: a caller whose database is elsewhere (inside an image) must copy
// it to a temporary file first. The file is opened read-only and immutable,
// so nothing is locked or written; a write-ahead log (rpmdb.sqlite-wal) beside
// it is not read, so changes rpm had not yet checkpointed are missed.
//
// The database comes from an untrusted image, and SQL can compute values
// far larger than the file that declares them (a generated column such as
// blob AS (zeroblob(400000000))), so the schema is checked before any row
// is read: Packages must be an ordinary table with exactly the columns hnum
// and blob and no generated or hidden ones. The blobs, whose lengths are
// checked before they are fetched, may not add up to more bytes than the
// file holds, since SQLite stores them uncompressed.
//
// It returns the blobs sorted by instance. It returns an error wrapping
// ErrUnknownFormat when the database has no Packages table, ErrCorrupt for
// a Packages table of another shape, an instance or blob out of range, or
// blobs larger than the file, and the errors of the SQLite library, which
// checks the file's own structure, otherwise.
func ReadSQLite(ctx context.Context, path string) ([]Blob, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "mode=ro&immutable=1"}).String()
	conn, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)

	if err := checkSchema(ctx, db, path); err != nil {
		return nil, err
	}
	return readPackages(ctx, db, path, fi.Size())
}

// checkSchema checks that the database has a Packages table as rpm makes
// it: an ordinary table (not a view nor a virtual table) whose only columns
// are hnum and blob, neither generated nor hidden. It returns an error
// wrapping ErrUnknownFormat when there is no Packages table and ErrCorrupt
// when it has another shape.
func checkSchema(ctx context.Context, db *sql.DB, path string) error {
	var tables int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'Packages'`).Scan(&tables)
	if err != nil {
		return fmt.Errorf("sqlite: read the schema of %s: %w", path, err)
	}
	if tables == 0 {
		return fmt.Errorf("sqlite: %s has no Packages table: %w", path, ErrUnknownFormat)
	}
	var kind string
	err = db.QueryRowContext(ctx, `SELECT type FROM pragma_table_list WHERE schema = 'main' AND name = 'Packages'`).Scan(&kind)
	if err != nil {
		return fmt.Errorf("sqlite: read the schema of %s: %w", path, err)
	}
	if kind != "table" {
		return fmt.Errorf("sqlite: the Packages table of %s is a %s table, want an ordinary one: %w", path, kind, ErrCorrupt)
	}
	rows, err := db.QueryContext(ctx, `SELECT name, hidden FROM pragma_table_xinfo('Packages')`)
	if err != nil {
		return fmt.Errorf("sqlite: read the columns of the Packages table of %s: %w", path, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var (
			name   string
			hidden int64
		)
		if err := rows.Scan(&name, &hidden); err != nil {
			return fmt.Errorf("sqlite: read the columns of the Packages table of %s: %w", path, err)
		}
		if name != "hnum" && name != "blob" {
			return fmt.Errorf("sqlite: the Packages table of %s has a column %q, want only hnum and blob: %w", path, name, ErrCorrupt)
		}
		if hidden != 0 {
			// 2 and 3 are generated columns, 1 a virtual table's hidden one.
			return fmt.Errorf("sqlite: column %s of the Packages table of %s is generated or hidden (kind %d): %w", name, path, hidden, ErrCorrupt)
		}
		seen[name] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read the columns of the Packages table of %s: %w", path, err)
	}
	if !seen["hnum"] || !seen["blob"] {
		return fmt.Errorf("sqlite: the Packages table of %s lacks the hnum or blob column: %w", path, ErrCorrupt)
	}
	return nil
}

// readPackages reads the rows of the Packages table, whose blobs may add
// up to at most limit bytes: the size of the database file. Each blob's
// type and length are checked in SQL, so one that is too large is never
// fetched. It returns the blobs sorted by instance, or an error wrapping
// ErrCorrupt for a bad instance, a blob that is not a BLOB or larger than
// a header can be, or blobs larger than limit in all.
func readPackages(ctx context.Context, db *sql.DB, path string, limit int64) ([]Blob, error) {
	// The CASE returns the blob only when it is a BLOB (length counts the
	// characters of TEXT, not its bytes) no larger than a header can be, so
	// the driver never copies a larger one. length and typeof of a column
	// do not load its content.
	rows, err := db.QueryContext(ctx, `SELECT hnum, typeof(blob), length(blob), CASE WHEN typeof(blob) = 'blob' AND length(blob) <= ? THEN blob END FROM Packages`, min(int64(MaxHeaderSize), limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: query the Packages table of %s: %w", path, err)
	}
	defer rows.Close()
	var (
		blobs []Blob
		total int64
	)
	for rows.Next() {
		var (
			hnum   int64
			typ    string
			length sql.NullInt64
			data   []byte
		)
		if err := rows.Scan(&hnum, &typ, &length, &data); err != nil {
			return nil, fmt.Errorf("sqlite: read the Packages table of %s: %w", path, err)
		}
		if hnum <= 0 || hnum > math.MaxUint32 {
			return nil, fmt.Errorf("sqlite: hnum %d is not a header instance: %w", hnum, ErrCorrupt)
		}
		if typ != "blob" {
			return nil, fmt.Errorf("sqlite: instance %d: blob column holds %s, want a blob: %w", hnum, typ, ErrCorrupt)
		}
		if length.Int64 > MaxHeaderSize {
			return nil, fmt.Errorf("sqlite: instance %d: %d-byte blob is larger than a header can be: %w", hnum, length.Int64, ErrCorrupt)
		}
		total += length.Int64
		if total > limit {
			return nil, fmt.Errorf("sqlite: instance %d: blobs add up to %d bytes or more, more than the %d-byte file %s holds: %w", hnum, total, limit, path, ErrCorrupt)
		}
		if int64(len(data)) != length.Int64 {
			return nil, fmt.Errorf("sqlite: instance %d: read %d bytes of a %d-byte blob: %w", hnum, len(data), length.Int64, ErrCorrupt)
		}
		blobs = append(blobs, Blob{Instance: uint32(hnum), Data: data})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read the Packages table of %s: %w", path, err)
	}
	if err := sortBlobs(blobs); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return blobs, nil
}
