package rpmdb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite" // the "sqlite" driver, to write a test database
)

// TestReadPackagesLimit checks that readPackages stops once the blobs add
// up to more bytes than the database file holds. No honest table can reach
// that limit (ReadSQLite refuses computed columns first), so the test
// passes readPackages a smaller one.
func TestReadPackagesLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)`,
		`INSERT INTO Packages VALUES (1, zeroblob(100)), (2, zeroblob(100)), (3, zeroblob(100))`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	for _, tc := range []struct {
		limit int64
		want  int
		err   error
	}{
		{limit: 300, want: 3},
		{limit: 299, err: ErrCorrupt},
		{limit: 99, err: ErrCorrupt},
		{limit: 0, err: ErrCorrupt},
	} {
		blobs, err := readPackages(context.Background(), db, path, tc.limit)
		if !errors.Is(err, tc.err) || len(blobs) != tc.want {
			t.Errorf("readPackages(limit %d) = %d blobs, %v; want %d blobs, %v", tc.limit, len(blobs), err, tc.want, tc.err)
		}
	}
}
