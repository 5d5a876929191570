package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
)

// memMax is the largest prefetched file kept in memory; larger ones are
// spooled to the temporary directory.
const memMax = 1 << 20

// tree builds the squashed filesystem from layer tar streams applied in
// order, and from directory walks.
type tree struct {
	root    *node
	limits  Limits
	entries int
	want    func(name string, mode fs.FileMode) bool
	spool   *spool
}

func newTree(limits Limits, want func(string, fs.FileMode) bool, sp *spool) *tree {
	return &tree{
		root:   &node{mode: fs.ModeDir | 0o755, layer: -1, children: map[string]*node{}},
		limits: limits,
		want:   want,
		spool:  sp,
	}
}

// EntryError is a layer entry that cannot be applied. It wraps the reason
// (ErrUnsafePath for names that leave the root).
type EntryError struct {
	// Layer is the layer's digest.
	Layer string
	// Name is the entry's name as written in the tar header.
	Name string
	// Err is the reason.
	Err error
}

// Error implements error.
func (e *EntryError) Error() string {
	return fmt.Sprintf("layer %s: entry %q: %v", e.Layer, e.Name, e.Err)
}

// Unwrap returns the reason.
func (e *EntryError) Unwrap() error { return e.Err }

// cleanName turns a tar entry name into a slash path relative to the root
// ("" for the root itself). A name that leaves the root wraps ErrUnsafePath.
func cleanName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("NUL byte in name: %w", ErrUnsafePath)
	}
	p := path.Clean("/" + name)
	// path.Clean of a rooted path never leaves the root, so compare with a
	// plain clean to catch names that try to.
	if plain := path.Clean(strings.TrimLeft(name, "/")); plain == ".." || strings.HasPrefix(plain, "../") {
		return "", ErrUnsafePath
	}
	return strings.TrimPrefix(p, "/"), nil
}

// apply reads one layer's tar stream and applies its entries over the tree.
func (t *tree) apply(ctx context.Context, idx int, digest string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("layer %s: read tar: %w", digest, err)
		}
		t.entries++
		if t.entries > t.limits.MaxEntries {
			return &LimitError{Limit: "max-entries", Max: int64(t.limits.MaxEntries), What: "number of layer entries"}
		}
		if t.entries%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := t.applyEntry(idx, hdr, tr); err != nil {
			if errors.Is(err, ErrLimit) {
				return err
			}
			return &EntryError{Layer: digest, Name: hdr.Name, Err: err}
		}
	}
}

func (t *tree) applyEntry(idx int, hdr *tar.Header, body io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "" {
		if hdr.Typeflag == tar.TypeDir {
			t.root.mode = fs.ModeDir | hdr.FileInfo().Mode().Perm()
		}
		return nil
	}
	dir, base := path.Split(name)
	if strings.HasPrefix(base, ".wh.") {
		return t.whiteout(idx, dir, base)
	}
	parent, parentPath, err := t.mkdirAll(idx, dir)
	if err != nil {
		return err
	}
	full := path.Join(parentPath, base)
	mode := hdr.FileInfo().Mode()
	n := &node{mode: mode, size: hdr.Size, mtime: hdr.ModTime.Unix(), layer: idx}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if old := parent.children[base]; old != nil && old.isDir() {
			old.mode, old.mtime, old.layer = mode, n.mtime, idx
			return nil
		}
		n.size = 0
		n.children = map[string]*node{}
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		n.mode = mode.Perm() | mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
		n.content = &content{origin: hdr.Name, layer: idx}
		if t.want != nil && t.want(full, n.mode) && hdr.Size <= t.limits.MaxFileSize {
			if err := t.prefetch(n.content, hdr.Size, body); err != nil {
				return err
			}
		}
	case tar.TypeSymlink:
		n.size = int64(len(hdr.Linkname))
		n.link = hdr.Linkname
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		tn, err := t.lookup(target)
		if err != nil || tn.isDir() {
			return nil // a link to nothing, or to a directory: no file results
		}
		n = &node{mode: tn.mode, size: tn.size, mtime: tn.mtime, link: tn.link, layer: idx, content: tn.content}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		n.size = 0
	default:
		return nil // global headers and vendor extensions carry no file
	}
	parent.children[base] = n
	return nil
}

