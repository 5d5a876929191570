package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// refNameAnnotation names an image inside an OCI layout.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// openRemote pulls the manifest (and, for an index, the one for platform)
// of ref.
func openRemote(ctx context.Context, ref string, platform *v1.Platform, opts Options) (v1.Image, error) {
	var nameOpts []name.Option
	if opts.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("parse reference: %w", err)
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	img, err := remote.Image(r,
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithPlatform(*platform),
		remote.WithUserAgent("kubeshield"),
	)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", r, err)
	}
	return img, nil
}

// openLayout picks one image from an OCI layout directory.
func openLayout(dir, tag string, platform *v1.Platform) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("read layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("read index.json: %w", err)
	}
	return pickImage(idx, tag, platform)
}

// pickImage chooses the image a user means from an index: the one whose
// ref.name annotation equals tag (or ends with ":"+tag), else the only one,
// descending into nested indexes by platform.
func pickImage(idx v1.ImageIndex, tag string, platform *v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read index manifest: %w", err)
	}
	var cands []v1.Descriptor
	for _, d := range m.Manifests {
		if tag == "" {
			cands = append(cands, d)
			continue
		}
		ref := d.Annotations[refNameAnnotation]
		if ref == tag || strings.HasSuffix(ref, ":"+tag) {
			cands = append(cands, d)
		}
	}
	if tag != "" && len(cands) == 0 {
		return nil, fmt.Errorf("no image tagged %q", tag)
	}
	// Several entries that are platform variants of one image: pick by
	// platform.
	if len(cands) > 1 {
		var match []v1.Descriptor
		for _, d := range cands {
			if d.Platform != nil && d.Platform.Satisfies(*platform) {
				match = append(match, d)
			}
		}
		if len(match) == 0 {
			var names []string
			for _, d := range cands {
				names = append(names, describe(d))
			}
			return nil, fmt.Errorf("%d images and none for %s; name one with :TAG (%s)", len(cands), platform, strings.Join(names, ", "))
		}
		cands = match[:1]
	}
	if len(cands) == 0 {
		return nil, errors.New("the index lists no images")
	}
	d := cands[0]
	if d.MediaType.IsIndex() {
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("read index %s: %w", d.Digest, err)
		}
		return pickImage(child, "", platform)
	}
	if !d.MediaType.IsImage() {
		return nil, fmt.Errorf("manifest %s has media type %s, not an image", d.Digest, d.MediaType)
	}
	img, err := idx.Image(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", d.Digest, err)
	}
	return img, nil
}

func describe(d v1.Descriptor) string {
	if ref := d.Annotations[refNameAnnotation]; ref != "" {
		return ref
	}
	if d.Platform != nil {
		return d.Platform.String()
	}
	return d.Digest.String()
}

// openArchive opens a docker save tarball through go-containerregistry's
// tarball package, or an OCI archive (a tarred OCI layout) through ours.
func openArchive(path, tag string, platform *v1.Platform) (opened, error) {
	f, err := os.Open(path)
	if err != nil {
		return opened{}, err
	}
	ar, err := indexArchive(f)
	if err != nil {
		f.Close()
		return opened{}, err
	}
	if ar.has("manifest.json") {
		img, err := ar.dockerImage(tag)
		if err != nil {
			f.Close()
			return opened{}, fmt.Errorf("read docker archive: %w", err)
		}
		return opened{img: img, closer: f}, nil
	}
	if ar.has("index.json") {
		idx, err := ar.index()
		if err != nil {
			f.Close()
			return opened{}, err
		}
		img, err := pickImage(idx, tag, platform)
		if err != nil {
			f.Close()
			return opened{}, err
		}
		return opened{img: img, closer: f}, nil
	}
	f.Close()
	return opened{}, errors.New("not an image archive: no manifest.json (docker save) or index.json (OCI)")
}
