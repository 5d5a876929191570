package image

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// pseudoFS are top-level directories skipped in a directory source when
// they are mount points of another filesystem (scanning "/" must not walk
// /proc or /sys).
var pseudoFS = map[string]bool{"proc": true, "sys": true, "dev": true}

// openDir walks a root filesystem directory into a tree. Nothing is read
// but directory entries and symbolic link targets; file contents are read
// on demand, through an os.Root so that no path can leave the directory.
func openDir(ctx context.Context, dir string, limits Limits) (*FS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	rootInfo, err := root.Stat(".")
	if err != nil {
		root.Close()
		return nil, err
	}
	if !rootInfo.IsDir() {
		root.Close()
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	rootDev := device(rootInfo)
	t := newTree(limits, nil, nil, nil)
	t.root.mode = rootInfo.Mode()
	err = fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", name, err)
		}
		if name == "." {
			return nil
		}
		t.entries++
		if t.entries > limits.MaxEntries {
			return &LimitError{Limit: "max-entries", Max: int64(limits.MaxEntries), What: "number of directory entries"}
		}
		if t.entries%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", name, err)
		}
		if d.IsDir() && pseudoFS[name] && device(info) != rootDev {
			return fs.SkipDir
		}
		parentName := filepath.ToSlash(filepath.Dir(name))
		parent, err := t.lookup(trimDot(parentName))
		if err != nil || !parent.isDir() {
			return fmt.Errorf("walk %s: parent missing from the tree", name)
		}
		n := &node{mode: info.Mode(), size: info.Size(), mtime: info.ModTime().Unix(), layer: -1}
		switch {
		case d.IsDir():
			n.size = 0
			n.children = map[string]*node{}
		case info.Mode().IsRegular():
			n.content = &content{origin: name, layer: -1}
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := root.Readlink(name)
			if err != nil {
				return fmt.Errorf("readlink %s: %w", name, err)
			}
			n.link = target
			n.size = int64(len(target))
		default:
			n.size = 0
		}
		parent.children[filepath.Base(name)] = n
		return nil
	})
	if err != nil {
		root.Close()
		return nil, err
	}
	return &FS{root: t.root, limits: limits, loader: &dirLoader{root: root}}, nil
}

func trimDot(p string) string {
	if p == "." {
		return ""
	}
	return p
}

func device(info fs.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

// dirLoader opens files of a directory source in place.
type dirLoader struct{ root *os.Root }

// open opens the file in place. O_NONBLOCK keeps a file swapped for a FIFO
// since the walk from blocking the open; anything but a regular file is
// refused.
func (d *dirLoader) open(c *content) (readerAtSeeker, error) {
	f, err := d.root.OpenFile(c.origin, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is no longer a regular file", c.origin)
	}
	return &spoolReader{File: f}, nil
}

func (d *dirLoader) close() error { return d.root.Close() }
