package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	sigsig "github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
)

const (
	// BundleMediaType is the media type of a Sigstore bundle v0.3 in JSON:
	// the artifact type of the referrer manifest cosign v3 attaches to an
	// image and the media type of its single layer.
	BundleMediaType types.MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// CosignSignPredicateType is the predicate type of the in-toto
	// Statement a cosign v3 image signature signs.
	CosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// BundlePredicateTypeAnnotation is the referrer manifest annotation
	// naming the predicate type of the bundle's statement, as cosign v3
	// writes it.
	BundlePredicateTypeAnnotation = "dev.sigstore.bundle.predicateType"
	// bundleContentAnnotation says what the bundle holds.
	bundleContentAnnotation = "dev.sigstore.bundle.content"
	// bundleMediaPrefix starts the media types of every bundle version
	// (v0.1 and v0.2 are "…bundle+json;version=0.x").
	bundleMediaPrefix = "application/vnd.dev.sigstore.bundle"
	// emptyMediaType is the config media type of an OCI artifact manifest.
	emptyMediaType types.MediaType = "application/vnd.oci.empty.v1+json"
)

// MaxBundleSize bounds the bundles ParseBundle accepts and the bundle
// layers BundleVerifier reads. A signature bundle is a few KiB.
const MaxBundleSize = 1 << 20

// MaxTrustedRootSize bounds the trusted root files LoadTrustedRoot
// accepts. Sigstore's public trusted_root.json is about 10 KiB.
const MaxTrustedRootSize = 4 << 20

// What was wrong with a keyless bundle, besides the reasons verify.go
// defines (ErrBadSignature, ErrBadPayload, ErrDigestMismatch,
// ErrMissingAnnotation). A *VerificationError wraps the ones that occurred.
var (
	// ErrCertificateIdentity: the signing certificate names another
	// subject or OIDC issuer than every wanted CertificateIdentity, or the
	// bundle was signed with a key where a certificate was required.
	ErrCertificateIdentity = errors.New("certificate identity mismatch")
	// ErrUntrustedCertificate: the signing certificate does not chain to a
	// certificate authority of the trusted root (or lacks a required SCT).
	ErrUntrustedCertificate = errors.New("untrusted certificate")
	// ErrTransparencyLog: the bundle has no transparency log entry that
	// verifies against a log of the trusted root (missing entry, bad
	// inclusion proof or checkpoint, entry for other content), or no
	// trusted timestamp for its certificate.
	ErrTransparencyLog = errors.New("transparency log verification failed")
)

// TrustedRoot is a parsed Sigstore trusted root: the certificate
// authorities, transparency logs and timestamp authorities keyless
// signatures are checked against.
type TrustedRoot struct {
	material *root.TrustedRoot
	digest   string
}

// LoadTrustedRoot parses a Sigstore trusted root in JSON, the format of
// TUF's trusted_root.json and of `cosign trusted-root create`. It does no
// I/O. It returns an error for input over MaxTrustedRootSize or input that
// is not a valid trusted root.
func LoadTrustedRoot(data []byte) (*TrustedRoot, error) {
	if len(data) > MaxTrustedRootSize {
		return nil, fmt.Errorf("trusted root: %d bytes, more than %d", len(data), MaxTrustedRootSize)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	sum := sha256.Sum256(data)
	return &TrustedRoot{material: tr, digest: hex.EncodeToString(sum[:])}, nil
}

// Digest returns the hex SHA-256 of the JSON the root was loaded from.
func (t *TrustedRoot) Digest() string { return t.digest }

// Bundle is a parsed Sigstore bundle holding a DSSE envelope, the form of
// a cosign v3 image signature. Nothing in it has been verified.
type Bundle struct {
	// MediaType is the bundle's media type, which names its version.
	MediaType string
	// PayloadType is the DSSE payload type.
	PayloadType string
	// Payload is the DSSE payload, decoded.
	Payload []byte

	entity *sgbundle.Bundle
}

// ParseBundle parses a Sigstore bundle in JSON (versions 0.1 to 0.3) that
// holds a DSSE envelope with one signature. It checks the bundle's shape
// (verification material, inclusion proofs or promises its version
// requires) but no signature. It returns an error for input over
// MaxBundleSize, input that is not a bundle, or a bundle of a message
// signature.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("parse bundle: %d bytes, more than %d", len(data), MaxBundleSize)
	}
	var pb protobundle.Bundle
	if err := protojson.Unmarshal(data, &pb); err != nil {
		return nil, fmt.Errorf("parse bundle: %w", err)
	}
	b, err := sgbundle.NewBundle(&pb)
	if err != nil {
		return nil, fmt.Errorf("parse bundle: %w", err)
	}
	env := pb.GetDsseEnvelope()
	switch {
	case env == nil:
		return nil, errors.New("parse bundle: holds a message signature, not a DSSE envelope")
	case len(env.GetSignatures()) != 1:
		return nil, fmt.Errorf("parse bundle: DSSE envelope has %d signatures, want 1", len(env.GetSignatures()))
	}
	return &Bundle{MediaType: pb.GetMediaType(), PayloadType: env.GetPayloadType(), Payload: env.GetPayload(), entity: b}, nil
}

