package signature

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/signature/sigstoretest"
)

const (
	testIssuer  = "https://issuer.example.com"
	testSubject = "alice@example.com"
)

// testSigstore is a virtual Sigstore with its trusted root loaded
// through LoadTrustedRoot, as the CLI loads trusted_root.json.
type testSigstore struct {
	*sigstoretest.Sigstore
	root *TrustedRoot
}

func newSigstore(t *testing.T) *testSigstore {
	t.Helper()
	ss := sigstoretest.New(t)
	r, err := LoadTrustedRoot(ss.TrustedRoot(t))
	if err != nil {
		t.Fatalf("LoadTrustedRoot(virtual root) = %v", err)
	}
	return &testSigstore{Sigstore: ss, root: r}
}

// statementFor is the in-toto Statement of a cosign v3 signature of d.
func statementFor(t *testing.T, d v1.Hash, ann map[string]string) []byte {
	t.Helper()
	return sigstoretest.Statement(t, d, CosignSignPredicateType, ann)
}

// referrersRegistry starts go-containerregistry's registry with the OCI
// 1.1 referrers API; fixture.Registry has none, so writers fall back to
// the sha256-<hex> tag.
func referrersRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

var registries = []struct {
	name  string
	start func(*testing.T) string
}{
	{"tag fallback", func(t *testing.T) string { return fixture.Registry(t) }},
	{"referrers API", referrersRegistry},
}

func newBundleVerifier(t *testing.T, opts BundleOptions) *BundleVerifier {
	t.Helper()
	v, err := NewBundleVerifier(opts)
	if err != nil {
		t.Fatalf("NewBundleVerifier = %v", err)
	}
	return v
}

func attach(t *testing.T, dig name.Digest, bundleJSON []byte) v1.Hash {
	t.Helper()
	h, err := AttachBundle(context.Background(), dig, bundleJSON, nil)
	if err != nil {
		t.Fatalf("AttachBundle(%s) = %v", dig, err)
	}
	return h
}

func TestBundleVerify(t *testing.T) {
	ss := newSigstore(t)
	key := newKey(t)
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			ref, d := pushRandom(t, host, "team/app:v1")
			dig := digestRef(ref, d)
			ann := map[string]string{"env": "prod"}
			stmt := statementFor(t, d, ann)
			keylessRef := attach(t, dig, ss.SignImage(t, d, testSubject, testIssuer, ann))
			keyRef := attach(t, dig, sigstoretest.KeyBundle(t, key, stmt))
			v02 := ss.Keyless(t, "ci@example.com", testIssuer, stmt)
			v02.MediaType = "application/vnd.dev.sigstore.bundle+json;version=0.2"
			v02Ref := attach(t, dig, sigstoretest.Marshal(t, v02))
			rekorV2Ref := attach(t, dig, sigstoretest.Marshal(t, ss.KeylessV2(t, "v2@example.com", testIssuer, stmt)))

			for _, tc := range []struct {
				name       string
				opts       BundleOptions
				wantSigner string
				wantLayer  v1.Hash
			}{{
				name:       "exact identity",
				opts:       BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{Subject: testSubject, Issuer: testIssuer}}, Annotations: ann},
				wantSigner: testSubject + " (issuer " + testIssuer + ")",
				wantLayer:  keylessRef,
			}, {
				name:       "regexp identity",
				opts:       BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{SubjectRegexp: `^alice@example\.(com|org)$`, IssuerRegexp: `^https://issuer\.`}}},
				wantSigner: testSubject + " (issuer " + testIssuer + ")",
				wantLayer:  keylessRef,
			}, {
				name: "second identity",
				opts: BundleOptions{Root: ss.root, Identities: []CertificateIdentity{
					{Subject: "nobody@example.com", Issuer: testIssuer},
					{Subject: "ci@example.com", Issuer: testIssuer},
				}},
				wantSigner: "ci@example.com (issuer " + testIssuer + ")",
				wantLayer:  v02Ref,
			}, {
				name:       "Rekor v2 entry and TSA timestamp",
				opts:       BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{Subject: "v2@example.com", Issuer: testIssuer}}},
				wantSigner: "v2@example.com (issuer " + testIssuer + ")",
				wantLayer:  rekorV2Ref,
			}, {
				name:       "key",
				opts:       BundleOptions{Key: key.Public(), Annotations: ann},
				wantSigner: "key",
				wantLayer:  keyRef,
			}} {
				t.Run(tc.name, func(t *testing.T) {
					v := newBundleVerifier(t, tc.opts)
					got, err := VerifyImage(context.Background(), ref, v, nil)
					if err != nil {
						t.Fatalf("VerifyImage(%s) = %v", ref, err)
					}
					if len(got) != 1 {
						t.Fatalf("VerifyImage(%s) = %d signatures; want 1: %+v", ref, len(got), got)
					}
					g := got[0]
					if g.Format != FormatBundle || g.Digest != d || g.Signer != tc.wantSigner || g.Layer != tc.wantLayer || string(g.Raw) != string(stmt) || g.Payload != nil {
						t.Errorf("VerifyImage(%s) = {%s %s %q %s %q}; want {%s %s %q %s %q}", ref,
							g.Format, g.Digest, g.Signer, g.Layer, g.Raw, FormatBundle, d, tc.wantSigner, tc.wantLayer, stmt)
					}
				})
			}
		})
	}
}

