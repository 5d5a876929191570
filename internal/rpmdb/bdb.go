package rpmdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrUnsupported means that a database uses a feature of its format that
// this package does not read, such as Berkeley DB encryption.
var ErrUnsupported = errors.New("unsupported rpm database feature")

// The parts of the Berkeley DB on-disk format that rpm's Packages database
// uses (Berkeley DB's dbinc/db_page.h): a metadata page, then hash pages whose
// items are key/data pairs, with data too large for a page stored in a chain
// of overflow pages. All numbers are in the byte order of the machine that
// created the file, which the metadata magic number tells.
const (
	bdbHashMagic  = 0x00061561
	bdbBtreeMagic = 0x00053162

	// bdbMetaSize is how much of the metadata page is read.
	bdbMetaSize = 512
	// Offsets in the metadata page (DBMETA and HMETA).
	bdbMetaMagic     = 12
	bdbMetaVersion   = 16
	bdbMetaPageSize  = 20
	bdbMetaEncrypt   = 24
	bdbMetaType      = 25
	bdbMetaFlags     = 26
	bdbMetaLastPage  = 32
	bdbMetaFlagCksum = 0x01

	// Offsets in the header of every other page (PAGE).
	bdbPageNumber   = 8
	bdbPageNext     = 16
	bdbPageEntries  = 20
	bdbPageHighFree = 22 // on an overflow page: the bytes it holds
	bdbPageType     = 25
	bdbPageHeader   = 26 // where the item offsets, or overflow data, start

	// Page types.
	bdbPageHashUnsorted = 2
	bdbPageOverflow     = 7
	bdbPageHashMeta     = 8
	bdbPageHash         = 13

	// Types of the items on a hash page.
	bdbItemKeyData = 1
	bdbItemOffPage = 3
	// bdbOffPageSize is the size of an off-page item: type, 3 unused
	// bytes, first overflow page, total length.
	bdbOffPageSize = 12
)

// isBDBMagic reports whether b, the 4 bytes at offset 12 of a file, is the
// magic number of a Berkeley DB hash or btree database in either byte order.
func isBDBMagic(b []byte) bool {
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		if m := o.Uint32(b); m == bdbHashMagic || m == bdbBtreeMagic {
			return true
		}
	}
	return false
}

// bdbFile is an open Berkeley DB hash database.
type bdbFile struct {
	r        io.ReaderAt
	order    binary.ByteOrder
	pageSize uint32
	lastPage uint32
	// used marks the overflow pages already read: a page belongs to one
	// chain, so a page met twice means a cycle or shared chains.
	used []bool
	page []byte // the hash page being read
	ov   []byte // the overflow page being read
}

// ReadBerkeleyDB reads the header blobs of rpm's Packages database, a
// Berkeley DB hash database (hash format versions 8 to 10, as written by
// Berkeley DB 4 to 6, in either byte order) of size bytes in r. The key of
// each record is the header instance as a 4-byte integer in the database's
// byte order; the record with key 0, which holds rpm's instance counter, is
// skipped. It returns the blobs sorted by instance. It returns an error
// wrapping ErrUnknownFormat for another kind of Berkeley DB database (a
// btree index), ErrUnsupported for an encrypted or checksummed database,
// ErrCorrupt for a database that breaks the format, and the errors of r.
func ReadBerkeleyDB(r io.ReaderAt, size int64) ([]Blob, error) {
	db, err := openBDB(r, size)
	if err != nil {
		return nil, err
	}
	var blobs []Blob
	for pg := uint32(1); pg <= db.lastPage && pg != 0; pg++ {
		if err := db.readPage(pg, db.page); err != nil {
			return nil, err
		}
		switch db.page[bdbPageType] {
		case bdbPageHash, bdbPageHashUnsorted:
		default:
			continue // overflow, free or unused page
		}
		if got := db.order.Uint32(db.page[bdbPageNumber:]); got != pg {
			return nil, fmt.Errorf("bdb: page %d says it is page %d: %w", pg, got, ErrCorrupt)
		}
		blobs, err = db.hashPage(pg, blobs)
		if err != nil {
			return nil, err
		}
	}
	if err := sortBlobs(blobs); err != nil {
		return nil, fmt.Errorf("bdb: %w", err)
	}
	return blobs, nil
}

