// Package rpmdbtest builds real rpm databases for tests, with the real rpm
// tools, and queries them with the real rpm as an oracle.
//
// [Build] turns the spec files in testdata/ into packages with rpmbuild,
// installs them (with --justdb) into an SQLite database with rpm, imports a
// public key (a gpg-pubkey pseudo package), and writes the same header blobs
// as an NDB database and as two Berkeley DB hash databases (one little-endian
// with 4096-byte pages, one big-endian with 512-byte pages) with db_load.
// Debian's rpm can write neither NDB nor Berkeley DB, but it reads Berkeley
// DB (the bdb_ro backend), so [Query] checks those too; the NDB file follows
// the layout of rpm's lib/backend/ndb/rpmpkg.c.
//
// The databases are cached in $KUBESHIELD_TEST_CACHE, or else in the user
// cache directory under kubeshield-test, in a directory named after the
// recipe's version and a hash of testdata/, so they are built once.
//
// Tests that need a missing tool are skipped with a message naming the
// Debian package to install: rpm (rpm, rpmbuild) and db5.3-util (db5.3_load).
package rpmdbtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// recipeVersion names the way the fixtures are built; change it when the code
// below changes what it builds. Changes to testdata/ change the cache
// directory by themselves.
const recipeVersion = "1"

//go:embed testdata/*.spec testdata/*.asc
var recipe embed.FS

// QueryFormat is an rpm --queryformat for [Query] with the fields of a
// package that identify it. rpm prints "(none)" for a missing tag.
const QueryFormat = "%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE} %{ARCH} %{SOURCERPM}\n"

// Fixture is the set of databases [Build] made. The four hold the same
// headers.
type Fixture struct {
	// Dir is the cache directory that holds them.
	Dir string
	// SQLite is the path of rpmdb.sqlite, written by rpm.
	SQLite string
	// NDB is the path of Packages.db.
	NDB string
	// BerkeleyDB is the path of a little-endian Packages with 4096-byte
	// pages.
	BerkeleyDB string
	// BerkeleyDBBigEndian is the path of a big-endian Packages with
	// 512-byte pages.
	BerkeleyDBBigEndian string
}

// Record is a header blob and its instance, as a database stores it.
type Record struct {
	Instance uint32
	Data     []byte
}

// buildMu serialises builds inside one test binary; the rename at the end of
// a build serialises test binaries.
var buildMu sync.Mutex

