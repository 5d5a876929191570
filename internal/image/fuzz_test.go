package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"strings"
	"testing"
)

// tarOf builds a tar stream for the fuzz seeds.
func tarOf(entries ...tar.Header) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		h := h
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = strings.Repeat("x", int(h.Size))
		}
		tw.WriteHeader(&h)
		tw.Write([]byte(body))
	}
	tw.Close()
	return buf.Bytes()
}

// FuzzApply feeds arbitrary bytes to the layer walker as two layers: it must
// never panic, and the tree must hold only clean names.
func FuzzApply(f *testing.F) {
	f.Add(tarOf(
		tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		tar.Header{Name: "etc/a", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644},
		tar.Header{Name: "etc/l", Typeflag: tar.TypeSymlink, Linkname: "/etc/a"},
		tar.Header{Name: "etc/h", Typeflag: tar.TypeLink, Linkname: "etc/a"},
		tar.Header{Name: "bin", Typeflag: tar.TypeSymlink, Linkname: "usr/bin"},
		tar.Header{Name: "bin/x", Typeflag: tar.TypeReg, Size: 1},
	), tarOf(
		tar.Header{Name: "etc/.wh.a", Typeflag: tar.TypeReg},
		tar.Header{Name: "usr/.wh..wh..opq", Typeflag: tar.TypeReg},
		tar.Header{Name: "../../x", Typeflag: tar.TypeReg},
		tar.Header{Name: "a/b/../../..", Typeflag: tar.TypeDir},
	))
	f.Add(tarOf(tar.Header{Name: "l1", Typeflag: tar.TypeSymlink, Linkname: "l2"}, tar.Header{Name: "l2", Typeflag: tar.TypeSymlink, Linkname: "l1"}, tar.Header{Name: "l1/x", Typeflag: tar.TypeReg}), []byte{})
	f.Fuzz(func(t *testing.T, layer0, layer1 []byte) {
		tr := newTree(Limits{MaxEntries: 10_000, MaxFileSize: 1 << 20, MaxTotalBytes: 1 << 24}, func(string, fs.FileMode) bool { return true }, &spool{}, &budget{max: 1 << 24})
		defer tr.spool.remove()
		for i, l := range [][]byte{layer0, layer1} {
			if err := tr.apply(context.Background(), i, "sha256:fuzz", bytes.NewReader(l)); err != nil {
				break
			}
		}
		fsys := &FS{root: tr.root, limits: Limits{}.withDefaults()}
		fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			// Names need not be UTF-8 (Linux file names are bytes), but no
			// element may be empty, "." or "..", or hold a NUL.
			if name != "." {
				for _, elem := range strings.Split(name, "/") {
					if elem == "" || elem == "." || elem == ".." || strings.IndexByte(elem, 0) >= 0 {
						t.Fatalf("tree holds an unclean name %q", name)
					}
				}
			}
			if d.Type().IsRegular() {
				if f, err := fsys.Open(name); err == nil {
					f.Close()
				}
			}
			return nil
		})
	})
}

// FuzzParseSource checks that no argument makes ParseSource panic.
func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"nginx:1.25", "oci:/x:y", "archive:a.tar", "dir:/", "registry:", ":::", "oci:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseSource(s)
	})
}
