package signature

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kubeshield/kubeshield/internal/signature/sigstoretest"
)

// FuzzParseBundle checks that ParseBundle never panics, and that what it
// accepts is a DSSE bundle whose statement checks do not panic either.
// The seeds are a fresh keyless bundle and a Rekor v2 bundle of a
// virtual Sigstore, cosign v3's key bundle and testdata/fuzz/FuzzParseBundle:
// an older keyless bundle (Rekor entry with inclusion proof and promise),
// a v0.1 bundle and inputs the fuzzer found interesting.
func FuzzParseBundle(f *testing.F) {
	cosign3, err := os.ReadFile(filepath.Join("testdata", "cosign3-key-bundle.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cosign3)
	want := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	ss := sigstoretest.New(f)
	f.Add(ss.SignImage(f, want, testSubject, testIssuer, map[string]string{"env": "prod"}))
	f.Add(sigstoretest.Marshal(f, ss.KeylessV2(f, testSubject, testIssuer, sigstoretest.Statement(f, want, CosignSignPredicateType, nil))))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.2","verificationMaterial":{"publicKey":{"hint":"x"}},"messageSignature":{"signature":"AA=="}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			if b != nil {
				t.Fatalf("ParseBundle = %v, %v; want nil with the error", b, err)
			}
			return
		}
		if !strings.HasPrefix(b.MediaType, bundleMediaPrefix) || b.entity == nil {
			t.Fatalf("ParseBundle accepted media type %q", b.MediaType)
		}
		_ = b.checkStatement(want, map[string]string{"env": "prod"})
		if _, err := b.entity.TlogEntries(); err != nil {
			t.Fatalf("accepted bundle's log entries: %v", err)
		}
	})
}
