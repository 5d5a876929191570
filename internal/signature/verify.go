package signature

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ErrNoSignatures means the image has no signature image at all.
var ErrNoSignatures = errors.New("no signatures")

// What was wrong with one signature. A *VerificationError wraps the ones
// that occurred, so errors.Is(err, ErrDigestMismatch) tells whether some
// signature was rejected for that reason.
var (
	// ErrBadSignature: the signature is missing, malformed, or does not
	// match the payload and key.
	ErrBadSignature = errors.New("bad signature")
	// ErrBadPayload: the signed payload is not a valid simple-signing
	// payload, or the layer is not a signature layer.
	ErrBadPayload = errors.New("bad payload")
	// ErrDigestMismatch: the payload signs another manifest digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrIdentityMismatch: the payload names another repository.
	ErrIdentityMismatch = errors.New("identity mismatch")
	// ErrMissingAnnotation: a required annotation is absent or different.
	ErrMissingAnnotation = errors.New("missing annotation")
)

// MaxSignatures bounds the signature layers Verify reads for one image;
// more is an error.
const MaxSignatures = 256

// VerificationError means signatures exist but none satisfies the policy.
type VerificationError struct {
	// Ref is the verified image, by digest.
	Ref string
	// Reasons says, per signature, why it was rejected.
	Reasons []string

	errs []error
}

// Error implements error.
func (e *VerificationError) Error() string {
	return fmt.Sprintf("verify %s: no valid signature: %s", e.Ref, strings.Join(e.Reasons, "; "))
}

// Unwrap returns the per-signature errors, each wrapping one of
// ErrBadSignature, ErrBadPayload, ErrDigestMismatch, ErrIdentityMismatch,
// ErrMissingAnnotation, or, for Sigstore bundles, ErrCertificateIdentity,
// ErrUntrustedCertificate or ErrTransparencyLog.
func (e *VerificationError) Unwrap() []error { return e.errs }

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Annotations must all be present, with these values, in a payload's
	// optional section.
	Annotations map[string]string
	// RemoteOptions are passed to every registry call (see SignOptions).
	RemoteOptions []remote.Option
}

// Verified is one signature that passed.
type Verified struct {
	// Format is FormatCosign, FormatBundle or FormatNotation.
	Format string
	// Digest is the image manifest digest the signature is bound to.
	Digest v1.Hash
	// Signer says who signed, as the policy saw it: "key" for a public
	// key, the certificate's identity and OIDC issuer for a keyless
	// signature, the signing certificate's subject for Notation.
	Signer string
	// Payload is the parsed simple-signing payload (FormatCosign only).
	Payload *Payload
	// Raw is the payload as signed: the simple-signing JSON, the DSSE
	// payload of a bundle, or the Notation signature's payload.
	Raw []byte
	// Layer is the digest of the signature layer (FormatCosign) or of the
	// referrer manifest holding the signature (the other formats).
	Layer v1.Hash
}

// Verify checks the cosign signatures of the image ref names with pub. It
// resolves ref to its manifest digest, reads the signature image for that
// digest and accepts each signature whose signature verifies over the
// payload, whose payload names that digest and ref's repository, and which
// carries the required annotations. It returns the accepted signatures.
//
// Errors: one wrapping ErrNoSignatures when the digest has no signature
// image (or it holds no layers); a *VerificationError when signatures exist
// but none passes; any other error is a registry or transport failure, or a
// signature image of more than MaxSignatures layers.
func Verify(ctx context.Context, ref name.Reference, pub crypto.PublicKey, opts VerifyOptions) ([]Verified, error) {
	ropts := remoteOptions(ctx, opts.RemoteOptions)
	dig, err := resolve(ref, ropts)
	if err != nil {
		return nil, err
	}
	return verifyDigest(dig, pub, opts.Annotations, ropts)
}

// verifyDigest is Verify for a resolved digest; ropts carry the context.
func verifyDigest(dig name.Digest, pub crypto.PublicKey, required map[string]string, ropts []remote.Option) ([]Verified, error) {
	img, err := sigImage(sigTag(dig), ropts)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dig, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("verify %s: read signatures: %w", dig, err)
	}
	if len(m.Layers) == 0 {
		return nil, fmt.Errorf("verify %s: %w", dig, ErrNoSignatures)
	}
	if len(m.Layers) > MaxSignatures {
		return nil, fmt.Errorf("verify %s: %d signatures, more than %d", dig, len(m.Layers), MaxSignatures)
	}
	want := mustHash(dig)
	repo := dig.Context().Name()
	var (
		ok   []Verified
		errs []error
	)
	for i, desc := range m.Layers {
		raw, err := readBlob(img, desc, MaxPayloadSize)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", dig, err)
		}
		p, err := check(desc, raw, pub, want, repo, required)
		if err != nil {
			errs = append(errs, fmt.Errorf("signature %d (layer %s): %w", i+1, desc.Digest, err))
			continue
		}
		ok = append(ok, Verified{Format: FormatCosign, Digest: want, Signer: "key", Payload: p, Raw: raw, Layer: desc.Digest})
	}
	if len(ok) > 0 {
		return ok, nil
	}
	return nil, NewVerificationError(dig.String(), errs)
}

// check applies every rule to one signature layer.
func check(desc v1.Descriptor, raw []byte, pub crypto.PublicKey, want v1.Hash, repo string, required map[string]string) (*Payload, error) {
	if desc.MediaType != SimpleSigningMediaType {
		return nil, fmt.Errorf("%w: layer media type %q", ErrBadPayload, desc.MediaType)
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: layer of %d bytes, more than %d", ErrBadPayload, desc.Size, MaxPayloadSize)
	}
	b64, found := desc.Annotations[SignatureAnnotation]
	if !found || b64 == "" {
		return nil, fmt.Errorf("%w: no %s annotation", ErrBadSignature, SignatureAnnotation)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: annotation is not base64: %v", ErrBadSignature, err)
	}
	if err := checkSignature(pub, raw, sig); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	p, err := ParsePayload(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if got, _ := p.Digest(); got != want {
		return nil, fmt.Errorf("%w: payload signs %s, image is %s", ErrDigestMismatch, got, want)
	}
	if got := p.Critical.Identity.DockerReference; got != repo {
		return nil, fmt.Errorf("%w: payload names %q, image is in %q", ErrIdentityMismatch, got, repo)
	}
	for _, k := range slices.Sorted(maps.Keys(required)) {
		got, ok := p.Annotation(k)
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: %s", ErrMissingAnnotation, k)
		case got != required[k]:
			return nil, fmt.Errorf("%w: %s is %q, want %q", ErrMissingAnnotation, k, got, required[k])
		}
	}
	return p, nil
}
