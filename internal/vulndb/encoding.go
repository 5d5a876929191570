package vulndb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// SchemaVersion is the version of the file layout this package writes and
// reads. Open refuses files of another version.
const SchemaVersion = 1

// Bucket and meta key names.
var (
	bucketRecords = []byte("records")
	bucketIndex   = []byte("index")
	bucketMeta    = []byte("meta")
	metaSchema    = []byte("schema")
	metaStatus    = []byte("status")
)

// Record value formats (the first byte of a value in bucketRecords).
const (
	formatJSON byte = 0
	formatZstd byte = 1
)

// valueHeader is the size of a record value's header: format byte and
// modified time.
const valueHeader = 1 + 8 + 4

// recordValue builds the value stored for a record: header, then payload.
func recordValue(dst []byte, format byte, modified time.Time, payload []byte) []byte {
	dst = append(dst[:0], format)
	dst = binary.BigEndian.AppendUint64(dst, uint64(modified.Unix()))
	dst = binary.BigEndian.AppendUint32(dst, uint32(modified.Nanosecond()))
	return append(dst, payload...)
}

// splitValue returns the parts of a stored record value.
func splitValue(v []byte) (format byte, modified time.Time, payload []byte, err error) {
	if len(v) < valueHeader {
		return 0, time.Time{}, nil, fmt.Errorf("%w: record value of %d bytes", ErrCorrupt, len(v))
	}
	sec := int64(binary.BigEndian.Uint64(v[1:9]))
	nsec := int64(binary.BigEndian.Uint32(v[9:13]))
	return v[0], time.Unix(sec, nsec).UTC(), v[valueHeader:], nil
}

// indexPrefix is the start of the index keys of one package in one release
// ("" for entries without a release).
func indexPrefix(base, name, release string) []byte {
	k := make([]byte, 0, len(base)+len(name)+len(release)+3)
	k = append(k, base...)
	k = append(k, 0)
	k = append(k, name...)
	k = append(k, 0)
	k = append(k, release...)
	return append(k, 0)
}

// indexKeys returns the sorted, distinct index keys of a record.
func indexKeys(r *osv.Record) [][]byte {
	var keys [][]byte
	for _, a := range r.Affected {
		p := a.Package
		if p.Ecosystem == "" || p.Name == "" {
			continue
		}
		base, release := osv.SplitEcosystem(p.Ecosystem)
		keys = append(keys, append(indexPrefix(base, osv.NormalizeName(p.Ecosystem, p.Name), release), r.ID...))
	}
	slices.SortFunc(keys, bytes.Compare)
	return slices.CompactFunc(keys, bytes.Equal)
}
