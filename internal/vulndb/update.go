package vulndb

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// DefaultBaseURL is where Update downloads the OSV exports unless told
// otherwise: OSV's public bucket, which holds BASE/<ecosystem>/all.zip.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// DefaultMaxDownload is the largest all.zip Update downloads (2 GiB).
const DefaultMaxDownload = 2 << 30

// parallelFetches is how many ecosystems Update fetches at once.
const parallelFetches = 4

// DefaultEcosystems returns the ecosystems Update fetches when
// UpdateOptions.Ecosystems is empty: the distributions and language
// ecosystems whose packages Kubeshield's catalogers find.
func DefaultEcosystems() []string {
	return []string{
		"Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux",
		"Go", "npm", "PyPI", "Maven", "RubyGems", "crates.io", "Packagist", "NuGet",
	}
}

// UpdateOptions configure Update. The zero value uses the defaults.
type UpdateOptions struct {
	// BaseURL is where the exports are: an https URL (DefaultBaseURL when
	// empty), a file URL or a directory. Each ecosystem's export is
	// BaseURL/<ecosystem>/all.zip, the name path-escaped in URLs
	// ("Rocky%20Linux"). Plain http is refused: use https or a local copy.
	BaseURL string
	// Ecosystems are the ecosystems to fetch, by their OSV names
	// ("Debian", "crates.io"); empty means DefaultEcosystems. Every one must
	// exist at BaseURL.
	Ecosystems []string
	// CacheDir keeps the downloaded files between updates, with what
	// conditional and range requests need; empty means path + ".d". It is
	// not used for a local mirror.
	CacheDir string
	// HTTPClient makes the requests; nil means a client that takes the
	// proxy from the environment and bounds connecting, the TLS handshake
	// and the wait for response headers.
	HTTPClient *http.Client
	// MaxDownload bounds each all.zip in bytes; zero means
	// DefaultMaxDownload.
	MaxDownload int64
	// Limits bound each import, as for Build.
	Limits Limits
}

// Update fetches the OSV export of each ecosystem and rebuilds the
// database at path from them with Build, and returns its Status, whose
// sources say how each file was obtained (Fetch, URL, Downloaded) and carry
// its ETag and modified time.
//
// Over https it sends conditional requests (If-None-Match,
// If-Modified-Since) for the files it has in the cache and reuses them on
// 304; it downloads to CacheDir/<ecosystem>.zip.part and resumes an
// interrupted download with a range request (Range, If-Range), at once
// while each attempt makes progress (up to five attempts) and on the next
// Update otherwise; it checks that the file is a readable zip archive and,
// when the server sends an x-goog-hash header, that its md5 and crc32c
// match. A file that fails the checks is deleted. From a local mirror it
// reads DIR/<ecosystem>/all.zip in place.
//
// The database is rebuilt only when every ecosystem was obtained, and
// replaced only when the build succeeds: on any error the file at path is
// left as it was. The error wraps ErrInvalidBaseURL or ErrEcosystem for bad
// options, ErrBusy when another update holds the cache, one *FetchError
// per ecosystem that could not be fetched (wrapping ErrNoExport,
// ErrIntegrity, ErrLimit or the transport error), ctx's error, or Build's
// error.
func Update(ctx context.Context, path string, opts UpdateOptions) (Status, error) {
	st, err := update(ctx, path, opts)
	if err != nil {
		return Status{}, fmt.Errorf("update vulnerability database %s: %w", path, err)
	}
	return st, nil
}

