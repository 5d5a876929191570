package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// Environment variables holding the password of a private key, in the order
// they are looked up. COSIGN_PASSWORD lets cosign users keep their setup.
const (
	envPassword       = "KUBESHIELD_PASSWORD"
	envCosignPassword = "COSIGN_PASSWORD"
)

func newKeyCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage signing keys (cosign-compatible key files)",
		Long: `Manage the key pairs that sign and verify images. The files are those of
cosign: a private key encrypted with a password (PEM "ENCRYPTED SIGSTORE
PRIVATE KEY") and a PEM public key, so either tool can use the other's keys.`,
	}
	cmd.AddCommand(newKeyGenerateCommand(g))
	return cmd
}

// keyGenerateOptions are the flags of `kubeshield key generate`.
type keyGenerateOptions struct {
	g        *globalOptions
	prefix   string
	force    bool
	password passwordReader
}

func newKeyGenerateCommand(g *globalOptions) *cobra.Command {
	o := &keyGenerateOptions{g: g, password: newPasswordReader()}
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate an ECDSA P-256 key pair: PREFIX.key (encrypted) and PREFIX.pub",
		Long: `Generate an ECDSA P-256 key pair, the kind cosign generates, and write it to
PREFIX.key (mode 0600, encrypted with a password: scrypt and NaCl secretbox,
PEM "ENCRYPTED SIGSTORE PRIVATE KEY") and PREFIX.pub (PEM public key).
Existing files are left alone unless --force is given.

The password comes from $KUBESHIELD_PASSWORD, else $COSIGN_PASSWORD (a
variable set to the empty string means an empty password, as in cosign),
else it is asked twice on the terminal. Without a terminal and without
either variable, the command fails with a usage error.`,
		Example: `  kubeshield key generate
  KUBESHIELD_PASSWORD=... kubeshield key generate --output-key-prefix ci/release`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run()
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func (o *keyGenerateOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.prefix, "output-key-prefix", "kubeshield", "write the key pair to PREFIX.key and PREFIX.pub")
	f.BoolVar(&o.force, "force", false, "overwrite existing key files")
}

func (o *keyGenerateOptions) validate() error {
	if err := o.g.checkOutput("table"); err != nil {
		return err
	}
	if o.prefix == "" {
		return usageErrorf("--output-key-prefix: want a non-empty path prefix")
	}
	return nil
}

func (o *keyGenerateOptions) run() error {
	keyPath, pubPath := o.prefix+".key", o.prefix+".pub"
	if !o.force {
		for _, p := range []string{keyPath, pubPath} {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%s exists; refusing to overwrite it (use --force to replace the key pair)", p)
			}
		}
	}
	password, err := o.password.read(true)
	if err != nil {
		return err
	}
	defer clear(password)
	if len(password) == 0 {
		o.g.logger.Warn("private key encrypted with an empty password", slog.String("path", keyPath))
	}

	priv, err := signature.GenerateKey()
	if err != nil {
		return err
	}
	privPEM, err := signature.MarshalEncryptedPrivateKey(priv, password)
	if err != nil {
		return err
	}
	pubPEM, err := signature.MarshalPublicKey(priv.Public())
	if err != nil {
		return err
	}
	if err := writeKeyFile(keyPath, privPEM, 0o600, o.force); err != nil {
		return err
	}
	if err := writeKeyFile(pubPath, pubPEM, 0o644, o.force); err != nil {
		return errors.Join(err, os.Remove(keyPath))
	}
	_, err = fmt.Fprintf(o.g.stdout, "Private key written to %s\nPublic key written to %s\n", keyPath, pubPath)
	return err
}

// writeKeyFile writes data to path with mode perm. Without overwrite, an
// existing file is an error (checked atomically with O_EXCL).
func writeKeyFile(path string, data []byte, perm fs.FileMode, overwrite bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	_, err = f.Write(data)
	if err == nil && overwrite {
		err = f.Chmod(perm) // an overwritten file keeps its old mode otherwise
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write key %s: %w", path, err)
	}
	return nil
}

// passwordReader finds the password of a private key: $KUBESHIELD_PASSWORD,
// else $COSIGN_PASSWORD, else a prompt on the controlling terminal.
type passwordReader struct {
	lookupEnv func(string) (string, bool)
	openTTY   func() (*os.File, error)
}

func newPasswordReader() passwordReader {
	return passwordReader{
		lookupEnv: os.LookupEnv,
		openTTY:   func() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) },
	}
}

// read returns the password. With confirm (a new key), a typed password is
// asked twice and must match. Without a variable and without a terminal it
// returns a *UsageError.
func (p passwordReader) read(confirm bool) ([]byte, error) {
	for _, name := range []string{envPassword, envCosignPassword} {
		if v, ok := p.lookupEnv(name); ok {
			return []byte(v), nil
		}
	}
	noPassword := usageErrorf("no password: set %s (or %s), or run on a terminal", envPassword, envCosignPassword)
	tty, err := p.openTTY()
	if err != nil {
		return nil, noPassword
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, noPassword
	}
	password, err := promptPassword(tty, "Enter password for private key: ")
	if err != nil || !confirm {
		return password, err
	}
	again, err := promptPassword(tty, "Enter password for private key again: ")
	defer clear(again)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(password, again) {
		clear(password)
		return nil, errors.New("passwords do not match")
	}
	return password, nil
}

// promptPassword writes prompt to tty and reads a line without echo.
func promptPassword(tty *os.File, prompt string) ([]byte, error) {
	if _, err := fmt.Fprint(tty, prompt); err != nil {
		return nil, fmt.Errorf("password prompt: %w", err)
	}
	password, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	return password, nil
}
