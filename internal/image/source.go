package image

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Kind is where an image comes from.
type Kind string

// The source kinds.
const (
	// Registry is an image in an OCI distribution registry.
	Registry Kind = "registry"
	// Layout is an OCI image layout directory.
	Layout Kind = "oci"
	// Archive is a `docker save` tarball or an OCI archive (a tarred OCI
	// layout).
	Archive Kind = "archive"
	// Dir is a root filesystem directory.
	Dir Kind = "dir"
)

// Source names an image.
type Source struct {
	// Kind says how to read it.
	Kind Kind
	// Ref is the registry reference, or the path of the layout, archive or
	// directory.
	Ref string
	// Tag picks an image inside an OCI layout or archive by its
	// org.opencontainers.image.ref.name annotation, or inside a `docker save`
	// tarball by its repository tag; empty takes the only image.
	Tag string
}

// String returns the source in the form ParseSource reads.
func (s Source) String() string {
	switch s.Kind {
	case Registry:
		return s.Ref
	case Layout, Archive:
		if s.Tag != "" {
			return string(s.Kind) + ":" + s.Ref + ":" + s.Tag
		}
	}
	return string(s.Kind) + ":" + s.Ref
}

// ParseSource reads the way a user names an image:
//
//	registry:REF or REF        nginx:1.25, 127.0.0.1:5000/app@sha256:…
//	oci:DIR[:TAG]              an OCI image layout directory
//	archive:FILE[:TAG]         a docker save tarball or an OCI archive
//	dir:PATH                   a root filesystem directory
//
// A bare argument that names an existing file ending in .tar is an archive,
// an existing directory holding an oci-layout file is a layout, and any
// other existing directory is a root filesystem; everything else is a
// registry reference. It returns an error for an empty argument or prefix
// value.
func ParseSource(s string) (Source, error) {
	if s == "" {
		return Source{}, fmt.Errorf("parse image source: empty")
	}
	prefix, rest, ok := strings.Cut(s, ":")
	if ok {
		switch Kind(prefix) {
		case Registry, Dir:
			if rest == "" {
				return Source{}, fmt.Errorf("parse image source %q: nothing after %q", s, prefix+":")
			}
			return Source{Kind: Kind(prefix), Ref: rest}, nil
		case Layout, Archive:
			if rest == "" {
				return Source{}, fmt.Errorf("parse image source %q: nothing after %q", s, prefix+":")
			}
			path, tag := splitTag(rest)
			return Source{Kind: Kind(prefix), Ref: path, Tag: tag}, nil
		}
	}
	if info, err := os.Stat(s); err == nil {
		if info.IsDir() {
			if _, err := os.Stat(filepath.Join(s, "oci-layout")); err == nil {
				return Source{Kind: Layout, Ref: s}, nil
			}
			return Source{Kind: Dir, Ref: s}, nil
		}
		if strings.HasSuffix(s, ".tar") {
			return Source{Kind: Archive, Ref: s}, nil
		}
	}
	return Source{Kind: Registry, Ref: s}, nil
}

// splitTag splits "PATH:TAG" where TAG is the text after the last colon,
// unless that text contains a path separator (then it is all path) or the
// whole string names an existing file or directory.
func splitTag(s string) (path, tag string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	i := strings.LastIndex(s, ":")
	if i < 0 || strings.ContainsAny(s[i+1:], `/\`) {
		return s, ""
	}
	return s[:i], s[i+1:]
}
