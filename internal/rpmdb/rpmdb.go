package rpmdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
)

// ErrUnknownFormat means that a file is none of the database formats of
// rpm.
var ErrUnknownFormat = errors.New("not an rpm database")

// Format is a storage format of the rpm database.
type Format int

// The formats, named as rpm's %_db_backend names them.
const (
	// BerkeleyDB is a Berkeley DB hash database, the Packages file.
	BerkeleyDB Format = iota + 1
	// NDB is rpm's own format, the Packages.db file.
	NDB
	// SQLite is an SQLite database, the rpmdb.sqlite file.
	SQLite
)

// String returns rpm's name of the backend: "bdb", "ndb" or "sqlite".
func (f Format) String() string {
	switch f {
	case BerkeleyDB:
		return "bdb"
	case NDB:
		return "ndb"
	case SQLite:
		return "sqlite"
	}
	return "format " + strconv.Itoa(int(f))
}

// sqliteMagic starts every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Detect returns the format of the database in r, which holds size bytes,
// from its first bytes. It returns an error wrapping ErrUnknownFormat when
// they match no format, and the read error when r cannot be read.
func Detect(r io.ReaderAt, size int64) (Format, error) {
	var buf [16]byte
	n := int64(len(buf))
	if size < n {
		n = size
	}
	if m, err := r.ReadAt(buf[:n], 0); int64(m) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, fmt.Errorf("read the first %d bytes: %w", n, err)
	}
	switch {
	case n >= int64(len(sqliteMagic)) && bytes.Equal(buf[:len(sqliteMagic)], sqliteMagic):
		return SQLite, nil
	case n >= 4 && string(buf[:4]) == ndbMagic:
		return NDB, nil
	case n >= 16 && isBDBMagic(buf[12:16]):
		return BerkeleyDB, nil
	}
	return 0, fmt.Errorf("%d-byte file: %w", size, ErrUnknownFormat)
}

// Blob is one header blob as a database stores it.
type Blob struct {
	// Instance is the header instance number: the key of the Berkeley DB
	// record, the package index of NDB, the hnum column of SQLite.
	Instance uint32
	// Data is the header blob, for [ParseHeader].
	Data []byte
}

// ReadFile reads the header blobs of the database in the file at path,
// detecting its format. It returns the blobs sorted by instance, the format,
// and the errors of [Detect] and of the format's reader.
func ReadFile(ctx context.Context, path string) ([]Blob, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("stat %s: %w", path, err)
	}
	format, err := Detect(f, info.Size())
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	var blobs []Blob
	switch format {
	case BerkeleyDB:
		blobs, err = ReadBerkeleyDB(f, info.Size())
	case NDB:
		blobs, err = ReadNDB(f, info.Size())
	case SQLite:
		blobs, err = ReadSQLite(ctx, path)
	}
	if err != nil {
		return nil, format, fmt.Errorf("%s: %w", path, err)
	}
	return blobs, format, nil
}

// Package is what this package reads of an installed package's header.
type Package struct {
	// Instance is the header instance number in the database.
	Instance uint32
	// Name, Version and Release are the NAME, VERSION and RELEASE tags.
	Name    string
	Version string
	Release string
	// Epoch is the EPOCH tag, when HasEpoch is true.
	Epoch    uint32
	HasEpoch bool
	// Arch is the ARCH tag; gpg-pubkey pseudo packages have none.
	Arch string
	// SourceRPM is the SOURCERPM tag, the file name of the source package
	// ("bash-5.1.8-6.el9.src.rpm"); empty for source-less packages such as
	// gpg-pubkey.
	SourceRPM string
	// License, Vendor and ModularityLabel are the LICENSE, VENDOR and
	// MODULARITYLABEL tags, empty when absent.
	License         string
	Vendor          string
	ModularityLabel string
}

// EVR returns the package's "[EPOCH:]VERSION-RELEASE", with the epoch only
// when the header has one.
func (p Package) EVR() string {
	vr := p.Version + "-" + p.Release
	if p.HasEpoch {
		return strconv.FormatUint(uint64(p.Epoch), 10) + ":" + vr
	}
	return vr
}

// ParsePackage parses the header blob b and reads its package. NAME, VERSION
// and RELEASE must be present; the other tags are optional. It returns the
// errors of [ParseHeader], and errors wrapping ErrNoTag for a missing
// required tag or ErrCorrupt for a tag of the wrong type.
func ParsePackage(b Blob) (Package, error) {
	h, err := ParseHeader(b.Data)
	if err != nil {
		return Package{}, err
	}
	p := Package{Instance: b.Instance}
	for _, f := range []struct {
		tag      Tag
		dst      *string
		required bool
	}{
		{TagName, &p.Name, true},
		{TagVersion, &p.Version, true},
		{TagRelease, &p.Release, true},
		{TagArch, &p.Arch, false},
		{TagSourceRPM, &p.SourceRPM, false},
		{TagLicense, &p.License, false},
		{TagVendor, &p.Vendor, false},
		{TagModularityLabel, &p.ModularityLabel, false},
	} {
		v, err := h.String(f.tag)
		if errors.Is(err, ErrNoTag) && !f.required {
			continue
		}
		if err != nil {
			return Package{}, err
		}
		*f.dst = v
	}
	if p.Name == "" {
		return Package{}, fmt.Errorf("%v is empty: %w", TagName, ErrCorrupt)
	}
	epoch, err := h.Uint32(TagEpoch)
	switch {
	case err == nil:
		p.Epoch, p.HasEpoch = epoch, true
	case !errors.Is(err, ErrNoTag):
		return Package{}, err
	}
	return p, nil
}

// Packages parses every blob with [ParsePackage]. It returns the packages of
// the blobs that parse, in the order of the blobs, and an error joining one
// error per blob that does not, each naming the blob's instance.
func Packages(blobs []Blob) ([]Package, error) {
	pkgs := make([]Package, 0, len(blobs))
	var errs []error
	for _, b := range blobs {
		p, err := ParsePackage(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("header instance %d: %w", b.Instance, err))
			continue
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, errors.Join(errs...)
}

// sortBlobs orders blobs by instance and reports a duplicate instance, which
// none of the formats allows.
func sortBlobs(blobs []Blob) error {
	slices.SortFunc(blobs, func(a, b Blob) int {
		switch {
		case a.Instance < b.Instance:
			return -1
		case a.Instance > b.Instance:
			return 1
		}
		return 0
	})
	for i := 1; i < len(blobs); i++ {
		if blobs[i].Instance == blobs[i-1].Instance {
			return fmt.Errorf("two headers with instance %d: %w", blobs[i].Instance, ErrCorrupt)
		}
	}
	return nil
}
