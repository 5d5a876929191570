package cli

import (
	"bytes"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// TestKeyGenerate runs `key generate`: the pair opens with the password from
// the environment, existing files are kept without --force and replaced
// (mode 0600 again) with it.
func TestKeyGenerate(t *testing.T) {
	t.Setenv(envPassword, "s3cret")
	t.Setenv(envCosignPassword, "not this one")
	prefix := filepath.Join(t.TempDir(), "release")

	_, errOut, code := runCLI(t, "key", "generate", "--output-key-prefix", prefix)
	if code != ExitOK {
		t.Fatalf("key generate: exit %d\n%s", code, errOut)
	}
	first := checkKeyPair(t, prefix, "s3cret")

	_, _, code = runCLI(t, "key", "generate", "--output-key-prefix", prefix)
	if code != ExitError {
		t.Errorf("key generate over existing files: exit %d; want %d", code, ExitError)
	}
	if again := checkKeyPair(t, prefix, "s3cret"); !again.Equal(first) {
		t.Errorf("key generate without --force replaced the key")
	}

	if err := os.Chmod(prefix+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "key", "generate", "--output-key-prefix", prefix, "--force")
	if code != ExitOK {
		t.Fatalf("key generate --force: exit %d\n%s", code, errOut)
	}
	if again := checkKeyPair(t, prefix, "s3cret"); again.Equal(first) {
		t.Errorf("key generate --force kept the old key")
	}

	_, _, code = runCLI(t, "key", "generate", "--output-key-prefix", "")
	if code != ExitUsage {
		t.Errorf("key generate --output-key-prefix '': exit %d; want %d", code, ExitUsage)
	}
}

// checkKeyPair opens PREFIX.key with password, checks its mode and that
// PREFIX.pub is its public key, and returns the public key.
func checkKeyPair(t *testing.T, prefix, password string) publicKey {
	t.Helper()
	fi, err := os.Stat(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s.key mode %v; want 0600", prefix, fi.Mode().Perm())
	}
	privPEM, err := os.ReadFile(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := signature.ParsePrivateKey(privPEM, []byte(password))
	if err != nil {
		t.Fatalf("ParsePrivateKey(%s.key): %v", prefix, err)
	}
	pub, err := signature.ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatalf("ParsePublicKey(%s.pub): %v", prefix, err)
	}
	got := priv.Public().(publicKey)
	if !got.Equal(pub) {
		t.Fatalf("%s.pub is not the public key of %s.key", prefix, prefix)
	}
	return got
}

// publicKey is what every crypto public key implements.
type publicKey interface{ Equal(crypto.PublicKey) bool }

// TestPasswordReader checks the order of the sources and that no variable
// and no terminal is a usage error.
func TestPasswordReader(t *testing.T) {
	noTTY := func() (*os.File, error) { return nil, errors.New("no tty") }
	notATerminal := func() (*os.File, error) { return os.Open(os.DevNull) }
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	tests := []struct {
		name    string
		vars    map[string]string
		openTTY func() (*os.File, error)
		want    string
		usage   bool
	}{
		{"kubeshield first", map[string]string{envPassword: "a", envCosignPassword: "b"}, noTTY, "a", false},
		{"cosign next", map[string]string{envCosignPassword: "b"}, noTTY, "b", false},
		{"set but empty", map[string]string{envPassword: ""}, noTTY, "", false},
		{"no tty", nil, noTTY, "", true},
		{"not a terminal", nil, notATerminal, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := passwordReader{lookupEnv: env(tt.vars), openTTY: tt.openTTY}
			got, err := p.read(true)
			var ue *UsageError
			if tt.usage {
				if !errors.As(err, &ue) {
					t.Fatalf("read() = %q, %v; want a usage error", got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, []byte(tt.want)) {
				t.Fatalf("read() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