func update(ctx context.Context, path string, opts UpdateOptions) (Status, error) {
	ecos, err := ecosystems(opts.Ecosystems)
	if err != nil {
		return Status{}, err
	}
	u, err := newUpdater(path, opts)
	if err != nil {
		return Status{}, err
	}
	if u.base != nil {
		if err := os.MkdirAll(u.cache, 0o755); err != nil {
			return Status{}, fmt.Errorf("download cache: %w", err)
		}
		unlock, err := lockCache(u.cache)
		if err != nil {
			return Status{}, err
		}
		defer unlock() // after the build, which reads the cached files
	}
	got := make([]fetched, len(ecos))
	errs := make([]error, len(ecos))
	var g errgroup.Group
	g.SetLimit(parallelFetches)
	for i, eco := range ecos {
		g.Go(func() error { // fetches one ecosystem; ends when it is fetched or failed
			got[i], errs[i] = u.fetch(ctx, eco)
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	if err := errors.Join(errs...); err != nil {
		return Status{}, err
	}
	return Build(ctx, path, &BuildOptions{Limits: opts.Limits}, func(w *Writer) error {
		for _, f := range got {
			if err := w.importFetched(ctx, f); err != nil {
				return err
			}
		}
		return nil
	})
}

// ecosystems returns the ecosystems to fetch: list without repeats, or the
// defaults. It fails with ErrEcosystem on a name that cannot be a path
// element.
func ecosystems(list []string) ([]string, error) {
	if len(list) == 0 {
		return DefaultEcosystems(), nil
	}
	var out []string
	for _, e := range list {
		if e == "" || e == "." || e == ".." || strings.ContainsAny(e, `/\`) || strings.ContainsFunc(e, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, fmt.Errorf("%w: %q", ErrEcosystem, e)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// updater fetches the exports of one Update.
type updater struct {
	base    *url.URL // the https base; nil for a local mirror
	local   string   // the local mirror's directory
	cache   string
	client  *http.Client
	maxSize int64
}

func newUpdater(path string, opts UpdateOptions) (*updater, error) {
	u := &updater{cache: opts.CacheDir, client: opts.HTTPClient, maxSize: opts.MaxDownload}
	if u.cache == "" {
		u.cache = path + ".d"
	}
	if u.client == nil {
		u.client = defaultClient()
	}
	if u.maxSize <= 0 {
		u.maxSize = DefaultMaxDownload
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	var err error
	u.base, u.local, err = parseBase(base)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// parseBase splits a base URL into an https URL or a local directory,
// which must exist.
func parseBase(s string) (*url.URL, string, error) {
	dir := s
	if strings.Contains(s, "://") {
		b, err := url.Parse(s)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrInvalidBaseURL, err)
		}
		switch strings.ToLower(b.Scheme) {
		case "https":
			if b.Host == "" {
				return nil, "", fmt.Errorf("%w: %q has no host", ErrInvalidBaseURL, s)
			}
			return b, "", nil
		case "file":
			if b.Host != "" && b.Host != "localhost" {
				return nil, "", fmt.Errorf("%w: %q: a file URL must name a local path (file:///path)", ErrInvalidBaseURL, s)
			}
			dir = filepath.FromSlash(b.Path)
		case "http":
			return nil, "", fmt.Errorf("%w: %q: plain http is refused; use https or a local directory", ErrInvalidBaseURL, s)
		default:
			return nil, "", fmt.Errorf("%w: %q: scheme %q (want https, file, or a directory)", ErrInvalidBaseURL, s, b.Scheme)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, "", fmt.Errorf("%w: local mirror: %w", ErrInvalidBaseURL, err)
	}
	if !fi.IsDir() {
		return nil, "", fmt.Errorf("%w: local mirror %s is not a directory", ErrInvalidBaseURL, dir)
	}
	return nil, dir, nil
}

// defaultClient is the HTTP client Update uses unless given one. The whole
// download is bounded by ctx and by the stall watchdog, not by a client
// timeout, so that big files on slow links still finish.
func defaultClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   parallelFetches,
	}
	return &http.Client{Transport: t}
}

// fetched is one ecosystem's all.zip, ready to import.
type fetched struct {
	eco      string
	path     string // the file to import
	url      string // empty for a local mirror
	etag     string
	modified time.Time
	how      Fetch
	bytes    int64 // transferred by this update
}

// fetch obtains eco's all.zip from the local mirror or the server.
func (u *updater) fetch(ctx context.Context, eco string) (fetched, error) {
	if u.base == nil {
		return fetchLocal(u.local, eco)
	}
	src := u.base.JoinPath(url.PathEscape(eco), "all.zip").String()
	f, err := u.download(ctx, eco, src)
	if err != nil {
		return fetched{}, &FetchError{Ecosystem: eco, URL: src, Err: err}
	}
	return f, nil
}

// fetchLocal returns eco's all.zip in the mirror at dir, once it is known
// to be a readable zip archive.
func fetchLocal(dir, eco string) (fetched, error) {
	p := filepath.Join(dir, eco, "all.zip")
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = ErrNoExport
	case err == nil && !fi.Mode().IsRegular():
		err = fmt.Errorf("%w: not a regular file", ErrIntegrity)
	case err == nil:
		err = checkZip(p)
	}
	if err != nil {
		return fetched{}, &FetchError{Ecosystem: eco, URL: p, Err: err}
	}
	return fetched{eco: eco, path: p, modified: fi.ModTime().UTC(), how: FetchLocal}, nil
}

// checkZip returns an error wrapping ErrIntegrity unless the file at p has
// a readable zip central directory.
func checkZip(p string) error {
	zr, err := zip.OpenReader(p)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("%w: not a readable zip archive: %w", ErrIntegrity, err)
	}
	return zr.Close()
}

// importFetched imports a fetched file and notes in its status how Update
// obtained it.
func (w *Writer) importFetched(ctx context.Context, f fetched) error {
	if _, err := w.Import(ctx, Source{Name: f.eco, Path: f.path, ETag: f.etag, Modified: f.modified}); err != nil {
		return err
	}
	ss := &w.sources[len(w.sources)-1]
	ss.URL, ss.Fetch, ss.Downloaded = f.url, f.how, f.bytes
	return nil
}
