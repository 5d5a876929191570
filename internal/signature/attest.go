package signature

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

const (
	// DSSEMediaType is the media type of an attestation layer: a DSSE
	// envelope in JSON.
	DSSEMediaType types.MediaType = "application/vnd.dsse.envelope.v1+json"
	// InTotoPayloadType is the DSSE payload type of an in-toto Statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
	// StatementV01 is the _type of the in-toto Statements Attest writes,
	// the version cosign v2 writes.
	StatementV01 = "https://in-toto.io/Statement/v0.1"
	// StatementV1 is the _type of in-toto Statement v1, which
	// VerifyAttestations also accepts.
	StatementV1 = "https://in-toto.io/Statement/v1"
	// PredicateTypeAnnotation is the attestation layer annotation naming
	// the statement's predicate type, as cosign writes it.
	PredicateTypeAnnotation = "predicateType"
	// PredicateCycloneDX is the predicate type of a CycloneDX SBOM
	// (cosign's --type cyclonedx).
	PredicateCycloneDX = "https://cyclonedx.org/bom"
	// PredicateVuln is the predicate type of cosign's vulnerability scan
	// attestation (cosign's --type vuln); see NewVulnPredicate.
	PredicateVuln = "https://cosign.sigstore.dev/attestation/vuln/v1"
	// attSuffix ends the tag that stores an image's attestations.
	attSuffix = ".att"
)

// MaxAttestationSize bounds the attestation layers (DSSE envelopes)
// VerifyAttestations reads and ParseAttestation accepts. An SBOM of a
// large image is several MiB once base64-encoded.
const MaxAttestationSize = 32 << 20

// ErrNoAttestations means the image has no attestation image at all.
var ErrNoAttestations = errors.New("no attestations")

// ErrPredicateMismatch means an attestation verified but carries another
// predicate type than the one asked for. A *VerificationError wraps it
// like the other reasons (ErrBadSignature, ErrBadPayload,
// ErrDigestMismatch).
var ErrPredicateMismatch = errors.New("predicate type mismatch")

// Statement is an in-toto Statement (v0.1 or v1).
type Statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []Subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is one artifact a Statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Attestation is what Attest stored.
type Attestation struct {
	// Image is the attested image, by digest.
	Image name.Digest
	// Tag is the tag of the attestation image, sha256-<hex>.att.
	Tag name.Tag
	// Statement is the signed in-toto Statement.
	Statement []byte
	// Envelope is the DSSE envelope stored as the layer.
	Envelope []byte
}

// VerifiedAttestation is one attestation that passed.
type VerifiedAttestation struct {
	// Image is the verified image, by digest.
	Image name.Digest
	// Statement is the parsed statement.
	Statement *Statement
	// Raw is the statement as signed.
	Raw []byte
	// Layer is the digest of the attestation layer.
	Layer v1.Hash
}