// signStatement is the part of an in-toto Statement a signature check
// reads; cosign v3 puts its -a annotations in the subject.
type signStatement struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Digest      map[string]string `json:"digest"`
		Annotations map[string]any    `json:"annotations"`
	} `json:"subject"`
}

// statement parses the bundle's payload as an in-toto Statement.
func (b *Bundle) statement() (*signStatement, error) {
	if b.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("DSSE payload type %.64q, want %q", b.PayloadType, InTotoPayloadType)
	}
	var st signStatement
	if err := json.Unmarshal(b.Payload, &st); err != nil {
		return nil, fmt.Errorf("statement is not JSON: %w", err)
	}
	if st.Type != StatementV1 && st.Type != StatementV01 {
		return nil, fmt.Errorf("statement _type %.64q, want %q", st.Type, StatementV1)
	}
	return &st, nil
}

// checkStatement applies the content rules to a verified bundle: a
// signature statement about want carrying the required annotations.
func (b *Bundle) checkStatement(want v1.Hash, required map[string]string) error {
	st, err := b.statement()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if st.PredicateType != CosignSignPredicateType {
		return fmt.Errorf("%w: predicate type %.64q, want %q (an attestation is not a signature)", ErrBadPayload, st.PredicateType, CosignSignPredicateType)
	}
	var got []string
	for _, sub := range st.Subject {
		hex, ok := sub.Digest[want.Algorithm]
		if !ok {
			continue
		}
		if hex != want.Hex {
			got = append(got, want.Algorithm+":"+hex)
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(required)) {
			v, ok := sub.Annotations[k]
			s, isString := v.(string)
			switch {
			case !ok:
				return fmt.Errorf("%w: %s", ErrMissingAnnotation, k)
			case !isString || s != required[k]:
				return fmt.Errorf("%w: %s is %.64s, want %q", ErrMissingAnnotation, k, fmt.Sprint(v), required[k])
			}
		}
		return nil
	}
	return fmt.Errorf("%w: statement subjects %v, image is %s", ErrDigestMismatch, got, want)
}

// CertificateIdentity is a keyless signer: the subject (SAN) and OIDC
// issuer of the signing certificate, each given exactly or as a regular
// expression, as cosign's --certificate-identity[-regexp] and
// --certificate-oidc-issuer[-regexp]. A subject and an issuer (exact or
// regexp) are both required; giving both forms of one requires both.
// Regular expressions are unanchored, as in cosign: write ^…$ to match a
// whole value.
type CertificateIdentity struct {
	// Issuer is the exact OIDC issuer.
	Issuer string
	// IssuerRegexp matches the OIDC issuer.
	IssuerRegexp string
	// Subject is the exact subject alternative name (an e-mail address,
	// a URI such as a CI workflow's).
	Subject string
	// SubjectRegexp matches the subject alternative name.
	SubjectRegexp string
}

