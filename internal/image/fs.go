package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxLinkHops is how many symbolic links one path resolution may follow,
// as Linux's MAXSYMLINKS.
const maxLinkHops = 40

// node is one entry of the squashed tree. The name is the key in the parent's
// children map.
type node struct {
	mode     fs.FileMode // type bits and permissions, with setuid/setgid/sticky
	layer    int32       // index of the layer that wrote the entry; -1 for a directory source
	size     int64
	mtime    int64  // Unix seconds
	link     string // symbolic link target, as written
	children map[string]*node
	content  *content // nil for non-regular files
}

func (n *node) isDir() bool { return n.mode.IsDir() }

// content is where a regular file's bytes are: in memory, in a spool file,
// or still in the layer (origin) to be streamed again.
type content struct {
	mu      sync.Mutex
	loaded  bool
	layer   int32 // the layer holding the bytes; -1 for a directory source
	ordinal int32 // position of the entry in its layer (a name may repeat)
	size    int64 // the entry's size
	data    []byte
	spool   string // loaded, spooled to this file
	origin  string // the host path, for a directory source
}

// loader reads the bytes of content that was not prefetched.
type loader interface {
	// open returns a reader over c's bytes; the caller holds c.mu.
	open(c *content) (readerAtSeeker, error)
	// close releases the loader's resources.
	close() error
}

// FS is the read-only squashed filesystem of an image or root directory. It
// implements [fs.FS], [fs.StatFS], [fs.ReadDirFS] and [fs.ReadLinkFS]; the
// files it opens implement [io.ReaderAt] and [io.Seeker]. It is safe for
// concurrent use. Close it to remove spooled files.
type FS struct {
	root   *node
	layers []string // layer digests, for Layer
	limits Limits
	loader loader
}

var (
	_ fs.FS         = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.ReadLinkFS = (*FS)(nil)
)

// resolve walks name from the root. Symbolic links in every component but the
// last are followed; the last is followed when follow is true. Links resolve
// inside the root: absolute targets start at the root and ".." never goes
// above it.
func (f *FS) resolve(op, name string, follow bool) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	stack := []*node{f.root}
	comps := splitPath(name)
	hops := 0
	for i := 0; i < len(comps); i++ {
		c := comps[i]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		cur := stack[len(stack)-1]
		if !cur.isDir() {
			return nil, &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
		}
		child := cur.children[c]
		if child == nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		last := i == len(comps)-1
		if child.mode&fs.ModeSymlink != 0 && (!last || follow) {
			hops++
			if hops > maxLinkHops {
				return nil, &fs.PathError{Op: op, Path: name, Err: syscall.ELOOP}
			}
			target := child.link
			if strings.HasPrefix(target, "/") {
				stack = stack[:1]
			}
			comps = append(splitPath(target), comps[i+1:]...)
			i = -1
			continue
		}
		stack = append(stack, child)
	}
	return stack[len(stack)-1], nil
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}

// Open opens the named file, following symbolic links inside the root.
func (f *FS) Open(name string) (fs.File, error) {
	n, err := f.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	info := fileInfo{name: path.Base(name), n: n}
	switch {
	case n.isDir():
		return &dirFile{fsys: f, info: info, n: n}, nil
	case n.mode.IsRegular():
		if n.size > f.limits.MaxFileSize {
			return nil, &fs.PathError{Op: "open", Path: name, Err: &LimitError{
				Limit: "max-file-size", Max: f.limits.MaxFileSize,
				What: fmt.Sprintf("file of %d bytes", n.size),
			}}
		}
		r, err := f.reader(n)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &regularFile{info: info, r: r}, nil
	default:
		return &specialFile{info: info}, nil
	}
}

// readerAtSeeker is what an open regular file reads from.
type readerAtSeeker interface {
	io.Reader
	io.ReaderAt
	io.Seeker
}

// reader returns a reader over a regular file's bytes, loading them first
// if they were not prefetched.
func (f *FS) reader(n *node) (readerAtSeeker, error) {
	c := n.content
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		if f.loader == nil {
			return nil, errors.New("no content source")
		}
		return f.loader.open(c)
	}
	if c.spool != "" {
		return openSpool(c.spool)
	}
	return bytes.NewReader(c.data), nil
}

func openSpool(name string) (readerAtSeeker, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return &spoolReader{File: file}, nil
}

// Stat returns the file info of name, following symbolic links.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	n, err := f.resolve("stat", name, true)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: path.Base(name), n: n}, nil
}

// Lstat returns the file info of name without following a final symbolic
// link.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	n, err := f.resolve("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: path.Base(name), n: n}, nil
}

// ReadLink returns the target of the symbolic link name, as written.
func (f *FS) ReadLink(name string) (string, error) {
	n, err := f.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return n.link, nil
}

// ReadDir lists the directory name, sorted by file name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	return readDir(n), nil
}

func readDir(n *node) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(n.children))
	for name, child := range n.children {
		out = append(out, fs.FileInfoToDirEntry(fileInfo{name: name, n: child}))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// Layer returns the digest of the layer that holds the file name (following
// symbolic links), or "" for a directory source or a missing file.
func (f *FS) Layer(name string) string {
	n, err := f.resolve("layer", name, true)
	if err != nil || n.layer < 0 || int(n.layer) >= len(f.layers) {
		return ""
	}
	return f.layers[n.layer]
}

// Close removes the spool directory and releases the layers.
func (f *FS) Close() error {
	if f.loader == nil {
		return nil
	}
	return f.loader.close()
}

// fileInfo is the fs.FileInfo of a node.
type fileInfo struct {
	name string
	n    *node
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.n.size }
func (i fileInfo) Mode() fs.FileMode  { return i.n.mode }
func (i fileInfo) ModTime() time.Time { return time.Unix(i.n.mtime, 0) }
func (i fileInfo) IsDir() bool        { return i.n.isDir() }
func (i fileInfo) Sys() any           { return nil }

// regularFile is an open regular file.
type regularFile struct {
	info fileInfo
	r    readerAtSeeker
}

func (r *regularFile) Stat() (fs.FileInfo, error)                   { return r.info, nil }
func (r *regularFile) Read(p []byte) (int, error)                   { return r.r.Read(p) }
func (r *regularFile) ReadAt(p []byte, off int64) (int, error)      { return r.r.ReadAt(p, off) }
func (r *regularFile) Seek(offset int64, whence int) (int64, error) { return r.r.Seek(offset, whence) }
func (r *regularFile) Close() error {
	if c, ok := r.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// spoolReader is a spooled file; it is an io.Closer so regularFile closes it.
type spoolReader struct{ *os.File }

// specialFile is an open device, fifo or socket: it has no content.
type specialFile struct{ info fileInfo }

func (s *specialFile) Stat() (fs.FileInfo, error) { return s.info, nil }
func (s *specialFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: s.info.name, Err: fs.ErrInvalid}
}
func (s *specialFile) Close() error { return nil }

// dirFile is an open directory.
type dirFile struct {
	fsys    *FS
	info    fileInfo
	n       *node
	entries []fs.DirEntry
	offset  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: syscall.EISDIR}
}
func (d *dirFile) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(count int) ([]fs.DirEntry, error) {
	if d.entries == nil {
		d.entries = readDir(d.n)
	}
	rest := d.entries[d.offset:]
	if count <= 0 {
		d.offset = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if count > len(rest) {
		count = len(rest)
	}
	d.offset += count
	return rest[:count], nil
}