// Attest attests the image ref names, cosign-style: it resolves ref to its
// manifest digest, builds an in-toto Statement v0.1 whose subject is ref's
// repository at that digest and whose predicate is predicate (which must
// be JSON) of type predicateType, signs it in a DSSE envelope with signer,
// and appends the envelope as a layer (annotated with predicateType) to
// the attestation image tagged sha256-<hex>.att, created when absent,
// earlier attestations kept. opts.Annotations are ignored. Errors are
// registry errors, signing errors, an invalid predicate or predicate type,
// or an envelope larger than MaxAttestationSize.
func Attest(ctx context.Context, ref name.Reference, signer crypto.Signer, predicateType string, predicate []byte, opts SignOptions) (Attestation, error) {
	if predicateType == "" {
		return Attestation{}, errors.New("attest: empty predicate type")
	}
	if !json.Valid(predicate) {
		return Attestation{}, errors.New("attest: predicate is not JSON")
	}
	ropts := remoteOptions(ctx, opts.RemoteOptions)
	dig, err := resolve(ref, ropts)
	if err != nil {
		return Attestation{}, err
	}
	h := mustHash(dig)
	stmt, err := json.Marshal(Statement{
		Type:          StatementV01,
		Subject:       []Subject{{Name: ref.Context().Name(), Digest: map[string]string{h.Algorithm: h.Hex}}},
		PredicateType: predicateType,
		Predicate:     json.RawMessage(predicate),
	})
	if err != nil {
		return Attestation{}, fmt.Errorf("attest %s: %w", dig, err)
	}
	es, err := dsse.NewEnvelopeSigner(dsseKey{signer: signer})
	if err != nil {
		return Attestation{}, fmt.Errorf("attest %s: %w", dig, err)
	}
	env, err := es.SignPayload(ctx, InTotoPayloadType, stmt)
	if err != nil {
		return Attestation{}, fmt.Errorf("sign %s: %w", dig, err)
	}
	envBytes, err := json.Marshal(env)
	if err != nil {
		return Attestation{}, fmt.Errorf("attest %s: %w", dig, err)
	}
	if len(envBytes) > MaxAttestationSize {
		return Attestation{}, fmt.Errorf("attest %s: envelope of %d bytes, more than %d", dig, len(envBytes), MaxAttestationSize)
	}
	tag := attTag(dig)
	base, err := sigImage(tag, ropts)
	switch {
	case errors.Is(err, ErrNoSignatures):
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	case err != nil:
		return Attestation{}, err
	}
	out := Attestation{Image: dig, Tag: tag, Statement: stmt, Envelope: envBytes}
	dup, err := hasBlob(base, envBytes)
	if err != nil {
		return Attestation{}, fmt.Errorf("read %s: %w", tag, err)
	}
	if dup {
		// A deterministic (Ed25519) attestation already stored.
		return out, nil
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: static.NewLayer(envBytes, DSSEMediaType),
		// cosign requires the signature annotation on every layer of the
		// tag; for an attestation it is empty, the signature being in the
		// envelope.
		Annotations: map[string]string{PredicateTypeAnnotation: predicateType, SignatureAnnotation: ""},
	})
	if err != nil {
		return Attestation{}, fmt.Errorf("append attestation: %w", err)
	}
	if err := remote.Write(tag, img, ropts...); err != nil {
		return Attestation{}, fmt.Errorf("push %s: %w", tag, err)
	}
	return out, nil
}