// String lists the identity's non-empty fields, for messages.
func (id CertificateIdentity) String() string {
	var parts []string
	for _, f := range []struct{ k, v string }{
		{"subject", id.Subject}, {"subject-regexp", id.SubjectRegexp},
		{"issuer", id.Issuer}, {"issuer-regexp", id.IssuerRegexp},
	} {
		if f.v != "" {
			parts = append(parts, fmt.Sprintf("%s=%q", f.k, f.v))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// BundleOptions says what a BundleVerifier requires: a Key, or
// Identities under a Root.
type BundleOptions struct {
	// Root is the trusted root. Keyless verification requires it. With a
	// Key it is optional: when set, a bundle must also have a
	// transparency log entry that verifies against Root (cosign verify's
	// default); when nil, no log entry is required nor checked (cosign
	// verify --insecure-ignore-tlog), which is how cosign v3 signs offline
	// with a signing config that names no Rekor.
	Root *TrustedRoot
	// Key is the public key of key-based signatures (cosign sign --key).
	Key crypto.PublicKey
	// Identities are the keyless signers accepted; a bundle passes when
	// its certificate matches one. Not allowed with Key.
	Identities []CertificateIdentity
	// Annotations must all be present, with these string values, in the
	// signed statement's subject (cosign sign -a k=v).
	Annotations map[string]string
	// RequireSCT requires a signed certificate timestamp from a CT log of
	// Root in keyless certificates, as cosign verify does by default for
	// the public Fulcio.
	RequireSCT bool
}

// BundleVerifier verifies Sigstore bundles (cosign v3 signatures)
// attached to an image as OCI referrers, offline, with sigstore-go.
// Keyless bundles need a certificate chaining to a certificate authority
// of the trusted root, one transparency log entry whose inclusion proof
// and signed entry timestamp verify against a log of the root (its
// integrated time then dates the certificate; for Rekor v2 entries, which
// have none, an RFC 3161 timestamp of the root is required, as cosign
// does), and a certificate identity among the wanted ones. Every bundle
// must hold a DSSE envelope whose in-toto Statement has predicate type
// CosignSignPredicateType and a subject naming the image digest.
type BundleVerifier struct {
	opts       BundleOptions
	material   root.TrustedMaterial
	identities sgverify.CertificateIdentities
	policy     []sgverify.PolicyOption
	// integrated dates certificates by tlog entries; signed by RFC 3161
	// timestamps (bundles holding only Rekor v2 entries); the key
	// verifier is in integrated.
	integrated, signed *sgverify.Verifier
	policyID           string
}

// NewBundleVerifier returns a verifier for opts. It returns an error when
// opts has neither a key nor identities, has both, has identities without
// a root (or a root without certificate authorities or logs), an identity
// lacking a subject or issuer or with an invalid regular expression, or a
// key of an unsupported type.
func NewBundleVerifier(opts BundleOptions) (*BundleVerifier, error) {
	v := &BundleVerifier{opts: opts}
	v.opts.Identities = slices.Clone(opts.Identities)
	v.opts.Annotations = maps.Clone(opts.Annotations)
	var err error
	switch {
	case opts.Key != nil && len(opts.Identities) > 0:
		return nil, errors.New("bundle verifier: a key or identities, not both")
	case opts.Key != nil:
		err = v.initKey()
	case len(opts.Identities) > 0:
		err = v.initKeyless()
	default:
		return nil, errors.New("bundle verifier: a key or at least one identity is required")
	}
	if err != nil {
		return nil, fmt.Errorf("bundle verifier: %w", err)
	}
	v.policyID, err = v.hashPolicy()
	if err != nil {
		return nil, fmt.Errorf("bundle verifier: %w", err)
	}
	return v, nil
}

func (v *BundleVerifier) initKey() error {
	kv, err := sigsig.LoadVerifier(v.opts.Key, crypto.SHA256)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	key := root.NewExpiringKey(kv, time.Time{}, time.Time{})
	keys := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v.material = root.TrustedMaterialCollection{keys}
	opts := []sgverify.VerifierOption{sgverify.WithNoObserverTimestamps()}
	if v.opts.Root != nil {
		v.material = root.TrustedMaterialCollection{keys, v.opts.Root.material}
		opts = append(opts, sgverify.WithTransparencyLog(1))
	}
	v.policy = []sgverify.PolicyOption{sgverify.WithKey()}
	v.integrated, err = sgverify.NewVerifier(v.material, opts...)
	return err
}

func (v *BundleVerifier) initKeyless() error {
	r := v.opts.Root
	switch {
	case r == nil:
		return errors.New("keyless verification needs a trusted root")
	case len(r.material.FulcioCertificateAuthorities()) == 0:
		return errors.New("trusted root has no certificate authority")
	case len(r.material.RekorLogs()) == 0:
		return errors.New("trusted root has no transparency log")
	}
	for _, id := range v.opts.Identities {
		ci, err := sgverify.NewShortCertificateIdentity(id.Issuer, id.IssuerRegexp, id.Subject, id.SubjectRegexp)
		if err != nil {
			return fmt.Errorf("identity %s: %w", id, err)
		}
		v.identities = append(v.identities, ci)
		v.policy = append(v.policy, sgverify.WithCertificateIdentity(ci))
	}
	v.material = r.material
	common := []sgverify.VerifierOption{sgverify.WithTransparencyLog(1)}
	if v.opts.RequireSCT {
		common = append(common, sgverify.WithSignedCertificateTimestamps(1))
	}
	var err error
	v.integrated, err = sgverify.NewVerifier(v.material, append(slices.Clone(common), sgverify.WithIntegratedTimestamps(1))...)
	if err != nil {
		return err
	}
	v.signed, err = sgverify.NewVerifier(v.material, append(slices.Clone(common), sgverify.WithSignedTimestamps(1))...)
	return err
}

// hashPolicy hashes everything the verifier requires.
func (v *BundleVerifier) hashPolicy() (string, error) {
	h := sha256.New()
	field := func(s string) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	if v.opts.Root != nil {
		field("root:" + v.opts.Root.digest)
	}
	if v.opts.Key != nil {
		der, err := x509.MarshalPKIXPublicKey(v.opts.Key)
		if err != nil {
			return "", fmt.Errorf("public key: %w", err)
		}
		field("key:" + string(der))
	}
	for _, id := range v.opts.Identities {
		field("identity")
		field(id.Subject)
		field(id.SubjectRegexp)
		field(id.Issuer)
		field(id.IssuerRegexp)
	}
	for _, k := range slices.Sorted(maps.Keys(v.opts.Annotations)) {
		field("annotation")
		field(k)
		field(v.opts.Annotations[k])
	}
	if v.opts.RequireSCT {
		field("sct")
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Policy implements Verifier: a hash of the trusted root, the key, the
// identities, the annotations and the SCT requirement.
func (v *BundleVerifier) Policy() string { return "sigstore-bundle:" + v.policyID }

// VerifyDigest implements Verifier. It lists the referrers of dig (the
// OCI 1.1 referrers API, or the sha256-<hex> tag where the registry has
// none), reads each Sigstore bundle among them, skipping referrers whose
// artifact type or predicate type annotation says they are something
// else (Notation signatures, attestations), and returns the bundles that
// pass.
//
// Errors: one wrapping ErrNoSignatures when no referrer is a bundle; a
// *VerificationError when bundles exist but none passes, its errors
// wrapping ErrBadSignature, ErrBadPayload, ErrDigestMismatch,
// ErrMissingAnnotation, ErrCertificateIdentity, ErrUntrustedCertificate or
// ErrTransparencyLog; any other error is a registry or transport failure,
// or more than MaxSignatures bundles.
func (v *BundleVerifier) VerifyDigest(ctx context.Context, dig name.Digest, ropts []remote.Option) ([]Verified, error) {
	ro := remoteOptions(ctx, ropts)
	descs, err := bundleReferrers(dig, ro)
	if err != nil {
		return nil, err
	}
	want := mustHash(dig)
	var (
		ok    []Verified
		errs  []error
		found int
	)
	for _, desc := range descs {
		raw, isBundle, err := readBundleLayer(dig.Context().Digest(desc.Digest.String()), ro)
		if err != nil {
			return nil, fmt.Errorf("verify %s: referrer %s: %w", dig, desc.Digest, err)
		}
		if !isBundle {
			continue
		}
		found++
		var got Verified
		if raw == nil {
			err = fmt.Errorf("%w: bundle of more than %d bytes", ErrBadPayload, MaxBundleSize)
		} else {
			got, err = v.check(raw, want)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("bundle %d (referrer %s): %w", found, desc.Digest, err))
			continue
		}
		got.Layer = desc.Digest
		ok = append(ok, got)
	}
	switch {
	case len(ok) > 0:
		return ok, nil
	case found == 0:
		return nil, fmt.Errorf("verify %s: %w", dig, ErrNoSignatures)
	default:
		return nil, NewVerificationError(dig.String(), errs)
	}
}

// bundleReferrers lists the referrers of dig that may be signature
// bundles. Registries whose referrers API reports the config media type
// instead of the manifest's artifact type (go-containerregistry's own)
// report the empty type for bundles, so that and no type are candidates
// too, settled once the manifest is read.
func bundleReferrers(dig name.Digest, ropts []remote.Option) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(dig, ropts...)
	if err != nil {
		return nil, fmt.Errorf("verify %s: list referrers: %w", dig, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("verify %s: list referrers: %w", dig, err)
	}
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		at := d.ArtifactType
		switch {
		case d.MediaType != types.OCIManifestSchema1:
			continue // an index or foreign manifest, never a bundle
		case at != "" && at != string(emptyMediaType) && !strings.HasPrefix(at, bundleMediaPrefix):
			continue
		}
		if pt, ok := d.Annotations[BundlePredicateTypeAnnotation]; ok && pt != CosignSignPredicateType {
			continue // an attestation; its statement would say so too
		}
		out = append(out, d)
	}
	if len(out) > MaxSignatures {
		return nil, fmt.Errorf("verify %s: %d bundle referrers, more than %d", dig, len(out), MaxSignatures)
	}
	return out, nil
}

// readBundleLayer reads the referrer manifest ref and returns its bundle
// and true, or false when the manifest is not a bundle: one layer of a
// bundle media type. A bundle over MaxBundleSize comes back as nil and
// true. Errors are registry errors.
func readBundleLayer(ref name.Digest, ropts []remote.Option) ([]byte, bool, error) {
	img, err := remote.Image(ref, ropts...)
	if err != nil {
		return nil, false, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, false, err
	}
	if len(m.Layers) != 1 || !strings.HasPrefix(string(m.Layers[0].MediaType), bundleMediaPrefix) {
		return nil, false, nil
	}
	raw, err := readBlob(img, m.Layers[0], MaxBundleSize)
	return raw, true, err
}

// check verifies one bundle for the image digest want.
func (v *BundleVerifier) check(raw []byte, want v1.Hash) (Verified, error) {
	b, err := ParseBundle(raw)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	sv := v.integrated
	if v.signed != nil && rekorV2Only(b.entity) {
		sv = v.signed
	}
	res, err := sv.Verify(b.entity, sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), v.policy...))
	if err != nil {
		return Verified{}, v.diagnose(b.entity, sv, err)
	}
	if err := b.checkStatement(want, v.opts.Annotations); err != nil {
		return Verified{}, err
	}
	signer := "key"
	if c := res.Signature.Certificate; c != nil {
		signer = fmt.Sprintf("%s (issuer %s)", c.SubjectAlternativeName, c.Issuer)
	}
	return Verified{Format: FormatBundle, Digest: want, Signer: signer, Raw: b.Payload}, nil
}

// rekorV2Only reports whether all of the bundle's log entries lack an
// integrated time (Rekor v2), so its certificate must be dated by a
// signed timestamp, as cosign decides.
func rekorV2Only(b *sgbundle.Bundle) bool {
	entries, err := b.TlogEntries()
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		if !e.IntegratedTime().IsZero() {
			return false
		}
	}
	return true
}

