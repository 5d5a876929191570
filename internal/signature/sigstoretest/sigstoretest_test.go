package sigstoretest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	sigsig "github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
)

var testDigest = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}

// parse reads bundle JSON as sigstore-go does.
func parse(t *testing.T, data []byte) *sgbundle.Bundle {
	t.Helper()
	var pb protobundle.Bundle
	if err := protojson.Unmarshal(data, &pb); err != nil {
		t.Fatalf("protojson.Unmarshal(bundle) = %v", err)
	}
	b, err := sgbundle.NewBundle(&pb)
	if err != nil {
		t.Fatalf("bundle.NewBundle = %v", err)
	}
	return b
}

// verify checks b with sigstore-go against material and returns the
// DSSE payload.
func verify(t *testing.T, material root.TrustedMaterial, b *sgbundle.Bundle, vopts []sgverify.VerifierOption, popts ...sgverify.PolicyOption) []byte {
	t.Helper()
	v, err := sgverify.NewVerifier(material, vopts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(b, sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), popts...)); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	return b.GetDsseEnvelope().GetPayload()
}

func trustedRoot(t *testing.T, s *Sigstore) *root.TrustedRoot {
	t.Helper()
	tr, err := root.NewTrustedRootFromJSON(s.TrustedRoot(t))
	if err != nil {
		t.Fatalf("NewTrustedRootFromJSON(TrustedRoot) = %v", err)
	}
	return tr
}

func TestSignImage(t *testing.T) {
	s := New(t)
	tr := trustedRoot(t, s)
	ann := map[string]string{"env": "prod"}
	id, err := sgverify.NewShortCertificateIdentity("https://issuer.example.com", "", "alice@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	b := parse(t, s.SignImage(t, testDigest, "alice@example.com", "https://issuer.example.com", ann))
	if !b.HasInclusionProof() || !b.HasInclusionPromise() {
		t.Error("SignImage bundle lacks an inclusion proof or promise")
	}
	payload := verify(t, tr, b, []sgverify.VerifierOption{sgverify.WithTransparencyLog(1), sgverify.WithIntegratedTimestamps(1)}, sgverify.WithCertificateIdentity(id))

	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest      map[string]string `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != statementV1 || st.PredicateType != cosignSignPredicateType || len(st.Subject) != 1 {
		t.Fatalf("SignImage statement = %s", payload)
	}
	if diff := cmp.Diff(map[string]string{"sha256": testDigest.Hex}, st.Subject[0].Digest); diff != "" {
		t.Errorf("SignImage subject digest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ann, st.Subject[0].Annotations); diff != "" {
		t.Errorf("SignImage subject annotations (-want +got):\n%s", diff)
	}
	if want := Statement(t, testDigest, cosignSignPredicateType, ann); !bytes.Equal(payload, want) {
		t.Errorf("SignImage payload = %s; want Statement %s", payload, want)
	}

	// Another virtual Sigstore does not trust it.
	v, err := sgverify.NewVerifier(trustedRoot(t, New(t)), sgverify.WithTransparencyLog(1), sgverify.WithIntegratedTimestamps(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(b, sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), sgverify.WithCertificateIdentity(id))); err == nil {
		t.Error("another Sigstore's root verifies the bundle")
	}
}

func TestKeylessV2(t *testing.T) {
	s := New(t)
	stmt := Statement(t, testDigest, cosignSignPredicateType, nil)
	b := parse(t, Marshal(t, s.KeylessV2(t, "alice@example.com", "https://issuer.example.com", stmt)))
	id, err := sgverify.NewShortCertificateIdentity("https://issuer.example.com", "", "alice@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	got := verify(t, trustedRoot(t, s), b, []sgverify.VerifierOption{sgverify.WithTransparencyLog(1), sgverify.WithSignedTimestamps(1)}, sgverify.WithCertificateIdentity(id))
	if !bytes.Equal(got, stmt) {
		t.Errorf("KeylessV2 payload = %s; want %s", got, stmt)
	}
}

func TestKeyBundle(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stmt := Statement(t, testDigest, cosignSignPredicateType, nil)
	for name, key := range map[string]crypto.Signer{"ECDSA": ec, "Ed25519": ed} {
		t.Run(name, func(t *testing.T) {
			kv, err := sigsig.LoadVerifier(key.Public(), crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			ek := root.NewExpiringKey(kv, time.Time{}, time.Time{})
			material := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return ek, nil })
			b := parse(t, KeyBundle(t, key, stmt))
			got := verify(t, material, b, []sgverify.VerifierOption{sgverify.WithNoObserverTimestamps()}, sgverify.WithKey())
			if !bytes.Equal(got, stmt) {
				t.Errorf("KeyBundle payload = %s; want %s", got, stmt)
			}
		})
	}
}

func TestTrustedRoot(t *testing.T) {
	s := New(t)
	first := s.TrustedRoot(t)
	if !bytes.Equal(first, s.TrustedRoot(t)) {
		t.Error("TrustedRoot changes between calls")
	}
	tr := trustedRoot(t, s)
	if len(tr.FulcioCertificateAuthorities()) != 1 || len(tr.RekorLogs()) != 1 || len(tr.TimestampingAuthorities()) != 1 {
		t.Errorf("TrustedRoot has %d CAs, %d logs, %d TSAs; want one each",
			len(tr.FulcioCertificateAuthorities()), len(tr.RekorLogs()), len(tr.TimestampingAuthorities()))
	}
	data, err := os.ReadFile(s.WriteTrustedRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, first) {
		t.Error("WriteTrustedRoot wrote other bytes than TrustedRoot")
	}
}