func TestBundleAttacks(t *testing.T) {
	ss := newSigstore(t)
	other := newSigstore(t)
	key := newKey(t)
	host := fixture.Registry(t)
	keyless := BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{Subject: testSubject, Issuer: testIssuer}}}

	for _, tc := range []struct {
		name   string
		opts   BundleOptions
		bundle func(t *testing.T, d, sibling v1.Hash) []byte
		want   error
		reason string
		// annotate overrides the predicate type annotation of the
		// referrer, which is not signed.
		annotate string
	}{{
		name: "subject mismatch",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return ss.SignImage(t, d, "mallory@example.com", testIssuer, nil)
		},
		want:   ErrCertificateIdentity,
		reason: `"mallory@example.com"`,
	}, {
		name: "issuer mismatch",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return ss.SignImage(t, d, testSubject, "https://evil.example.com", nil)
		},
		want:   ErrCertificateIdentity,
		reason: `issuer "https://evil.example.com"`,
	}, {
		name: "regexp matches no subject",
		opts: BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{SubjectRegexp: `^bob@`, Issuer: testIssuer}}},
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return ss.SignImage(t, d, testSubject, testIssuer, nil)
		},
		want:   ErrCertificateIdentity,
		reason: "matches no identity",
	}, {
		name: "certificate from another sigstore",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return other.SignImage(t, d, testSubject, testIssuer, nil)
		},
		want:   ErrUntrustedCertificate,
		reason: "does not chain",
	}, {
		name: "inclusion proof root hash tampered",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			b := ss.Keyless(t, testSubject, testIssuer, statementFor(t, d, nil))
			b.VerificationMaterial.TlogEntries[0].InclusionProof.RootHash[0] ^= 1
			return sigstoretest.Marshal(t, b)
		},
		want:   ErrTransparencyLog,
		reason: "inclusion proof of log entry 1 does not verify",
	}, {
		name: "inclusion proof path hash tampered",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			b := ss.Keyless(t, testSubject, testIssuer, statementFor(t, d, nil))
			b.VerificationMaterial.TlogEntries[0].InclusionProof.Hashes[0][0] ^= 1
			return sigstoretest.Marshal(t, b)
		},
		want:   ErrTransparencyLog,
		reason: "inclusion proof of log entry 1 does not verify",
	}, {
		name: "log entry of another signature",
		opts: keyless,
		bundle: func(t *testing.T, d, sibling v1.Hash) []byte {
			b := ss.Keyless(t, testSubject, testIssuer, statementFor(t, d, nil))
			o := ss.Keyless(t, testSubject, testIssuer, statementFor(t, sibling, nil))
			b.VerificationMaterial.TlogEntries = o.VerificationMaterial.TlogEntries
			return sigstoretest.Marshal(t, b)
		},
		want:   ErrTransparencyLog,
		reason: "transparency log signature does not match",
	}, {
		name: "no log entry",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			b := ss.Keyless(t, testSubject, testIssuer, statementFor(t, d, nil))
			b.VerificationMaterial.TlogEntries = nil
			return sigstoretest.Marshal(t, b)
		},
		want:   ErrTransparencyLog,
		reason: "not enough verified log entries",
	}, {
		name: "Rekor v2 entry without timestamp",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			b := ss.KeylessV2(t, testSubject, testIssuer, statementFor(t, d, nil))
			b.VerificationMaterial.TimestampVerificationData = nil
			return sigstoretest.Marshal(t, b)
		},
		want:   ErrTransparencyLog,
		reason: "no trusted timestamp",
	}, {
		name: "payload edited",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			b := ss.Keyless(t, testSubject, testIssuer, statementFor(t, d, nil))
			b.GetDsseEnvelope().Payload = statementFor(t, d, map[string]string{"env": "prod"})
			return sigstoretest.Marshal(t, b)
		},
		want:   ErrBadSignature,
		reason: "could not verify envelope",
	}, {
		name: "signature for a sibling digest",
		opts: keyless,
		bundle: func(t *testing.T, _, sibling v1.Hash) []byte {
			return ss.SignImage(t, sibling, testSubject, testIssuer, nil)
		},
		want:   ErrDigestMismatch,
		reason: "statement subjects",
	}, {
		name: "attestation is not a signature",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return sigstoretest.Marshal(t, ss.Keyless(t, testSubject, testIssuer, sigstoretest.Statement(t, d, PredicateCycloneDX, nil)))
		},
		want:     ErrBadPayload,
		reason:   "predicate type",
		annotate: CosignSignPredicateType,
	}, {
		name: "annotation missing",
		opts: BundleOptions{Key: key.Public(), Annotations: map[string]string{"env": "prod"}},
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return sigstoretest.KeyBundle(t, key, statementFor(t, d, map[string]string{"env": "dev"}))
		},
		want:   ErrMissingAnnotation,
		reason: `env is dev, want "prod"`,
	}, {
		name: "another key",
		opts: BundleOptions{Key: key.Public()},
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return sigstoretest.KeyBundle(t, newKey(t), statementFor(t, d, nil))
		},
		want:   ErrBadSignature,
		reason: "bad signature",
	}, {
		name: "key verifier, keyless bundle",
		opts: BundleOptions{Key: key.Public()},
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return ss.SignImage(t, d, testSubject, testIssuer, nil)
		},
		want:   ErrBadSignature,
		reason: "signed with a certificate",
	}, {
		name: "keyless verifier, key bundle",
		opts: keyless,
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return sigstoretest.KeyBundle(t, key, statementFor(t, d, nil))
		},
		want:   ErrCertificateIdentity,
		reason: "signed with a key",
	}, {
		name: "key with a trusted root needs a log entry",
		opts: BundleOptions{Key: key.Public(), Root: ss.root},
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return sigstoretest.KeyBundle(t, key, statementFor(t, d, nil))
		},
		want:   ErrTransparencyLog,
		reason: "not enough verified log entries",
	}, {
		name: "SCT required",
		opts: BundleOptions{Root: ss.root, Identities: keyless.Identities, RequireSCT: true},
		bundle: func(t *testing.T, d, _ v1.Hash) []byte {
			return ss.SignImage(t, d, testSubject, testIssuer, nil)
		},
		want:   ErrUntrustedCertificate,
		reason: "untrusted certificate",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ref, d := pushRandom(t, host, "team/attack:v1")
			_, sibling := pushRandom(t, host, "team/attack:v2")
			b := tc.bundle(t, d, sibling)
			if tc.annotate == "" {
				attach(t, digestRef(ref, d), b)
			} else if _, err := attachBundle(digestRef(ref, d), b, tc.annotate, nil); err != nil {
				t.Fatal(err)
			}
			v := newBundleVerifier(t, tc.opts)
			_, err := v.VerifyDigest(context.Background(), digestRef(ref, d), nil)
			var verr *VerificationError
			if !errors.As(err, &verr) {
				t.Fatalf("VerifyDigest = %v; want a *VerificationError", err)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("VerifyDigest = %v; want it to wrap %v", err, tc.want)
			}
			t.Logf("reasons: %q", verr.Reasons)
			if len(verr.Reasons) != 1 || !strings.Contains(verr.Reasons[0], tc.reason) {
				t.Errorf("VerifyDigest reasons = %q; want one naming %q", verr.Reasons, tc.reason)
			}
		})
	}
}

