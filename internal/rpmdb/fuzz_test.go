package rpmdb

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// fuzzTags are the tags the fuzzers read from a header that parses.
var fuzzTags = []Tag{TagName, TagVersion, TagRelease, TagEpoch, TagArch, TagSourceRPM, TagLicense, TagVendor, TagModularityLabel, 63, 5000}

// FuzzHeader checks that ParseHeader and the readers of a parsed header
// never panic, and that ParsePackage agrees with ParseHeader.
func FuzzHeader(f *testing.F) {
	good := goodHeader()
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(buildHeader(str(TagName, "a"), str(TagVersion, "1"), str(TagRelease, "1")))
	f.Add(buildHeader(testEntry{tag: TagName, typ: typeStringArray, data: []byte("a\x00b\x00"), count: 2}, i32(TagEpoch, 1)))
	f.Fuzz(func(t *testing.T, blob []byte) {
		h, err := ParseHeader(blob)
		_, perr := ParsePackage(Blob{Data: blob})
		if err != nil {
			if perr == nil {
				t.Fatalf("ParsePackage succeeded where ParseHeader failed: %v", err)
			}
			return
		}
		for _, tag := range fuzzTags {
			s, err := h.String(tag)
			if err == nil && len(s) > len(blob) {
				t.Fatalf("String(%v) returned %d bytes from a %d-byte blob", tag, len(s), len(blob))
			}
			h.Uint32(tag)
			h.Has(tag)
		}
	})
}

// checkBlobs checks what a reader returned from a size-byte input: the blobs
// fit in the input, so a hostile file cannot make a reader allocate more
// than it holds, and parsing them does not panic.
func checkBlobs(t *testing.T, blobs []Blob, size int) {
	total := 0
	for _, b := range blobs {
		total += len(b.Data)
		ParsePackage(b)
	}
	if total > size {
		t.Fatalf("read %d bytes of blobs from a %d-byte database", total, size)
	}
}

// FuzzBerkeleyDB checks that ReadBerkeleyDB never panics, never loops and
// never returns more blob bytes than its input holds.
func FuzzBerkeleyDB(f *testing.F) {
	recs := testRecords()
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		file, _ := makeBDB(f, order, 512, recs)
		f.Add(file)
		file, _ = makeBDB(f, order, 512, recs[:1])
		f.Add(file)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		blobs, err := ReadBerkeleyDB(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		checkBlobs(t, blobs, len(data))
	})
}

// FuzzNDB checks that ReadNDB never panics and never returns more blob bytes
// than its input holds.
func FuzzNDB(f *testing.F) {
	recs := testRecords()
	f.Add(makeNDB(f, recs))
	f.Add(makeNDB(f, recs[:1]))
	f.Fuzz(func(t *testing.T, data []byte) {
		blobs, err := ReadNDB(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		checkBlobs(t, blobs, len(data))
	})
}
