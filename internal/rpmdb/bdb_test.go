package rpmdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// byteOrder is what binary.LittleEndian and binary.BigEndian are.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// bdbLayout says where makeBDB put things, for tests that break them.
type bdbLayout struct {
	order    byteOrder
	pageSize int
	// itemOff is the file offset of each item on the hash page (page 1):
	// the counter's key and data, then each record's key and data.
	itemOff []int
	// firstOverflow is the first overflow page of each record.
	firstOverflow []uint32
	// lastPage is the number of the last page.
	lastPage uint32
}

// makeBDB writes a minimal Berkeley DB hash database as rpm's Packages: a
// metadata page, one hash page with rpm's counter record (key 0) and one
// key/data pair per record, the data stored off-page in overflow chains.
// It holds what ReadBerkeleyDB reads, not everything Berkeley DB needs.
func makeBDB(t testing.TB, order byteOrder, pageSize int, records []Blob) ([]byte, bdbLayout) {
	t.Helper()
	l := bdbLayout{order: order, pageSize: pageSize}
	room := pageSize - bdbPageHeader
	next := uint32(2) // the first overflow page
	for _, r := range records {
		l.firstOverflow = append(l.firstOverflow, next)
		next += uint32((len(r.Data) + room - 1) / room)
	}
	l.lastPage = next - 1
	file := make([]byte, int(next)*pageSize)

	meta := file[:pageSize]
	order.PutUint32(meta[bdbMetaMagic:], bdbHashMagic)
	order.PutUint32(meta[bdbMetaVersion:], 9)
	order.PutUint32(meta[bdbMetaPageSize:], uint32(pageSize))
	meta[bdbMetaType] = bdbPageHashMeta
	order.PutUint32(meta[bdbMetaLastPage:], l.lastPage)

	hash := file[pageSize : 2*pageSize]
	order.PutUint32(hash[bdbPageNumber:], 1)
	hash[bdbPageType] = bdbPageHash
	var items [][]byte
	keyItem := func(instance uint32) []byte {
		return order.AppendUint32([]byte{bdbItemKeyData}, instance)
	}
	var last uint32
	for _, r := range records {
		last = max(last, r.Instance)
	}
	items = append(items, keyItem(0), order.AppendUint32([]byte{bdbItemKeyData}, last))
	for i, r := range records {
		off := make([]byte, bdbOffPageSize)
		off[0] = bdbItemOffPage
		order.PutUint32(off[4:], l.firstOverflow[i])
		order.PutUint32(off[8:], uint32(len(r.Data)))
		items = append(items, keyItem(r.Instance), off)
	}
	order.PutUint16(hash[bdbPageEntries:], uint16(len(items)))
	end := pageSize
	for i, it := range items {
		end -= len(it)
		if end < bdbPageHeader+2*len(items) {
			t.Fatalf("makeBDB: %d items do not fit on a %d-byte page", len(items), pageSize)
		}
		copy(hash[end:], it)
		order.PutUint16(hash[bdbPageHeader+2*i:], uint16(end))
		l.itemOff = append(l.itemOff, pageSize+end)
	}

	for i, r := range records {
		pg := l.firstOverflow[i]
		for data := r.Data; len(data) > 0; pg++ {
			n := min(len(data), room)
			p := file[int(pg)*pageSize : int(pg+1)*pageSize]
			order.PutUint32(p[bdbPageNumber:], pg)
			p[bdbPageType] = bdbPageOverflow
			order.PutUint16(p[bdbPageHighFree:], uint16(n))
			if n < len(data) {
				order.PutUint32(p[bdbPageNext:], pg+1)
			}
			copy(p[bdbPageHeader:], data[:n])
			data = data[n:]
		}
	}
	return file, l
}

// testRecords are three headers, large enough to need several 512-byte
// overflow pages each.
func testRecords() []Blob {
	var recs []Blob
	for i, name := range []string{"alpha", "beta", "gamma"} {
		blob := buildHeader(
			str(TagName, name),
			str(TagVersion, "1.0"),
			str(TagRelease, "1"),
			str(TagLicense, string(bytes.Repeat([]byte("MIT "), 200))),
		)
		recs = append(recs, Blob{Instance: uint32(i + 1), Data: blob})
	}
	return recs
}

