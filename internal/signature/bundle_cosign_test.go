package signature

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/signature/sigstoretest"
)

// cosign3Binary returns the real cosign v3, or skips the test.
func cosign3Binary(t *testing.T) string {
	t.Helper()
	return fixture.Tool(t, "cosign3", "go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3 (installed as cosign3)")
}

// TestCosign3SignsBundleWeVerify has cosign v3 sign an image with a key,
// offline, and checks BundleVerifier accepts its bundle.
//
// cosign v3 refuses --tlog-upload=false; the way to sign without Rekor is
// a signing config naming no service (`signing-config create` with no
// service flag writes {"mediaType":"…signingconfig.v0.2+json",
// "rekorTlogConfig":{},"tsaConfig":{}}). sign still tries to fetch the TUF
// trusted root, fails without a network, warns and goes on. It writes the
// bundle (v0.3, public key hint, no tlog entry) as an OCI 1.1 referrer,
// through the sha256-<hex> tag on a registry without the referrers API.
func TestCosign3SignsBundleWeVerify(t *testing.T) {
	bin := cosign3Binary(t)
	dir := t.TempDir()
	runCosign(t, bin, dir, "", "generate-key-pair")
	runCosign(t, bin, dir, "", "signing-config", "create", "--out", "sc.json")
	pemBytes, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pemBytes)
	if err != nil {
		t.Fatalf("ParsePublicKey(cosign.pub) = %v", err)
	}
	good := newBundleVerifier(t, BundleOptions{Key: pub, Annotations: map[string]string{"env": "prod"}})
	wrongKey := newBundleVerifier(t, BundleOptions{Key: newKey(t).Public()})

	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			ref, d := pushRandom(t, host, "team/app:v1")
			runCosign(t, bin, dir, "", "sign", "--key", "cosign.key", "--signing-config", "sc.json",
				"--allow-insecure-registry", "-y", "-a", "env=prod", digestRef(ref, d).String())

			got, err := VerifyImage(context.Background(), ref, good, nil)
			if err != nil {
				t.Fatalf("VerifyImage(%s) of cosign v3's bundle = %v", ref, err)
			}
			if len(got) != 1 || got[0].Format != FormatBundle || got[0].Digest != d || got[0].Signer != "key" {
				t.Fatalf("VerifyImage(%s) = %+v; want one bundle signature by key", ref, got)
			}
			var st Statement
			if err := json.Unmarshal(got[0].Raw, &st); err != nil || st.PredicateType != CosignSignPredicateType || !st.names(d) {
				t.Errorf("cosign v3 statement = %s (%v); want predicate type %s", got[0].Raw, err, CosignSignPredicateType)
			}

			_, err = VerifyImage(context.Background(), ref, wrongKey, nil)
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("VerifyImage(%s) with another key = %v; want ErrBadSignature", ref, err)
			}
			// cosign v3 writes no .sig tag: the v2 verifier finds nothing,
			// and Any picks the bundle.
			kv := KeyVerifier{Key: pub}
			if _, err := VerifyImage(context.Background(), ref, kv, nil); !errors.Is(err, ErrNoSignatures) {
				t.Errorf("KeyVerifier on a cosign v3 image = %v; want ErrNoSignatures", err)
			}
			if got, err := VerifyImage(context.Background(), ref, Any(kv, good), nil); err != nil || len(got) != 1 {
				t.Errorf("Any(KeyVerifier, BundleVerifier) = %d, %v; want the bundle", len(got), err)
			}
		})
	}
}

// TestWeAttachCosign3Verifies attaches a key-signed bundle with
// AttachBundle and has cosign v3 verify it (offline: --insecure-ignore-tlog
// with a key needs no trusted root).
func TestWeAttachCosign3Verifies(t *testing.T) {
	bin := cosign3Binary(t)
	dir := t.TempDir()
	key := newKey(t)
	writePub := func(name string, pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ours := writePub("ours.pub", key.Public())
	other := writePub("other.pub", newKey(t).Public())
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	attach(t, digestRef(ref, d), sigstoretest.KeyBundle(t, key, statementFor(t, d, map[string]string{"env": "prod"})))

	verify := []string{"verify", "--allow-insecure-registry", "--insecure-ignore-tlog=true", "-a", "env=prod"}
	runCosign(t, bin, dir, "", append(verify, "--key", ours, ref.String())...)
	// Not vacuous: another key, or another annotation value, fails.
	for _, args := range [][]string{
		append(verify, "--key", other, ref.String()),
		{"verify", "--allow-insecure-registry", "--insecure-ignore-tlog=true", "-a", "env=dev", "--key", ours, ref.String()},
	} {
		if out, err := cosignCmd(bin, dir, "", args...).CombinedOutput(); err == nil {
			t.Errorf("cosign %q passed:\n%s", args, out)
		}
	}
}

// TestCosign3VerifiesKeylessBundle has cosign v3 verify a keyless bundle
// of the virtual Sigstore with its trusted root, offline: the test's
// bundles and trusted_root.json are what cosign expects. The virtual
// certificates carry no SCT, hence --insecure-ignore-sct.
func TestCosign3VerifiesKeylessBundle(t *testing.T) {
	bin := cosign3Binary(t)
	dir := t.TempDir()
	ss := sigstoretest.New(t)
	rootPath := ss.WriteTrustedRoot(t)
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	attach(t, digestRef(ref, d), ss.SignImage(t, d, testSubject, testIssuer, nil))
	verify := func(subject string) []string {
		return []string{"verify", "--allow-insecure-registry", "--trusted-root", rootPath, "--insecure-ignore-sct",
			"--certificate-identity", subject, "--certificate-oidc-issuer", testIssuer, ref.String()}
	}
	runCosign(t, bin, dir, "", verify(testSubject)...)
	if out, err := cosignCmd(bin, dir, "", verify("bob@example.com")...).CombinedOutput(); err == nil {
		t.Errorf("cosign verify for another identity passed:\n%s", out)
	}
}
