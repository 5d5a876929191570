package vulndb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// Default import limits.
const (
	// DefaultMaxEntries is the most files or zip entries in one source.
	DefaultMaxEntries = 2_000_000
	// DefaultMaxTotalBytes is the most uncompressed bytes read from one
	// source (16 GiB).
	DefaultMaxTotalBytes = 16 << 30
	// DefaultMaxSkipped is the most records of one source that may fail to
	// parse before its import fails.
	DefaultMaxSkipped = 100
)

// Limits bound the work of one import. A zero field takes its default. Each
// record file is also bounded by osv.MaxSize.
type Limits struct {
	// MaxEntries is the most files or zip entries read from one source.
	MaxEntries int
	// MaxTotalBytes is the most uncompressed bytes read from one source.
	MaxTotalBytes int64
	// MaxSkipped is the most records of one source that may be skipped as
	// unparseable; one more fails the import with ErrTooManyBad.
	MaxSkipped int
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if l.MaxSkipped <= 0 {
		l.MaxSkipped = DefaultMaxSkipped
	}
	return l
}

// BuildOptions configure Build. The zero value (or nil) uses the defaults.
type BuildOptions struct {
	// Limits bound each import.
	Limits Limits
}

// Batching: the writer commits its bbolt transaction after this many
// records or this many value bytes, so memory stays bounded however big the
// import (bbolt keeps a transaction's dirty pages in memory).
const (
	batchRecords = 4096
	batchBytes   = 32 << 20
)

// fillPercent is how full bbolt fills the pages it splits.
const fillPercent = 1.0

// tempInfix marks Build's temporary files: "<target>.build-<random>".
const tempInfix = ".build-"

// Writer adds records to the database a Build is writing. It is not safe
// for concurrent use, and only valid during the Build's callback.
type Writer struct {
	db     *bolt.DB
	tx     *bolt.Tx
	limits Limits

	enc     *zstd.Encoder // shared by the import workers
	dec     *zstd.Decoder // for replaced records, used by the writing goroutine
	workers int

	pending      int // records written in tx
	pendingBytes int
	pendingKeys  [][]byte // index keys not yet written
	records      int      // records in the database
	indexKeys    int
	sources      []SourceStatus

	err error // the first import failure; the Build fails with it
}

// Build writes a new database at path from the imports fn runs on the
// Writer, and returns its Status. It writes to a temporary file in path's
// directory (which must exist) and renames it over path only if fn and
// every import succeeded: on any error, or when ctx ends, the file at path
// is left as it was, and so are scanners reading it. Temporary files that
// killed builds left behind are removed (unless a live build holds them).
//
// The error is fn's error, the first import error (even if fn ignored it),
// ctx's error, or an I/O error naming the file.
func Build(ctx context.Context, path string, opts *BuildOptions, fn func(w *Writer) error) (Status, error) {
	if opts == nil {
		opts = &BuildOptions{}
	}
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return Status{}, fmt.Errorf("build vulnerability database %q: no file name", path)
	}
	removeStale(dir, base)
	tmp := filepath.Join(dir, base+tempInfix+randomSuffix())
	db, err := bolt.Open(tmp, 0o644, &bolt.Options{
		Timeout: time.Second,
		// The file is invisible until the rename; crash safety of each
		// commit buys nothing, so sync once at the end.
		NoSync:         true,
		NoGrowSync:     true,
		NoFreelistSync: true,
	})
	if err != nil {
		return Status{}, fmt.Errorf("build vulnerability database %s: create %s: %w", path, tmp, err)
	}
	db.AllocSize = 4 << 20
	installed := false
	defer func() { // also when fn panics
		if !installed {
			db.Close()
			os.Remove(tmp)
		}
	}()
	w, err := newWriter(db, opts.Limits.withDefaults())
	if err != nil {
		return Status{}, err
	}
	defer w.close()
	if err := fn(w); err != nil {
		return Status{}, err
	}
	if w.err != nil {
		return Status{}, w.err
	}
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	st, err := w.finish()
	if err != nil {
		return Status{}, err
	}
	w.close()
	if err := db.Close(); err != nil {
		return Status{}, fmt.Errorf("build vulnerability database %s: close %s: %w", path, tmp, err)
	}
	if err := install(tmp, path); err != nil {
		return Status{}, err
	}
	installed = true
	if fi, err := os.Stat(path); err == nil {
		st.Size = fi.Size()
	}
	return st, nil
}

// install renames the finished file over path and makes the rename
// durable.
func install(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("build vulnerability database: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // best effort: some file systems refuse to sync directories
		d.Close()
	}
	return nil
}

func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newWriter(db *bolt.DB, limits Limits) (*Writer, error) {
	workers := min(max(runtime.GOMAXPROCS(0), 1), maxWorkers)
	// EncodeAll may run on several goroutines at once, one per worker.
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderConcurrency(workers),
		zstd.WithEncoderCRC(false),
		zstd.WithWindowSize(1<<20))
	if err != nil {
		return nil, fmt.Errorf("build vulnerability database: zstd: %w", err)
	}
	dec, err := newDecoder()
	if err != nil {
		enc.Close()
		return nil, err
	}
	w := &Writer{db: db, limits: limits, enc: enc, dec: dec, workers: workers}
	if err := w.begin(); err != nil {
		w.close()
		return nil, err
	}
	for _, b := range [][]byte{bucketRecords, bucketIndex, bucketMeta} {
		if _, err := w.tx.CreateBucketIfNotExists(b); err != nil {
			w.close()
			return nil, fmt.Errorf("build vulnerability database: %w", err)
		}
	}
	return w, nil
}

