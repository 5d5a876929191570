package rpmdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/rpmdb/rpmdbtest"
)

// makeNDB writes the records as an NDB database with rpmdbtest's writer.
func makeNDB(t testing.TB, blobs []Blob) []byte {
	t.Helper()
	var records []rpmdbtest.Record
	for _, b := range blobs {
		records = append(records, rpmdbtest.Record{Instance: b.Instance, Data: b.Data})
	}
	file, err := rpmdbtest.WriteNDB(records)
	if err != nil {
		t.Fatalf("WriteNDB: %v", err)
	}
	return file
}

func TestReadNDBSynthetic(t *testing.T) {
	want := testRecords()
	// Many records, to need a second slot page.
	for i := uint32(0); i < 300; i++ {
		want = append(want, Blob{Instance: 1000 + i, Data: goodHeader()})
	}
	file := makeNDB(t, want)
	got, err := ReadNDB(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatalf("ReadNDB: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadNDB mismatch (-want +got):\n%s", diff)
	}
}

// TestReadNDBCorrupt breaks a valid database in one place at a time.
func TestReadNDBCorrupt(t *testing.T) {
	le := binary.LittleEndian
	// Slot i (0-based) is at 32 + 16i; the blobs start after the one slot
	// page, at block 256.
	slot := func(i int) int { return ndbHeaderSize + ndbSlotSize*i }
	blob := func(b []byte, i int) int { return int(le.Uint32(b[slot(i)+8:])) * ndbBlockSize }
	blobEnd := func(b []byte, i int) int {
		return blob(b, i) + int(le.Uint32(b[slot(i)+12:]))*ndbBlockSize
	}
	for _, tc := range []struct {
		name   string
		mutate func(b []byte) []byte
		want   error
	}{
		{"shorter than the file header", func(b []byte) []byte { return b[:31] }, ErrCorrupt},
		{"no magic", func(b []byte) []byte { copy(b, "RpmQ"); return b }, ErrUnknownFormat},
		{"version 1", func(b []byte) []byte { le.PutUint32(b[ndbOffVersion:], 1); return b }, ErrUnsupported},
		{"size not in blocks", func(b []byte) []byte { return append(b, 0) }, ErrCorrupt},
		{"no slot pages", func(b []byte) []byte { le.PutUint32(b[ndbOffSlotPage:], 0); return b }, ErrCorrupt},
		{"slot pages past the end", func(b []byte) []byte { le.PutUint32(b[ndbOffSlotPage:], 1000); return b }, ErrCorrupt},
		{"slot magic", func(b []byte) []byte { copy(b[slot(5):], "Slut"); return b }, ErrCorrupt},
		{"slot without package", func(b []byte) []byte { le.PutUint32(b[slot(0)+4:], 0); return b }, ErrCorrupt},
		{"slot without blocks", func(b []byte) []byte { le.PutUint32(b[slot(0)+12:], 0); return b }, ErrCorrupt},
		{"slot in the slot pages", func(b []byte) []byte { le.PutUint32(b[slot(0)+8:], 1); return b }, ErrCorrupt},
		{"slot past the end", func(b []byte) []byte { le.PutUint32(b[slot(2)+12:], 0xfffffff0); return b }, ErrCorrupt},
		{"truncated", func(b []byte) []byte { return b[:len(b)-ndbBlockSize] }, ErrCorrupt},
		{"overlapping slots", func(b []byte) []byte {
			le.PutUint32(b[slot(1)+8:], le.Uint32(b[slot(0)+8:])+1)
			return b
		}, ErrCorrupt},
		{"same package twice", func(b []byte) []byte {
			le.PutUint32(b[slot(1)+4:], 1)
			le.PutUint32(b[blob(b, 1)+4:], 1)
			return b
		}, ErrCorrupt},
		{"blob magic", func(b []byte) []byte { copy(b[blob(b, 0):], "BlbX"); return b }, ErrCorrupt},
		{"blob of another package", func(b []byte) []byte { le.PutUint32(b[blob(b, 0)+4:], 2); return b }, ErrCorrupt},
		{"blob length", func(b []byte) []byte { le.PutUint32(b[blob(b, 0)+12:], 5); return b }, ErrCorrupt},
		{"blob length huge", func(b []byte) []byte { le.PutUint32(b[blob(b, 0)+12:], 0xffffffe0); return b }, ErrCorrupt},
		{"blocks too few for a blob", func(b []byte) []byte { le.PutUint32(b[slot(2)+12:], 1); return b }, ErrCorrupt},
		{"tail magic", func(b []byte) []byte { copy(b[blobEnd(b, 0)-4:], "BlbX"); return b }, ErrCorrupt},
		{"tail length", func(b []byte) []byte { le.PutUint32(b[blobEnd(b, 0)-8:], 1); return b }, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.mutate(makeNDB(t, testRecords()))
			blobs, err := ReadNDB(bytes.NewReader(file), int64(len(file)))
			if !errors.Is(err, tc.want) {
				t.Errorf("ReadNDB = %d blobs, %v; want %v", len(blobs), err, tc.want)
			}
		})
	}
}

func TestReadNDBIgnoresChecksum(t *testing.T) {
	// rpm does not verify the checksum when it reads a blob; neither do we.
	want := testRecords()
	file := makeNDB(t, want)
	le := binary.LittleEndian
	first := int(le.Uint32(file[ndbHeaderSize+8:])) * ndbBlockSize
	cnt := int(le.Uint32(file[ndbHeaderSize+12:]))
	file[first+cnt*ndbBlockSize-ndbBlobTail] ^= 0xff
	got, err := ReadNDB(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatalf("ReadNDB: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadNDB mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteNDBRejectsBadInstances(t *testing.T) {
	for _, recs := range [][]rpmdbtest.Record{
		{{Instance: 0, Data: []byte("x")}},
		{{Instance: 3, Data: []byte("x")}, {Instance: 3, Data: []byte("y")}},
	} {
		if _, err := rpmdbtest.WriteNDB(recs); err == nil {
			t.Errorf("WriteNDB(%v) succeeded; want an error", recs)
		}
	}
}
