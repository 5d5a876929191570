package image

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dockerManifestEntry is one image of a docker save manifest.json.
type dockerManifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// hexName finds a sha256 digest in a member name: blobs/sha256/HEX (docker
// 25+, OCI layout inside) or HEX.tar.gz (go-containerregistry).
var hexName = regexp.MustCompile(`(?:^|/)([0-9a-f]{64})(?:\.tar(?:\.gz)?)?$`)

// dockerImage reads a docker save tarball: manifest.json picks the image
// (by tag, or the only one), and a schema 2 manifest is synthesized over
// the layer members as they are stored, so they are read in place and
// decompressed by our reader. A layer's digest comes from its member name
// when the name carries one, else from the config's diff ID when the member
// is an uncompressed tar, else from hashing the member; either way the
// digest is checked as the layer streams.
func (ar *archive) dockerImage(tag string) (v1.Image, error) {
	raw, err := ar.read("manifest.json")
	if err != nil {
		return nil, err
	}
	var entries []dockerManifestEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("parse manifest.json: %w", err)
	}
	e, err := pickDockerEntry(entries, tag)
	if err != nil {
		return nil, err
	}
	cfgRaw, err := ar.read(path.Clean(e.Config))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
		return nil, fmt.Errorf("parse config %s: %w", e.Config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(e.Layers) {
		return nil, fmt.Errorf("config lists %d diff IDs for %d layers", len(cfg.RootFS.DiffIDs), len(e.Layers))
	}
	cfgSum := sha256.Sum256(cfgRaw)
	m := &v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config: v1.Descriptor{
			MediaType: types.DockerConfigJSON,
			Size:      int64(len(cfgRaw)),
			Digest:    v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", cfgSum)},
		},
	}
	members := make([]string, len(e.Layers))
	for i, l := range e.Layers {
		member := path.Clean(l)
		entry, ok := ar.entries[member]
		if !ok {
			return nil, fmt.Errorf("archive has no layer %s", l)
		}
		d, mt, err := ar.layerDigest(member, cfg.RootFS.DiffIDs[i])
		if err != nil {
			return nil, err
		}
		members[i] = member
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: mt, Size: entry.size, Digest: d})
	}
	mraw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&archiveImage{ar: ar, raw: mraw, manifest: m, rawConfig: cfgRaw, members: members})
}

// layerDigest works out a docker save layer's digest and media type.
func (ar *archive) layerDigest(member string, diffID v1.Hash) (v1.Hash, types.MediaType, error) {
	head := make([]byte, 4)
	e := ar.entries[member]
	n, _ := ar.f.ReadAt(head[:min(4, e.size)], e.off)
	compressed := n >= 2 && (head[0] == gzipMagic[0] && head[1] == gzipMagic[1] || n == 4 && string(head) == string(zstdMagic))
	mt := types.DockerUncompressedLayer
	if compressed {
		mt = types.DockerLayer
	}
	if m := hexName.FindStringSubmatch(member); m != nil {
		return v1.Hash{Algorithm: "sha256", Hex: m[1]}, mt, nil
	}
	if !compressed {
		return diffID, mt, nil
	}
	h := sha256.New()
	rc, err := ar.open(member)
	if err != nil {
		return v1.Hash{}, "", err
	}
	if _, err := io.Copy(h, rc); err != nil {
		return v1.Hash{}, "", fmt.Errorf("hash layer %s: %w", member, err)
	}
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}, mt, nil
}

// pickDockerEntry chooses the image tagged tag, or the only one.
func pickDockerEntry(entries []dockerManifestEntry, tag string) (dockerManifestEntry, error) {
	if len(entries) == 0 {
		return dockerManifestEntry{}, fmt.Errorf("manifest.json lists no images")
	}
	if tag == "" {
		if len(entries) > 1 {
			var tags []string
			for _, e := range entries {
				tags = append(tags, e.RepoTags...)
			}
			return dockerManifestEntry{}, fmt.Errorf("%d images in the archive; name one with :TAG (%s)", len(entries), strings.Join(tags, ", "))
		}
		return entries[0], nil
	}
	want := tag
	if t, err := name.NewTag(tag); err == nil {
		want = t.String()
	}
	for _, e := range entries {
		for _, rt := range e.RepoTags {
			if rt == tag {
				return e, nil
			}
			if t, err := name.NewTag(rt); err == nil && t.String() == want {
				return e, nil
			}
		}
	}
	return dockerManifestEntry{}, fmt.Errorf("no image tagged %q in the archive", tag)
}
