package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"testing"

	"github.com/kubeshield/kubeshield/internal/osv"
)

// FuzzWalkZip feeds arbitrary bytes to the zip walker as an archive: it
// must never panic, hand out only local entry names and bounded data, and
// fail with an error rather than read past its limits.
func FuzzWalkZip(f *testing.F) {
	f.Add(makeZip(f, zipEntry{"GO-1.json", record("GO-1", "Go", "x", "2024-01-01T00:00:00Z")}, zipEntry{"d/", nil}, zipEntry{"x.txt", []byte("x")}))
	f.Add(makeZip(f, zipEntry{"../up.json", []byte(`{}`)}))
	f.Add(makeZip(f))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "stored.json", Method: zip.Store})
	w.Write([]byte(`{"id":"S-1"}`))
	zw.Close()
	f.Add(buf.Bytes())
	limits := Limits{MaxEntries: 50, MaxTotalBytes: 1 << 20, MaxSkipped: 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		var total int
		walkZip(context.Background(), bytes.NewReader(data), int64(len(data)), limits, func(entry string, body []byte) error {
			if !localName(entry) {
				t.Fatalf("walker handed out entry %q", entry)
			}
			if len(body) > osv.MaxSize {
				t.Fatalf("entry %q of %d bytes", entry, len(body))
			}
			if total += len(body); int64(total) > limits.MaxTotalBytes {
				t.Fatalf("read %d bytes, over the limit", total)
			}
			osv.Parse(body)
			return nil
		})
	})
}

// FuzzDownloadHeaders feeds arbitrary Content-Range and x-goog-hash values
// to their parsers: they must never panic, and what they accept must be a
// range running to the end of the file and checksums of the right sizes.
func FuzzDownloadHeaders(f *testing.F) {
	f.Add("bytes 100-199/200", "crc32c=n03x6A==,md5=Ojk9c3dhfxgoKVVHYwFbHQ==")
	f.Add("bytes 5-9/*", "md5=not-base64")
	f.Add("bytes -1-5/6", "sha256=x, crc32c=AAAAAA==")
	f.Fuzz(func(t *testing.T, contentRange, googHeader string) {
		if start, size, err := parseContentRange(contentRange); err == nil && (start < 0 || size < -1 || (size >= 0 && start >= size)) {
			t.Fatalf("parseContentRange(%q) = %d, %d; want 0 <= start < size", contentRange, start, size)
		}
		md5sum, crc, err := googHash([]string{googHeader})
		if err != nil {
			return
		}
		for _, c := range []struct {
			val  string
			size int
		}{{md5sum, 16}, {crc, 4}} {
			if b, err := base64.StdEncoding.DecodeString(c.val); c.val != "" && (err != nil || len(b) != c.size) {
				t.Fatalf("googHash(%q) accepted %q", googHeader, c.val)
			}
		}
	})
}
