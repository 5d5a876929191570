package rpmdb

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// The NDB format (rpm's lib/backend/ndb/rpmpkg.c), all numbers little-endian:
// a 32-byte file header, then slot pages of 16-byte slots that each locate a
// blob by its offset and length in 16-byte blocks, then the blobs. A blob is a
// 16-byte head (magic, package index, timestamp, length), the header blob,
// zero padding, and a 12-byte tail (checksum, length, magic).
const (
	ndbMagic       = "RpmP"
	ndbVersion     = 0
	ndbHeaderSize  = 32
	ndbPageSize    = 4096
	ndbSlotSize    = 16
	ndbBlockSize   = 16
	ndbSlotMagic   = "Slot"
	ndbBlobMagic   = "BlbS"
	ndbTailMagic   = "BlbE"
	ndbBlobHead    = 16
	ndbBlobTail    = 12
	ndbOffVersion  = 4
	ndbOffSlotPage = 12
)

// ndbSlot is a used slot: where the blob of package pkgIdx lies, in blocks.
type ndbSlot struct {
	pkgIdx, blkOff, blkCnt uint32
}

// ReadNDB reads the header blobs of rpm's NDB database, Packages.db, of size
// bytes in r. The instance of each blob is its package index. Like rpm, it
// does not verify the blob checksums. It returns the blobs sorted by
// instance. It returns an error wrapping ErrUnknownFormat when r is not an
// NDB database, ErrUnsupported for another version of the format, ErrCorrupt
// for a database that breaks the format, and the errors of r.
func ReadNDB(r io.ReaderAt, size int64) ([]Blob, error) {
	slots, err := ndbSlots(r, size)
	if err != nil {
		return nil, err
	}
	blobs := make([]Blob, 0, len(slots))
	for _, s := range slots {
		data, err := ndbBlob(r, s)
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, Blob{Instance: s.pkgIdx, Data: data})
	}
	if err := sortBlobs(blobs); err != nil {
		return nil, fmt.Errorf("ndb: %w", err)
	}
	return blobs, nil
}

// ndbSlots reads the file header and the used slots, and checks that every
// slot's blocks lie inside the file, after the slot pages, without
// overlapping another slot's.
func ndbSlots(r io.ReaderAt, size int64) ([]ndbSlot, error) {
	if size < ndbHeaderSize {
		return nil, fmt.Errorf("ndb: %d-byte file is shorter than the file header: %w", size, ErrCorrupt)
	}
	head := make([]byte, ndbHeaderSize)
	if err := readFull(r, head, 0); err != nil {
		return nil, fmt.Errorf("ndb: file header: %w", err)
	}
	if string(head[:4]) != ndbMagic {
		return nil, fmt.Errorf("ndb: no %q magic: %w", ndbMagic, ErrUnknownFormat)
	}
	if v := binary.LittleEndian.Uint32(head[ndbOffVersion:]); v != ndbVersion {
		return nil, fmt.Errorf("ndb: version %d, want %d: %w", v, ndbVersion, ErrUnsupported)
	}
	if size%ndbBlockSize != 0 {
		return nil, fmt.Errorf("ndb: file size %d is not a multiple of the %d-byte block: %w", size, ndbBlockSize, ErrCorrupt)
	}
	npages := binary.LittleEndian.Uint32(head[ndbOffSlotPage:])
	if npages == 0 || int64(npages)*ndbPageSize > size {
		return nil, fmt.Errorf("ndb: %d slot pages do not fit in %d bytes: %w", npages, size, ErrCorrupt)
	}
	fileBlocks := uint64(size) / ndbBlockSize
	firstBlock := uint64(npages) * (ndbPageSize / ndbBlockSize)
	var slots []ndbSlot
	page := make([]byte, ndbPageSize)
	for pg := uint32(0); pg < npages; pg++ {
		if err := readFull(r, page, int64(pg)*ndbPageSize); err != nil {
			return nil, fmt.Errorf("ndb: slot page %d: %w", pg, err)
		}
		start := 0
		if pg == 0 {
			start = ndbHeaderSize // the file header takes the first slots
		}
		for o := start; o < ndbPageSize; o += ndbSlotSize {
			p := page[o : o+ndbSlotSize]
			slotNo := (int64(pg)*ndbPageSize + int64(o)) / ndbSlotSize
			if string(p[:4]) != ndbSlotMagic {
				return nil, fmt.Errorf("ndb: slot %d has no %q magic: %w", slotNo, ndbSlotMagic, ErrCorrupt)
			}
			s := ndbSlot{
				pkgIdx: binary.LittleEndian.Uint32(p[4:]),
				blkOff: binary.LittleEndian.Uint32(p[8:]),
				blkCnt: binary.LittleEndian.Uint32(p[12:]),
			}
			if s.blkOff == 0 {
				continue // free slot
			}
			if s.pkgIdx == 0 || s.blkCnt == 0 {
				return nil, fmt.Errorf("ndb: slot %d has package index %d and %d blocks: %w", slotNo, s.pkgIdx, s.blkCnt, ErrCorrupt)
			}
			if uint64(s.blkOff) < firstBlock || uint64(s.blkOff)+uint64(s.blkCnt) > fileBlocks {
				return nil, fmt.Errorf("ndb: slot %d: blocks %d to %d are outside the data blocks %d to %d: %w", slotNo, s.blkOff, uint64(s.blkOff)+uint64(s.blkCnt), firstBlock, fileBlocks, ErrCorrupt)
			}
			slots = append(slots, s)
		}
	}
	slices.SortFunc(slots, func(a, b ndbSlot) int { return cmp.Compare(a.blkOff, b.blkOff) })
	for i := 1; i < len(slots); i++ {
		if prev := slots[i-1]; uint64(prev.blkOff)+uint64(prev.blkCnt) > uint64(slots[i].blkOff) {
			return nil, fmt.Errorf("ndb: the blobs of packages %d and %d overlap: %w", prev.pkgIdx, slots[i].pkgIdx, ErrCorrupt)
		}
	}
	return slots, nil
}

