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

// memTotalMax bounds the bytes of all prefetched files kept in memory; past
// it, files are spooled.
const memTotalMax = 256 << 20

// Bounds on entry names and link targets, as Linux has them.
const (
	maxPathLen   = 4096 // PATH_MAX
	maxPathDepth = 1024 // components in one name or target
	// stepsPerEntry bounds the path-resolution work (components walked,
	// links followed) per allowed entry, so that long link chains cannot
	// make placing the entries quadratic.
	stepsPerEntry = 128
)

// ErrBadEntry means a layer entry is malformed: a name or link target too
// long or too deep to be a path.
var ErrBadEntry = errors.New("malformed layer entry")

// tree builds the squashed filesystem from layer tar streams applied in
// order, and from directory walks.
type tree struct {
	root    *node
	limits  Limits
	entries int   // tar headers read plus directories created implicitly
	steps   int64 // path components walked while placing entries
	memUsed int64 // bytes of prefetched content held in memory
	want    func(name string, mode fs.FileMode) bool
	spool   *spool
	budget  *budget // charged with prefetched bytes; nil for directories
}

func newTree(limits Limits, want func(string, fs.FileMode) bool, sp *spool, b *budget) *tree {
	return &tree{
		root:   &node{mode: fs.ModeDir | 0o755, layer: -1, children: map[string]*node{}},
		limits: limits,
		want:   want,
		spool:  sp,
		budget: b,
	}
}

// countEntry charges one entry against MaxEntries.
func (t *tree) countEntry(what string) error {
	t.entries++
	if t.entries > t.limits.MaxEntries {
		return &LimitError{Limit: "max-entries", Max: int64(t.limits.MaxEntries), What: what}
	}
	return nil
}

// step charges path-resolution work.
func (t *tree) step() error {
	t.steps++
	if max := int64(t.limits.MaxEntries) * stepsPerEntry; t.steps > max {
		return &LimitError{Limit: "max-entries", Max: int64(t.limits.MaxEntries), What: "path resolution work (long symbolic link chains)"}
	}
	return nil
}

// checkPath refuses names and link targets that no filesystem would hold.
func checkPath(p string) error {
	if len(p) > maxPathLen {
		return fmt.Errorf("%d bytes is longer than %d: %w", len(p), maxPathLen, ErrBadEntry)
	}
	if strings.Count(p, "/") > maxPathDepth {
		return fmt.Errorf("more than %d components: %w", maxPathDepth, ErrBadEntry)
	}
	return nil
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
	if err := checkPath(name); err != nil {
		return "", err
	}
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
	for ordinal := 0; ; ordinal++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("layer %s: read tar: %w", digest, err)
		}
		if err := t.countEntry("number of layer entries"); err != nil {
			return err
		}
		if t.entries%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := t.applyEntry(idx, ordinal, hdr, tr); err != nil {
			if errors.Is(err, ErrLimit) {
				return err
			}
			return &EntryError{Layer: digest, Name: hdr.Name, Err: err}
		}
	}
}

func (t *tree) applyEntry(idx, ordinal int, hdr *tar.Header, body io.Reader) error {
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
	n := &node{mode: mode, size: hdr.Size, mtime: hdr.ModTime.Unix(), layer: int32(idx)}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if old := parent.children[base]; old != nil && old.isDir() {
			old.mode, old.mtime, old.layer = mode, n.mtime, int32(idx)
			return nil
		}
		n.size = 0
		n.children = map[string]*node{}
	case tar.TypeReg, tar.TypeGNUSparse: // the reader reports TypeRegA as TypeReg
		n.mode = mode.Perm() | mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
		n.content = &content{ordinal: int32(ordinal), size: hdr.Size, layer: int32(idx)}
		if t.want != nil && t.want(full, n.mode) && hdr.Size <= t.limits.MaxFileSize {
			if err := t.prefetch(n.content, hdr.Size, body); err != nil {
				return err
			}
		}
	case tar.TypeSymlink:
		if err := checkPath(hdr.Linkname); err != nil {
			return fmt.Errorf("symbolic link target: %w", err)
		}
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
		n = &node{mode: tn.mode, size: tn.size, mtime: tn.mtime, link: tn.link, layer: int32(idx), content: tn.content}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		n.size = 0
	default:
		return nil // global headers and vendor extensions carry no file
	}
	parent.children[base] = n
	return nil
}

// prefetch keeps a wanted file's bytes as its layer streams by. The bytes
// are charged to the budget as they are produced (sparse entries make bytes
// the compressed stream never held), small files stay in memory up to
// memTotalMax in all, and the rest is spooled.
func (t *tree) prefetch(c *content, size int64, body io.Reader) error {
	if t.budget != nil {
		body = t.budget.reader(body)
	}
	if size <= memMax && t.memUsed+size <= memTotalMax {
		buf := make([]byte, size)
		if _, err := io.ReadFull(body, buf); err != nil {
			return fmt.Errorf("read content: %w", err)
		}
		t.memUsed += size
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
	if child := parent.children[target]; child != nil && int(child.layer) < idx {
		delete(parent.children, target)
	}
	return nil
}

// prune removes everything lower layers wrote below dir, keeping what
// layer idx itself wrote: a lower directory that the layer only passes
// through stays while it holds entries of this layer.
func prune(dir *node, idx int) {
	for name, child := range dir.children {
		if child.isDir() {
			prune(child, idx)
			if int(child.layer) < idx && len(child.children) == 0 {
				delete(dir.children, name)
			}
			continue
		}
		if int(child.layer) < idx {
			delete(dir.children, name)
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
		if err := t.step(); err != nil {
			return nil, "", err
		}
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
			if err := t.countEntry("number of layer entries and implied directories"); err != nil {
				return nil, "", err
			}
			child = &node{mode: fs.ModeDir | 0o755, layer: int32(idx), children: map[string]*node{}}
			cur.children[c] = child
		}
		stack, names = append(stack, child), append(names, c)
	}
	return stack[len(stack)-1], strings.Join(names, "/"), nil
}

// spool is the private temporary directory holding large prefetched files.
type spool struct {
	parent string // where to create the directory; "" is os.TempDir
	max    int64  // most bytes spooled in all; 0 means no bound

	mu   sync.Mutex
	dir  string
	used int64
}

// write copies size bytes of r into a new spool file and returns its name.
func (s *spool) write(r io.Reader, size int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && s.used+size > s.max {
		return "", &LimitError{Limit: "max-total-bytes", Max: s.max * 4, What: fmt.Sprintf("spooled file content (a quarter of the budget, %d bytes)", s.max)}
	}
	s.used += size
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
