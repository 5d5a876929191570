package vulndb

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Download tuning.
const (
	// maxAttempts bounds the attempts at one file within an Update. An
	// attempt is repeated at once only when it was cut off after writing
	// part of the file, or when the partial download turned out useless;
	// any other failure waits for the next Update.
	maxAttempts = 5
	// stallTimeout cancels a request that receives no data for this long.
	stallTimeout = 2 * time.Minute
	// copyBuffer is the size of the buffer a download is copied through.
	copyBuffer = 256 << 10
)

var (
	// errStalled is the cause of a request the watchdog cancelled.
	errStalled = errors.New("no data received")
	// errInterrupted marks a download cut off after it wrote part of the
	// file: worth resuming at once.
	errInterrupted = errors.New("download interrupted")
)

// cacheMeta describes a file in the download cache: where it came from,
// the validators that conditional and range requests send back, and the
// checksums the server sent. It is kept as JSON beside the file
// ("Go.zip.json", "Go.zip.part.json").
type cacheMeta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"` // the header, sent back verbatim
	Size         int64  `json:"size"`                   // the whole file's; -1 if unknown
	MD5          string `json:"md5,omitempty"`          // base64, from x-goog-hash
	CRC32C       string `json:"crc32c,omitempty"`       // base64 of the big-endian value
}

// cacheFiles are the cached files of one ecosystem: the last complete
// download and the download in progress.
type cacheFiles struct {
	zip, part string
}

func (u *updater) files(eco string) cacheFiles {
	z := filepath.Join(u.cache, eco+".zip")
	return cacheFiles{zip: z, part: z + ".part"}
}

// metaPath is where the cacheMeta of the cached file p is kept.
func metaPath(p string) string { return p + ".json" }

// download brings the cached copy of src up to date, repeating attempts
// that were cut off after making progress.
func (u *updater) download(ctx context.Context, eco, src string) (fetched, error) {
	c := u.files(eco)
	var total int64
	for attempt := 1; ; attempt++ {
		f, n, err := u.attempt(ctx, c, src)
		total += n
		if err == nil {
			f.eco, f.bytes = eco, total
			return f, nil
		}
		if !errors.Is(err, errInterrupted) || attempt == maxAttempts || ctx.Err() != nil {
			return fetched{}, err
		}
	}
}

// attempt makes one request for src: conditional when a complete copy is
// cached, for the rest of the file when part of it is. It returns the
// bytes it wrote to the cache along with the result.
func (u *updater) attempt(ctx context.Context, c cacheFiles, src string) (fetched, int64, error) {
	cached, haveCached := readCached(c.zip, src)
	part, offset, ifRange := u.readPart(c.part, src)

	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, src, nil)
	if err != nil {
		return fetched{}, 0, err
	}
	// Offsets and checksums are those of the stored file: no transparent
	// decompression.
	req.Header.Set("Accept-Encoding", "identity")
	if haveCached {
		if cached.ETag != "" {
			req.Header.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			req.Header.Set("If-Modified-Since", cached.LastModified)
		}
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		req.Header.Set("If-Range", ifRange)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		var ue *url.Error // names the URL, which FetchError names already
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fetched{}, 0, cause(ctx, rctx, err)
	}
	defer resp.Body.Close()
	if resp.Request.URL.Scheme != "https" {
		return fetched{}, 0, fmt.Errorf("redirected to %s: only https is accepted", resp.Request.URL.Redacted())
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return fetched{}, 0, fmt.Errorf("response has Content-Encoding %q; want the file as stored", enc)
	}

	how := FetchDownloaded
	switch resp.StatusCode {
	case http.StatusNotModified:
		if !haveCached {
			return fetched{}, 0, errors.New("HTTP 304 to an unconditional request")
		}
		removeWithMeta(c.part) // of another version, or useless now
		return fetched{path: c.zip, url: src, etag: cached.ETag, modified: httpTime(cached.LastModified), how: FetchNotModified}, 0, nil
	case http.StatusOK:
		offset = 0
		if part, err = newMeta(resp, src); err != nil {
			return fetched{}, 0, err
		}
		part.Size = resp.ContentLength
	case http.StatusPartialContent:
		how = FetchResumed
		start, size, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err == nil && (offset == 0 || start != offset) {
			err = fmt.Errorf("response range %q does not continue the %d bytes downloaded", resp.Header.Get("Content-Range"), offset)
		}
		if etag := resp.Header.Get("ETag"); err == nil && etag != "" && part.ETag != "" && etag != part.ETag {
			err = fmt.Errorf("range response has ETag %s; the partial download is of %s", etag, part.ETag)
		}
		var sent cacheMeta
		if err == nil {
			sent, err = newMeta(resp, src)
		}
		if err != nil { // start over at once
			removeWithMeta(c.part)
			return fetched{}, 0, fmt.Errorf("%w: %w", errInterrupted, err)
		}
		if sent.MD5 != "" || sent.CRC32C != "" { // x-goog-hash describes the whole object
			part.MD5, part.CRC32C = sent.MD5, sent.CRC32C
		}
		part.Size = size
	case http.StatusRequestedRangeNotSatisfiable: // start over at once
		removeWithMeta(c.part)
		return fetched{}, 0, fmt.Errorf("%w: %s to a range request", errInterrupted, resp.Status)
	case http.StatusNotFound, http.StatusGone:
		return fetched{}, 0, ErrNoExport
	default:
		return fetched{}, 0, fmt.Errorf("unexpected response %s", resp.Status)
	}
	if part.Size > u.maxSize {
		removeWithMeta(c.part)
		return fetched{}, 0, fmt.Errorf("%w: file of %d bytes (at most %d)", ErrLimit, part.Size, u.maxSize)
	}
	if err := writeMeta(metaPath(c.part), part); err != nil {
		return fetched{}, 0, err
	}

	n, err := u.receive(ctx, rctx, c.part, offset, resp.Body, watchdog)
	if err != nil {
		return fetched{}, n, err
	}
	if err := verify(c.part, part); err != nil {
		removeWithMeta(c.part)
		return fetched{}, n, err
	}
	if err := installDownload(c, part); err != nil {
		return fetched{}, n, err
	}
	return fetched{path: c.zip, url: src, etag: part.ETag, modified: httpTime(part.LastModified), how: how}, n, nil
}

