package signature

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Signature formats, as Verified.Format names them.
const (
	// FormatCosign is a cosign v2 simple-signing signature on the
	// sha256-<hex>.sig tag.
	FormatCosign = "cosign"
	// FormatBundle is a Sigstore bundle (cosign v3) attached to the image
	// as an OCI referrer.
	FormatBundle = "sigstore-bundle"
	// FormatNotation is a Notary Project signature attached to the image
	// as an OCI referrer.
	FormatNotation = "notation"
)

// A Verifier checks the signatures of one image digest under one policy:
// a public key, keyless identities under a trusted root, or a Notation
// trust policy. KeyVerifier is the cosign one; the admission webhook holds
// one Verifier per rule and calls it through a Cache.
type Verifier interface {
	// Policy identifies what the verifier requires (keys, identities,
	// trust policy, annotations) as a stable string: two verifiers with
	// the same Policy accept the same signatures. The Cache keys outcomes
	// by it.
	Policy() string
	// VerifyDigest checks the signatures of the image dig names and
	// returns the accepted ones. Errors: one wrapping ErrNoSignatures when
	// the digest has no signature of the verifier's format; a
	// *VerificationError when signatures exist but none passes; any other
	// error is a registry or transport failure.
	VerifyDigest(ctx context.Context, dig name.Digest, ropts []remote.Option) ([]Verified, error)
}

// KeyVerifier verifies cosign v2 signatures (the sha256-<hex>.sig tag)
// with a public key.
type KeyVerifier struct {
	// Key is the public key.
	Key crypto.PublicKey
	// Annotations must all be present, with these values, in a payload's
	// optional section.
	Annotations map[string]string
}

// Policy implements Verifier: a hash of the key and the annotations.
func (k KeyVerifier) Policy() string {
	h, err := policyHash(k.Key, k.Annotations)
	if err != nil {
		// An unusable key verifies nothing; give it a policy of its own
		// that no key shares.
		return "cosign-key:invalid:" + err.Error()
	}
	return "cosign-key:" + h
}

// VerifyDigest implements Verifier; see Verify.
func (k KeyVerifier) VerifyDigest(ctx context.Context, dig name.Digest, ropts []remote.Option) ([]Verified, error) {
	return verifyDigest(dig, k.Key, k.Annotations, remoteOptions(ctx, ropts))
}

// Any accepts an image when at least one of its verifiers does: cosign v2
// signatures and Sigstore bundles checked with the same key, say. The
// accepted signatures of every verifier that passes are returned.
//
// Errors: when every verifier finds no signature, one wrapping
// ErrNoSignatures; when some found signatures and none passed, a
// *VerificationError with the reasons of all; a registry error of any
// verifier is returned as is, since the decision cannot be made without it.
func Any(vs ...Verifier) Verifier { return anyVerifier(vs) }

type anyVerifier []Verifier

func (a anyVerifier) Policy() string {
	parts := make([]string, len(a))
	for i, v := range a {
		parts[i] = v.Policy()
	}
	return "any(" + strings.Join(parts, ",") + ")"
}

func (a anyVerifier) VerifyDigest(ctx context.Context, dig name.Digest, ropts []remote.Option) ([]Verified, error) {
	var (
		ok      []Verified
		verr    = &VerificationError{Ref: dig.String()}
		rejects bool
	)
	for _, v := range a {
		sigs, err := v.VerifyDigest(ctx, dig, ropts)
		var ve *VerificationError
		switch {
		case err == nil:
			ok = append(ok, sigs...)
		case errors.Is(err, ErrNoSignatures):
		case errors.As(err, &ve):
			rejects = true
			verr.Reasons = append(verr.Reasons, ve.Reasons...)
			verr.errs = append(verr.errs, ve.errs...)
		default:
			return nil, err
		}
	}
	switch {
	case len(ok) > 0:
		return ok, nil
	case rejects:
		return nil, verr
	default:
		return nil, fmt.Errorf("verify %s: %w", dig, ErrNoSignatures)
	}
}

// VerifyImage resolves ref to its digest (a HEAD request unless ref is by
// digest) and calls v.VerifyDigest.
func VerifyImage(ctx context.Context, ref name.Reference, v Verifier, ropts []remote.Option) ([]Verified, error) {
	ro := remoteOptions(ctx, ropts)
	dig, err := resolve(ref, ro)
	if err != nil {
		return nil, err
	}
	return v.VerifyDigest(ctx, dig, ro)
}

// NewVerificationError returns the error for ref (an image by digest)
// whose signatures were all rejected, errs giving one reason per
// signature, each wrapping one of the package's sentinel errors where one
// applies. Verifiers of other formats (Notation) build theirs with it.
func NewVerificationError(ref string, errs []error) *VerificationError {
	e := &VerificationError{Ref: ref, errs: slices.Clone(errs)}
	for _, err := range errs {
		e.Reasons = append(e.Reasons, err.Error())
	}
	return e
}
