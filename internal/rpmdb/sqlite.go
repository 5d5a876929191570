package rpmdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/url"
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
// It returns the blobs sorted by instance. It returns an error wrapping
// ErrUnknownFormat when the database has no Packages table, ErrCorrupt for
// an instance or blob out of range, and the errors of the SQLite library,
// which checks the file's own structure, otherwise.
func ReadSQLite(ctx context.Context, path string) ([]Blob, error) {
	abs, err := filepath.Abs(path)
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

	var tables int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'Packages'`).Scan(&tables)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read the schema of %s: %w", path, err)
	}
	if tables == 0 {
		return nil, fmt.Errorf("sqlite: %s has no Packages table: %w", path, ErrUnknownFormat)
	}
	rows, err := db.QueryContext(ctx, `SELECT hnum, blob FROM Packages ORDER BY hnum`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query the Packages table of %s: %w", path, err)
	}
	defer rows.Close()
	var blobs []Blob
	for rows.Next() {
		var (
			hnum int64
			data []byte
		)
		if err := rows.Scan(&hnum, &data); err != nil {
			return nil, fmt.Errorf("sqlite: read the Packages table of %s: %w", path, err)
		}
		if hnum <= 0 || hnum > math.MaxUint32 {
			return nil, fmt.Errorf("sqlite: hnum %d is not a header instance: %w", hnum, ErrCorrupt)
		}
		if len(data) > MaxHeaderSize {
			return nil, fmt.Errorf("sqlite: instance %d: %d-byte blob is larger than a header can be: %w", hnum, len(data), ErrCorrupt)
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
