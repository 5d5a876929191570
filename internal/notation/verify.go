package notation

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	coresig "github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// What was wrong with one Notation signature. Each per-signature error of
// a *signature.VerificationError from VerifyDigest wraps one of these or
// signature.ErrDigestMismatch (the payload signs another manifest, or the
// signature manifest refers to another image).
var (
	// ErrNoTrustPolicy: no trust policy statement's registryScopes covers
	// the image's repository.
	ErrNoTrustPolicy = errors.New("no applicable trust policy")
	// ErrUntrustedSigner: the signing certificate chain does not lead to
	// a certificate of the policy's trust stores.
	ErrUntrustedSigner = errors.New("untrusted signer")
	// ErrUntrustedIdentity: the signing certificate's subject matches
	// none of the policy's trustedIdentities.
	ErrUntrustedIdentity = errors.New("untrusted identity")
	// ErrTampered: the envelope does not parse or its signature does not
	// verify (integrity).
	ErrTampered = errors.New("tampered envelope")
	// ErrExpired: the signature has expired, or the signing certificate
	// was not valid at the (authentic) signing time.
	ErrExpired = errors.New("expired signature")
	// ErrRevoked: a certificate of the chain is revoked, or its status
	// could not be checked where the policy enforces revocation.
	ErrRevoked = errors.New("revoked certificate")
	// ErrMalformed: the referrer is not a well-formed Notation signature
	// manifest (layer count, media types, sizes, content digests), or
	// notation-go could not decide (a plugin is required, say).
	ErrMalformed = errors.New("malformed signature")
)

// Bounds on what VerifyDigest reads for one image.
const (
	// MaxSignatures bounds the Notation signatures of one image; more is
	// an error.
	MaxSignatures = 64
	// MaxManifestSize bounds a signature manifest, in bytes.
	MaxManifestSize = 4 << 20
	// MaxEnvelopeSize bounds a signature envelope, in bytes.
	MaxEnvelopeSize = 4 << 20
)

// Verifier verifies Notation signatures under one trust policy and trust
// store; it implements signature.Verifier and is safe for concurrent use.
type Verifier struct {
	doc    *trustpolicy.Document
	nv     notation.Verifier
	policy string
}

// skipper is the optional method notation-go's verifier has for the skip
// level.
type skipper interface {
	SkipVerify(ctx context.Context, opts notation.VerifierVerifyOptions) (bool, *trustpolicy.VerificationLevel, error)
}

// NewVerifier returns a Verifier for the trust policy document policyJSON
// (see ParsePolicy) and the trust store directory trustStoreDir, laid out
// as notation lays out {NOTATION_CONFIG}/truststore:
//
//	trustStoreDir/x509/ca/NAME/*.crt|*.pem               (policy "ca:NAME")
//	trustStoreDir/x509/signingAuthority/NAME/*.crt|*.pem (policy "signingAuthority:NAME")
//	trustStoreDir/x509/tsa/NAME/*.crt|*.pem              (policy "tsa:NAME")
//
// Every store the policy names is read now, with notation-go's rules (CA
// or self-signed certificates, regular files only); later changes to the
// directory are not seen. Errors: an invalid policy, or a named store
// that is missing, empty or holds an unusable certificate.
func NewVerifier(policyJSON []byte, trustStoreDir string) (*Verifier, error) {
	doc, err := ParsePolicy(policyJSON)
	if err != nil {
		return nil, err
	}
	ts, err := loadTrustStore(doc, trustStoreDir)
	if err != nil {
		return nil, err
	}
	h, err := policyHash(doc, ts)
	if err != nil {
		return nil, err
	}
	nv, err := verifier.NewWithOptions(doc, ts, nil, verifier.VerifierOptions{})
	if err != nil {
		return nil, fmt.Errorf("notation verifier: %w", err)
	}
	return &Verifier{doc: doc, nv: nv, policy: "notation:" + h}, nil
}

// Policy implements signature.Verifier: "notation:" and the hex SHA-256 of
// the re-encoded policy document and of the certificates of every store it
// names.
func (v *Verifier) Policy() string { return v.policy }

