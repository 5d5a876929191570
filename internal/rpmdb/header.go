package rpmdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt means that a database or a header blob breaks its format: an
// offset, count or length points outside the data that holds it, a magic
// number is wrong, or a structure is inconsistent. Errors wrap it with the
// detail of what is wrong where.
var ErrCorrupt = errors.New("corrupt rpm database")

// ErrNoTag means that a header has no entry with the tag asked for.
var ErrNoTag = errors.New("tag not in header")

// Tag is the number of a header entry, as listed in rpm's rpmtag.h.
type Tag int32

// The tags this package reads.
const (
	TagName            Tag = 1000
	TagVersion         Tag = 1001
	TagRelease         Tag = 1002
	TagEpoch           Tag = 1003
	TagVendor          Tag = 1011
	TagLicense         Tag = 1014
	TagArch            Tag = 1022
	TagSourceRPM       Tag = 1044
	TagModularityLabel Tag = 5096
)

// String returns the rpm name of the tag ("NAME"), or its number.
func (t Tag) String() string {
	switch t {
	case TagName:
		return "NAME"
	case TagVersion:
		return "VERSION"
	case TagRelease:
		return "RELEASE"
	case TagEpoch:
		return "EPOCH"
	case TagVendor:
		return "VENDOR"
	case TagLicense:
		return "LICENSE"
	case TagArch:
		return "ARCH"
	case TagSourceRPM:
		return "SOURCERPM"
	case TagModularityLabel:
		return "MODULARITYLABEL"
	}
	return fmt.Sprintf("tag %d", int32(t))
}

// The entry types of the header format (rpmTagType_e).
const (
	typeNull        = 0
	typeChar        = 1
	typeInt8        = 2
	typeInt16       = 3
	typeInt32       = 4
	typeInt64       = 5
	typeString      = 6
	typeBin         = 7
	typeStringArray = 8
	typeI18NString  = 9
)

// typeSize is the size of one element of a fixed-size type, which is also
// its alignment in the data store; 0 marks the variable-size string types.
var typeSize = [...]uint64{
	typeNull:        0,
	typeChar:        1,
	typeInt8:        1,
	typeInt16:       2,
	typeInt32:       4,
	typeInt64:       8,
	typeString:      0,
	typeBin:         1,
	typeStringArray: 0,
	typeI18NString:  0,
}

// Limits of the header format, the same as rpm's (header_internal.h).
const (
	// maxEntries is the largest number of index entries (HEADER_TAGS_MAX).
	maxEntries = 0xffff
	// maxData is the largest data store (HEADER_DATA_MAX).
	maxData = 0x0fffffff
	// maxCount is the largest element count of an entry that is not BIN
	// (HEADER_ARRAY_MAX).
	maxCount = 0xfffff
	// entrySize is the size of one index entry.
	entrySize = 16
	// preambleSize is the size of the entry count and data length that
	// start a blob.
	preambleSize = 8
)

// MaxHeaderSize is the size of the largest header blob the format allows:
// 65535 index entries and 256 MiB of data. The readers refuse larger blobs.
const MaxHeaderSize = preambleSize + entrySize*maxEntries + maxData

// entry is one index entry of a header.
type entry struct {
	tag   Tag
	typ   uint32
	off   uint32
	count uint32
}

// Header is a parsed header blob. It refers to the blob's bytes, which the
// caller must not change while the Header is in use.
type Header struct {
	index []entry
	data  []byte
}

// ParseHeader parses a header blob as rpm stores it in its database: a
// big-endian entry count and data length, the index entries (tag, type,
// offset, count) and the data store. It checks that the blob has exactly the
// announced size and that every entry has a known type, an aligned offset and
// fixed-size data inside the data store; strings are checked when they are
// read. It returns an error wrapping ErrCorrupt for a blob that breaks the
// format.
func ParseHeader(blob []byte) (*Header, error) {
	if len(blob) < preambleSize {
		return nil, fmt.Errorf("header of %d bytes is shorter than its %d-byte preamble: %w", len(blob), preambleSize, ErrCorrupt)
	}
	il := binary.BigEndian.Uint32(blob)
	dl := binary.BigEndian.Uint32(blob[4:])
	if il == 0 || il > maxEntries {
		return nil, fmt.Errorf("header announces %d entries, want 1 to %d: %w", il, maxEntries, ErrCorrupt)
	}
	if dl > maxData {
		return nil, fmt.Errorf("header announces %d bytes of data, more than the limit of %d: %w", dl, maxData, ErrCorrupt)
	}
	want := uint64(preambleSize) + uint64(il)*entrySize + uint64(dl)
	if uint64(len(blob)) != want {
		return nil, fmt.Errorf("header of %d bytes announces %d entries and %d bytes of data (%d bytes): %w", len(blob), il, dl, want, ErrCorrupt)
	}
	h := &Header{
		index: make([]entry, il),
		data:  blob[preambleSize+entrySize*int(il):],
	}
	for i := range h.index {
		p := blob[preambleSize+entrySize*i:]
		e := entry{
			tag:   Tag(binary.BigEndian.Uint32(p)),
			typ:   binary.BigEndian.Uint32(p[4:]),
			off:   binary.BigEndian.Uint32(p[8:]),
			count: binary.BigEndian.Uint32(p[12:]),
		}
		if err := h.check(e); err != nil {
			return nil, fmt.Errorf("header entry %d (%v): %w", i, e.tag, err)
		}
		h.index[i] = e
	}
	return h, nil
}

