package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// Source is one place to import OSV records from.
type Source struct {
	// Name names the source in the Status ("Go", "Debian"). Empty means
	// the name of Path's directory when Path is an all.zip, else Path's
	// base name without its extension.
	Name string
	// Path is an OSV JSON file, a zip of them (such as an OSV export's
	// all.zip), or a directory tree holding *.json files.
	Path string
	// ETag and Modified describe the downloaded copy, if known; they are
	// kept in the Status for updates.
	ETag     string
	Modified time.Time
}

func (s Source) name() string {
	if s.Name != "" {
		return s.Name
	}
	clean := filepath.Clean(s.Path)
	if strings.EqualFold(filepath.Base(clean), "all.zip") {
		return filepath.Base(filepath.Dir(clean))
	}
	return strings.TrimSuffix(filepath.Base(clean), filepath.Ext(clean))
}

// walk calls fn with the name and content of each record file in the
// source at p.
func walk(ctx context.Context, p string, limits Limits, fn func(entry string, data []byte) error) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		// Links below the root are not followed, but the root may be one.
		root, err := filepath.EvalSymlinks(p)
		if err != nil {
			return err
		}
		return walkDir(ctx, root, limits, fn)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file or directory", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if isZip(magic[:n]) || strings.EqualFold(filepath.Ext(p), ".zip") {
		return walkZip(ctx, f, fi.Size(), limits, fn)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var buf bytes.Buffer
	data, err := readBounded(f, &buf)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(p), err)
	}
	return fn(filepath.Base(p), data)
}

// isZip reports whether a file starting with magic is a zip archive (a
// local file header, or the end record of an empty archive).
func isZip(magic []byte) bool {
	return bytes.Equal(magic, []byte("PK\x03\x04")) || bytes.Equal(magic, []byte("PK\x05\x06"))
}

// readBounded reads r into buf, refusing more than osv.MaxSize bytes.
func readBounded(r io.Reader, buf *bytes.Buffer) ([]byte, error) {
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(r, osv.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if n > osv.MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrLimit, osv.MaxSize)
	}
	return buf.Bytes(), nil
}

// walkZip calls fn for each *.json entry of the zip archive r, in archive
// order. It checks every entry's name and declared size before reading
// any: an unsafe name fails with ErrUnsafePath, and an entry over
// osv.MaxSize, more than limits.MaxEntries entries, or declared sizes
// adding up to more than limits.MaxTotalBytes fail with ErrLimit. Entries
// are decompressed into one reused buffer, bounded whatever their headers
// claim.
func walkZip(ctx context.Context, r io.ReaderAt, size int64, limits Limits, fn func(entry string, data []byte) error) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("read zip: %w", err)
	}
	if len(zr.File) > limits.MaxEntries {
		return fmt.Errorf("%w: %d zip entries (at most %d)", ErrLimit, len(zr.File), limits.MaxEntries)
	}
	var total uint64
	var files []*zip.File
	for _, f := range zr.File {
		if !localName(f.Name) {
			return fmt.Errorf("zip entry %q: %w", f.Name, ErrUnsafePath)
		}
		if strings.HasSuffix(f.Name, "/") || !f.Mode().IsRegular() || !strings.EqualFold(path.Ext(f.Name), ".json") {
			continue
		}
		if f.UncompressedSize64 > osv.MaxSize {
			return fmt.Errorf("zip entry %s: %w: %d bytes uncompressed (at most %d)", f.Name, ErrLimit, f.UncompressedSize64, osv.MaxSize)
		}
		if total += f.UncompressedSize64; total > uint64(limits.MaxTotalBytes) {
			return fmt.Errorf("%w: zip entries of more than %d bytes uncompressed", ErrLimit, limits.MaxTotalBytes)
		}
		files = append(files, f)
	}
	var buf bytes.Buffer
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := readEntry(f, &buf)
		if errors.Is(err, zip.ErrFormat) {
			return fmt.Errorf("zip entry %s: more data than its header declares (%d bytes): %w", f.Name, f.UncompressedSize64, err)
		}
		if err != nil {
			return fmt.Errorf("zip entry %s: %w", f.Name, err)
		}
		if err := fn(f.Name, data); err != nil {
			return err
		}
	}
	return nil
}

func readEntry(f *zip.File, buf *bytes.Buffer) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf.Grow(int(f.UncompressedSize64))
	// archive/zip fails with ErrFormat when an entry inflates past its
	// declared size, and with ErrChecksum on a CRC mismatch; readBounded
	// caps the rest.
	return readBounded(rc, buf)
}

// localName reports whether a zip entry name stays inside the archive: not
// empty, not absolute, no "..", no backslash, drive letter or NUL.
func localName(name string) bool {
	if name == "" || name[0] == '/' || strings.ContainsAny(name, "\\\x00") {
		return false
	}
	if len(name) >= 2 && name[1] == ':' {
		return false
	}
	for elem := range strings.SplitSeq(name, "/") {
		if elem == ".." {
			return false
		}
	}
	return true
}

// walkDir calls fn for each regular *.json file under root, in lexical
// order, with its slash-separated path relative to root.
func walkDir(ctx context.Context, root string, limits Limits, fn func(entry string, data []byte) error) error {
	var buf bytes.Buffer
	entries := 0
	var total int64
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || !strings.EqualFold(filepath.Ext(p), ".json") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if entries++; entries > limits.MaxEntries {
			return fmt.Errorf("%w: more than %d files", ErrLimit, limits.MaxEntries)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		data, err := readBounded(f, &buf)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if total += int64(len(data)); total > limits.MaxTotalBytes {
			return fmt.Errorf("%w: files of more than %d bytes", ErrLimit, limits.MaxTotalBytes)
		}
		return fn(rel, data)
	})
}
