package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// DefaultOpenTimeout is how long Open waits for the file lock by default.
const DefaultOpenTimeout = 5 * time.Second

// OpenOptions configure Open. The zero value (or nil) uses the defaults.
type OpenOptions struct {
	// Timeout bounds the wait for the file's shared lock, which only a
	// process holding the file open read-write (never Build, which writes
	// a new file) can block. Zero means DefaultOpenTimeout; ctx's deadline
	// shortens it.
	Timeout time.Duration
}

// DB is an open, read-only vulnerability database. It is safe for
// concurrent use; any number of processes may have the same file open.
type DB struct {
	bolt *bolt.DB
	dec  *zstd.Decoder
	path string
}

// Open opens the database at path read-only. It fails with an error
// wrapping fs.ErrNotExist when there is no file, ErrFormat when the file is
// not a database of SchemaVersion, ErrCorrupt when it is damaged, and
// bbolt's timeout error when the lock is not granted in time. Temporary
// files of builds in progress or killed are never opened.
func Open(ctx context.Context, path string, opts *OpenOptions) (*DB, error) {
	if opts == nil {
		opts = &OpenOptions{}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultOpenTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(dl)), time.Millisecond)
	}
	what := "open vulnerability database " + path
	db := &DB{path: path}
	if err := db.guarded(what, func() (err error) {
		db.bolt, err = bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: timeout})
		return err
	}); err != nil {
		return nil, err
	}
	if err := db.view(what, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || tx.Bucket(bucketRecords) == nil || tx.Bucket(bucketIndex) == nil {
			return ErrFormat
		}
		if v, _ := strconv.Atoi(string(meta.Get(metaSchema))); v != SchemaVersion {
			return fmt.Errorf("%w (file has %q)", ErrFormat, meta.Get(metaSchema))
		}
		return nil
	}); err != nil {
		db.bolt.Close()
		return nil, err
	}
	dec, err := newDecoder()
	if err != nil {
		db.bolt.Close()
		return nil, err
	}
	db.dec = dec
	return db, nil
}

// guarded runs fn and turns a panic or memory fault raised while reading a
// damaged file (bbolt trusts its pages) into an error wrapping ErrCorrupt.
func (db *DB) guarded(what string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %w: %v", what, ErrCorrupt, r)
		}
	}()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// view runs fn in a read transaction, guarded.
func (db *DB) view(what string, fn func(tx *bolt.Tx) error) error {
	if db.bolt == nil {
		return fmt.Errorf("%s: database %w", what, ErrClosed)
	}
	return db.guarded(what, func() error { return db.bolt.View(fn) })
}

// Close releases the database. Records returned earlier stay valid. Close
// must not run concurrently with the other methods.
func (db *DB) Close() error {
	if db.bolt == nil {
		return nil
	}
	err := db.bolt.Close()
	db.dec.Close()
	db.bolt = nil
	if err != nil {
		return fmt.Errorf("close vulnerability database %s: %w", db.path, err)
	}
	return nil
}

// Path returns the file the database was opened from.
func (db *DB) Path() string { return db.path }

// Query returns the records that affect the package name in ecosystem,
// sorted by id. An ecosystem with a release ("Debian:12", "Alpine:v3.20")
// finds the records of that release and those that name the base ecosystem
// without a release ("Debian"), which OSV applies to every release; a base
// ecosystem alone finds only the latter. The name is compared as
// osv.NormalizeName has it (PEP 503 for PyPI, exact otherwise). A record
// returned may affect other packages too: osv.Package.Matches picks the
// entries about this one.
//
// It returns no records and no error for an unknown package, ctx's error
// when ctx ends, and an error wrapping ErrCorrupt for a damaged file.
func (db *DB) Query(ctx context.Context, ecosystem, name string) ([]*osv.Record, error) {
	base, release := osv.SplitEcosystem(ecosystem)
	norm := osv.NormalizeName(ecosystem, name)
	prefixes := [][]byte{indexPrefix(base, norm, "")}
	if release != "" {
		prefixes = append(prefixes, indexPrefix(base, norm, release))
	}
	what := fmt.Sprintf("query %s %s", ecosystem, name)
	var out []*osv.Record
	err := db.view(what, func(tx *bolt.Tx) error {
		var ids [][]byte
		c := tx.Bucket(bucketIndex).Cursor()
		for _, p := range prefixes {
			for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
				ids = append(ids, k[len(p):])
			}
		}
		slices.SortFunc(ids, bytes.Compare)
		ids = slices.CompactFunc(ids, bytes.Equal)
		records := tx.Bucket(bucketRecords)
		out = make([]*osv.Record, 0, len(ids))
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := records.Get(id)
			if v == nil {
				return fmt.Errorf("%w: index names record %q, which is missing", ErrCorrupt, id)
			}
			r, err := decodeRecord(db.dec, v)
			if err != nil {
				return fmt.Errorf("record %s: %w", id, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Get returns the record with the given id. It returns an error wrapping
// ErrNotFound when there is none, and ErrCorrupt for a damaged file.
func (db *DB) Get(ctx context.Context, id string) (*osv.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var r *osv.Record
	err := db.view("get "+id, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		var err error
		r, err = decodeRecord(db.dec, v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get record %s: %w", id, err)
	}
	return r, nil
}

// Status returns what the database was built from, with the file's size.
// It returns an error wrapping ErrCorrupt if the stored status is damaged.
func (db *DB) Status() (Status, error) {
	var st Status
	err := db.view("status", func(tx *bolt.Tx) error {
		if err := json.Unmarshal(tx.Bucket(bucketMeta).Get(metaStatus), &st); err != nil {
			return fmt.Errorf("%w: status: %w", ErrCorrupt, err)
		}
		st.Size = tx.Size()
		return nil
	})
	if err != nil {
		return Status{}, fmt.Errorf("vulnerability database %s: %w", db.path, err)
	}
	return st, nil
}
