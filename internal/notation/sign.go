package notation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/signer"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of Notation signatures.
const (
	// ArtifactType is the artifact type of a signature manifest (notation
	// stores it as the config media type, which registries report as the
	// referrer's artifactType).
	ArtifactType = "application/vnd.cncf.notary.signature"
	// MediaTypeJWS is the media type of a JWS signature envelope.
	MediaTypeJWS = "application/jose+json"
	// MediaTypeCOSE is the media type of a COSE signature envelope.
	MediaTypeCOSE = "application/cose"
)

// Manifest annotations notation sets on a signature manifest.
const (
	// AnnotationThumbprints holds the JSON list of the hex SHA-256
	// digests of the signing certificate chain, leaf first.
	AnnotationThumbprints = "io.cncf.notary.x509chain.thumbprint#S256"
	// reservedPrefix starts annotations user metadata may not use.
	reservedPrefix = "io.cncf.notary"
)

// emptyConfig is the content of a signature manifest's config.
var emptyConfig = []byte("{}")

// SignOptions tunes Sign.
type SignOptions struct {
	// MediaType is the envelope: MediaTypeJWS (the default when empty) or
	// MediaTypeCOSE.
	MediaType string
	// UserMetadata is added to the signed target descriptor's
	// annotations, as notation sign --user-metadata does. Keys may not
	// start with "io.cncf.notary".
	UserMetadata map[string]string
	// Expiry, when positive, makes the signature expire that long after
	// signing; it must be whole seconds.
	Expiry time.Duration
	// RemoteOptions are passed to every registry call: authentication,
	// transport, referrers tag fallback. Sign adds the context itself.
	RemoteOptions []remote.Option
}

// Signature is what Sign stored.
type Signature struct {
	// Image is the signed image, by digest.
	Image name.Digest
	// Manifest is the signature manifest, by digest.
	Manifest name.Digest
	// MediaType is the envelope's media type.
	MediaType string
	// Envelope is the signature envelope.
	Envelope []byte
}

// Sign signs the image ref names, notation-style: it resolves ref to its
// manifest descriptor, signs that descriptor (with opts.UserMetadata as
// its annotations) with key and chain (the signing certificate first, as
// notation-go requires: an *ecdsa.PrivateKey or *rsa.PrivateKey whose
// certificate has the code-signing usage) and pushes the envelope as a
// signature manifest referring to the image. Errors are registry errors
// (wrapped transport errors) or signing errors: an unsupported key, a key
// that does not match chain[0], a bad media type or metadata key.
func Sign(ctx context.Context, ref name.Reference, key crypto.Signer, chain []*x509.Certificate, opts SignOptions) (Signature, error) {
	mt := opts.MediaType
	if mt == "" {
		mt = MediaTypeJWS
	}
	if mt != MediaTypeJWS && mt != MediaTypeCOSE {
		return Signature{}, fmt.Errorf("sign %s: envelope media type %q, want %q or %q", ref, mt, MediaTypeJWS, MediaTypeCOSE)
	}
	gs, err := signer.NewGenericSigner(key, chain)
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: signer: %w", ref, err)
	}
	ropts := remoteOptions(ctx, opts.RemoteOptions)
	target, err := resolve(ref, ropts)
	if err != nil {
		return Signature{}, err
	}
	dig := ref.Context().Digest(target.Digest.String())
	signed, err := withMetadata(target, opts.UserMetadata)
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", dig, err)
	}
	env, info, err := gs.Sign(ctx, signed, notation.SignerSignOptions{SignatureMediaType: mt, ExpiryDuration: opts.Expiry})
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", dig, err)
	}
	manifest, err := signatureManifest(target, mt, env, info.CertificateChain, info.SignedAttributes.SigningTime)
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", dig, err)
	}
	md, err := push(dig.Context(), manifest, mt, env, ropts)
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", dig, err)
	}
	return Signature{Image: dig, Manifest: md, MediaType: mt, Envelope: env}, nil
}

