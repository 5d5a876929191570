package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// Import pipeline: one goroutine walks the source (and inflates zip
// entries), workers parse, compact and compress records, and one goroutine
// stores them in the order the source lists them, so the result does not
// depend on scheduling.
const (
	// maxWorkers caps the parsing goroutines.
	maxWorkers = 8
	// inflightBytes bounds the record bytes between the walk and the store
	// (at least one record of osv.MaxSize must fit).
	inflightBytes = 64 << 20
	// queued is how many records may wait for the store.
	queued = 256
)

// Longest record id and index key Import stores; bbolt keys may not
// exceed 32 KiB, and real ids and package names are far shorter.
const (
	maxIDLen  = 1 << 10
	maxKeyLen = 4 << 10
)

// Import reads the records of src into the database: a single OSV JSON
// file, a zip of them, or a directory tree of *.json files (symbolic links
// are not followed). Zip entries are streamed, never extracted. Entries
// whose names do not end in ".json" are ignored.
//
// A record that does not parse is skipped and listed in the returned
// status, unless more than Limits.MaxSkipped are (ErrTooManyBad). The
// import fails, and with it the Build, on a damaged source: a zip that does
// not read (corrupt, truncated, checksum mismatch), an entry name that is
// absolute or contains ".." (ErrUnsafePath), a file or entry larger than
// osv.MaxSize, more than Limits.MaxEntries entries or Limits.MaxTotalBytes
// bytes (ErrLimit), a source without records (ErrEmpty), or a single-file
// source whose record does not parse. Errors name the source and the entry.
// After a failed import every later call returns the same error.
func (w *Writer) Import(ctx context.Context, src Source) (SourceStatus, error) {
	name := src.name()
	st := SourceStatus{Name: name, Path: src.Path, ETag: src.ETag, Modified: src.Modified}
	if w.err != nil {
		if errors.Is(w.err, ErrClosed) {
			return st, fmt.Errorf("import %s: writer %w", name, ErrClosed)
		}
		return st, fmt.Errorf("import %s: an earlier import failed: %w", name, w.err)
	}
	err := w.importSource(ctx, src.Path, &st)
	if err != nil {
		err = fmt.Errorf("import %s (%s): %w", name, src.Path, err)
		w.err = err
		return st, err
	}
	st.Imported = time.Now().UTC()
	w.sources = append(w.sources, st)
	return st, nil
}

// job is one record file on its way through the pipeline.
type job struct {
	entry string
	data  []byte // the file, owned by the job
	done  chan struct{}
	// Set by prepare before done is closed:
	rec   *osv.Record
	value []byte // the stored value
	err   error  // why the record is skipped
}

// prepare parses the job's record and makes its stored value: the compacted
// JSON, compressed with zstd when that is smaller.
func (j *job) prepare(w *Writer) {
	defer close(j.done)
	r, err := osv.Parse(j.data)
	if err == nil {
		err = checkKeys(r)
	}
	if err != nil {
		j.rec, j.err = r, err
		return
	}
	j.rec = r
	if r.IsWithdrawn() {
		return // not stored: no value needed
	}
	var compact bytes.Buffer
	compact.Grow(len(j.data))
	if err := json.Compact(&compact, j.data); err != nil {
		j.err = err // Parse accepted it: cannot happen
		return
	}
	payload, format := compact.Bytes(), formatJSON
	if z := w.enc.EncodeAll(payload, make([]byte, 0, len(payload)/2)); len(z) < len(payload) {
		payload, format = z, formatZstd
	}
	j.value = recordValue(make([]byte, 0, valueHeader+len(payload)), format, r.Modified, payload)
}

func (w *Writer) importSource(ctx context.Context, p string, st *SourceStatus) error {
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *job, queued)
	ordered := make(chan *job, queued)
	mem := semaphore.NewWeighted(inflightBytes)
	g.Go(func() error { // walks the source; ends with it, or when gctx ends
		defer close(ordered)
		defer close(work)
		return walk(gctx, p, w.limits, func(entry string, data []byte) error {
			if err := mem.Acquire(gctx, int64(len(data))); err != nil {
				return err
			}
			j := &job{entry: entry, data: bytes.Clone(data), done: make(chan struct{})}
			for _, ch := range []chan *job{work, ordered} {
				select {
				case ch <- j:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	})
	for range w.workers {
		g.Go(func() error { // prepares records; ends when work is closed
			for j := range work {
				if gctx.Err() != nil {
					close(j.done)
					continue
				}
				j.prepare(w)
			}
			return nil
		})
	}
	var firstBad *RecordError
	g.Go(func() error { // stores records in order; ends when ordered is closed or on error
		for j := range ordered {
			select {
			case <-j.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			err := w.store(j, st, &firstBad)
			mem.Release(int64(len(j.data)))
			if err != nil {
				return err
			}
		}
		return nil
	})
	err := g.Wait()
	switch {
	case err != nil:
		return err
	case st.Entries == 0:
		return ErrEmpty
	case firstBad != nil && st.Stored+st.Duplicates+st.Withdrawn == 0:
		// Nothing in the source parsed: a wrong file, not a broken record.
		return firstBad
	}
	return nil
}

// store applies a prepared job: it stores the record or notes why not.
func (w *Writer) store(j *job, st *SourceStatus, firstBad **RecordError) error {
	st.Entries++
	if j.err != nil {
		re := &RecordError{Entry: j.entry, Err: j.err}
		var pe *osv.ParseError
		if errors.As(j.err, &pe) {
			re.ID = pe.ID
		} else if j.rec != nil {
			re.ID = j.rec.ID
		}
		if *firstBad == nil {
			*firstBad = re
		}
		if len(st.Skipped) >= w.limits.MaxSkipped {
			return fmt.Errorf("%w: more than %d records do not parse; the first: %w", ErrTooManyBad, w.limits.MaxSkipped, *firstBad)
		}
		st.Skipped = append(st.Skipped, Skipped{Entry: shorten(j.entry), ID: shorten(re.ID), Reason: shorten(j.err.Error())})
		return nil
	}
	out, err := w.put(j.rec, j.value)
	if err != nil {
		return fmt.Errorf("%s: %w", j.entry, err)
	}
	switch out {
	case stored:
		st.Stored++
	case duplicate:
		st.Duplicates++
	case withdrawn:
		st.Withdrawn++
	}
	return nil
}

// checkKeys refuses records whose id or index keys bbolt could not store.
func checkKeys(r *osv.Record) error {
	if len(r.ID) > maxIDLen {
		return fmt.Errorf("%w: record id of %d bytes (at most %d)", ErrLimit, len(r.ID), maxIDLen)
	}
	for _, a := range r.Affected {
		if n := len(a.Package.Ecosystem) + len(a.Package.Name) + len(r.ID) + 3; n > maxKeyLen {
			return fmt.Errorf("%w: package ecosystem and name of %d bytes (at most %d)", ErrLimit, n, maxKeyLen)
		}
	}
	return nil
}

// shorten bounds a string kept in the Status.
func shorten(s string) string {
	const max = 512
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