// check validates the type, offset and count of an entry, and the length of
// its data when the type has a fixed size.
func (h *Header) check(e entry) error {
	if e.typ == typeNull || e.typ >= uint32(len(typeSize)) {
		return fmt.Errorf("type %d is not a known data type: %w", e.typ, ErrCorrupt)
	}
	dl := uint64(len(h.data))
	if uint64(e.off) >= dl {
		return fmt.Errorf("offset %d is outside the %d-byte data store: %w", e.off, dl, ErrCorrupt)
	}
	if e.count == 0 {
		return fmt.Errorf("count is 0: %w", ErrCorrupt)
	}
	if e.typ != typeBin && e.count > maxCount {
		return fmt.Errorf("count %d is more than the limit of %d: %w", e.count, maxCount, ErrCorrupt)
	}
	size := typeSize[e.typ]
	switch {
	case size > 0:
		if uint64(e.off)%size != 0 {
			return fmt.Errorf("offset %d is not aligned for type %d: %w", e.off, e.typ, ErrCorrupt)
		}
		if end := uint64(e.off) + uint64(e.count)*size; end > dl {
			return fmt.Errorf("%d elements of %d bytes at offset %d end past the %d-byte data store: %w", e.count, size, e.off, dl, ErrCorrupt)
		}
	case e.typ == typeString:
		if e.count != 1 {
			return fmt.Errorf("string has count %d, want 1: %w", e.count, ErrCorrupt)
		}
	default:
		// Every string takes at least its terminating NUL.
		if uint64(e.off)+uint64(e.count) > dl {
			return fmt.Errorf("%d strings at offset %d cannot fit in the %d-byte data store: %w", e.count, e.off, dl, ErrCorrupt)
		}
	}
	return nil
}

// find returns the entry with the tag. When a header has several, the last
// wins, as in rpm, where entries appended after the immutable region replace
// the region's.
func (h *Header) find(tag Tag) (entry, bool) {
	for i := len(h.index) - 1; i >= 0; i-- {
		if h.index[i].tag == tag {
			return h.index[i], true
		}
	}
	return entry{}, false
}

// Has reports whether the header has an entry with the tag.
func (h *Header) Has(tag Tag) bool {
	_, ok := h.find(tag)
	return ok
}

// String returns the value of a STRING entry, or the first (untranslated)
// string of an I18NSTRING or STRING_ARRAY entry. It returns an error wrapping
// ErrNoTag when the header has no such entry, and one wrapping ErrCorrupt
// when the entry has another type or its string has no terminating NUL inside
// the data store.
func (h *Header) String(tag Tag) (string, error) {
	e, ok := h.find(tag)
	if !ok {
		return "", fmt.Errorf("%v: %w", tag, ErrNoTag)
	}
	switch e.typ {
	case typeString, typeI18NString, typeStringArray:
	default:
		return "", fmt.Errorf("%v: type %d is not a string type: %w", tag, e.typ, ErrCorrupt)
	}
	rest := h.data[e.off:]
	n := bytes.IndexByte(rest, 0)
	if n < 0 {
		return "", fmt.Errorf("%v: string at offset %d has no terminating NUL: %w", tag, e.off, ErrCorrupt)
	}
	return string(rest[:n]), nil
}

// Uint32 returns the first value of an INT32 entry. It returns an error
// wrapping ErrNoTag when the header has no such entry, and one wrapping
// ErrCorrupt when the entry has another type.
func (h *Header) Uint32(tag Tag) (uint32, error) {
	e, ok := h.find(tag)
	if !ok {
		return 0, fmt.Errorf("%v: %w", tag, ErrNoTag)
	}
	if e.typ != typeInt32 {
		return 0, fmt.Errorf("%v: type %d is not INT32: %w", tag, e.typ, ErrCorrupt)
	}
	// check made sure that count (>= 1) values fit.
	return binary.BigEndian.Uint32(h.data[e.off:]), nil
}