// receive writes body to the file at p from offset on, and returns the
// bytes written. A read that fails after some bytes were written is
// errInterrupted; a file that grows past the size limit is removed.
func (u *updater) receive(ctx, rctx context.Context, p string, offset int64, body io.Reader, watchdog *time.Timer) (int64, error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := f.Truncate(offset); err != nil {
		return 0, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	r := &stallReader{r: body, watchdog: watchdog}
	limit := u.maxSize - offset
	n, err := io.CopyBuffer(f, io.LimitReader(r, limit+1), make([]byte, copyBuffer))
	switch {
	case err != nil && r.err != nil && ctx.Err() == nil && n > 0:
		return n, fmt.Errorf("%w after %d bytes: %w", errInterrupted, offset+n, cause(ctx, rctx, err))
	case err != nil:
		return n, cause(ctx, rctx, err)
	case n > limit:
		f.Close()
		removeWithMeta(p)
		return n, fmt.Errorf("%w: file of more than %d bytes", ErrLimit, u.maxSize)
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	return n, f.Close()
}

// stallReader restarts the watchdog whenever data arrives, and keeps the
// read error.
type stallReader struct {
	r        io.Reader
	watchdog *time.Timer
	err      error
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.watchdog.Reset(stallTimeout)
	}
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// cause returns ctx's error once ctx ended, the watchdog's when it cut the
// request off, and err otherwise.
func cause(ctx, rctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(context.Cause(rctx), errStalled) {
		return fmt.Errorf("%w for %s", errStalled, stallTimeout)
	}
	return err
}

// readCached returns the meta of the complete copy of src in the cache,
// if the copy is a readable zip and has a validator for a conditional
// request. A damaged copy is removed.
func readCached(zip, src string) (cacheMeta, bool) {
	m, err := readMeta(metaPath(zip))
	if err != nil || m.URL != src || (m.ETag == "" && m.LastModified == "") {
		return cacheMeta{}, false
	}
	if checkZip(zip) != nil {
		removeWithMeta(zip)
		return cacheMeta{}, false
	}
	return m, true
}

// readPart returns the meta of the partial download of src, its size and
// the If-Range validator (a strong ETag, else the Last-Modified date), or
// a zero size when there is nothing to resume (then it removes whatever is
// there).
func (u *updater) readPart(part, src string) (cacheMeta, int64, string) {
	fi, err := os.Stat(part)
	m, merr := readMeta(metaPath(part))
	ifRange := m.ETag
	if ifRange == "" || strings.HasPrefix(ifRange, "W/") {
		ifRange = m.LastModified
	}
	if err != nil || merr != nil || m.URL != src || ifRange == "" ||
		fi.Size() == 0 || fi.Size() > u.maxSize || (m.Size >= 0 && fi.Size() >= m.Size) {
		removeWithMeta(part)
		return cacheMeta{}, 0, ""
	}
	return m, fi.Size(), ifRange
}

// newMeta reads the validators and checksums of a response.
func newMeta(resp *http.Response, src string) (cacheMeta, error) {
	m := cacheMeta{URL: src, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Size: -1}
	var err error
	m.MD5, m.CRC32C, err = googHash(resp.Header.Values("X-Goog-Hash"))
	return m, err
}

// googHash returns the md5 and crc32c (base64) of x-goog-hash headers
// ("crc32c=n03x6A==, md5=Ojk9c3dhfxgoKVVHYwFbHQ=="), ignoring other
// algorithms. A malformed value wraps ErrIntegrity.
func googHash(values []string) (md5sum, crc32c string, err error) {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			alg, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			want := 0
			switch strings.ToLower(alg) {
			case "md5":
				want, md5sum = md5.Size, val
			case "crc32c":
				want, crc32c = crc32.Size, val
			default:
				continue
			}
			if b, err := base64.StdEncoding.DecodeString(val); err != nil || len(b) != want {
				return "", "", fmt.Errorf("%w: malformed x-goog-hash %q", ErrIntegrity, item)
			}
		}
	}
	return md5sum, crc32c, nil
}

