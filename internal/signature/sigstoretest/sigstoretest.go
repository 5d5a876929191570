// Package sigstoretest provides a virtual Sigstore for tests: a
// Fulcio-style certificate authority, a Rekor-style transparency log and
// an RFC 3161 timestamp authority, all in memory, with the
// trusted_root.json that trusts them and Sigstore bundles they sign. It
// is for tests only, as net/http/httptest is.
//
// Everything here fails the test (t.Fatal) instead of returning errors.
// The package does not import internal/signature, whose own tests use
// it; the few constants it shares with that package are repeated here,
// and those tests check the bundles it makes verify.
package sigstoretest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Values internal/signature defines too; this package cannot import it.
const (
	// cosignSignPredicateType is signature.CosignSignPredicateType: the
	// predicate type of the in-toto Statement a cosign v3 image
	// signature signs.
	cosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// bundleMediaType is signature.BundleMediaType: a bundle v0.3 in JSON.
	bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// inTotoPayloadType is signature.InTotoPayloadType.
	inTotoPayloadType = "application/vnd.in-toto+json"
	// statementV1 is signature.StatementV1.
	statementV1 = "https://in-toto.io/Statement/v1"
)

// Sigstore is a virtual Sigstore: a certificate authority issuing
// short-lived certificates for any OIDC identity, a transparency log
// (Rekor v1 entries with inclusion proofs and signed entry timestamps,
// or Rekor v2 entries) and a timestamp authority. Its log already holds
// one entry when New returns it, so the inclusion proofs of the entries
// it adds have a path hash.
type Sigstore struct {
	vs       *ca.VirtualSigstore
	rootJSON []byte
}

// New returns a new virtual Sigstore with fresh keys; two of them trust
// nothing of each other.
func New(t testing.TB) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstoreWithExistingRekorEntry()
	if err != nil {
		t.Fatalf("virtual sigstore: %v", err)
	}
	// The virtual logs carry their hex key ID as ID; a trusted root holds
	// the raw bytes.
	logs := map[string]*root.TransparencyLog{}
	for id, l := range vs.RekorLogs() {
		raw, err := hex.DecodeString(id)
		if err != nil {
			t.Fatalf("virtual log ID %q: %v", id, err)
		}
		c := *l
		c.ID = raw
		logs[id] = &c
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), nil, vs.TimestampingAuthorities(), logs)
	if err != nil {
		t.Fatalf("virtual sigstore: trusted root: %v", err)
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		t.Fatalf("virtual sigstore: trusted root: %v", err)
	}
	return &Sigstore{vs: vs, rootJSON: data}
}

// TrustedRoot returns the trusted root of s in JSON (media type
// application/vnd.dev.sigstore.trustedroot+json;version=0.1, the format
// of TUF's trusted_root.json and of `cosign trusted-root create`): its
// certificate authority, transparency log and timestamp authority, and
// no CT log. Every call returns the same bytes, so the root's digest is
// stable; the caller may change them.
func (s *Sigstore) TrustedRoot(t testing.TB) []byte {
	t.Helper()
	return bytes.Clone(s.rootJSON)
}

