package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/signature"
	"github.com/kubeshield/kubeshield/internal/signature/sigstoretest"
)

// TestSignVerify: generate a key, sign an image in a registry on
// 127.0.0.1, verify it, and see verification fail with the wrong key and a
// missing annotation.
func TestSignVerify(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBESHIELD_PASSWORD", "correct horse")
	for _, prefix := range []string{"good", "other"} {
		if _, errOut, code := runCLI(t, "key", "generate", "--output-key-prefix", filepath.Join(dir, prefix)); code != 0 {
			t.Fatalf("key generate: exit %d: %s", code, errOut)
		}
	}
	layer := filepath.Join(dir, "l.tar.gz")
	if err := fixture.Layer(layer, []fixture.TarEntry{{Name: "app", Body: "v1"}}); err != nil {
		t.Fatal(err)
	}
	img, err := fixture.ImageFromLayers(layer)
	if err != nil {
		t.Fatal(err)
	}
	ref := fixture.Push(t, fixture.Registry(t), "team/app:1", img)
	digest, _ := img.Digest()

	out, errOut, code := runCLI(t, "sign", "-q", "--key", filepath.Join(dir, "good.key"), "-a", "env=prod", ref)
	if code != 0 || !strings.Contains(out, digest.String()) {
		t.Fatalf("sign: exit %d, out %q: %s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "verify", "-q", "--key", filepath.Join(dir, "good.pub"), "-a", "env=prod", ref)
	if code != 0 || strings.TrimSpace(out) != strings.Split(ref, ":1")[0]+"@"+digest.String() {
		t.Fatalf("verify: exit %d, out %q: %s", code, out, errOut)
	}
	out, _, code = runCLI(t, "verify", "-q", "-o", "json", "--key", filepath.Join(dir, "good.pub"), ref)
	var doc struct {
		Image      string
		Signatures []struct {
			Format  string
			Payload struct {
				Optional map[string]string
			}
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Signatures) != 1 ||
		doc.Signatures[0].Format != "cosign" || doc.Signatures[0].Payload.Optional["env"] != "prod" || !strings.HasSuffix(doc.Image, digest.String()) {
		t.Fatalf("verify -o json: exit %d: %s", code, out)
	}
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--key", filepath.Join(dir, "other.pub")}, "signature"},
		{[]string{"--key", filepath.Join(dir, "good.pub"), "-a", "env=dev"}, "annotation"},
	} {
		_, errOut, code := runCLI(t, append(append([]string{"verify", "-q"}, tt.args...), ref)...)
		if code != 1 || !strings.Contains(errOut, tt.msg) {
			t.Errorf("verify %v: exit %d, stderr %q; want 1 naming %q", tt.args, code, errOut, tt.msg)
		}
	}
	for _, args := range [][]string{
		{},
		{"--key", filepath.Join(dir, "good.pub"), "--trust-policy", "p.json", "--trust-store", dir},
		{"--certificate-identity", "a@example.com", "--trusted-root", "r.json"},
		{"--trust-policy", "p.json"},
	} {
		if _, errOut, code := runCLI(t, append(append([]string{"verify"}, args...), ref)...); code != 2 {
			t.Errorf("verify %q: exit %d, %q; want 2 (usage)", args, code, errOut)
		}
	}
	t.Setenv("KUBESHIELD_PASSWORD", "wrong")
	if _, errOut, code := runCLI(t, "sign", "-q", "--key", filepath.Join(dir, "good.key"), ref); code != 1 || !strings.Contains(errOut, "password") {
		t.Errorf("sign with a wrong password: exit %d, %q", code, errOut)
	}
}

// writeNotationSigner writes a CA, a code-signing leaf issued by it and the
// leaf's key (PEM) into dir, and a Notation trust store and trust policy
// that trust the CA for the identity CN=release; it returns the paths of
// the key, the chain, the policy and the store.
func writeNotationSigner(t *testing.T, dir, cn string) (key, chain, policy, store string) {
	t.Helper()
	now := time.Now().Add(-time.Hour)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	subject := func(cn string) pkix.Name {
		return pkix.Name{Country: []string{"US"}, Province: []string{"WA"}, Organization: []string{"Acme"}, CommonName: cn}
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject("Acme CA"), NotBefore: now, NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: subject(cn), NotBefore: now, NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caTmpl, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	key, chain = filepath.Join(dir, cn+".key"), filepath.Join(dir, cn+"-chain.pem")
	store, policy = filepath.Join(dir, "truststore"), filepath.Join(dir, "trustpolicy.json")
	caDir := filepath.Join(store, "x509", "ca", "acme")
	for _, f := range []struct {
		path string
		data []byte
	}{
		{key, block("PRIVATE KEY", keyDER)},
		{chain, append(block("CERTIFICATE", leafDER), block("CERTIFICATE", caDER)...)},
		{filepath.Join(caDir, cn+"-ca.crt"), block("CERTIFICATE", caDER)},
		{policy, []byte(`{"version":"1.0","trustPolicies":[{"name":"all","registryScopes":["*"],
  "signatureVerification":{"level":"strict"},"trustStores":["ca:acme"],
  "trustedIdentities":["x509.subject: C=US, ST=WA, O=Acme, CN=release"]}]}`)},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return key, chain, policy, store
}

// TestSignVerifyNotation: sign --format notation in both envelopes and
// verify under a trust policy; a signer the policy does not trust fails.
func TestSignVerifyNotation(t *testing.T) {
	host := fixture.Registry(t)
	dir := t.TempDir()
	key, chain, policy, store := writeNotationSigner(t, dir, "release")
	otherDir := t.TempDir()
	otherKey, otherChain, _, _ := writeNotationSigner(t, otherDir, "release")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	for i, envelope := range []string{"jws", "cose"} {
		ref := fixture.Push(t, host, fmt.Sprintf("team/notation:%d", i), img)
		if i == 1 {
			// A signature by a CA the trust store does not hold is ignored
			// next to a good one, and alone fails verification.
			ref = fixture.Push(t, host, "team/notation-other:1", img)
			if _, errOut, code := runCLI(t, "sign", "-q", "--format", "notation", "--key", otherKey, "--certificate-chain", otherChain, ref); code != 0 {
				t.Fatalf("sign (untrusted CA): exit %d: %s", code, errOut)
			}
			_, errOut, code := runCLI(t, "verify", "-q", "--trust-policy", policy, "--trust-store", store, ref)
			if code != 1 || !strings.Contains(errOut, "untrusted") {
				t.Errorf("verify an untrusted signer: exit %d, %q; want 1 naming it untrusted", code, errOut)
			}
		}
		out, errOut, code := runCLI(t, "sign", "-q", "-o", "json", "--format", "notation", "--signature-format", envelope,
			"--key", key, "--certificate-chain", chain, "-a", "git=abc", ref)
		if code != 0 || !strings.Contains(out, `"format": "notation"`) {
			t.Fatalf("sign --signature-format %s: exit %d, %s: %s", envelope, code, out, errOut)
		}
		out, errOut, code = runCLI(t, "verify", "-q", "-o", "json", "--trust-policy", policy, "--trust-store", store, ref)
		var doc struct {
			Image      string
			Signatures []struct{ Format, Signer string }
		}
		if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || !strings.HasSuffix(doc.Image, digest.String()) ||
			len(doc.Signatures) != 1 || doc.Signatures[0].Format != "notation" || !strings.Contains(doc.Signatures[0].Signer, "CN=release") {
			t.Errorf("verify (%s): exit %d, %s: %s", envelope, code, out, errOut)
		}
	}
	for _, args := range [][]string{
		{"--format", "notation", "--key", key},
		{"--format", "notation", "--key", key, "--certificate-chain", chain, "--signature-format", "xml"},
		{"--format", "x509", "--key", key},
		{"--key", key, "--certificate-chain", chain},
	} {
		if _, errOut, code := runCLI(t, append(append([]string{"sign"}, args...), host+"/team/notation:0")...); code != 2 {
			t.Errorf("sign %q: exit %d, %q; want 2 (usage)", args, code, errOut)
		}
	}
}

// TestVerifyKeyless: keyless Sigstore bundles (virtual Sigstore) verified
// through the CLI with a trusted root file and identity flags.
func TestVerifyKeyless(t *testing.T) {
	ss := sigstoretest.New(t)
	root := ss.WriteTrustedRoot(t)
	host := fixture.Registry(t)
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref := fixture.Push(t, host, "team/keyless:1", img)
	digest, _ := img.Digest()
	dig, err := name.NewDigest(strings.TrimSuffix(ref, ":1") + "@" + digest.String())
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://token.actions.githubusercontent.com"
	const identity = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	bundle := ss.SignImage(t, digest, identity, issuer, map[string]string{"env": "prod"})
	if _, err := signature.AttachBundle(context.Background(), dig, bundle, nil); err != nil {
		t.Fatal(err)
	}
	base := []string{"verify", "-q", "--trusted-root", root, "--insecure-ignore-sct"}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string // in stdout (code 0) or stderr
	}{
		{"exact identity", []string{"--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "-a", "env=prod"}, 0, digest.String()},
		{"regexp identity", []string{"--certificate-identity-regexp", `^https://github\.com/acme/`, "--certificate-oidc-issuer", issuer}, 0, digest.String()},
		{"another identity", []string{"--certificate-identity", "https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main", "--certificate-oidc-issuer", issuer}, 1, "identity"},
		{"another issuer", []string{"--certificate-identity", identity, "--certificate-oidc-issuer", "https://accounts.example.com"}, 1, "issuer"},
		{"missing annotation", []string{"--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "-a", "env=dev"}, 1, "annotation"},
		{"SCT required by default", []string{"--certificate-identity", identity, "--certificate-oidc-issuer", issuer}, 1, "sct"},
		{"no issuer", []string{"--certificate-identity", identity}, 2, "issuer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{}, base...), tt.args...)
			if tt.name == "SCT required by default" {
				args = append([]string{"verify", "-q", "--trusted-root", root}, tt.args...)
			}
			out, errOut, code := runCLI(t, append(args, ref)...)
			got := errOut
			if code == 0 {
				got = out
			}
			if code != tt.code || !strings.Contains(strings.ToLower(got), tt.want) {
				t.Errorf("verify %q: exit %d, out %q, err %q; want %d with %q", tt.args, code, out, errOut, tt.code, tt.want)
			}
		})
	}
	// Another Sigstore's trusted root does not vouch for this one's certificates.
	other := sigstoretest.New(t).WriteTrustedRoot(t)
	_, errOut, code := runCLI(t, "verify", "-q", "--trusted-root", other, "--insecure-ignore-sct",
		"--certificate-identity", identity, "--certificate-oidc-issuer", issuer, ref)
	if code != 1 || !strings.Contains(errOut, "untrusted") {
		t.Errorf("verify with another trusted root: exit %d, %q; want 1 naming an untrusted certificate", code, errOut)
	}
}