// remoteOptions appends the context to the caller's options.
func remoteOptions(ctx context.Context, opts []remote.Option) []remote.Option {
	out := make([]remote.Option, 0, len(opts)+1)
	out = append(out, opts...)
	return append(out, remote.WithContext(ctx))
}

// resolve returns the manifest descriptor (media type, digest, size) of
// the image ref names; for a digest reference the registry must agree.
func resolve(ref name.Reference, ropts []remote.Option) (ocispec.Descriptor, error) {
	desc, err := remote.Head(ref, ropts...)
	if err != nil {
		d, gerr := remote.Get(ref, ropts...)
		if gerr != nil {
			return ocispec.Descriptor{}, fmt.Errorf("resolve %s: %w", ref, gerr)
		}
		desc = &d.Descriptor
	}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		return ocispec.Descriptor{}, fmt.Errorf("resolve %s: registry answered digest %s", ref, desc.Digest)
	}
	return ocispec.Descriptor{
		MediaType: string(desc.MediaType),
		Digest:    digest.Digest(desc.Digest.String()),
		Size:      desc.Size,
	}, nil
}

// withMetadata returns target annotated with the user metadata.
func withMetadata(target ocispec.Descriptor, md map[string]string) (ocispec.Descriptor, error) {
	if len(md) == 0 {
		return target, nil
	}
	target.Annotations = make(map[string]string, len(md))
	for k, v := range md {
		if strings.HasPrefix(k, reservedPrefix) {
			return ocispec.Descriptor{}, fmt.Errorf("user metadata key %q has the reserved prefix %q", k, reservedPrefix)
		}
		target.Annotations[k] = v
	}
	return target, nil
}

// signatureManifest returns the manifest notation pushes for an envelope:
// the notation config, the envelope as the one layer, the image as the
// subject, the chain thumbprints and the signing time as annotations.
func signatureManifest(subject ocispec.Descriptor, mt string, env []byte, chain []*x509.Certificate, signed time.Time) ([]byte, error) {
	thumbs := make([]string, len(chain))
	for i, c := range chain {
		sum := sha256.Sum256(c.Raw)
		thumbs[i] = hex.EncodeToString(sum[:])
	}
	tj, err := json.Marshal(thumbs)
	if err != nil {
		return nil, fmt.Errorf("encode thumbprints: %w", err)
	}
	if signed.IsZero() {
		return nil, fmt.Errorf("envelope has no signing time")
	}
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{
			MediaType: ArtifactType,
			Digest:    digest.FromBytes(emptyConfig),
			Size:      int64(len(emptyConfig)),
		},
		Layers:  []ocispec.Descriptor{{MediaType: mt, Digest: digest.FromBytes(env), Size: int64(len(env))}},
		Subject: &subject,
		Annotations: map[string]string{
			AnnotationThumbprints:     string(tj),
			ocispec.AnnotationCreated: signed.UTC().Format(time.RFC3339),
		},
	}
	m.SchemaVersion = 2
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode signature manifest: %w", err)
	}
	return b, nil
}

// push uploads the config and the envelope, then the manifest by digest.
// remote.Put updates the subject's referrers tag index when the registry
// has no referrers API.
func push(repo name.Repository, manifest []byte, mt string, env []byte, ropts []remote.Option) (name.Digest, error) {
	for _, l := range []v1.Layer{
		static.NewLayer(emptyConfig, types.MediaType(ArtifactType)),
		static.NewLayer(env, types.MediaType(mt)),
	} {
		if err := remote.WriteLayer(repo, l, ropts...); err != nil {
			return name.Digest{}, fmt.Errorf("push blob: %w", err)
		}
	}
	h, _, err := v1.SHA256(bytes.NewReader(manifest))
	if err != nil {
		return name.Digest{}, fmt.Errorf("hash signature manifest: %w", err)
	}
	md := repo.Digest(h.String())
	if err := remote.Put(md, rawManifest(manifest), ropts...); err != nil {
		return name.Digest{}, fmt.Errorf("push signature manifest: %w", err)
	}
	return md, nil
}

// rawManifest is an OCI image manifest ready to put.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