func TestBundleVerifyKeepsGood(t *testing.T) {
	ss := newSigstore(t)
	host := referrersRegistry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	dig := digestRef(ref, d)
	attach(t, dig, ss.SignImage(t, d, "mallory@example.com", testIssuer, nil))
	good := attach(t, dig, ss.SignImage(t, d, testSubject, testIssuer, nil))
	v := newBundleVerifier(t, BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{Subject: testSubject, Issuer: testIssuer}}})
	got, err := v.VerifyDigest(context.Background(), dig, nil)
	if err != nil {
		t.Fatalf("VerifyDigest = %v", err)
	}
	if len(got) != 1 || got[0].Layer != good {
		t.Errorf("VerifyDigest = %+v; want the bundle in %s only", got, good)
	}
}

func TestBundleNoSignatures(t *testing.T) {
	key := newKey(t)
	v := newBundleVerifier(t, BundleOptions{Key: key.Public()})
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			ref, d := pushRandom(t, host, "team/app:v1")
			dig := digestRef(ref, d)
			if _, err := v.VerifyDigest(context.Background(), dig, nil); !errors.Is(err, ErrNoSignatures) {
				t.Fatalf("VerifyDigest(unsigned) = %v; want ErrNoSignatures", err)
			}
			// A cosign v2 signature and an attestation bundle are not
			// bundle signatures.
			if _, err := Sign(context.Background(), ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			attach(t, dig, sigstoretest.KeyBundle(t, key, sigstoretest.Statement(t, d, PredicateCycloneDX, nil)))
			// Nor are other referrers: an index, an artifact of another
			// type.
			desc, err := remote.Head(dig)
			if err != nil {
				t.Fatal(err)
			}
			sub := v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
			idx := mutate.Subject(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), sub).(v1.ImageIndex)
			if err := remote.WriteIndex(ref.Context().Tag("index"), idx); err != nil {
				t.Fatal(err)
			}
			art := mutate.Subject(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), "application/vnd.example.sbom"), sub).(v1.Image)
			if err := remote.Write(ref.Context().Tag("artifact"), art); err != nil {
				t.Fatal(err)
			}
			if _, err := v.VerifyDigest(context.Background(), dig, nil); !errors.Is(err, ErrNoSignatures) {
				t.Fatalf("VerifyDigest(attested) = %v; want ErrNoSignatures", err)
			}
		})
	}
}

