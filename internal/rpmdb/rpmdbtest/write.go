package rpmdbtest

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/adler32"
	"slices"
)

// The NDB layout, as rpm's lib/backend/ndb/rpmpkg.c writes it.
const (
	ndbPageSize   = 4096
	ndbSlotSize   = 16
	ndbBlockSize  = 16
	ndbHeaderSize = 32
	ndbBlobHead   = 16
	ndbBlobTail   = 12
	// ndbTimestamp is the time written in every blob head, fixed so that
	// the same records give the same file.
	ndbTimestamp = 1700000000
)

// WriteNDB returns an NDB database (Packages.db) holding the records, laid
// out as rpm lays out a database it fills from empty: the file header and the
// slots in the first pages, one slot per record in the order of the
// instances, and the blobs one after the other after the slot pages, each
// with its head, padding and tail with the Adler-32 checksum rpm computes. It
// returns an error for a record with instance 0 or a repeated instance.
func WriteNDB(records []Record) ([]byte, error) {
	records = slices.Clone(records)
	slices.SortFunc(records, func(a, b Record) int { return cmp.Compare(a.Instance, b.Instance) })
	for i, r := range records {
		if r.Instance == 0 || (i > 0 && records[i-1].Instance == r.Instance) {
			return nil, fmt.Errorf("ndb: instance %d is 0 or repeated", r.Instance)
		}
	}
	// The first page gives its first two slots to the file header.
	slotsPerPage := ndbPageSize / ndbSlotSize
	pages := 1
	for pages*slotsPerPage-ndbHeaderSize/ndbSlotSize < len(records) {
		pages++
	}
	file := make([]byte, pages*ndbPageSize)
	le := binary.LittleEndian
	copy(file, "RpmP")
	le.PutUint32(file[4:], 0)                      // version
	le.PutUint32(file[8:], uint32(len(records))+1) // generation
	le.PutUint32(file[12:], uint32(pages))
	next := uint32(1)
	if len(records) > 0 {
		next = records[len(records)-1].Instance + 1
	}
	le.PutUint32(file[16:], next)
	for o := ndbHeaderSize; o < len(file); o += ndbSlotSize {
		copy(file[o:], "Slot")
	}
	for i, r := range records {
		blkOff := len(file) / ndbBlockSize
		blkCnt := (ndbBlobHead + len(r.Data) + ndbBlobTail + ndbBlockSize - 1) / ndbBlockSize
		slot := file[ndbHeaderSize+i*ndbSlotSize:]
		le.PutUint32(slot[4:], r.Instance)
		le.PutUint32(slot[8:], uint32(blkOff))
		le.PutUint32(slot[12:], uint32(blkCnt))

		blob := make([]byte, blkCnt*ndbBlockSize)
		copy(blob, "BlbS")
		le.PutUint32(blob[4:], r.Instance)
		le.PutUint32(blob[8:], ndbTimestamp)
		le.PutUint32(blob[12:], uint32(len(r.Data)))
		copy(blob[ndbBlobHead:], r.Data)
		tail := blob[len(blob)-ndbBlobTail:]
		le.PutUint32(tail, adler32.Checksum(blob[:len(blob)-ndbBlobTail]))
		le.PutUint32(tail[4:], uint32(len(r.Data)))
		copy(tail[8:], "BlbE")
		file = append(file, blob...)
	}
	return file, nil
}

// BerkeleyDBDump returns the records in the dump format that Berkeley DB's
// db_load reads, for a hash database with the byte order and page size given,
// as rpm's Packages database: each key is the instance as a 4-byte integer in
// the database's byte order, and the record with key 0 holds the largest
// instance, rpm's counter.
func BerkeleyDBDump(records []Record, order binary.ByteOrder, pageSize int) []byte {
	var b bytes.Buffer
	lorder := 1234
	if order == binary.BigEndian {
		lorder = 4321
	}
	fmt.Fprintf(&b, "VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=%d\ndb_lorder=%d\nHEADER=END\n", pageSize, lorder)
	line := func(data []byte) {
		b.WriteByte(' ')
		b.WriteString(hex.EncodeToString(data))
		b.WriteByte('\n')
	}
	key := make([]byte, 4)
	var last uint32
	for _, r := range records {
		last = max(last, r.Instance)
	}
	order.PutUint32(key, 0)
	line(key)
	order.PutUint32(key, last)
	line(key)
	for _, r := range records {
		order.PutUint32(key, r.Instance)
		line(key)
		line(r.Data)
	}
	b.WriteString("DATA=END\n")
	return b.Bytes()
}
