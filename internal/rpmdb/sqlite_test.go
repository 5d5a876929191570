package rpmdb_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite" // the "sqlite" driver, to write test databases

	"github.com/kubeshield/kubeshield/internal/rpmdb"
)

// rpmSchema is the Packages table as rpm creates it.
const rpmSchema = `CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)`

// writeSQLite writes an SQLite database made by stmts to a new file and
// returns its path.
func writeSQLite(t *testing.T, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadSQLiteSchema reads databases whose Packages table is shaped as rpm
// makes it, and hostile ones whose table computes its blobs (a generated
// column making a few-KB file return hundreds of MB), has other columns or
// is not an ordinary table: those must fail with ErrCorrupt before any row
// is read.
func TestReadSQLiteSchema(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stmts []string
		want  []rpmdb.Blob
		err   error
	}{
		{
			name:  "rpm",
			stmts: []string{rpmSchema, `INSERT INTO Packages VALUES (2, x'0102'), (1, x'03')`},
			want:  []rpmdb.Blob{{Instance: 1, Data: []byte{3}}, {Instance: 2, Data: []byte{1, 2}}},
		},
		{
			name:  "rpm empty",
			stmts: []string{rpmSchema},
		},
		{
			name:  "plain columns",
			stmts: []string{`CREATE TABLE Packages (hnum, blob)`, `INSERT INTO Packages VALUES (7, x'00')`},
			want:  []rpmdb.Blob{{Instance: 7, Data: []byte{0}}},
		},
		{
			name:  "virtual generated blob of 400 MB",
			stmts: []string{`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB AS (zeroblob(400000000)) VIRTUAL)`, `INSERT INTO Packages (hnum) VALUES (1), (2), (3)`},
			err:   rpmdb.ErrCorrupt,
		},
		{
			name:  "virtual generated blob of 1 MB",
			stmts: []string{`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB AS (zeroblob(1000000)) VIRTUAL)`, `INSERT INTO Packages (hnum) VALUES (1)`},
			err:   rpmdb.ErrCorrupt,
		},
		{
			name:  "stored generated blob",
			stmts: []string{`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB AS (x'0102') STORED)`, `INSERT INTO Packages (hnum) VALUES (1)`},
			err:   rpmdb.ErrCorrupt,
		},
		{
			name:  "generated hnum",
			stmts: []string{`CREATE TABLE Packages (blob BLOB, hnum INTEGER AS (length(blob)))`, `INSERT INTO Packages (blob) VALUES (x'01')`},
			err:   rpmdb.ErrCorrupt,
		},
		{
			name:  "extra column",
			stmts: []string{`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB, extra TEXT)`, `INSERT INTO Packages VALUES (1, x'01', 'x')`},
			err:   rpmdb.ErrCorrupt,
		},
		{
			name:  "no blob column",
			stmts: []string{`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, data BLOB)`, `INSERT INTO Packages VALUES (1, x'01')`},
			err:   rpmdb.ErrCorrupt,
		},
		{
			name:  "virtual table",
			stmts: []string{`CREATE VIRTUAL TABLE Packages USING fts5(hnum, blob)`, `INSERT INTO Packages VALUES (1, 'a')`},
			err:   rpmdb.ErrCorrupt,
		},
		{
			name:  "text blob",
			stmts: []string{rpmSchema, `INSERT INTO Packages VALUES (1, 'not a blob')`},
			err:   rpmdb.ErrCorrupt,
		},
		{
			name:  "view",
			stmts: []string{`CREATE VIEW Packages AS SELECT 1 AS hnum, zeroblob(400000000) AS blob`},
			err:   rpmdb.ErrUnknownFormat,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSQLite(t, tc.stmts...)
			got, err := rpmdb.ReadSQLite(context.Background(), path)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ReadSQLite(%s) = %d blobs, %v; want %v", strings.Join(tc.stmts, "; "), len(got), err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadSQLite(%s): %v", strings.Join(tc.stmts, "; "), err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadSQLite(%s) blobs differ (-want +got):\n%s", strings.Join(tc.stmts, "; "), diff)
			}
		})
	}
}