func TestBundleTooLarge(t *testing.T) {
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	dig := digestRef(ref, d)
	if _, err := attachBundle(dig, make([]byte, MaxBundleSize+1), CosignSignPredicateType, nil); err != nil {
		t.Fatal(err)
	}
	v := newBundleVerifier(t, BundleOptions{Key: newKey(t).Public()})
	_, err := v.VerifyDigest(context.Background(), dig, nil)
	var verr *VerificationError
	if !errors.As(err, &verr) || !errors.Is(err, ErrBadPayload) {
		t.Fatalf("VerifyDigest(oversized bundle) = %v; want a *VerificationError wrapping ErrBadPayload", err)
	}
}

func TestBundleRegistryError(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, d := pushRandom(t, host, "team/app:v1")
	srv.Close()
	v := newBundleVerifier(t, BundleOptions{Key: newKey(t).Public()})
	_, err := v.VerifyDigest(context.Background(), digestRef(ref, d), nil)
	var verr *VerificationError
	if err == nil || errors.Is(err, ErrNoSignatures) || errors.As(err, &verr) {
		t.Fatalf("VerifyDigest(closed registry) = %v; want a registry error", err)
	}
}

func TestNewBundleVerifierErrors(t *testing.T) {
	ss := newSigstore(t)
	key := newKey(t).Public()
	id := CertificateIdentity{Subject: testSubject, Issuer: testIssuer}
	emptyRoot, err := LoadTrustedRoot([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts BundleOptions
	}{
		{"nothing", BundleOptions{Root: ss.root}},
		{"key and identity", BundleOptions{Key: key, Identities: []CertificateIdentity{id}}},
		{"identity without root", BundleOptions{Identities: []CertificateIdentity{id}}},
		{"root without CA", BundleOptions{Root: emptyRoot, Identities: []CertificateIdentity{id}}},
		{"no issuer", BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{Subject: testSubject}}}},
		{"no subject", BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{Issuer: testIssuer}}}},
		{"bad regexp", BundleOptions{Root: ss.root, Identities: []CertificateIdentity{{SubjectRegexp: "(", Issuer: testIssuer}}}},
		{"bad key", BundleOptions{Key: "not a key"}},
	} {
		if v, err := NewBundleVerifier(tc.opts); err == nil {
			t.Errorf("NewBundleVerifier(%s) = %v, nil; want an error", tc.name, v)
		}
	}
}