// openBDB reads and checks the metadata page.
func openBDB(r io.ReaderAt, size int64) (*bdbFile, error) {
	if size < bdbMetaSize {
		return nil, fmt.Errorf("bdb: %d-byte file is shorter than a metadata page: %w", size, ErrCorrupt)
	}
	meta := make([]byte, bdbMetaSize)
	if err := readFull(r, meta, 0); err != nil {
		return nil, fmt.Errorf("bdb: metadata page: %w", err)
	}
	db := &bdbFile{r: r}
	switch m := meta[bdbMetaMagic : bdbMetaMagic+4]; {
	case binary.LittleEndian.Uint32(m) == bdbHashMagic:
		db.order = binary.LittleEndian
	case binary.BigEndian.Uint32(m) == bdbHashMagic:
		db.order = binary.BigEndian
	case binary.LittleEndian.Uint32(m) == bdbBtreeMagic || binary.BigEndian.Uint32(m) == bdbBtreeMagic:
		return nil, fmt.Errorf("bdb: a btree database (an rpm index), not the hash database of Packages: %w", ErrUnknownFormat)
	default:
		return nil, fmt.Errorf("bdb: no Berkeley DB magic number: %w", ErrUnknownFormat)
	}
	if v := db.order.Uint32(meta[bdbMetaVersion:]); v < 8 || v > 10 {
		return nil, fmt.Errorf("bdb: hash version %d, want 8 to 10: %w", v, ErrUnsupported)
	}
	if meta[bdbMetaEncrypt] != 0 {
		return nil, fmt.Errorf("bdb: encrypted with algorithm %d: %w", meta[bdbMetaEncrypt], ErrUnsupported)
	}
	if meta[bdbMetaFlags]&bdbMetaFlagCksum != 0 {
		return nil, fmt.Errorf("bdb: pages carry checksums: %w", ErrUnsupported)
	}
	if t := meta[bdbMetaType]; t != bdbPageHashMeta {
		return nil, fmt.Errorf("bdb: metadata page has type %d, want %d: %w", t, bdbPageHashMeta, ErrCorrupt)
	}
	db.pageSize = db.order.Uint32(meta[bdbMetaPageSize:])
	if db.pageSize < 512 || db.pageSize > 64<<10 || db.pageSize&(db.pageSize-1) != 0 {
		return nil, fmt.Errorf("bdb: page size %d is not a power of 2 from 512 to 65536: %w", db.pageSize, ErrCorrupt)
	}
	db.lastPage = db.order.Uint32(meta[bdbMetaLastPage:])
	if need := (int64(db.lastPage) + 1) * int64(db.pageSize); need > size {
		return nil, fmt.Errorf("bdb: %d pages of %d bytes do not fit in %d bytes: %w", int64(db.lastPage)+1, db.pageSize, size, ErrCorrupt)
	}
	db.used = make([]bool, int(db.lastPage)+1)
	db.page = make([]byte, db.pageSize)
	db.ov = make([]byte, db.pageSize)
	return db, nil
}

// readPage reads page pg into buf, which has the page size.
func (db *bdbFile) readPage(pg uint32, buf []byte) error {
	if err := readFull(db.r, buf, int64(pg)*int64(db.pageSize)); err != nil {
		return fmt.Errorf("bdb: page %d: %w", pg, err)
	}
	return nil
}

// hashPage appends the records on the hash page in db.page to blobs.
func (db *bdbFile) hashPage(pg uint32, blobs []Blob) ([]Blob, error) {
	n := uint32(db.order.Uint16(db.page[bdbPageEntries:]))
	if n%2 != 0 {
		return nil, fmt.Errorf("bdb: hash page %d has %d items, not key/data pairs: %w", pg, n, ErrCorrupt)
	}
	if bdbPageHeader+2*n > db.pageSize {
		return nil, fmt.Errorf("bdb: hash page %d has %d items, more than fit on a page: %w", pg, n, ErrCorrupt)
	}
	for i := uint32(0); i < n; i += 2 {
		key, err := db.item(pg, n, i)
		if err != nil {
			return nil, err
		}
		if len(key) != 4 {
			return nil, fmt.Errorf("bdb: hash page %d, item %d: %d-byte key, want a 4-byte header instance: %w", pg, i, len(key), ErrCorrupt)
		}
		instance := db.order.Uint32(key)
		if instance == 0 {
			continue // rpm's instance counter
		}
		data, err := db.item(pg, n, i+1)
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, Blob{Instance: instance, Data: data})
	}
	return blobs, nil
}