// diagnose names why sigstore-go rejected b, checking the parts in the
// order an attack is best described: the signature over the envelope, the
// certificate chain, the transparency log, the certificate identity.
// verr is sigstore-go's error, kept when no part alone fails.
func (v *BundleVerifier) diagnose(b *sgbundle.Bundle, sv *sgverify.Verifier, verr error) error {
	vc, err := b.VerificationContent()
	if err != nil {
		return fmt.Errorf("%w: verification material: %v", ErrBadPayload, err)
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return fmt.Errorf("%w: signature content: %v", ErrBadPayload, err)
	}
	leaf := vc.Certificate()
	switch {
	case v.opts.Key != nil && leaf != nil:
		return fmt.Errorf("%w: signed with a certificate, not the key", ErrBadSignature)
	case v.opts.Key == nil && leaf == nil:
		return fmt.Errorf("%w: signed with a key, not a certificate", ErrCertificateIdentity)
	}
	if err := sgverify.VerifySignature(sc, vc, v.material); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if leaf != nil {
		chains, err := sgverify.VerifyLeafCertificate(leaf.NotBefore, leaf, v.material)
		if err != nil {
			return fmt.Errorf("%w: certificate of %q does not chain to a certificate authority of the trusted root: %v", ErrUntrustedCertificate, leafSAN(leaf), err)
		}
		if v.opts.RequireSCT {
			if err := sgverify.VerifySignedCertificateTimestamp(chains, 1, v.material); err != nil {
				return fmt.Errorf("%w: %v", ErrUntrustedCertificate, err)
			}
		}
	}
	if v.opts.Key == nil || v.opts.Root != nil {
		if err := v.checkInclusionProofs(b); err != nil {
			return fmt.Errorf("%w: %v", ErrTransparencyLog, err)
		}
		ts, err := sv.VerifyTransparencyLogInclusion(b)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrTransparencyLog, oneLine(err))
		}
		if leaf != nil {
			if _, err := sv.VerifyObserverTimestamps(b, ts); err != nil {
				return fmt.Errorf("%w: no trusted timestamp dates the certificate: %v", ErrTransparencyLog, oneLine(err))
			}
		}
	}
	if leaf != nil {
		sum, err := certificate.SummarizeCertificate(leaf)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUntrustedCertificate, err)
		}
		if _, err := v.identities.Verify(sum); err != nil {
			return fmt.Errorf("%w: certificate of %q from issuer %q matches no identity: %v", ErrCertificateIdentity, sum.SubjectAlternativeName, sum.Issuer, err)
		}
	}
	return fmt.Errorf("%w: %v", ErrBadSignature, verr)
}

