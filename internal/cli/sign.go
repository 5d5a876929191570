package cli

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubeshield/kubeshield/internal/notation"
	"github.com/kubeshield/kubeshield/internal/signature"
)

// maxKeyFile bounds the key files read.
const maxKeyFile = signature.MaxKeySize

// maxPolicyFile bounds trust policies, trusted roots and certificate
// chains read.
const maxPolicyFile = 4 << 20

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

// parseAnnotations checks --annotations.
func (o *signFlags) parseAnnotations() (map[string]string, error) {
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

func remoteAuth() []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithUserAgent("kubeshield")}
}

// signOptions are the flags of `kubeshield sign`.
type signOptions struct {
	signFlags
	format          string // cosign or notation
	chain           string // --certificate-chain
	signatureFormat string // jws or cose
}

func newSignCommand(g *globalOptions) *cobra.Command {
	var o signOptions
	cmd := &cobra.Command{
		Use:   "sign IMAGE",
		Short: "Sign an image in its registry, as cosign or notation does (-o table|json)",
		Long: `Sign an image with a private key. The reference is resolved to its digest
first and that digest is signed, so moving the tag later does not move the
signature.

--format cosign (the default) writes cosign's format: the simple-signing
payload for the digest is signed and the signature is stored as a layer of
the sha256-<digest>.sig tag in the image's repository (a second signature
keeps the first), where cosign verify and kubeshield verify find it.

--format notation writes a Notary Project signature, as notation sign does:
the image's descriptor (with the --annotations as user metadata) is signed
in a JWS or COSE envelope (--signature-format) with the key and its X.509
certificate chain (--certificate-chain, PEM, signing certificate first; it
needs the code-signing extended key usage), and stored as an OCI referrer
of the image (the registry's referrers API, or the sha256-<digest> tag
index where it has none). Notation needs an ECDSA or RSA key.

The key's password comes from KUBESHIELD_PASSWORD, else COSIGN_PASSWORD,
else a terminal prompt.`,
		Example: `  kubeshield sign --key kubeshield.key registry.example.com/app:1.2.3
  kubeshield sign --key kubeshield.key -a git=$(git rev-parse HEAD) --insecure 127.0.0.1:5000/app:1
  kubeshield sign --format notation --key signer.key --certificate-chain signer-chain.pem registry.example.com/app:1.2.3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, g, args[0])
		},
	}
	o.addFlags(cmd.Flags(), "private key file (cosign's encrypted format, or a PEM ECDSA, Ed25519 or RSA key)")
	cmd.Flags().StringVar(&o.format, "format", "cosign", "signature format: cosign or notation")
	cmd.Flags().StringVar(&o.chain, "certificate-chain", "", "PEM certificate chain of the key, signing certificate first (--format notation)")
	cmd.Flags().StringVar(&o.signatureFormat, "signature-format", "jws", "Notation envelope: jws or cose (--format notation)")
	return cmd
}

func (o *signOptions) run(cmd *cobra.Command, g *globalOptions, arg string) error {
	if err := g.checkOutput("table", "json"); err != nil {
		return err
	}
	if o.key == "" {
		return usageErrorf("--key is required")
	}
	ann, err := o.parseAnnotations()
	if err != nil {
		return err
	}
	var envelope string
	switch o.format {
	case "cosign":
		if o.chain != "" || cmd.Flags().Changed("signature-format") {
			return usageErrorf("--certificate-chain and --signature-format are for --format notation")
		}
	case "notation":
		if o.chain == "" {
			return usageErrorf("--format notation needs --certificate-chain")
		}
		switch o.signatureFormat {
		case "jws":
			envelope = notation.MediaTypeJWS
		case "cose":
			envelope = notation.MediaTypeCOSE
		default:
			return usageErrorf("--signature-format %q: want jws or cose", o.signatureFormat)
		}
	default:
		return usageErrorf("--format %q: want cosign or notation", o.format)
	}
	ref, err := o.reference(arg)
	if err != nil {
		return err
	}
	var chain []*x509.Certificate
	if o.format == "notation" {
		if chain, err = readCertificates(o.chain); err != nil {
			return err
		}
	}
	signer, err := loadSigner(o.key)
	if err != nil {
		return err
	}

	var image, stored string
	if o.format == "notation" {
		sig, err := notation.Sign(cmd.Context(), ref, signer, chain, notation.SignOptions{MediaType: envelope, UserMetadata: ann, RemoteOptions: remoteAuth()})
		if err != nil {
			return fmt.Errorf("sign %s: %w", ref, err)
		}
		image, stored = sig.Image.String(), sig.Manifest.String()
	} else {
		sig, err := signature.Sign(cmd.Context(), ref, signer, signature.SignOptions{Annotations: ann, RemoteOptions: remoteAuth()})
		if err != nil {
			return fmt.Errorf("sign %s: %w", ref, err)
		}
		image, stored = sig.Image.String(), sig.Tag.String()
	}
	g.logger.Info("signed", slog.String("image", image), slog.String("format", o.format), slog.String("signature", stored))
	if g.output == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]string{"image": image, "format": o.format, "signature": stored})
	}
	_, err = fmt.Fprintln(g.stdout, image)
	return err
}

// loadSigner reads a private key file, asking for its password only when
// it is encrypted; the password is cleared after use.
func loadSigner(file string) (crypto.Signer, error) {
	pemBytes, err := readLimited(file, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	var password []byte
	if signature.NeedsPassword(pemBytes) {
		if password, err = newPasswordReader().read(false); err != nil {
			return nil, err
		}
	}
	signer, err := signature.ParsePrivateKey(pemBytes, password)
	clear(password)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", file, err)
	}
	return signer, nil
}

// readCertificates reads a PEM file of one or more certificates.
func readCertificates(file string) ([]*x509.Certificate, error) {
	data, err := readLimited(file, maxPolicyFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate chain: %w", err)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate chain %s: certificate %d: %w", file, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("certificate chain %s: no PEM CERTIFICATE block", file)
	}
	return certs, nil
}
