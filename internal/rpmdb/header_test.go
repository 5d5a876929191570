package rpmdb

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testEntry is an entry for buildHeader. When raw is set, off and count are
// written as given and data is not stored, to make broken entries.
type testEntry struct {
	tag   Tag
	typ   uint32
	data  []byte
	count uint32
	raw   bool
	off   uint32
}

func str(tag Tag, s string) testEntry {
	return testEntry{tag: tag, typ: typeString, data: append([]byte(s), 0), count: 1}
}

func i32(tag Tag, v uint32) testEntry {
	return testEntry{tag: tag, typ: typeInt32, data: binary.BigEndian.AppendUint32(nil, v), count: 1}
}

// buildHeader writes a header blob: the data of each entry aligned for its
// type, in order, after the index.
func buildHeader(entries ...testEntry) []byte {
	var data []byte
	index := make([]byte, 0, 16*len(entries))
	for _, e := range entries {
		off := e.off
		if !e.raw {
			if e.typ < uint32(len(typeSize)) && typeSize[e.typ] > 1 {
				size := typeSize[e.typ]
				for uint64(len(data))%size != 0 {
					data = append(data, 0)
				}
			}
			off = uint32(len(data))
			data = append(data, e.data...)
		}
		index = binary.BigEndian.AppendUint32(index, uint32(e.tag))
		index = binary.BigEndian.AppendUint32(index, e.typ)
		index = binary.BigEndian.AppendUint32(index, off)
		index = binary.BigEndian.AppendUint32(index, e.count)
	}
	blob := binary.BigEndian.AppendUint32(nil, uint32(len(entries)))
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(data)))
	blob = append(blob, index...)
	return append(blob, data...)
}

// goodHeader is a small valid package header.
func goodHeader() []byte {
	return buildHeader(
		testEntry{tag: 63, typ: typeBin, data: make([]byte, 16), count: 16}, // region
		str(TagName, "bash"),
		str(TagVersion, "5.1.8"),
		str(TagRelease, "6.el9"),
		i32(TagEpoch, 2),
		str(TagArch, "x86_64"),
		str(TagSourceRPM, "bash-5.1.8-6.el9.src.rpm"),
		testEntry{tag: TagLicense, typ: typeI18NString, data: []byte("GPLv3+\x00GPLv3+ (de)\x00"), count: 2},
		str(TagVendor, "Red Hat, Inc."),
		str(TagModularityLabel, "bash:5:1:abc"),
	)
}

func TestParsePackage(t *testing.T) {
	got, err := ParsePackage(Blob{Instance: 9, Data: goodHeader()})
	if err != nil {
		t.Fatalf("ParsePackage: %v", err)
	}
	want := Package{
		Instance: 9, Name: "bash", Version: "5.1.8", Release: "6.el9", Epoch: 2, HasEpoch: true,
		Arch: "x86_64", SourceRPM: "bash-5.1.8-6.el9.src.rpm", License: "GPLv3+",
		Vendor: "Red Hat, Inc.", ModularityLabel: "bash:5:1:abc",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParsePackage mismatch (-want +got):\n%s", diff)
	}
}

func TestParsePackageLastEntryWins(t *testing.T) {
	blob := buildHeader(str(TagName, "old"), str(TagVersion, "1"), str(TagRelease, "1"), str(TagName, "new"))
	p, err := ParsePackage(Blob{Data: blob})
	if err != nil || p.Name != "new" {
		t.Errorf("ParsePackage = %+v, %v; want name %q", p, err, "new")
	}
}