// verify checks that the file at p is a readable zip archive of the size
// and checksums m holds. Errors wrap ErrIntegrity.
func verify(p string, m cacheMeta) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if m.Size >= 0 && fi.Size() != m.Size {
		return fmt.Errorf("%w: %d bytes; the server announced %d", ErrIntegrity, fi.Size(), m.Size)
	}
	if err := checkZip(p); err != nil {
		return err
	}
	if m.MD5 == "" && m.CRC32C == "" {
		return nil
	}
	// md5 detects damage here, as the server's checksum of what it stores;
	// it is not a signature.
	md := md5.New()
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if _, err := io.Copy(io.MultiWriter(md, crc), f); err != nil {
		return err
	}
	for _, c := range []struct{ alg, want, got string }{
		{"md5", m.MD5, base64.StdEncoding.EncodeToString(md.Sum(nil))},
		{"crc32c", m.CRC32C, base64.StdEncoding.EncodeToString(crc.Sum(nil))},
	} {
		if c.want != "" && c.want != c.got {
			return fmt.Errorf("%w: %s is %s; the server sent %s", ErrIntegrity, c.alg, c.got, c.want)
		}
	}
	return nil
}

// installDownload makes a verified partial download the cached copy. The old
// copy's meta goes first, so that a crash in between leaves a copy without
// meta (downloaded again) and never a meta describing another file.
func installDownload(c cacheFiles, m cacheMeta) error {
	if err := os.Remove(metaPath(c.zip)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(c.part, c.zip); err != nil {
		return err
	}
	if err := writeMeta(metaPath(c.zip), m); err != nil {
		return err
	}
	os.Remove(metaPath(c.part))
	return nil
}

// parseContentRange parses "bytes START-END/SIZE" (SIZE may be "*": -1),
// which must run to the end of the file.
func parseContentRange(s string) (start, size int64, err error) {
	bad := fmt.Errorf("malformed Content-Range %q", s)
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, bad
	}
	span, total, ok := strings.Cut(rest, "/")
	first, last, ok2 := strings.Cut(span, "-")
	if !ok || !ok2 {
		return 0, 0, bad
	}
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	size = -1
	var err3 error
	if total != "*" {
		size, err3 = strconv.ParseInt(total, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || start < 0 || end < start {
		return 0, 0, bad
	}
	if size >= 0 && end != size-1 {
		return 0, 0, fmt.Errorf("response range %q stops before the end of the file", s)
	}
	return start, size, nil
}

func readMeta(p string) (cacheMeta, error) {
	var m cacheMeta
	b, err := os.ReadFile(p)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	return m, err
}

// writeMeta writes m to p through a temporary file and a rename.
func writeMeta(p string, m cacheMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// removeWithMeta removes a cached file and its meta, if they exist.
func removeWithMeta(p string) {
	os.Remove(p)
	os.Remove(metaPath(p))
}

// httpTime parses an HTTP date, or returns the zero time.
func httpTime(s string) time.Time {
	t, err := http.ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