// prefetch keeps a wanted file's bytes as its layer streams by.
func (t *tree) prefetch(c *content, size int64, body io.Reader) error {
	if size <= memMax {
		buf := make([]byte, size)
		if _, err := io.ReadFull(body, buf); err != nil {
			return fmt.Errorf("read content: %w", err)
		}
		c.data, c.loaded = buf, true
		return nil
	}
	name, err := t.spool.write(body, size)
	if err != nil {
		return err
	}
	c.spool, c.loaded = name, true
	return nil
}

// whiteout applies ".wh.NAME" (delete NAME from lower layers) or
// ".wh..wh..opq" (hide everything lower layers put in the directory).
func (t *tree) whiteout(idx int, dir, base string) error {
	parent, err := t.lookup(strings.TrimSuffix(dir, "/"))
	if err != nil || !parent.isDir() {
		return nil // nothing below to hide
	}
	if base == ".wh..wh..opq" {
		prune(parent, idx)
		return nil
	}
	target := strings.TrimPrefix(base, ".wh.")
	if target == "" || target == "." || target == ".." {
		return fmt.Errorf("whiteout of %q: %w", target, ErrUnsafePath)
	}
	if child := parent.children[target]; child != nil && child.layer < idx {
		delete(parent.children, target)
	}
	return nil
}

// prune removes everything lower layers wrote below dir.
func prune(dir *node, idx int) {
	for name, child := range dir.children {
		switch {
		case child.layer < idx:
			delete(dir.children, name)
		case child.isDir():
			prune(child, idx)
		}
	}
}

// lookup resolves a cleaned path in the tree, following symbolic links in
// every component but the last.
func (t *tree) lookup(name string) (*node, error) {
	fsys := &FS{root: t.root}
	if name == "" {
		return t.root, nil
	}
	return fsys.resolve("lookup", name, false)
}

// mkdirAll returns the directory dir, following symbolic links inside the
// root as a runtime extracting the layer would, and creating missing
// directories (and replacing non-directories) on the way. It also returns
// the directory's resolved path.
func (t *tree) mkdirAll(idx int, dir string) (*node, string, error) {
	stack := []*node{t.root}
	names := []string{}
	comps := splitPath(dir)
	hops := 0
	for i := 0; i < len(comps); i++ {
		c := comps[i]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack, names = stack[:len(stack)-1], names[:len(names)-1]
			}
			continue
		}
		cur := stack[len(stack)-1]
		child := cur.children[c]
		if child != nil && child.mode&fs.ModeSymlink != 0 {
			hops++
			if hops > maxLinkHops {
				return nil, "", fmt.Errorf("resolve %q: too many levels of symbolic links", dir)
			}
			if strings.HasPrefix(child.link, "/") {
				stack, names = stack[:1], names[:0]
			}
			comps = append(splitPath(child.link), comps[i+1:]...)
			i = -1
			continue
		}
		if child == nil || !child.isDir() {
			child = &node{mode: fs.ModeDir | 0o755, layer: idx, children: map[string]*node{}}
			cur.children[c] = child
		}
		stack, names = append(stack, child), append(names, c)
	}
	return stack[len(stack)-1], strings.Join(names, "/"), nil
}

// spool is the private temporary directory holding large prefetched files.
type spool struct {
	parent string // where to create the directory; "" is os.TempDir

	mu  sync.Mutex
	dir string
}

// write copies size bytes of r into a new spool file and returns its name.
func (s *spool) write(r io.Reader, size int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		dir, err := os.MkdirTemp(s.parent, "kubeshield-spool-")
		if err != nil {
			return "", fmt.Errorf("create spool directory: %w", err)
		}
		s.dir = dir
	}
	f, err := os.CreateTemp(s.dir, "f-")
	if err != nil {
		return "", fmt.Errorf("create spool file: %w", err)
	}
	_, err = io.CopyN(f, r, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("spool content: %w", err)
	}
	return f.Name(), nil
}

// remove deletes the spool directory.
func (s *spool) remove() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	return os.RemoveAll(s.dir)
}