// TestParseHeaderCorrupt feeds broken and truncated blobs to ParseHeader.
func TestParseHeaderCorrupt(t *testing.T) {
	good := goodHeader()
	be := binary.BigEndian
	withPreamble := func(il, dl uint32, rest []byte) []byte {
		b := be.AppendUint32(nil, il)
		return append(be.AppendUint32(b, dl), rest...)
	}
	for _, tc := range []struct {
		name string
		blob []byte
	}{
		{"empty", nil},
		{"short preamble", good[:7]},
		{"preamble only", good[:8]},
		{"truncated index", good[:8+16*3]},
		{"truncated data", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"no entries", withPreamble(0, 0, nil)},
		{"too many entries", withPreamble(0x10000, 0, make([]byte, 16))},
		{"entry count overflows size", withPreamble(0xffffffff, 0xffffffff, nil)},
		{"data too large", withPreamble(1, 0x10000000, make([]byte, 16))},
		{"type 0", buildHeader(testEntry{tag: TagName, typ: typeNull, data: []byte{0}, count: 1})},
		{"type 10", buildHeader(testEntry{tag: TagName, typ: 10, data: []byte("x\x00"), count: 1})},
		{"huge type", buildHeader(testEntry{tag: TagName, typ: 0xffffffff, data: []byte("x\x00"), count: 1})},
		{"count 0", buildHeader(testEntry{tag: TagName, typ: typeString, data: []byte("x\x00"), count: 0})},
		{"offset past data", buildHeader(str(TagVersion, "1"), testEntry{tag: TagName, typ: typeString, raw: true, off: 2, count: 1})},
		{"offset far past data", buildHeader(str(TagVersion, "1"), testEntry{tag: TagName, typ: typeString, raw: true, off: 0xfffffff0, count: 1})},
		{"misaligned int32", buildHeader(str(TagVersion, "1234567"), testEntry{tag: TagEpoch, typ: typeInt32, raw: true, off: 1, count: 1})},
		{"int32 past data", buildHeader(testEntry{tag: TagEpoch, typ: typeInt32, data: make([]byte, 4), count: 2})},
		{"int64 count overflow", buildHeader(testEntry{tag: 5000, typ: typeInt64, data: make([]byte, 8), count: 0xfffff})},
		{"bin past data", buildHeader(testEntry{tag: 5000, typ: typeBin, data: make([]byte, 4), count: 0xffffffff})},
		{"array count over limit", buildHeader(testEntry{tag: 5000, typ: typeStringArray, data: make([]byte, 4), count: 0x100000})},
		{"string count 2", buildHeader(testEntry{tag: TagName, typ: typeString, data: []byte("a\x00b\x00"), count: 2})},
		{"more strings than bytes", buildHeader(testEntry{tag: 5000, typ: typeStringArray, data: []byte("a\x00"), count: 3})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHeader(tc.blob)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("ParseHeader(%x) = %v, %v; want ErrCorrupt", tc.blob, h, err)
			}
		})
	}
}

// TestParsePackageErrors covers blobs that parse as headers but are not
// valid packages.
func TestParsePackageErrors(t *testing.T) {
	nvr := []testEntry{str(TagName, "a"), str(TagVersion, "1"), str(TagRelease, "1")}
	with := func(extra ...testEntry) []byte {
		return buildHeader(append(append([]testEntry(nil), nvr...), extra...)...)
	}
	for _, tc := range []struct {
		name string
		blob []byte
		want error
	}{
		{"no name", buildHeader(str(TagVersion, "1"), str(TagRelease, "1")), ErrNoTag},
		{"no version", buildHeader(str(TagName, "a"), str(TagRelease, "1")), ErrNoTag},
		{"no release", buildHeader(str(TagName, "a"), str(TagVersion, "1")), ErrNoTag},
		{"empty name", buildHeader(str(TagName, ""), str(TagVersion, "1"), str(TagRelease, "1")), ErrCorrupt},
		{"name is int32", buildHeader(i32(TagName, 1), str(TagVersion, "1"), str(TagRelease, "1")), ErrCorrupt},
		{"epoch is string", with(str(TagEpoch, "1")), ErrCorrupt},
		{"arch is bin", with(testEntry{tag: TagArch, typ: typeBin, data: []byte("x86"), count: 3}), ErrCorrupt},
		{"unterminated string", with(testEntry{tag: TagVendor, typ: typeString, data: []byte("abc"), count: 1}), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePackage(Blob{Data: tc.blob})
			if !errors.Is(err, tc.want) {
				t.Errorf("ParsePackage = %+v, %v; want %v", p, err, tc.want)
			}
		})
	}
}

func TestPackagesKeepsGoodOnes(t *testing.T) {
	blobs := []Blob{
		{Instance: 1, Data: goodHeader()},
		{Instance: 2, Data: []byte("junk")},
		{Instance: 3, Data: goodHeader()},
	}
	pkgs, err := Packages(blobs)
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Packages error = %v; want ErrCorrupt", err)
	}
	var got []uint32
	for _, p := range pkgs {
		got = append(got, p.Instance)
	}
	if diff := cmp.Diff([]uint32{1, 3}, got); diff != "" {
		t.Errorf("Packages instances mismatch (-want +got):\n%s", diff)
	}
}