// VerifyDigest implements signature.Verifier. It applies the trust policy
// statement whose registryScopes covers dig's repository (registry
// index.docker.io is named docker.io, as notation names it) and follows
// its signatureVerification level as notation does:
//
//   - strict and permissive accept a signature only when it is intact,
//     from a trusted signer and identity (and, for strict, unexpired and
//     unrevoked);
//   - audit enforces integrity only: an intact signature from an untrusted
//     signer is accepted (notation logs the failures; VerifyDigest does
//     not report them);
//   - skip reads nothing from the registry and returns one Verified with
//     an empty Signer, Raw and Layer: the image is accepted unsigned.
//
// Every accepted signature must also sign dig's exact descriptor (digest,
// size, media type). Errors: one wrapping signature.ErrNoSignatures when
// dig has no Notation referrer; a *signature.VerificationError when all
// are rejected; any other error is a registry failure or more than
// MaxSignatures signatures.
func (v *Verifier) VerifyDigest(ctx context.Context, dig name.Digest, ropts []remote.Option) ([]signature.Verified, error) {
	want, err := v1.NewHash(dig.DigestStr())
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dig, err)
	}
	ref := artifactReference(dig)
	if s, ok := v.nv.(skipper); ok {
		skip, _, err := s.SkipVerify(ctx, notation.VerifierVerifyOptions{ArtifactReference: ref})
		if err == nil && skip {
			return []signature.Verified{{Format: signature.FormatNotation, Digest: want}}, nil
		}
		// Without an applicable policy, go on: no signature is still
		// ErrNoSignatures, and each signature is rejected with
		// ErrNoTrustPolicy.
	}
	ro := remoteOptions(ctx, ropts)
	target, err := resolve(dig, ro)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dig, err)
	}
	sigs, err := listSignatures(dig, ro)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dig, err)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("verify %s: %w", dig, signature.ErrNoSignatures)
	}
	var (
		ok   []signature.Verified
		errs []error
	)
	for _, sd := range sigs {
		got, err := v.verifyOne(ctx, dig, ref, target, sd, ro)
		var rej *rejectError
		switch {
		case err == nil:
			ok = append(ok, got)
		case errors.As(err, &rej):
			errs = append(errs, fmt.Errorf("signature %s: %w", sd.Digest, rej.err))
		default:
			return nil, fmt.Errorf("verify %s: %w", dig, err)
		}
	}
	if len(ok) > 0 {
		return ok, nil
	}
	return nil, signature.NewVerificationError(dig.String(), errs)
}

// rejectError marks a signature that was read and rejected, as opposed to
// a registry failure.
type rejectError struct{ err error }

func (e *rejectError) Error() string { return e.err.Error() }

func reject(format string, args ...any) error {
	return &rejectError{err: fmt.Errorf(format, args...)}
}

// verifyOne fetches one signature manifest and its envelope and verifies
// it.
func (v *Verifier) verifyOne(ctx context.Context, dig name.Digest, ref string, target ocispec.Descriptor, sd v1.Descriptor, ro []remote.Option) (signature.Verified, error) {
	layer, err := fetchManifest(dig, sd, ro)
	if err != nil {
		return signature.Verified{}, err
	}
	env, err := fetchEnvelope(dig.Context(), layer, ro)
	if err != nil {
		return signature.Verified{}, err
	}
	out, verr := v.nv.Verify(ctx, target, env, notation.VerifierVerifyOptions{
		ArtifactReference:  ref,
		SignatureMediaType: string(layer.MediaType),
	})
	if verr != nil {
		return signature.Verified{}, &rejectError{err: classify(verr, out, target)}
	}
	if out == nil || out.EnvelopeContent == nil || len(out.EnvelopeContent.SignerInfo.CertificateChain) == 0 {
		return signature.Verified{}, reject("%w: notation returned no envelope content", ErrMalformed)
	}
	if err := checkTarget(out.EnvelopeContent.Payload.Content, target); err != nil {
		return signature.Verified{}, &rejectError{err: err}
	}
	h, _ := v1.NewHash(target.Digest.String())
	return signature.Verified{
		Format: signature.FormatNotation,
		Digest: h,
		Signer: out.EnvelopeContent.SignerInfo.CertificateChain[0].Subject.String(),
		Raw:    out.EnvelopeContent.Payload.Content,
		Layer:  sd.Digest,
	}, nil
}

// artifactReference names dig as notation's trust policy scopes do:
// REGISTRY/REPOSITORY@DIGEST, Docker Hub as docker.io.
func artifactReference(dig name.Digest) string {
	reg := dig.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + dig.Context().RepositoryStr() + "@" + dig.DigestStr()
}

// listSignatures returns the referrers of dig whose artifact type is
// ArtifactType: the referrers API, else the referrers tag.
func listSignatures(dig name.Digest, ro []remote.Option) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(dig, append(ro, remote.WithFilter("artifactType", ArtifactType))...)
	if err != nil {
		return nil, fmt.Errorf("list referrers: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("list referrers: %w", err)
	}
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		if d.ArtifactType != ArtifactType {
			continue
		}
		out = append(out, d)
	}
	if len(out) > MaxSignatures {
		return nil, fmt.Errorf("%d Notation signatures, more than %d", len(out), MaxSignatures)
	}
	return out, nil
}

