package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxArchiveEntries bounds the members of an image archive (not of its
// layers) that are indexed.
const maxArchiveEntries = 100_000

// maxArchiveJSON bounds index.json, manifests and configs read from an
// archive.
const maxArchiveJSON = 8 << 20

// archive is an index of an image tarball's members: their data offsets, so
// that blobs are read in place without extracting anything.
type archive struct {
	f       *os.File
	entries map[string]archiveEntry
}

type archiveEntry struct{ off, size int64 }

// indexArchive reads the tar headers of f and records where each regular
// member's data starts.
func indexArchive(f *os.File) (*archive, error) {
	ar := &archive{f: f, entries: map[string]archiveEntry{}}
	tr := tar.NewReader(f)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		if n >= maxArchiveEntries {
			return nil, &LimitError{Limit: "max-entries", Max: maxArchiveEntries, What: "number of archive members"}
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		// archive/tar reads exactly the header blocks from an io.Seeker, so
		// the file offset is now the start of the member's data.
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		ar.entries[path.Clean(hdr.Name)] = archiveEntry{off: off, size: hdr.Size}
	}
	return ar, nil
}

func (ar *archive) has(name string) bool {
	_, ok := ar.entries[name]
	return ok
}

// open returns a reader over one member.
func (ar *archive) open(name string) (io.ReadCloser, error) {
	e, ok := ar.entries[name]
	if !ok {
		return nil, fmt.Errorf("archive has no %s", name)
	}
	return io.NopCloser(io.NewSectionReader(ar.f, e.off, e.size)), nil
}

// read reads a small member whole.
func (ar *archive) read(name string) ([]byte, error) {
	e, ok := ar.entries[name]
	if !ok {
		return nil, fmt.Errorf("archive has no %s", name)
	}
	if e.size > maxArchiveJSON {
		return nil, &LimitError{Limit: "max-file-size", Max: maxArchiveJSON, What: name}
	}
	buf := make([]byte, e.size)
	if _, err := ar.f.ReadAt(buf, e.off); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return buf, nil
}

// blob reads a small blob and checks its digest.
func (ar *archive) blob(h v1.Hash) ([]byte, error) {
	data, err := ar.read(blobPath(h))
	if err != nil {
		return nil, err
	}
	if h.Algorithm == "sha256" {
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != h.Hex {
			return nil, fmt.Errorf("blob %s: digest mismatch", h)
		}
	}
	return data, nil
}

func blobPath(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

// index returns the OCI archive's top-level index.
func (ar *archive) index() (v1.ImageIndex, error) {
	raw, err := ar.read("index.json")
	if err != nil {
		return nil, err
	}
	return ar.newIndex(raw)
}

func (ar *archive) newIndex(raw []byte) (*archiveIndex, error) {
	var m v1.IndexManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse index: %w", err)
	}
	return &archiveIndex{ar: ar, raw: raw, manifest: &m}, nil
}

// archiveIndex is an image index inside an OCI archive.
type archiveIndex struct {
	ar       *archive
	raw      []byte
	manifest *v1.IndexManifest
}

func (x *archiveIndex) MediaType() (types.MediaType, error) {
	if x.manifest.MediaType != "" {
		return x.manifest.MediaType, nil
	}
	return types.OCIImageIndex, nil
}
func (x *archiveIndex) Digest() (v1.Hash, error)                  { return partial.Digest(x) }
func (x *archiveIndex) Size() (int64, error)                      { return int64(len(x.raw)), nil }
func (x *archiveIndex) IndexManifest() (*v1.IndexManifest, error) { return x.manifest, nil }
func (x *archiveIndex) RawManifest() ([]byte, error)              { return x.raw, nil }

func (x *archiveIndex) Image(h v1.Hash) (v1.Image, error) {
	raw, err := x.ar.blob(h)
	if err != nil {
		return nil, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", h, err)
	}
	return partial.CompressedToImage(&archiveImage{ar: x.ar, raw: raw, manifest: &m})
}

func (x *archiveIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	raw, err := x.ar.blob(h)
	if err != nil {
		return nil, err
	}
	return x.ar.newIndex(raw)
}

// archiveImage is an image manifest inside an OCI archive, or one
// synthesized for a docker save tarball.
type archiveImage struct {
	ar        *archive
	raw       []byte
	manifest  *v1.Manifest
	rawConfig []byte   // docker save: the config, read from its member
	members   []string // docker save: the layer members, in manifest order
}

func (i *archiveImage) RawConfigFile() ([]byte, error) {
	if i.rawConfig != nil {
		return i.rawConfig, nil
	}
	return i.ar.blob(i.manifest.Config.Digest)
}
func (i *archiveImage) MediaType() (types.MediaType, error) {
	if i.manifest.MediaType != "" {
		return i.manifest.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}
func (i *archiveImage) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.manifest.Config.Digest {
		raw, err := i.RawConfigFile()
		if err != nil {
			return nil, err
		}
		return &archiveLayer{ar: i.ar, desc: i.manifest.Config, small: raw}, nil
	}
	for j, d := range i.manifest.Layers {
		if d.Digest == h {
			member := ""
			if i.members != nil {
				member = i.members[j]
			}
			if member == "" && !i.ar.has(blobPath(h)) {
				return nil, fmt.Errorf("archive has no blob %s", h)
			}
			return &archiveLayer{ar: i.ar, desc: d, member: member}, nil
		}
	}
	return nil, fmt.Errorf("manifest has no layer %s", h)
}

// archiveLayer is a blob inside an image archive, read in place.
type archiveLayer struct {
	ar     *archive
	desc   v1.Descriptor
	member string // the archive member; "" means blobs/<alg>/<hex>
	small  []byte // the config blob, already read
}

func (l *archiveLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *archiveLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	if l.small != nil {
		return io.NopCloser(bytes.NewReader(l.small)), nil
	}
	name := l.member
	if name == "" {
		name = blobPath(l.desc.Digest)
	}
	rc, err := l.ar.open(name)
	if err != nil {
		return nil, err
	}
	return &verifyingReader{r: rc, h: sha256.New(), want: l.desc.Digest}, nil
}

// verifyingReader hashes what it reads and fails at the end of the stream
// when the hash is not the expected digest, so a blob is checked in the one
// pass that reads it.
type verifyingReader struct {
	r    io.ReadCloser
	h    hash.Hash
	want v1.Hash
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && v.want.Algorithm == "sha256" {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.Hex {
			return n, fmt.Errorf("blob %s: content has digest sha256:%s", v.want, got)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.r.Close() }