func TestBundlePolicy(t *testing.T) {
	ss := newSigstore(t)
	other := newSigstore(t)
	key := newKey(t).Public()
	id := CertificateIdentity{Subject: testSubject, Issuer: testIssuer}
	base := BundleOptions{Root: ss.root, Identities: []CertificateIdentity{id}, Annotations: map[string]string{"env": "prod"}}
	policy := func(o BundleOptions) string { return newBundleVerifier(t, o).Policy() }
	// Two verifiers built from equal options have the same policy.
	if first, second := policy(base), policy(base); first != second {
		t.Fatalf("Policy is not stable: %q, then %q", first, second)
	}
	for name, o := range map[string]BundleOptions{
		"other root":       {Root: other.root, Identities: base.Identities, Annotations: base.Annotations},
		"other identity":   {Root: ss.root, Identities: []CertificateIdentity{{SubjectRegexp: testSubject, Issuer: testIssuer}}, Annotations: base.Annotations},
		"more identities":  {Root: ss.root, Identities: []CertificateIdentity{id, id}, Annotations: base.Annotations},
		"no annotations":   {Root: ss.root, Identities: base.Identities},
		"other annotation": {Root: ss.root, Identities: base.Identities, Annotations: map[string]string{"env": "dev"}},
		"SCT":              {Root: ss.root, Identities: base.Identities, Annotations: base.Annotations, RequireSCT: true},
		"key":              {Key: key, Annotations: base.Annotations},
		"key and root":     {Key: key, Root: ss.root, Annotations: base.Annotations},
	} {
		if policy(o) == policy(base) {
			t.Errorf("Policy(%s) = Policy(base)", name)
		}
	}
	if policy(BundleOptions{Key: key}) == (KeyVerifier{Key: key}).Policy() {
		t.Error("bundle and cosign key verifiers share a policy")
	}
}

func TestLoadTrustedRoot(t *testing.T) {
	ss := newSigstore(t)
	if got := ss.root.Digest(); len(got) != 64 {
		t.Errorf("Digest() = %q; want hex SHA-256", got)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not JSON", []byte("trusted")},
		{"wrong media type", []byte(`{"mediaType":"application/json"}`)},
		{"bad CA", []byte(strings.Replace(string(ss.TrustedRoot(t)), `"rawBytes":"`, `"rawBytes":"AAAA`, 1))},
		{"too large", make([]byte, MaxTrustedRootSize+1)},
	} {
		if _, err := LoadTrustedRoot(tc.data); err == nil {
			t.Errorf("LoadTrustedRoot(%s) = nil error; want one", tc.name)
		}
	}
}