// VerifyAttestations checks the attestations of the image ref names with
// pub. It resolves ref to its manifest digest, reads the attestation image
// for that digest and accepts each attestation whose DSSE envelope
// verifies with pub, whose payload is an in-toto Statement (v0.1 or v1)
// with a subject of that digest, and whose predicate type is
// predicateType ("" accepts any). It returns the accepted attestations.
// opts.Annotations are ignored.
//
// Errors: one wrapping ErrNoAttestations when the digest has no
// attestation image (or it holds no layers); a *VerificationError when
// attestations exist but none passes, wrapping ErrBadSignature,
// ErrBadPayload, ErrDigestMismatch or ErrPredicateMismatch per
// attestation; any other error is a registry or transport failure, or an
// attestation image of more than MaxSignatures layers.
func VerifyAttestations(ctx context.Context, ref name.Reference, pub crypto.PublicKey, predicateType string, opts VerifyOptions) ([]VerifiedAttestation, error) {
	ropts := remoteOptions(ctx, opts.RemoteOptions)
	dig, err := resolve(ref, ropts)
	if err != nil {
		return nil, err
	}
	img, err := sigImage(attTag(dig), ropts)
	if errors.Is(err, ErrNoSignatures) {
		return nil, fmt.Errorf("verify attestations of %s: %w", dig, ErrNoAttestations)
	}
	if err != nil {
		return nil, fmt.Errorf("verify attestations of %s: %w", dig, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("verify attestations of %s: read attestations: %w", dig, err)
	}
	if len(m.Layers) == 0 {
		return nil, fmt.Errorf("verify attestations of %s: %w", dig, ErrNoAttestations)
	}
	if len(m.Layers) > MaxSignatures {
		return nil, fmt.Errorf("verify attestations of %s: %d attestations, more than %d", dig, len(m.Layers), MaxSignatures)
	}
	verifier, err := dsse.NewEnvelopeVerifier(dsseKey{pub: pub})
	if err != nil {
		return nil, fmt.Errorf("verify attestations of %s: %w", dig, err)
	}
	want := mustHash(dig)
	var (
		ok   []VerifiedAttestation
		errs []error
	)
	for i, desc := range m.Layers {
		raw, err := readBlob(img, desc, MaxAttestationSize)
		if err != nil {
			return nil, fmt.Errorf("verify attestations of %s: %w", dig, err)
		}
		v, err := checkAttestation(ctx, verifier, desc, raw, want, predicateType)
		if err != nil {
			errs = append(errs, fmt.Errorf("attestation %d (layer %s): %w", i+1, desc.Digest, err))
			continue
		}
		v.Image, v.Layer = dig, desc.Digest
		ok = append(ok, v)
	}
	if len(ok) > 0 {
		return ok, nil
	}
	verr := &VerificationError{Ref: dig.String(), errs: errs}
	for _, e := range errs {
		verr.Reasons = append(verr.Reasons, e.Error())
	}
	return nil, verr
}

// checkAttestation applies every rule to one attestation layer.
func checkAttestation(ctx context.Context, verifier *dsse.EnvelopeVerifier, desc v1.Descriptor, raw []byte, want v1.Hash, predicateType string) (VerifiedAttestation, error) {
	if desc.MediaType != DSSEMediaType {
		return VerifiedAttestation{}, fmt.Errorf("%w: layer media type %q", ErrBadPayload, desc.MediaType)
	}
	if raw == nil {
		return VerifiedAttestation{}, fmt.Errorf("%w: layer of %d bytes, more than %d", ErrBadPayload, desc.Size, MaxAttestationSize)
	}
	env, err := parseEnvelope(raw)
	if err != nil {
		return VerifiedAttestation{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if _, err := verifier.Verify(ctx, env); err != nil {
		return VerifiedAttestation{}, fmt.Errorf("%w: envelope: %v", ErrBadSignature, err)
	}
	payload, st, err := parseStatement(env)
	if err != nil {
		return VerifiedAttestation{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if !st.names(want) {
		return VerifiedAttestation{}, fmt.Errorf("%w: statement subjects %s, image is %s", ErrDigestMismatch, st.digests(), want)
	}
	if predicateType != "" && st.PredicateType != predicateType {
		return VerifiedAttestation{}, fmt.Errorf("%w: predicate type %q, want %q", ErrPredicateMismatch, st.PredicateType, predicateType)
	}
	return VerifiedAttestation{Statement: st, Raw: payload}, nil
}

// ParseAttestation parses an attestation layer: a DSSE envelope of payload
// type InTotoPayloadType holding an in-toto Statement (v0.1 or v1) with at
// least one subject and a predicate type. It checks no signature. It
// returns the statement and its bytes, or an error for input over
// MaxAttestationSize, input that is not such an envelope, or a statement
// that does not parse.
func ParseAttestation(raw []byte) (*Statement, []byte, error) {
	env, err := parseEnvelope(raw)
	if err != nil {
		return nil, nil, err
	}
	payload, st, err := parseStatement(env)
	if err != nil {
		return nil, nil, err
	}
	return st, payload, nil
}

func parseEnvelope(raw []byte) (*dsse.Envelope, error) {
	if len(raw) > MaxAttestationSize {
		return nil, fmt.Errorf("envelope of %d bytes, more than %d", len(raw), MaxAttestationSize)
	}
	var env dsse.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("envelope is not JSON: %w", err)
	}
	if env.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("envelope payload type %.64q, want %q", env.PayloadType, InTotoPayloadType)
	}
	if len(env.Signatures) == 0 {
		return nil, errors.New("envelope has no signatures")
	}
	return &env, nil
}

func parseStatement(env *dsse.Envelope) ([]byte, *Statement, error) {
	payload, err := env.DecodeB64Payload()
	if err != nil {
		return nil, nil, fmt.Errorf("envelope payload: %w", err)
	}
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, nil, fmt.Errorf("statement is not JSON: %w", err)
	}
	switch {
	case st.Type != StatementV01 && st.Type != StatementV1:
		return nil, nil, fmt.Errorf("statement _type %.64q, want %q or %q", st.Type, StatementV01, StatementV1)
	case len(st.Subject) == 0:
		return nil, nil, errors.New("statement has no subject")
	case st.PredicateType == "":
		return nil, nil, errors.New("statement has no predicate type")
	}
	return payload, &st, nil
}

// names reports whether a subject of the statement has digest h.
func (s *Statement) names(h v1.Hash) bool {
	for _, sub := range s.Subject {
		if sub.Digest[h.Algorithm] == h.Hex {
			return true
		}
	}
	return false
}

// digests lists the subject digests, for error messages.
func (s *Statement) digests() []string {
	var out []string
	for _, sub := range s.Subject {
		if hex, ok := sub.Digest["sha256"]; ok {
			out = append(out, "sha256:"+hex)
		}
	}
	return out
}

// attTag returns the tag storing the attestations of dig: sha256-<hex>.att.
func attTag(dig name.Digest) name.Tag {
	h := mustHash(dig)
	return dig.Context().Tag(h.Algorithm + "-" + h.Hex + attSuffix)
}

// hasBlob reports whether img already has a layer holding data.
func hasBlob(img v1.Image, data []byte) (bool, error) {
	m, err := img.Manifest()
	if err != nil {
		return false, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return false, err
	}
	for _, l := range m.Layers {
		if l.Digest == h {
			return true, nil
		}
	}
	return false, nil
}

// readBlob returns the bytes of one layer, bounded by limit and checked
// against its digest. Only read errors are returned; an oversized layer
// comes back as nil bytes for the caller to reject.
func readBlob(img v1.Image, desc v1.Descriptor, limit int64) ([]byte, error) {
	if desc.Size > limit || desc.Size < 0 {
		return nil, nil
	}
	l, err := img.LayerByDigest(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if h != desc.Digest || int64(len(raw)) != desc.Size {
		return nil, fmt.Errorf("layer %s: content does not match its descriptor", desc.Digest)
	}
	return raw, nil
}

// dsseKey adapts a key to go-securesystemslib's DSSE signer and verifier,
// signing and checking the PAE bytes as signPayload and checkSignature do
// (the way cosign signs DSSE envelopes). Its key ID is empty, as in
// cosign's envelopes.
type dsseKey struct {
	signer crypto.Signer
	pub    crypto.PublicKey
}

func (k dsseKey) Sign(_ context.Context, data []byte) ([]byte, error) {
	return signPayload(k.signer, data)
}

func (k dsseKey) Verify(_ context.Context, data, sig []byte) error {
	return checkSignature(k.pub, data, sig)
}

func (k dsseKey) KeyID() (string, error) { return "", nil }

func (k dsseKey) Public() crypto.PublicKey { return k.pub }

// VulnPredicate is the predicate of cosign's vulnerability attestation
// (PredicateVuln): the scan result goes in Scanner.Result.
type VulnPredicate struct {
	Invocation VulnInvocation `json:"invocation"`
	Scanner    VulnScanner    `json:"scanner"`
	Metadata   VulnMetadata   `json:"metadata"`
}

// VulnInvocation says what ran the scan.
type VulnInvocation struct {
	Parameters any    `json:"parameters"`
	URI        string `json:"uri"`
	EventID    string `json:"event_id"`
	BuilderID  string `json:"builder.id"`
}

// VulnScanner names the scanner, its database and holds its result.
type VulnScanner struct {
	URI     string          `json:"uri"`
	Version string          `json:"version"`
	DB      VulnDB          `json:"db"`
	Result  json.RawMessage `json:"result"`
}

// VulnDB names the vulnerability database of a scan.
type VulnDB struct {
	URI     string `json:"uri"`
	Version string `json:"version"`
}

// VulnMetadata holds the times of a scan.
type VulnMetadata struct {
	ScanStartedOn  time.Time `json:"scanStartedOn"`
	ScanFinishedOn time.Time `json:"scanFinishedOn"`
}

// NewVulnPredicate returns cosign's vulnerability predicate holding result
// (a scan report in JSON, such as kubeshield.scan/v1) as the result of the
// scanner named by scannerURI and version. It returns an error when result
// is not JSON.
func NewVulnPredicate(result []byte, scannerURI, version string, started, finished time.Time) ([]byte, error) {
	if !json.Valid(result) {
		return nil, errors.New("vulnerability predicate: result is not JSON")
	}
	return json.Marshal(VulnPredicate{
		Scanner:  VulnScanner{URI: scannerURI, Version: version, Result: json.RawMessage(result)},
		Metadata: VulnMetadata{ScanStartedOn: started.UTC(), ScanFinishedOn: finished.UTC()},
	})
}
