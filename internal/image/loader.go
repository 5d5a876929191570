package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// layerLoader streams layers: once in order to build the tree, and again to
// read a file that was not prefetched.
type layerLoader struct {
	layers []v1.Layer
	infos  []Layer
	budget *budget
	spool  *spool
	closer io.Closer // the archive file, if any
}

// stream returns the uncompressed tar stream of l. wrap, when set, sees the
// stored (compressed) bytes, for progress reporting.
//
// Layers are read as stored and decompressed here (gzip and zstd, detected
// by their magic numbers, so a wrong media type does not matter; anything
// else is taken as an uncompressed tar).
func (ld *layerLoader) stream(l v1.Layer, wrap func(io.Reader) io.Reader) (io.ReadCloser, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var r io.Reader = rc
	if wrap != nil {
		r = wrap(r)
	}
	// Three stages on their own goroutines: reading and hashing the blob,
	// inflating it, and the caller's walk of the tar.
	raw := newReadahead(r)
	dr, err := decompress(raw)
	if err != nil {
		raw.Close()
		rc.Close()
		return nil, err
	}
	ra := newReadahead(dr)
	// Each readahead stops its goroutine before the readers under it close.
	return readCloser{Reader: ra, Closer: multiCloser{ra, dr, raw, rc}}, nil
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress detects gzip or zstd by magic number; anything else is taken as
// an uncompressed tar.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// open reads a file that was not prefetched by streaming its layer again up
// to the file's entry. The caller holds c.mu; the bytes are kept in c so the
// layer is read once per file.
func (ld *layerLoader) open(c *content) (readerAtSeeker, error) {
	if c.layer < 0 || int(c.layer) >= len(ld.layers) {
		return nil, fmt.Errorf("no layer %d", c.layer)
	}
	rc, err := ld.stream(ld.layers[c.layer], nil)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", ld.infos[c.layer].Digest, err)
	}
	defer rc.Close()
	tr := tar.NewReader(ld.budget.reader(rc))
	for ordinal := 0; ; ordinal++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("layer %s: entry %d is gone", ld.infos[c.layer].Digest, c.ordinal)
		}
		if err != nil {
			return nil, fmt.Errorf("layer %s: read tar: %w", ld.infos[c.layer].Digest, err)
		}
		if ordinal != int(c.ordinal) {
			continue
		}
		if hdr.Size != c.size {
			return nil, fmt.Errorf("layer %s: entry %d (%q) is not of %d bytes as on the first read", ld.infos[c.layer].Digest, ordinal, hdr.Name, c.size)
		}
		t := tree{spool: ld.spool, budget: ld.budget, memUsed: memTotalMax}
		if err := t.prefetch(c, hdr.Size, tr); err != nil {
			return nil, fmt.Errorf("layer %s: entry %q: %w", ld.infos[c.layer].Digest, hdr.Name, err)
		}
		if c.spool != "" {
			return openSpool(c.spool)
		}
		return bytes.NewReader(c.data), nil
	}
}

func (ld *layerLoader) close() error {
	err := ld.spool.remove()
	if ld.closer != nil {
		err = errors.Join(err, ld.closer.Close())
	}
	return err
}
