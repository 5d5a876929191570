package notation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	orasremote "oras.land/oras-go/v2/registry/remote"
)

// testRegistry is go-containerregistry's in-memory registry, with or
// without the referrers API.
type testRegistry struct {
	host      string
	referrers bool
}

func newRegistry(t *testing.T, referrers bool) testRegistry {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(referrers))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return testRegistry{host: strings.TrimPrefix(srv.URL, "http://"), referrers: referrers}
}

// modes returns a registry of each kind, named for subtests.
func modes(t *testing.T) map[string]testRegistry {
	return map[string]testRegistry{
		"referrers API": newRegistry(t, true),
		"referrers tag": newRegistry(t, false),
	}
}

// pushImage pushes a small random image to repo and returns its digest.
func (r testRegistry) pushImage(t *testing.T, repo string) name.Digest {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(r.host + "/" + repo + ":latest")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("push %s: %v", tag, err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return tag.Context().Digest(h.String())
}

// oras returns an oras-go repository for repo, as notation uses one.
func (r testRegistry) oras(t *testing.T, repo string) *orasremote.Repository {
	t.Helper()
	or, err := orasremote.NewRepository(r.host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	or.PlainHTTP = true
	if !r.referrers {
		if err := or.SetReferrersCapability(false); err != nil {
			t.Fatal(err)
		}
	}
	return or
}

// pki is a test CA and a code-signing leaf it issued.
type pki struct {
	ca      *x509.Certificate
	caKey   *ecdsa.PrivateKey
	leaf    *x509.Certificate
	leafKey *ecdsa.PrivateKey
}

// leafSubject is the subject of every test leaf; notation requires C, ST
// and O in a trusted identity.
var leafSubject = pkix.Name{
	Country:            []string{"US"},
	Province:           []string{"WA"},
	Locality:           []string{"Seattle"},
	Organization:       []string{"Acme"},
	OrganizationalUnit: []string{"Release"},
	CommonName:         "release-signer",
}

// trustedIdentity names leafSubject as a trust policy does.
const trustedIdentity = "x509.subject: C=US, ST=WA, O=Acme, CN=release-signer"

func newPKI(t *testing.T, caName string) pki {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"US"}, Province: []string{"WA"}, Organization: []string{"Acme"}, CommonName: caName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               leafSubject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(12 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	return pki{ca: ca, caKey: caKey, leaf: leaf, leafKey: leafKey}
}

func (p pki) chain() []*x509.Certificate { return []*x509.Certificate{p.leaf, p.ca} }

// writeStore writes certs as DIR/x509/TYPE/NAME/NAME.crt under a new
// directory laid out as {NOTATION_CONFIG}: it returns the configuration
// root (for notation-go's own reader) and its truststore directory (for
// NewVerifier).
func writeStore(t *testing.T, typ, storeName string, certs ...*x509.Certificate) (configRoot, storeDir string) {
	t.Helper()
	configRoot = t.TempDir()
	storeDir = filepath.Join(configRoot, "truststore")
	d := filepath.Join(storeDir, "x509", typ, storeName)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	var pemData []byte
	for _, c := range certs {
		pemData = append(pemData, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(filepath.Join(d, storeName+".crt"), pemData, 0o644); err != nil {
		t.Fatal(err)
	}
	return configRoot, storeDir
}

// statement is one trust policy statement for policyJSON.
type statement struct {
	Name                  string            `json:"name"`
	RegistryScopes        []string          `json:"registryScopes"`
	SignatureVerification map[string]string `json:"signatureVerification"`
	TrustStores           []string          `json:"trustStores,omitempty"`
	TrustedIdentities     []string          `json:"trustedIdentities,omitempty"`
}

// policyJSON returns a trust policy document with one statement.
func policyJSON(t *testing.T, level string, scopes, stores, identities []string) []byte {
	t.Helper()
	b, err := json.MarshalIndent(map[string]any{
		"version": "1.0",
		"trustPolicies": []statement{{
			Name:                  "test",
			RegistryScopes:        scopes,
			SignatureVerification: map[string]string{"level": level},
			TrustStores:           stores,
			TrustedIdentities:     identities,
		}},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// strictPolicy trusts ca:acme and trustedIdentity for repo of dig.
func strictPolicy(t *testing.T, dig name.Digest) []byte {
	return policyJSON(t, "strict", []string{dig.Context().Name()}, []string{"ca:acme"}, []string{trustedIdentity})
}

func newVerifier(t *testing.T, policy []byte, storeDir string) *Verifier {
	t.Helper()
	v, err := NewVerifier(policy, storeDir)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
