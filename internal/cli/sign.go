package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// maxKeyFile bounds the key files read.
const maxKeyFile = signature.MaxKeySize

// signFlags are the flags sign and verify share.
type signFlags struct {
	key         string
	annotations []string
	insecure    bool
}

func (o *signFlags) addFlags(f *pflag.FlagSet, keyHelp string) {
	f.StringVar(&o.key, "key", "", keyHelp)
	f.StringArrayVarP(&o.annotations, "annotations", "a", nil, "annotation key=value (repeatable)")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP to the registry (for registries on localhost)")
}

func (o *signFlags) validate() (map[string]string, error) {
	if o.key == "" {
		return nil, usageErrorf("--key is required")
	}
	ann := map[string]string{}
	for _, a := range o.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--annotations %q: want key=value", a)
		}
		ann[k] = v
	}
	return ann, nil
}

// reference parses an image reference for signing or verifying.
func (o *signFlags) reference(s string) (name.Reference, error) {
	var opts []name.Option
	if o.insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("parse image reference %q: %w", s, err)}
	}
	return ref, nil
}

// prepare checks the output format and flags, parses the reference and
// reads the key file: the steps sign and verify share.
func (o *signFlags) prepare(g *globalOptions, arg string) (name.Reference, map[string]string, []byte, error) {
	if err := g.checkOutput("table", "json"); err != nil {
		return nil, nil, nil, err
	}
	ann, err := o.validate()
	if err != nil {
		return nil, nil, nil, err
	}
	ref, err := o.reference(arg)
	if err != nil {
		return nil, nil, nil, err
	}
	pemBytes, err := readLimited(o.key, maxKeyFile)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read key: %w", err)
	}
	return ref, ann, pemBytes, nil
}

func remoteAuth() []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithUserAgent("kubeshield")}
}

func newSignCommand(g *globalOptions) *cobra.Command {
	var o signFlags
	cmd := &cobra.Command{
		Use:   "sign IMAGE",
		Short: "Sign an image in its registry, as cosign does (-o table|json)",
		Long: `Sign an image with a private key, in cosign's format: the reference is
resolved to its digest first, the simple-signing payload for that digest is
signed, and the signature is stored as a layer of the sha256-<digest>.sig
tag in the image's repository (a second signature keeps the first), where
cosign and kubeshield verify find it. The key's password comes from
KUBESHIELD_PASSWORD, else COSIGN_PASSWORD, else a terminal prompt.`,
		Example: `  kubeshield sign --key kubeshield.key registry.example.com/app:1.2.3
  kubeshield sign --key kubeshield.key -a git=$(git rev-parse HEAD) --insecure 127.0.0.1:5000/app:1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, ann, pemBytes, err := o.prepare(g, args[0])
			if err != nil {
				return err
			}
			password, err := newPasswordReader().read(false)
			if err != nil {
				return err
			}
			signer, err := signature.ParsePrivateKey(pemBytes, password)
			clear(password)
			if err != nil {
				return fmt.Errorf("load key %s: %w", o.key, err)
			}
			sig, err := signature.Sign(cmd.Context(), ref, signer, signature.SignOptions{Annotations: ann, RemoteOptions: remoteAuth()})
			if err != nil {
				return fmt.Errorf("sign %s: %w", ref, err)
			}
			g.logger.Info("signed", slog.String("image", sig.Image.String()), slog.String("tag", sig.Tag.String()))
			if g.output == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]string{"image": sig.Image.String(), "signatureTag": sig.Tag.String()})
			}
			_, err = fmt.Fprintln(g.stdout, sig.Image.String())
			return err
		},
	}
	o.addFlags(cmd.Flags(), "private key file (cosign's encrypted format, or a PEM ECDSA, Ed25519 or RSA key)")
	return cmd
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var o signFlags
	cmd := &cobra.Command{
		Use:   "verify IMAGE",
		Short: "Verify an image's cosign signatures with a public key (-o table|json)",
		Long: `Verify the cosign signatures of an image with a public key: the reference is
resolved to its digest, and a signature counts only if it verifies with the
key, its payload names that digest and the image's repository, and it
carries every --annotations key=value. Prints the verified digest (-o json:
the verified payloads). Exits 1 when no signature passes, naming why each
failed.`,
		Example: `  kubeshield verify --key kubeshield.pub registry.example.com/app:1.2.3
  kubeshield verify --key cosign.pub -a env=prod -o json 127.0.0.1:5000/app:1 --insecure`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, ann, pemBytes, err := o.prepare(g, args[0])
			if err != nil {
				return err
			}
			pub, err := signature.ParsePublicKey(pemBytes)
			if err != nil {
				return fmt.Errorf("load public key %s: %w", o.key, err)
			}
			verified, err := signature.Verify(cmd.Context(), ref, pub, signature.VerifyOptions{Annotations: ann, RemoteOptions: remoteAuth()})
			if err != nil {
				return fmt.Errorf("verify %s: %w", ref, err)
			}
			digest := verified[0].Payload.Critical.Image.DockerManifestDigest
			g.logger.Info("verified", slog.String("image", ref.Context().Digest(digest).String()), slog.Int("signatures", len(verified)))
			if g.output == "json" {
				var payloads []json.RawMessage
				for _, v := range verified {
					payloads = append(payloads, json.RawMessage(v.Raw))
				}
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(payloads)
			}
			_, err = fmt.Fprintf(g.stdout, "%s\n", ref.Context().Digest(digest).String())
			return err
		},
	}
	o.addFlags(cmd.Flags(), "public key file (PEM)")
	return cmd
}