// WriteTrustedRoot writes TrustedRoot to trusted_root.json in a new
// temporary directory of t and returns the file's path.
func (s *Sigstore) WriteTrustedRoot(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, s.TrustedRoot(t), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// SignImage returns, in JSON, the bundle of a cosign v3 image signature
// of digest signed keylessly by subject (the certificate's SAN, an
// e-mail address or URI) of the OIDC issuer: Keyless of the Statement
// about digest with predicate type https://sigstore.dev/cosign/sign/v1
// (signature.CosignSignPredicateType) and annotations (cosign sign -a
// k=v). Attach it with signature.AttachBundle; cosign v3 verifies it with
// --trusted-root and --insecure-ignore-sct.
func (s *Sigstore) SignImage(t testing.TB, digest v1.Hash, subject, issuer string, annotations map[string]string) []byte {
	t.Helper()
	return Marshal(t, s.Keyless(t, subject, issuer, Statement(t, digest, cosignSignPredicateType, annotations)))
}

// Keyless signs payload, an in-toto Statement, in a DSSE envelope with a
// certificate of s for subject and issuer, and returns the bundle v0.3:
// the leaf certificate, and a Rekor v1 dsse entry with an inclusion
// proof (and checkpoint) and a signed entry timestamp whose integrated
// time dates the certificate. Callers may change the bundle to make it
// invalid; Marshal turns it into JSON.
func (s *Sigstore) Keyless(t testing.TB, subject, issuer string, payload []byte) *protobundle.Bundle {
	t.Helper()
	ent, err := s.vs.AttestAtTime(subject, issuer, payload, time.Now().Add(5*time.Minute), true)
	if err != nil {
		t.Fatalf("virtual sigstore: sign: %v", err)
	}
	b, tle := entityBundle(t, ent)
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	if err != nil {
		t.Fatalf("virtual sigstore: signed entry timestamp: %v", err)
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return b
}

// KeylessV2 is Keyless with a Rekor v2 hashedrekord entry, which has no
// integrated time, and an RFC 3161 timestamp of the virtual timestamp
// authority to date the certificate.
func (s *Sigstore) KeylessV2(t testing.TB, subject, issuer string, payload []byte) *protobundle.Bundle {
	t.Helper()
	ent, err := s.vs.AttestHashedRekordV2(subject, issuer, payload)
	if err != nil {
		t.Fatalf("virtual sigstore: sign: %v", err)
	}
	b, tle := entityBundle(t, ent)
	tle.IntegratedTime = 0
	tss, err := ent.Timestamps()
	if err != nil {
		t.Fatalf("virtual sigstore: timestamps: %v", err)
	}
	tvd := &protobundle.TimestampVerificationData{}
	for _, ts := range tss {
		tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	b.VerificationMaterial.TimestampVerificationData = tvd
	return b
}

// entityBundle turns a virtual Sigstore attestation into a bundle v0.3
// and returns its (first) log entry for the caller to complete.
func entityBundle(t testing.TB, ent *ca.TestEntity) (*protobundle.Bundle, *protorekor.TransparencyLogEntry) {
	t.Helper()
	vc, err := ent.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	env := sc.EnvelopeContent().RawEnvelope()
	entries, err := ent.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	tle := proto.Clone(entries[0].TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return &protobundle.Bundle{
		MediaType: bundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{
				Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw},
			},
			TlogEntries: []*protorekor.TransparencyLogEntry{tle},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payload,
			PayloadType: env.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}, tle
}

// Statement returns an in-toto Statement v1 in JSON whose one subject
// is digest, carrying annotations (omitted when empty) as cosign v3
// puts its -a values, with predicateType and an empty predicate. With
// signature.CosignSignPredicateType it is what a cosign v3 image
// signature signs.
// The same arguments give the same bytes.
func Statement(t testing.TB, digest v1.Hash, predicateType string, annotations map[string]string) []byte {
	t.Helper()
	sub := map[string]any{"digest": map[string]string{digest.Algorithm: digest.Hex}}
	if len(annotations) > 0 {
		sub["annotations"] = annotations
	}
	b, err := json.Marshal(map[string]any{
		"_type":         statementV1,
		"subject":       []any{sub},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// KeyBundle signs payload, an in-toto Statement, with key (ECDSA, RSA
// PKCS #1 v1.5 or Ed25519, SHA-256 where a hash is needed) in a DSSE
// envelope and returns the bundle v0.3 in JSON, as cosign v3 sign --key
// writes it offline: a public key hint and no log entry.
func KeyBundle(t testing.TB, key crypto.Signer, payload []byte) []byte {
	t.Helper()
	pae := dsse.PAE(inTotoPayloadType, payload)
	var (
		sig []byte
		err error
	)
	switch key.Public().(type) {
	case ed25519.PublicKey:
		sig, err = key.Sign(rand.Reader, pae, crypto.Hash(0))
	case *ecdsa.PublicKey, *rsa.PublicKey:
		sum := sha256.Sum256(pae)
		sig, err = key.Sign(rand.Reader, sum[:], crypto.SHA256)
	default:
		t.Fatalf("KeyBundle: unsupported key type %T", key.Public())
	}
	if err != nil {
		t.Fatalf("KeyBundle: sign: %v", err)
	}
	return Marshal(t, &protobundle.Bundle{
		MediaType: bundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: "test"}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payload,
			PayloadType: inTotoPayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	})
}

// Marshal returns b in JSON, the form ParseBundle and cosign read.
func Marshal(t testing.TB, b *protobundle.Bundle) []byte {
	t.Helper()
	data, err := protojson.Marshal(b)
	if err != nil {
		t.Fatalf("marshal bundle: %v", err)
	}
	return data
}