// checkInclusionProofs checks the Rekor v1 inclusion proofs of b's
// entries from logs of the trusted root on their own, to tell a proof
// that does not verify from the other log failures.
func (v *BundleVerifier) checkInclusionProofs(b *sgbundle.Bundle) error {
	entries, err := b.TlogEntries()
	if err != nil {
		return fmt.Errorf("log entries: %v", err)
	}
	logs := v.material.RekorLogs()
	for i, e := range entries {
		l, ok := logs[hex.EncodeToString([]byte(e.LogKeyID()))]
		if !ok || !e.HasInclusionProof() || e.IsRekorV2() {
			continue
		}
		lv, err := sigsig.LoadVerifier(l.PublicKey, l.SignatureHashFunc)
		if err != nil {
			continue
		}
		if err := tlog.VerifyInclusion(e, lv); err != nil {
			return fmt.Errorf("inclusion proof of log entry %d does not verify: %v", i+1, oneLine(err))
		}
	}
	return nil
}

// oneLine keeps an error message on one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// leafSAN names a certificate for messages.
func leafSAN(c *x509.Certificate) string {
	if sum, err := certificate.SummarizeCertificate(c); err == nil && sum.SubjectAlternativeName != "" {
		return sum.SubjectAlternativeName
	}
	return c.Subject.String()
}