// item returns the bytes of item i of the n items on the hash page pg in
// db.page, following an overflow chain when the item is stored off the page.
// Items fill the page from its end: item i ends where item i-1 starts.
func (db *bdbFile) item(pg, n, i uint32) ([]byte, error) {
	off := uint32(db.order.Uint16(db.page[bdbPageHeader+2*i:]))
	end := db.pageSize
	if i > 0 {
		end = uint32(db.order.Uint16(db.page[bdbPageHeader+2*(i-1):]))
	}
	if off < bdbPageHeader+2*n || off >= end || end > db.pageSize {
		return nil, fmt.Errorf("bdb: hash page %d, item %d: bytes %d to %d are outside the page's data area: %w", pg, i, off, end, ErrCorrupt)
	}
	it := db.page[off:end]
	switch it[0] {
	case bdbItemKeyData:
		return append([]byte(nil), it[1:]...), nil
	case bdbItemOffPage:
		if len(it) != bdbOffPageSize {
			return nil, fmt.Errorf("bdb: hash page %d, item %d: %d-byte off-page item, want %d: %w", pg, i, len(it), bdbOffPageSize, ErrCorrupt)
		}
		data, err := db.overflow(db.order.Uint32(it[4:]), db.order.Uint32(it[8:]))
		if err != nil {
			return nil, fmt.Errorf("bdb: hash page %d, item %d: %w", pg, i, err)
		}
		return data, nil
	}
	return nil, fmt.Errorf("bdb: hash page %d, item %d: item type %d, want %d or %d: %w", pg, i, it[0], bdbItemKeyData, bdbItemOffPage, ErrCorrupt)
}

// overflow reads length bytes from the chain of overflow pages that starts
// at page first.
func (db *bdbFile) overflow(first, length uint32) ([]byte, error) {
	if length == 0 || uint64(length) > MaxHeaderSize {
		return nil, fmt.Errorf("off-page length %d is not from 1 to %d: %w", length, uint64(MaxHeaderSize), ErrCorrupt)
	}
	if capacity := uint64(db.lastPage) * uint64(db.pageSize-bdbPageHeader); uint64(length) > capacity {
		return nil, fmt.Errorf("off-page length %d is more than the %d pages of the file hold: %w", length, db.lastPage, ErrCorrupt)
	}
	// Grow as pages arrive rather than trusting length up front.
	data := make([]byte, 0, min(length, 1<<20))
	pg := first
	for uint32(len(data)) < length {
		if pg == 0 || pg > db.lastPage {
			return nil, fmt.Errorf("overflow chain from page %d: page %d is outside the file's %d pages, with %d of %d bytes read: %w", first, pg, db.lastPage+1, len(data), length, ErrCorrupt)
		}
		if db.used[pg] {
			return nil, fmt.Errorf("overflow chain from page %d: page %d is read a second time: %w", first, pg, ErrCorrupt)
		}
		db.used[pg] = true
		if err := db.readPage(pg, db.ov); err != nil {
			return nil, err
		}
		if t := db.ov[bdbPageType]; t != bdbPageOverflow {
			return nil, fmt.Errorf("overflow chain from page %d: page %d has type %d, want %d: %w", first, pg, t, bdbPageOverflow, ErrCorrupt)
		}
		if got := db.order.Uint32(db.ov[bdbPageNumber:]); got != pg {
			return nil, fmt.Errorf("overflow chain from page %d: page %d says it is page %d: %w", first, pg, got, ErrCorrupt)
		}
		k := uint32(db.order.Uint16(db.ov[bdbPageHighFree:]))
		if k == 0 || k > db.pageSize-bdbPageHeader || k > length-uint32(len(data)) {
			return nil, fmt.Errorf("overflow chain from page %d: page %d holds %d bytes, with %d of %d bytes left to read: %w", first, pg, k, length-uint32(len(data)), length, ErrCorrupt)
		}
		data = append(data, db.ov[bdbPageHeader:bdbPageHeader+k]...)
		pg = db.order.Uint32(db.ov[bdbPageNext:])
	}
	return data, nil
}

// readFull reads len(buf) bytes at off, turning a short read into
// io.ErrUnexpectedEOF.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read %d bytes at offset %d: %w", len(buf), off, err)
}
