package signature_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/signature"
)

// cosignForKeys returns the real cosign v2, or skips the test.
func cosignForKeys(t *testing.T) string {
	t.Helper()
	return fixture.Tool(t, "cosign", "go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5")
}

// cosignRunner runs cosign offline in dir with COSIGN_PASSWORD and env set,
// and returns its stdout; an error holds cosign's stderr.
func cosignRunner(t *testing.T, cosign, dir, password string, env ...string) func(args ...string) ([]byte, error) {
	return func(args ...string) ([]byte, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cosign, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"COSIGN_PASSWORD="+password,
			"HOME="+dir, // keeps cosign's caches out of the real home
			"TUF_ROOT="+filepath.Join(dir, ".sigstore"),
		)
		cmd.Env = append(cmd.Env, env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return stdout.Bytes(), &cosignError{args: args, err: err, stderr: stderr.String()}
		}
		return stdout.Bytes(), nil
	}
}

type cosignError struct {
	args   []string
	err    error
	stderr string
}

func (e *cosignError) Error() string {
	return "cosign " + strings.Join(e.args, " ") + ": " + e.err.Error() + "\n" + e.stderr
}

// TestCosignKeyInterop checks key files both ways with the real cosign:
// cosign's key pair opens here, and cosign opens, uses and verifies ours.
func TestCosignKeyInterop(t *testing.T) {
	cosign := cosignForKeys(t)
	const password = "interop password"

	t.Run("cosign-key-read-here", func(t *testing.T) {
		dir := t.TempDir()
		run := cosignRunner(t, cosign, dir, password)
		if _, err := run("generate-key-pair"); err != nil {
			t.Fatal(err)
		}
		privPEM, err := os.ReadFile(filepath.Join(dir, "cosign.key"))
		if err != nil {
			t.Fatal(err)
		}
		pubPEM, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
		if err != nil {
			t.Fatal(err)
		}
		priv, err := signature.ParsePrivateKey(privPEM, []byte(password))
		if err != nil {
			t.Fatalf("ParsePrivateKey(cosign.key): %v", err)
		}
		pub, err := signature.ParsePublicKey(pubPEM)
		if err != nil {
			t.Fatalf("ParsePublicKey(cosign.pub): %v", err)
		}
		if !priv.Public().(pubEqualer).Equal(pub) {
			t.Errorf("cosign.pub is not the public key of cosign.key")
		}
		if _, err := signature.ParsePrivateKey(privPEM, []byte("wrong")); !errors.Is(err, signature.ErrWrongPassword) {
			t.Errorf("ParsePrivateKey(cosign.key, wrong password) = %v; want ErrWrongPassword", err)
		}

		// A signature cosign makes with its key verifies with the public key
		// read here.
		blob := []byte("signed by cosign\n")
		if err := os.WriteFile(filepath.Join(dir, "blob"), blob, 0o644); err != nil {
			t.Fatal(err)
		}
		sig := cosignSignBlob(t, run, dir, "cosign.key")
		digest := sha256.Sum256(blob)
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], sig) {
			t.Errorf("cosign's signature does not verify with cosign.pub as read here")
		}
	})

	t.Run("our-key-used-by-cosign", func(t *testing.T) {
		dir := t.TempDir()
		// verify-blob fetches Sigstore's TUF root unless it is given a Rekor
		// key; none is used with --insecure-ignore-tlog.
		run := cosignRunner(t, cosign, dir, password, "SIGSTORE_REKOR_PUBLIC_KEY="+filepath.Join(dir, "ours.pub"))
		priv, err := signature.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		writeKeyPair(t, dir, "ours", priv, password)

		// cosign opens our private key and derives our public key.
		out, err := run("public-key", "--key", "ours.key")
		if err != nil {
			t.Fatal(err)
		}
		pub, err := signature.ParsePublicKey(out)
		if err != nil {
			t.Fatalf("ParsePublicKey(cosign public-key output %q): %v", out, err)
		}
		if !priv.PublicKey.Equal(pub) {
			t.Errorf("cosign public-key --key ours.key printed another key")
		}

		// cosign signs with our key; the signature verifies here.
		blob := []byte("signed by cosign with a kubeshield key\n")
		if err := os.WriteFile(filepath.Join(dir, "blob"), blob, 0o644); err != nil {
			t.Fatal(err)
		}
		sig := cosignSignBlob(t, run, dir, "ours.key")
		digest := sha256.Sum256(blob)
		if !ecdsa.VerifyASN1(&priv.PublicKey, digest[:], sig) {
			t.Errorf("cosign's signature with ours.key does not verify with our public key")
		}

		// We sign; cosign verifies with our .pub file.
		ours, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ours.sig"), []byte(base64.StdEncoding.EncodeToString(ours)), 0o644); err != nil {
			t.Fatal(err)
		}
		verify := []string{"verify-blob", "--key", "ours.pub", "--signature", "ours.sig", "--insecure-ignore-tlog=true", "blob"}
		if _, err := run(verify...); err != nil {
			t.Errorf("cosign rejects our signature: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "blob"), []byte("tampered\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := run(verify...); err == nil {
			t.Errorf("cosign verify-blob accepted our signature over another blob")
		}
	})

	// cosign also opens the other key types we write.
	t.Run("other-types-opened-by-cosign", func(t *testing.T) {
		dir := t.TempDir()
		run := cosignRunner(t, cosign, dir, password)
		p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for name, priv := range map[string]crypto.Signer{"p384": p384, "ed25519": keyFixtures()["ed25519"], "rsa": keyFixtures()["rsa-2048"]} {
			writeKeyPair(t, dir, name, priv, password)
			out, err := run("public-key", "--key", name+".key")
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			pub, err := signature.ParsePublicKey(out)
			if err != nil || !priv.Public().(pubEqualer).Equal(pub) {
				t.Errorf("cosign public-key --key %s.key = %q, %v; want our public key", name, out, err)
			}
		}
	})
}

// cosignSignBlob signs dir/blob offline with key and returns the DER
// signature.
func cosignSignBlob(t *testing.T, run func(...string) ([]byte, error), dir, key string) []byte {
	t.Helper()
	if _, err := run("sign-blob", "--key", key, "--tlog-upload=false", "--yes", "--output-signature", "blob.sig", "blob"); err != nil {
		t.Fatal(err)
	}
	b64, err := os.ReadFile(filepath.Join(dir, "blob.sig"))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64)))
	if err != nil {
		t.Fatalf("cosign signature %q is not base64: %v", b64, err)
	}
	return sig
}

// writeKeyPair writes dir/NAME.key (encrypted with password) and NAME.pub.
func writeKeyPair(t *testing.T, dir, name string, priv crypto.Signer, password string) {
	t.Helper()
	privPEM, err := signature.MarshalEncryptedPrivateKey(priv, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := signature.MarshalPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pub"), pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
}