// AttachBundle attaches bundleJSON, a Sigstore bundle holding a DSSE
// envelope, to the image dig names as cosign v3 does: a referrer manifest
// whose artifact type and single layer have BundleMediaType, whose config
// is the empty descriptor, whose subject is dig and whose annotations name
// the statement's predicate type. Registries without the referrers API
// get the sha256-<hex> referrers tag updated (go-containerregistry does
// it). It returns the referrer manifest's digest. Errors: a bundle
// ParseBundle rejects or whose payload is not an in-toto Statement, or a
// registry error.
func AttachBundle(ctx context.Context, dig name.Digest, bundleJSON []byte, ropts []remote.Option) (v1.Hash, error) {
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("attach bundle to %s: %w", dig, err)
	}
	st, err := b.statement()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("attach bundle to %s: %w", dig, err)
	}
	return attachBundle(dig, bundleJSON, st.PredicateType, remoteOptions(ctx, ropts))
}

// attachBundle pushes the referrer of AttachBundle, annotated with
// predicateType; ro carry the context.
func attachBundle(dig name.Digest, bundleJSON []byte, predicateType string, ro []remote.Option) (v1.Hash, error) {
	subject, err := remote.Head(dig, ro...)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("attach bundle to %s: %w", dig, err)
	}
	config := static.NewLayer([]byte("{}"), emptyMediaType)
	layer := static.NewLayer(bundleJSON, BundleMediaType)
	var descs []v1.Descriptor
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(dig.Repository, l, ro...); err != nil {
			return v1.Hash{}, fmt.Errorf("attach bundle to %s: push blob: %w", dig, err)
		}
		d, err := layerDescriptor(l)
		if err != nil {
			return v1.Hash{}, err
		}
		descs = append(descs, d)
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  string(BundleMediaType),
		Config:        descs[0],
		Layers:        descs[1:],
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{
			"org.opencontainers.image.created": time.Now().UTC().Format(time.RFC3339),
			bundleContentAnnotation:            "dsse-envelope",
			BundlePredicateTypeAnnotation:      predicateType,
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("attach bundle to %s: %w", dig, err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Put(dig.Context().Digest(h.String()), rawManifest(raw), ro...); err != nil {
		return v1.Hash{}, fmt.Errorf("attach bundle to %s: push referrer: %w", dig, err)
	}
	return h, nil
}

// layerDescriptor describes a static layer.
func layerDescriptor(l v1.Layer) (v1.Descriptor, error) {
	mt, err := l.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := l.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}, nil
}

// rawManifest is an OCI image manifest ready to put.
type rawManifest []byte

func (r rawManifest) RawManifest() ([]byte, error)        { return r, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
