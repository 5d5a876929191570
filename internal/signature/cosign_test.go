package signature

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// cosignBinary returns the real cosign v2, or skips the test.
func cosignBinary(t *testing.T) string {
	t.Helper()
	return fixture.Tool(t, "cosign", "go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5")
}

// runCosign runs cosign offline: no Rekor, no TUF root fetch (the Rekor key
// is pinned to rekorKey), state kept in the test's directories.
func runCosign(t *testing.T, bin, dir, rekorKey string, args ...string) {
	t.Helper()
	if out, err := cosignCmd(bin, dir, rekorKey, args...).CombinedOutput(); err != nil {
		t.Fatalf("cosign %q: %v\n%s", args, err, out)
	}
}

func cosignCmd(bin, dir, rekorKey string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"COSIGN_PASSWORD=test-password",
		"HOME="+dir,
		"TUF_ROOT="+filepath.Join(dir, "tuf"),
	)
	if rekorKey != "" {
		cmd.Env = append(cmd.Env, "SIGSTORE_REKOR_PUBLIC_KEY="+rekorKey)
	}
	return cmd
}

func TestCosignSignsWeVerify(t *testing.T) {
	bin := cosignBinary(t)
	dir := t.TempDir()
	pubPath := filepath.Join(dir, "cosign.pub")
	runCosign(t, bin, dir, "", "generate-key-pair")
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	runCosign(t, bin, dir, pubPath, "sign", "--key", "cosign.key", "--tlog-upload=false", "-y",
		"--allow-insecure-registry", "-a", "env=prod", digestRef(ref, d).String())

	pemBytes, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pemBytes)
	if err != nil {
		t.Fatalf("ParsePublicKey(cosign.pub) = %v", err)
	}
	got, err := Verify(context.Background(), ref, pub, VerifyOptions{Annotations: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatalf("Verify(%s) of cosign's signature = %v", ref, err)
	}
	if len(got) != 1 {
		t.Fatalf("Verify(%s) = %d signatures; want 1", ref, len(got))
	}
	// Byte for byte, cosign writes the payload NewPayload writes.
	want, err := NewPayload(ref.Context().Name(), d, map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if string(got[0].Raw) != string(want) {
		t.Errorf("cosign payload = %s; NewPayload = %s", got[0].Raw, want)
	}
}

func TestWeSignCosignVerifies(t *testing.T) {
	bin := cosignBinary(t)
	dir := t.TempDir()
	key := newKey(t)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(dir, "ours.pub")
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	host := fixture.Registry(t)
	ref, _ := pushRandom(t, host, "team/app:v1")
	if _, err := Sign(context.Background(), ref, key, SignOptions{Annotations: map[string]string{"env": "prod"}}); err != nil {
		t.Fatalf("Sign(%s) = %v", ref, err)
	}
	// A second signature, by another key, must not disturb cosign.
	if _, err := Sign(context.Background(), ref, newKey(t), SignOptions{}); err != nil {
		t.Fatalf("second Sign(%s) = %v", ref, err)
	}
	verify := []string{"verify", "--allow-insecure-registry", "--insecure-ignore-tlog=true", "-a", "env=prod"}
	runCosign(t, bin, dir, pubPath, append(verify, "--key", pubPath, ref.String())...)

	// The check is not vacuous: cosign rejects the same signatures under a
	// key that did not make them.
	der, err = x509.MarshalPKIXPublicKey(newKey(t).Public())
	if err != nil {
		t.Fatal(err)
	}
	otherPath := filepath.Join(dir, "other.pub")
	if err := os.WriteFile(otherPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cosignCmd(bin, dir, pubPath, append(verify, "--key", otherPath, ref.String())...).CombinedOutput(); err == nil {
		t.Errorf("cosign verify with another key passed:\n%s", out)
	}
}

// TestMixedSignatures interleaves cosign's signatures and ours on one image:
// each side appends without dropping the other's.
func TestMixedSignatures(t *testing.T) {
	bin := cosignBinary(t)
	ctx := context.Background()
	dir := t.TempDir()
	runCosign(t, bin, dir, "", "generate-key-pair")
	cosignPub := filepath.Join(dir, "cosign.pub")
	pemBytes, err := os.ReadFile(cosignPub)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := ParsePublicKey(pemBytes)
	if err != nil {
		t.Fatalf("ParsePublicKey(cosign.pub) = %v", err)
	}
	key := newKey(t)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	ourPub := filepath.Join(dir, "ours.pub")
	if err := os.WriteFile(ourPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "app:v1")
	if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
		t.Fatal(err)
	}
	runCosign(t, bin, dir, cosignPub, "sign", "--key", "cosign.key", "--tlog-upload=false", "-y",
		"--allow-insecure-registry", digestRef(ref, d).String())
	if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
		t.Fatal(err)
	}

	if n := len(readSigLayers(t, ref, d)); n != 3 {
		t.Errorf("signature image has %d layers; want 3", n)
	}
	for _, c := range []struct {
		name string
		pub  crypto.PublicKey
		want int
	}{{"ours", key.Public(), 2}, {"cosign's", theirs, 1}} {
		got, err := Verify(ctx, ref, c.pub, VerifyOptions{})
		if err != nil || len(got) != c.want {
			t.Errorf("Verify(%s) with %s key = %d, %v; want %d signatures", ref, c.name, len(got), err, c.want)
		}
	}
	for _, pub := range []string{ourPub, cosignPub} {
		runCosign(t, bin, dir, cosignPub, "verify", "--allow-insecure-registry", "--insecure-ignore-tlog=true",
			"--key", pub, ref.String())
	}
}