// newDecoder returns the zstd decoder for stored records, bounded to the
// size of the largest record.
func newDecoder() (*zstd.Decoder, error) {
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(osv.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("vulnerability database: zstd: %w", err)
	}
	return dec, nil
}

func (w *Writer) begin() error {
	tx, err := w.db.Begin(true)
	if err != nil {
		return fmt.Errorf("build vulnerability database: %w", err)
	}
	w.tx = tx
	w.pending, w.pendingBytes = 0, 0
	return nil
}

// flushKeys writes the pending index keys in order. Sorted inserts keep
// bbolt's in-memory nodes from shifting their entries on every insert (the
// keys of one source share a prefix, so they crowd into a few nodes).
func (w *Writer) flushKeys() error {
	index := w.tx.Bucket(bucketIndex)
	index.FillPercent = fillPercent
	slices.SortFunc(w.pendingKeys, bytes.Compare)
	for _, k := range w.pendingKeys {
		if err := index.Put(k, nil); err != nil {
			return fmt.Errorf("index %q: %w", k, err)
		}
	}
	w.pendingKeys = w.pendingKeys[:0]
	return nil
}

// flush commits the current transaction and starts the next one.
func (w *Writer) flush() error {
	if err := w.flushKeys(); err != nil {
		return err
	}
	err := w.tx.Commit()
	w.tx = nil
	if err != nil {
		return fmt.Errorf("build vulnerability database: commit: %w", err)
	}
	return w.begin()
}

// finish writes the meta bucket, commits with a synced freelist, and syncs
// the file.
func (w *Writer) finish() (Status, error) {
	st := Status{
		SchemaVersion: SchemaVersion,
		Built:         time.Now().UTC(),
		Records:       w.records,
		IndexKeys:     w.indexKeys,
		Sources:       w.sources,
	}
	js, err := json.Marshal(st)
	if err != nil {
		return Status{}, fmt.Errorf("build vulnerability database: %w", err)
	}
	if err := w.flushKeys(); err != nil {
		return Status{}, fmt.Errorf("build vulnerability database: %w", err)
	}
	meta := w.tx.Bucket(bucketMeta)
	if err := errors.Join(
		meta.Put(metaSchema, []byte(strconv.Itoa(SchemaVersion))),
		meta.Put(metaStatus, js),
	); err != nil {
		return Status{}, fmt.Errorf("build vulnerability database: %w", err)
	}
	// Write the freelist with the last commit so that tools opening the
	// file read-write need not rebuild it.
	w.db.NoFreelistSync = false
	err = w.tx.Commit()
	w.tx = nil
	if err == nil {
		err = w.db.Sync()
	}
	if err != nil {
		return Status{}, fmt.Errorf("build vulnerability database: commit: %w", err)
	}
	return st, nil
}

// close releases the writer; it rolls back an open transaction.
func (w *Writer) close() {
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
	if w.enc != nil {
		w.enc.Close()
		w.enc = nil
	}
	if w.dec != nil {
		w.dec.Close()
		w.dec = nil
	}
	if w.err == nil {
		w.err = ErrClosed
	}
}

// outcome is what put did with a record.
type outcome int

const (
	stored outcome = iota
	duplicate
	withdrawn
)

// put stores a parsed record, whose stored value prepare made, replacing
// an older copy of the same id, and indexes it. Errors are storage errors.
func (w *Writer) put(r *osv.Record, value []byte) (outcome, error) {
	records := w.tx.Bucket(bucketRecords)
	records.FillPercent = fillPercent
	id := []byte(r.ID)
	if old := records.Get(id); old != nil {
		_, modified, _, err := splitValue(old)
		if err != nil {
			return 0, err
		}
		if !r.Modified.After(modified) {
			if r.IsWithdrawn() {
				return withdrawn, nil
			}
			return duplicate, nil
		}
		if err := w.flushKeys(); err != nil {
			return 0, err
		}
		if err := w.remove(id, old); err != nil {
			return 0, err
		}
	}
	if r.IsWithdrawn() {
		return withdrawn, nil
	}
	// bbolt keeps the slices given to Put until the commit: value is the
	// job's own.
	if err := records.Put(id, value); err != nil {
		return 0, fmt.Errorf("store record %s: %w", r.ID, err)
	}
	keys := indexKeys(r)
	w.pendingKeys = append(w.pendingKeys, keys...)
	w.indexKeys += len(keys)
	w.records++
	w.pending++
	w.pendingBytes += len(value)
	if w.pending >= batchRecords || w.pendingBytes >= batchBytes {
		if err := w.flush(); err != nil {
			return 0, err
		}
	}
	return stored, nil
}

// remove deletes a stored record (whose value is old) and its index keys.
func (w *Writer) remove(id, old []byte) error {
	r, err := decodeRecord(w.dec, old)
	if err != nil {
		return fmt.Errorf("replace record %s: %w", id, err)
	}
	index := w.tx.Bucket(bucketIndex)
	for _, k := range indexKeys(r) {
		if err := index.Delete(k); err != nil {
			return fmt.Errorf("replace record %s: %w", id, err)
		}
		w.indexKeys--
	}
	if err := w.tx.Bucket(bucketRecords).Delete(id); err != nil {
		return fmt.Errorf("replace record %s: %w", id, err)
	}
	w.records--
	return nil
}

// decodeRecord parses a stored record value.
func decodeRecord(dec *zstd.Decoder, v []byte) (*osv.Record, error) {
	format, _, payload, err := splitValue(v)
	if err != nil {
		return nil, err
	}
	switch format {
	case formatJSON:
	case formatZstd:
		if payload, err = dec.DecodeAll(payload, nil); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	default:
		return nil, fmt.Errorf("%w: record format %d", ErrCorrupt, format)
	}
	r, err := osv.Parse(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return r, nil
}