// ndbBlob reads and checks the blob a slot locates, and returns the header
// blob inside it.
func ndbBlob(r io.ReaderAt, s ndbSlot) ([]byte, error) {
	total := uint64(s.blkCnt) * ndbBlockSize
	if total < ndbBlobHead+ndbBlobTail {
		return nil, fmt.Errorf("ndb: package %d: %d blocks cannot hold a blob: %w", s.pkgIdx, s.blkCnt, ErrCorrupt)
	}
	off := int64(s.blkOff) * ndbBlockSize
	head := make([]byte, ndbBlobHead)
	if err := readFull(r, head, off); err != nil {
		return nil, fmt.Errorf("ndb: package %d: blob head: %w", s.pkgIdx, err)
	}
	if string(head[:4]) != ndbBlobMagic {
		return nil, fmt.Errorf("ndb: package %d: blob at block %d has no %q magic: %w", s.pkgIdx, s.blkOff, ndbBlobMagic, ErrCorrupt)
	}
	if idx := binary.LittleEndian.Uint32(head[4:]); idx != s.pkgIdx {
		return nil, fmt.Errorf("ndb: package %d: blob at block %d is that of package %d: %w", s.pkgIdx, s.blkOff, idx, ErrCorrupt)
	}
	n := binary.LittleEndian.Uint32(head[12:])
	if want := (ndbBlobHead + uint64(n) + ndbBlobTail + ndbBlockSize - 1) / ndbBlockSize; want != uint64(s.blkCnt) {
		return nil, fmt.Errorf("ndb: package %d: a %d-byte blob takes %d blocks, but the slot says %d: %w", s.pkgIdx, n, want, s.blkCnt, ErrCorrupt)
	}
	if uint64(n) > MaxHeaderSize {
		return nil, fmt.Errorf("ndb: package %d: %d-byte blob is larger than a header can be: %w", s.pkgIdx, n, ErrCorrupt)
	}
	// The slot checks bound n by the file size.
	data := make([]byte, n)
	if err := readFull(r, data, off+ndbBlobHead); err != nil {
		return nil, fmt.Errorf("ndb: package %d: blob: %w", s.pkgIdx, err)
	}
	tail := make([]byte, ndbBlobTail)
	if err := readFull(r, tail, off+int64(total)-ndbBlobTail); err != nil {
		return nil, fmt.Errorf("ndb: package %d: blob tail: %w", s.pkgIdx, err)
	}
	if string(tail[8:]) != ndbTailMagic || binary.LittleEndian.Uint32(tail[4:]) != n {
		return nil, fmt.Errorf("ndb: package %d: blob tail does not match its head: %w", s.pkgIdx, ErrCorrupt)
	}
	return data, nil
}