func TestParseBundle(t *testing.T) {
	ss := newSigstore(t)
	stmt := statementFor(t, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}, nil)
	good := ss.Keyless(t, testSubject, testIssuer, stmt)
	b, err := ParseBundle(sigstoretest.Marshal(t, good))
	if err != nil {
		t.Fatalf("ParseBundle(keyless) = %v", err)
	}
	if b.MediaType != string(BundleMediaType) || b.PayloadType != InTotoPayloadType || string(b.Payload) != string(stmt) {
		t.Errorf("ParseBundle(keyless) = %q %q %q", b.MediaType, b.PayloadType, b.Payload)
	}
	v01 := proto.Clone(good).(*protobundle.Bundle)
	v01.MediaType = "application/vnd.dev.sigstore.bundle+json;version=0.1"
	v01.VerificationMaterial.TlogEntries[0].InclusionProof = nil
	if _, err := ParseBundle(sigstoretest.Marshal(t, v01)); err != nil {
		t.Errorf("ParseBundle(v0.1 with an inclusion promise) = %v", err)
	}
	cosign3, err := os.ReadFile(filepath.Join("testdata", "cosign3-key-bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseBundle(cosign3); err != nil {
		t.Errorf("ParseBundle(cosign v3 bundle) = %v", err)
	}

	mutate := func(f func(b *protobundle.Bundle)) []byte {
		c := proto.Clone(good).(*protobundle.Bundle)
		f(c)
		return sigstoretest.Marshal(t, c)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not JSON", []byte("{")},
		{"unknown field", []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","x":1}`)},
		{"too large", make([]byte, MaxBundleSize+1)},
		{"media type", mutate(func(b *protobundle.Bundle) { b.MediaType = "application/json" })},
		{"v0.4", mutate(func(b *protobundle.Bundle) { b.MediaType = "application/vnd.dev.sigstore.bundle.v0.4+json" })},
		{"no verification material", mutate(func(b *protobundle.Bundle) { b.VerificationMaterial = nil })},
		{"no inclusion proof", mutate(func(b *protobundle.Bundle) { b.VerificationMaterial.TlogEntries[0].InclusionProof = nil })},
		{"certificate chain in v0.3", mutate(func(b *protobundle.Bundle) {
			c := b.VerificationMaterial.GetCertificate()
			b.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{
				X509CertificateChain: &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{c}},
			}
		})},
		{"two signatures", mutate(func(b *protobundle.Bundle) {
			e := b.GetDsseEnvelope()
			e.Signatures = append(e.Signatures, e.Signatures[0])
		})},
		{"message signature", mutate(func(b *protobundle.Bundle) {
			b.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{Signature: []byte("sig")}}
		})},
	} {
		if _, err := ParseBundle(tc.data); err == nil {
			t.Errorf("ParseBundle(%s) = nil error; want one", tc.name)
		}
	}
}

func TestAttachBundleLayout(t *testing.T) {
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	dig := digestRef(ref, d)
	h := attach(t, dig, sigstoretest.KeyBundle(t, newKey(t), statementFor(t, d, nil)))
	// The layout cosign v3 writes (pkg/oci/remote.WriteAttestationNewBundleFormat).
	desc, err := remote.Get(ref.Context().Digest(h.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != string(BundleMediaType) || m.Config.MediaType != emptyMediaType || m.Config.Size != 2 ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != BundleMediaType || m.Subject == nil || m.Subject.Digest != d ||
		m.Annotations[BundlePredicateTypeAnnotation] != CosignSignPredicateType || m.Annotations["dev.sigstore.bundle.content"] != "dsse-envelope" {
		t.Errorf("referrer manifest = %s", desc.Manifest)
	}
	// Without a referrers API, the sha256-<hex> tag lists it.
	idx, err := remote.Index(ref.Context().Tag("sha256-" + d.Hex))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != h || im.Manifests[0].ArtifactType != string(BundleMediaType) {
		t.Errorf("referrers tag = %+v; want the bundle %s", im.Manifests, h)
	}
	if _, err := AttachBundle(context.Background(), dig, []byte("{}"), nil); err == nil {
		t.Error("AttachBundle(not a bundle) = nil error")
	}
}