// Build returns the fixture databases, building them into the cache first if
// needed. It skips the test when a tool the build needs is missing, and fails
// it when the build fails.
func Build(t testing.TB) *Fixture {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	dir, err := cacheDir()
	if err != nil {
		t.Fatalf("rpmdbtest: %v", err)
	}
	f := fixtureIn(dir)
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return f
	}
	for tool, pkg := range map[string]string{"rpmbuild": "rpm", "rpm": "rpm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("rpmdbtest: %s is not installed (apt-get install %s): cannot build the rpm fixtures", tool, pkg)
		}
	}
	load, err := dbLoad()
	if err != nil {
		t.Skipf("rpmdbtest: %v", err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatalf("rpmdbtest: %v", err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".build-")
	if err != nil {
		t.Fatalf("rpmdbtest: %v", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := build(ctx, tmp, load); err != nil {
		t.Fatalf("rpmdbtest: build the fixtures in %s: %v", tmp, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatalf("rpmdbtest: %v", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
		t.Fatalf("rpmdbtest: %v", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another test binary may have finished first.
		if _, statErr := os.Stat(filepath.Join(dir, "complete")); statErr != nil {
			t.Fatalf("rpmdbtest: %v", err)
		}
	}
	return f
}

// fixtureIn names the databases in a fixture directory.
func fixtureIn(dir string) *Fixture {
	return &Fixture{
		Dir:                 dir,
		SQLite:              filepath.Join(dir, "sqlite", "rpmdb.sqlite"),
		NDB:                 filepath.Join(dir, "ndb", "Packages.db"),
		BerkeleyDB:          filepath.Join(dir, "bdb", "Packages"),
		BerkeleyDBBigEndian: filepath.Join(dir, "bdb-be", "Packages"),
	}
}

// cacheDir is the fixture directory for this recipe.
func cacheDir() (string, error) {
	root := os.Getenv("KUBESHIELD_TEST_CACHE")
	if root == "" {
		user, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no cache directory: set KUBESHIELD_TEST_CACHE: %w", err)
		}
		root = filepath.Join(user, "kubeshield-test")
	}
	h := sha256.New()
	err := fs.WalkDir(recipe, "testdata", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := recipe.ReadFile(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "rpmdb-"+recipeVersion+"-"+hex.EncodeToString(h.Sum(nil))[:12]), nil
}

// dbLoad finds Berkeley DB's db_load under one of its Debian names.
func dbLoad() (string, error) {
	for _, name := range []string{"db5.3_load", "db_load"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("db5.3_load is not installed (apt-get install db5.3-util): cannot build the Berkeley DB fixtures")
}

// build makes the fixtures in dir.
func build(ctx context.Context, dir, load string) error {
	specs, err := fs.Glob(recipe, "testdata/*.spec")
	if err != nil {
		return err
	}
	src := filepath.Join(dir, "src")
	top := filepath.Join(dir, "top")
	for _, d := range []string{src, top, filepath.Join(dir, "tmp"), filepath.Join(dir, "sqlite"), filepath.Join(dir, "ndb"), filepath.Join(dir, "bdb"), filepath.Join(dir, "bdb-be")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, name := range append(specs, "testdata/test-key.asc") {
		data, err := recipe.ReadFile(name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, filepath.Base(name)), data, 0o644); err != nil {
			return err
		}
	}
	for _, spec := range specs {
		// --target fixes the architecture of the packages that are not
		// noarch, so that the expected results do not depend on the host.
		err := run(ctx, "rpmbuild", "-bb", "--target", "x86_64",
			"--define", "_topdir "+top,
			"--define", "_tmppath "+filepath.Join(dir, "tmp"),
			"--define", "_buildhost kubeshield.invalid",
			filepath.Join(src, filepath.Base(spec)))
		if err != nil {
			return err
		}
	}
	rpms, err := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if err != nil {
		return err
	}
	if len(rpms) == 0 {
		return errors.New("rpmbuild made no package")
	}
	slices.Sort(rpms)
	sqliteDir := filepath.Join(dir, "sqlite")
	args := []string{"--dbpath", sqliteDir, "--define", "_db_backend sqlite",
		"-i", "--justdb", "--nodeps", "--noscripts", "--notriggers", "--ignorearch", "--ignoreos"}
	if err := run(ctx, "rpm", append(args, rpms...)...); err != nil {
		return err
	}
	if err := run(ctx, "rpm", "--dbpath", sqliteDir, "--define", "_db_backend sqlite", "--import", filepath.Join(src, "test-key.asc")); err != nil {
		return err
	}
	records, err := readSQLite(ctx, filepath.Join(sqliteDir, "rpmdb.sqlite"))
	if err != nil {
		return err
	}
	// rpm checkpoints its write-ahead log when it closes the database, so
	// what is left beside rpmdb.sqlite is empty.
	for _, junk := range []string{"rpmdb.sqlite-shm", "rpmdb.sqlite-wal", ".rpm.lock"} {
		if err := os.Remove(filepath.Join(sqliteDir, junk)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	ndb, err := WriteNDB(records)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ndb", "Packages.db"), ndb, 0o644); err != nil {
		return err
	}
	for _, b := range []struct {
		dir      string
		order    binary.ByteOrder
		pageSize int
	}{
		{"bdb", binary.LittleEndian, 4096},
		{"bdb-be", binary.BigEndian, 512},
	} {
		dump := filepath.Join(dir, b.dir+".dump")
		if err := os.WriteFile(dump, BerkeleyDBDump(records, b.order, b.pageSize), 0o644); err != nil {
			return err
		}
		if err := run(ctx, load, "-f", dump, filepath.Join(dir, b.dir, "Packages")); err != nil {
			return err
		}
	}
	for _, d := range []string{src, top, filepath.Join(dir, "tmp"), filepath.Join(dir, "bdb.dump"), filepath.Join(dir, "bdb-be.dump")} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}

// readSQLite returns the rows of the Packages table of an rpm SQLite
// database, sorted by hnum. It reads the table with SQL, without the code
// under test.
func readSQLite(ctx context.Context, path string) ([]Record, error) {
	conn, err := sqlite.NewConnector("file:" + path + "?mode=ro&immutable=1")
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT hnum, blob FROM Packages ORDER BY hnum")
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", path, err)
	}
	defer rows.Close()
	var records []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Instance, &r.Data); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		records = append(records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%s has no headers", path)
	}
	return records, nil
}

// run runs a command, returning its output in the error when it fails.
func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// Query runs the real rpm -qa with the query format (such as [QueryFormat],
// one package a line) on a copy of the database
// file db, using rpm's backend ("sqlite", or "bdb_ro" for a Berkeley DB
// Packages file), and returns the lines it prints, sorted. It skips the test
// when rpm is not installed and fails it when rpm fails.
func Query(t testing.TB, db, backend, format string) []string {
	t.Helper()
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpmdbtest: rpm is not installed (apt-get install rpm): no oracle")
	}
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatalf("rpmdbtest: %v", err)
	}
	// rpm wants the directory to itself, and may write to it.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(db)), data, 0o644); err != nil {
		t.Fatalf("rpmdbtest: %v", err)
	}
	cmd := exec.Command("rpm", "--dbpath", dir, "--define", "_db_backend "+backend, "-qa", "--queryformat", format)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rpmdbtest: rpm -qa on %s: %v\n%s", db, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		t.Fatalf("rpmdbtest: rpm -qa on %s printed nothing\n%s", db, stderr.String())
	}
	slices.Sort(lines)
	return lines
}