func TestReadBerkeleyDBSynthetic(t *testing.T) {
	for _, tc := range []struct {
		name     string
		order    byteOrder
		pageSize int
	}{
		{"little-endian 512", binary.LittleEndian, 512},
		{"big-endian 512", binary.BigEndian, 512},
		{"little-endian 65536", binary.LittleEndian, 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := testRecords()
			file, _ := makeBDB(t, tc.order, tc.pageSize, want)
			got, err := ReadBerkeleyDB(bytes.NewReader(file), int64(len(file)))
			if err != nil {
				t.Fatalf("ReadBerkeleyDB: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadBerkeleyDB mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadBerkeleyDBCorrupt breaks a valid database in one place at a time.
func TestReadBerkeleyDBCorrupt(t *testing.T) {
	put32 := func(l bdbLayout, b []byte, off int, v uint32) { l.order.PutUint32(b[off:], v) }
	put16 := func(l bdbLayout, b []byte, off int, v uint16) { l.order.PutUint16(b[off:], v) }
	// Item 2 is the first record's key, item 3 its off-page data.
	rec0 := func(l bdbLayout) int { return l.itemOff[3] }
	for _, tc := range []struct {
		name   string
		mutate func(l bdbLayout, b []byte) []byte
		want   error
	}{
		{"shorter than a metadata page", func(l bdbLayout, b []byte) []byte { return b[:511] }, ErrCorrupt},
		{"no magic", func(l bdbLayout, b []byte) []byte { put32(l, b, bdbMetaMagic, 0x12345678); return b }, ErrUnknownFormat},
		{"btree", func(l bdbLayout, b []byte) []byte { put32(l, b, bdbMetaMagic, bdbBtreeMagic); return b }, ErrUnknownFormat},
		{"hash version 7", func(l bdbLayout, b []byte) []byte { put32(l, b, bdbMetaVersion, 7); return b }, ErrUnsupported},
		{"encrypted", func(l bdbLayout, b []byte) []byte { b[bdbMetaEncrypt] = 1; return b }, ErrUnsupported},
		{"checksummed", func(l bdbLayout, b []byte) []byte { b[bdbMetaFlags] = bdbMetaFlagCksum; return b }, ErrUnsupported},
		{"metadata page type", func(l bdbLayout, b []byte) []byte { b[bdbMetaType] = bdbPageHash; return b }, ErrCorrupt},
		{"page size not a power of 2", func(l bdbLayout, b []byte) []byte { put32(l, b, bdbMetaPageSize, 1000); return b }, ErrCorrupt},
		{"page size 256", func(l bdbLayout, b []byte) []byte { put32(l, b, bdbMetaPageSize, 256); return b }, ErrCorrupt},
		{"page size 128k", func(l bdbLayout, b []byte) []byte { put32(l, b, bdbMetaPageSize, 128<<10); return b }, ErrCorrupt},
		{"last page past the end", func(l bdbLayout, b []byte) []byte { put32(l, b, bdbMetaLastPage, 0xffffffff); return b }, ErrCorrupt},
		{"truncated", func(l bdbLayout, b []byte) []byte { return b[:len(b)-l.pageSize] }, ErrCorrupt},
		{"hash page number", func(l bdbLayout, b []byte) []byte { put32(l, b, l.pageSize+bdbPageNumber, 7); return b }, ErrCorrupt},
		{"odd item count", func(l bdbLayout, b []byte) []byte { put16(l, b, l.pageSize+bdbPageEntries, 7); return b }, ErrCorrupt},
		{"item count past page", func(l bdbLayout, b []byte) []byte { put16(l, b, l.pageSize+bdbPageEntries, 400); return b }, ErrCorrupt},
		{"item offset in the header", func(l bdbLayout, b []byte) []byte { put16(l, b, l.pageSize+bdbPageHeader+2*3, 3); return b }, ErrCorrupt},
		{"item offset past page", func(l bdbLayout, b []byte) []byte { put16(l, b, l.pageSize+bdbPageHeader, 0xffff); return b }, ErrCorrupt},
		{"duplicate item", func(l bdbLayout, b []byte) []byte { b[rec0(l)] = 2; return b }, ErrCorrupt},
		{"key of 3 bytes", func(l bdbLayout, b []byte) []byte {
			// Item 2 (a key) starts one byte later, so it is 4 bytes long.
			put16(l, b, l.pageSize+bdbPageHeader+2*2, uint16(l.itemOff[2]-l.pageSize+1))
			b[l.itemOff[2]+1] = bdbItemKeyData
			return b
		}, ErrCorrupt},
		{"overflow to page 0", func(l bdbLayout, b []byte) []byte { put32(l, b, rec0(l)+4, 0); return b }, ErrCorrupt},
		{"overflow past the end", func(l bdbLayout, b []byte) []byte { put32(l, b, rec0(l)+4, l.lastPage+1); return b }, ErrCorrupt},
		{"overflow to the hash page", func(l bdbLayout, b []byte) []byte { put32(l, b, rec0(l)+4, 1); return b }, ErrCorrupt},
		{"overflow length 0", func(l bdbLayout, b []byte) []byte { put32(l, b, rec0(l)+8, 0); return b }, ErrCorrupt},
		{"overflow length huge", func(l bdbLayout, b []byte) []byte { put32(l, b, rec0(l)+8, 0xfffffff0); return b }, ErrCorrupt},
		{"overflow length past the file", func(l bdbLayout, b []byte) []byte { put32(l, b, rec0(l)+8, 100000); return b }, ErrCorrupt},
		{"overflow longer than chain", func(l bdbLayout, b []byte) []byte { put32(l, b, rec0(l)+8, 3000); return b }, ErrCorrupt},
		{"overflow cycle", func(l bdbLayout, b []byte) []byte {
			// The last page of the first chain points back to its first.
			lastOfChain := int(l.firstOverflow[1]) - 1
			put32(l, b, lastOfChain*l.pageSize+bdbPageNext, l.firstOverflow[0])
			put32(l, b, rec0(l)+8, 3000)
			return b
		}, ErrCorrupt},
		{"shared chain", func(l bdbLayout, b []byte) []byte {
			// The second record's data points at the first one's chain.
			copy(b[l.itemOff[5]:l.itemOff[5]+bdbOffPageSize], b[rec0(l):rec0(l)+bdbOffPageSize])
			return b
		}, ErrCorrupt},
		{"overflow page type", func(l bdbLayout, b []byte) []byte { b[int(l.firstOverflow[0])*l.pageSize+bdbPageType] = 0; return b }, ErrCorrupt},
		{"overflow page number", func(l bdbLayout, b []byte) []byte {
			put32(l, b, int(l.firstOverflow[0])*l.pageSize+bdbPageNumber, 99)
			return b
		}, ErrCorrupt},
		{"overflow page holds nothing", func(l bdbLayout, b []byte) []byte {
			put16(l, b, int(l.firstOverflow[0])*l.pageSize+bdbPageHighFree, 0)
			return b
		}, ErrCorrupt},
		{"overflow page holds too much", func(l bdbLayout, b []byte) []byte {
			put16(l, b, int(l.firstOverflow[0])*l.pageSize+bdbPageHighFree, 600)
			return b
		}, ErrCorrupt},
		{"two records with one instance", func(l bdbLayout, b []byte) []byte { put32(l, b, l.itemOff[4]+1, 1); return b }, ErrCorrupt},
	} {
		for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(tc.name+"/"+order.String(), func(t *testing.T) {
				file, l := makeBDB(t, order, 512, testRecords())
				file = tc.mutate(l, file)
				blobs, err := ReadBerkeleyDB(bytes.NewReader(file), int64(len(file)))
				if !errors.Is(err, tc.want) {
					t.Errorf("ReadBerkeleyDB = %d blobs, %v; want %v", len(blobs), err, tc.want)
				}
			})
		}
	}
}

// errReaderAt fails every read.
type errReaderAt struct{ err error }

func (r errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, r.err }

func TestReadBerkeleyDBReadError(t *testing.T) {
	boom := errors.New("boom")
	if _, err := ReadBerkeleyDB(errReaderAt{boom}, 1<<20); !errors.Is(err, boom) {
		t.Errorf("ReadBerkeleyDB error = %v; want %v", err, boom)
	}
}