// fetchManifest reads the signature manifest sd and returns its envelope
// layer. A manifest that is not a Notation signature of dig is a
// rejection.
func fetchManifest(dig name.Digest, sd v1.Descriptor, ro []remote.Option) (v1.Descriptor, error) {
	if sd.MediaType != types.OCIManifestSchema1 {
		return v1.Descriptor{}, reject("%w: manifest media type %q", ErrMalformed, sd.MediaType)
	}
	if sd.Size > MaxManifestSize {
		return v1.Descriptor{}, reject("%w: manifest of %d bytes, more than %d", ErrMalformed, sd.Size, MaxManifestSize)
	}
	d, err := remote.Get(dig.Context().Digest(sd.Digest.String()), ro...)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read signature manifest %s: %w", sd.Digest, err)
	}
	if int64(len(d.Manifest)) > MaxManifestSize {
		return v1.Descriptor{}, reject("%w: manifest of %d bytes, more than %d", ErrMalformed, len(d.Manifest), MaxManifestSize)
	}
	var m v1.Manifest
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		return v1.Descriptor{}, reject("%w: manifest: %v", ErrMalformed, err)
	}
	switch {
	case m.Subject == nil:
		return v1.Descriptor{}, reject("%w: manifest has no subject", ErrMalformed)
	case m.Subject.Digest.String() != dig.DigestStr():
		return v1.Descriptor{}, reject("%w: manifest refers to %s", signature.ErrDigestMismatch, m.Subject.Digest)
	case len(m.Layers) != 1:
		return v1.Descriptor{}, reject("%w: %d layers, want 1", ErrMalformed, len(m.Layers))
	}
	l := m.Layers[0]
	if l.MediaType != MediaTypeJWS && l.MediaType != MediaTypeCOSE {
		return v1.Descriptor{}, reject("%w: envelope media type %q", ErrMalformed, l.MediaType)
	}
	if l.Size < 0 || l.Size > MaxEnvelopeSize {
		return v1.Descriptor{}, reject("%w: envelope of %d bytes, more than %d", ErrMalformed, l.Size, MaxEnvelopeSize)
	}
	return l, nil
}

// fetchEnvelope reads the envelope blob l and checks its size and digest.
func fetchEnvelope(repo name.Repository, l v1.Descriptor, ro []remote.Option) ([]byte, error) {
	blob, err := remote.Layer(repo.Digest(l.Digest.String()), ro...)
	if err != nil {
		return nil, fmt.Errorf("read envelope %s: %w", l.Digest, err)
	}
	rc, err := blob.Compressed()
	if err != nil {
		return nil, fmt.Errorf("read envelope %s: %w", l.Digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, l.Size+1))
	if err != nil {
		return nil, fmt.Errorf("read envelope %s: %w", l.Digest, err)
	}
	sum := sha256.Sum256(b)
	if int64(len(b)) != l.Size || l.Digest.Algorithm != "sha256" || fmt.Sprintf("%x", sum) != l.Digest.Hex {
		return nil, reject("%w: envelope content does not match its descriptor %s", ErrMalformed, l.Digest)
	}
	return b, nil
}

// classify turns notation-go's verdict on one signature into an error
// wrapping the sentinel that names what was wrong.
func classify(err error, out *notation.VerificationOutcome, target ocispec.Descriptor) error {
	var np notation.NoApplicableTrustPolicyError
	if errors.As(err, &np) {
		return fmt.Errorf("%w: %v", ErrNoTrustPolicy, err)
	}
	if out != nil {
		for _, r := range out.VerificationResults {
			if r.Error == nil || r.Action != trustpolicy.ActionEnforce {
				continue
			}
			switch r.Type {
			case trustpolicy.TypeIntegrity:
				return fmt.Errorf("%w: %v", ErrTampered, r.Error)
			case trustpolicy.TypeAuthenticity:
				if untrustedSigner(r.Error) {
					return fmt.Errorf("%w: %v", ErrUntrustedSigner, r.Error)
				}
				return fmt.Errorf("%w: %v", ErrUntrustedIdentity, r.Error)
			case trustpolicy.TypeExpiry, trustpolicy.TypeAuthenticTimestamp:
				return fmt.Errorf("%w: %v", ErrExpired, r.Error)
			case trustpolicy.TypeRevocation:
				return fmt.Errorf("%w: %v", ErrRevoked, r.Error)
			}
		}
		if out.EnvelopeContent != nil {
			if terr := checkTarget(out.EnvelopeContent.Payload.Content, target); terr != nil {
				return terr
			}
		}
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// untrustedSigner tells an authenticity failure of the certificate chain
// (not anchored in a trusted store) from one of the trusted identities,
// which notation-go reports as a plain error on the same result.
func untrustedSigner(err error) bool {
	var (
		ae *coresig.SignatureAuthenticityError
		vi notation.VerificationInconclusiveError
		ts truststore.TrustStoreError
		ce truststore.CertificateError
	)
	return errors.As(err, &ae) || errors.As(err, &vi) || errors.As(err, &ts) || errors.As(err, &ce)
}

// checkTarget requires the signed payload's target descriptor to be the
// image's: same digest, size and media type.
func checkTarget(payload []byte, target ocispec.Descriptor) error {
	var p struct {
		TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	t := p.TargetArtifact
	if t.Digest != target.Digest || t.Size != target.Size || t.MediaType != target.MediaType {
		return fmt.Errorf("%w: payload signs %s (%d bytes, %s), image is %s (%d bytes, %s)",
			signature.ErrDigestMismatch, t.Digest, t.Size, t.MediaType, target.Digest, target.Size, target.MediaType)
	}
	return nil
}
