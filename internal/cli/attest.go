package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// scannerURI names Kubeshield in the vulnerability predicates it writes.
const scannerURI = "https://github.com/kubeshield/kubeshield"

// predicateTypes maps --type to the in-toto predicate type.
var predicateTypes = map[string]string{
	"sbom": signature.PredicateCycloneDX,
	"vuln": signature.PredicateVuln,
}

// attestFlags are the flags attest and verify-attestation share.
type attestFlags struct {
	key           string
	typ           string
	predicateType string // the one --type stands for
}

func (o *attestFlags) addFlags(f *pflag.FlagSet, keyHelp string) {
	f.StringVar(&o.key, "key", "", keyHelp)
	f.StringVar(&o.typ, "type", "sbom", "attestation type: sbom (CycloneDX, https://cyclonedx.org/bom) or vuln (cosign's https://cosign.sigstore.dev/attestation/vuln/v1)")
}

func (o *attestFlags) validate() error {
	if o.key == "" {
		return usageErrorf("--key is required")
	}
	pt, ok := predicateTypes[o.typ]
	if !ok {
		return usageErrorf("--type %q: want sbom or vuln", o.typ)
	}
	o.predicateType = pt
	return nil
}

// attestOptions are the flags of `kubeshield attest`.
type attestOptions struct {
	g         *globalOptions
	image     imageFlags
	attest    attestFlags
	predicate string
}

func newAttestCommand(g *globalOptions) *cobra.Command {
	o := &attestOptions{g: g}
	cmd := &cobra.Command{
		Use:   "attest IMAGE",
		Short: "Attach a signed SBOM or scan report to an image, as cosign attest does (-o table|json)",
		Long: `Attach a signed attestation to an image in its registry, in cosign's format:
the reference is resolved to its digest, an in-toto Statement v0.1 naming
that digest carries the predicate, it is signed with the key in a DSSE
envelope, and the envelope is stored as a layer of the sha256-<digest>.att
tag in the image's repository (earlier attestations are kept), where cosign
verify-attestation and kubeshield verify-attestation find it.

--type sbom attests a CycloneDX 1.6 SBOM (predicate type
https://cyclonedx.org/bom, cosign's --type cyclonedx); --type vuln attests a
scan report (cosign's vuln predicate,
https://cosign.sigstore.dev/attestation/vuln/v1, with the kubeshield.scan/v1
report as scanner.result). Without --predicate, kubeshield catalogues (sbom)
or scans (vuln, with --db) the image itself; with --predicate, the file is
the predicate (for vuln, a file without a top-level "scanner" is wrapped as
scanner.result). The key's password comes from KUBESHIELD_PASSWORD, else
COSIGN_PASSWORD, else a terminal prompt.`,
		Example: `  kubeshield attest --key kubeshield.key --type sbom registry.example.com/app:1.2.3
  kubeshield attest --key kubeshield.key --type vuln --db vuln.db registry.example.com/app:1.2.3
  kubeshield attest --key cosign.key --type sbom --predicate app.cdx.json --insecure 127.0.0.1:5000/app:1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.g.checkOutput("table", "json"); err != nil {
				return err
			}
			if err := o.attest.validate(); err != nil {
				return err
			}
			if err := o.image.validate(); err != nil {
				return err
			}
			return o.run(cmd, args[0])
		},
	}
	o.image.addFlags(cmd.Flags())
	o.attest.addFlags(cmd.Flags(), "private key file (cosign's encrypted format, or a PEM ECDSA, Ed25519 or RSA key)")
	cmd.Flags().StringVar(&o.predicate, "predicate", "", "predicate file (JSON); default: catalogue or scan the image")
	return cmd
}

func (o *attestOptions) run(cmd *cobra.Command, arg string) error {
	ref, err := parseImageRef(arg, o.image.insecure)
	if err != nil {
		return err
	}
	signer, err := loadSigner(o.attest.key)
	if err != nil {
		return err
	}
	predicate, err := o.makePredicate(cmd, arg)
	if err != nil {
		return err
	}
	att, err := signature.Attest(cmd.Context(), ref, signer, o.attest.predicateType, predicate, signature.SignOptions{RemoteOptions: remoteAuth()})
	if err != nil {
		return fmt.Errorf("attest %s: %w", ref, err)
	}
	o.g.logger.Info("attested", slog.String("image", att.Image.String()), slog.String("tag", att.Tag.String()), slog.String("predicateType", o.attest.predicateType))
	if o.g.output == "json" {
		enc := json.NewEncoder(o.g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]string{"image": att.Image.String(), "attestationTag": att.Tag.String(), "predicateType": o.attest.predicateType})
	}
	_, err = fmt.Fprintln(o.g.stdout, att.Image.String())
	return err
}

// makePredicate reads --predicate, or catalogues or scans the image with
// the sbom and image scan commands' code, writing into a buffer.
func (o *attestOptions) makePredicate(cmd *cobra.Command, arg string) ([]byte, error) {
	if o.predicate != "" {
		data, err := readLimited(o.predicate, signature.MaxAttestationSize)
		if err != nil {
			return nil, fmt.Errorf("--predicate: %w", err)
		}
		if len(data) > signature.MaxAttestationSize {
			return nil, fmt.Errorf("--predicate %s: more than %d bytes", o.predicate, signature.MaxAttestationSize)
		}
		if !json.Valid(data) {
			return nil, fmt.Errorf("--predicate %s: not JSON", o.predicate)
		}
		if o.attest.typ == "vuln" {
			var top map[string]json.RawMessage
			if json.Unmarshal(data, &top) == nil && top["scanner"] != nil {
				return data, nil
			}
			now := time.Now()
			return signature.NewVulnPredicate(data, scannerURI, version, now, now)
		}
		return data, nil
	}
	var buf bytes.Buffer
	g := *o.g
	g.stdout = &buf
	switch o.attest.typ {
	case "sbom":
		g.output = "cyclonedx"
		s := &sbomOptions{g: &g, image: o.image}
		if err := s.run(cmd, arg); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	default:
		g.output = "json"
		s := &scanOptions{g: &g, image: o.image}
		started := time.Now()
		if err := s.run(cmd, arg); err != nil {
			return nil, err
		}
		return signature.NewVulnPredicate(buf.Bytes(), scannerURI, version, started, time.Now())
	}
}

// parseImageRef parses a registry image reference for attest and
// verify-attestation.
func parseImageRef(s string, insecure bool) (name.Reference, error) {
	return (&signFlags{insecure: insecure}).reference(s)
}

func newVerifyAttestationCommand(g *globalOptions) *cobra.Command {
	var (
		o        attestFlags
		insecure bool
	)
	cmd := &cobra.Command{
		Use:   "verify-attestation IMAGE",
		Short: "Verify an image's attestations with a public key (-o table|json)",
		Long: `Verify the attestations of an image (made by kubeshield attest or cosign
attest) with a public key: the reference is resolved to its digest, and an
attestation counts only if its DSSE envelope verifies with the key, its
in-toto Statement has that digest as a subject, and its predicate type is
the one --type names. Prints the verified digest (-o json: the verified
statements). Exits 1 when no attestation passes, naming why each failed.`,
		Example: `  kubeshield verify-attestation --key kubeshield.pub --type sbom registry.example.com/app:1.2.3
  kubeshield verify-attestation --key cosign.pub --type vuln -o json --insecure 127.0.0.1:5000/app:1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput("table", "json"); err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return err
			}
			ref, err := parseImageRef(args[0], insecure)
			if err != nil {
				return err
			}
			pemBytes, err := readLimited(o.key, maxKeyFile)
			if err != nil {
				return fmt.Errorf("read key: %w", err)
			}
			pub, err := signature.ParsePublicKey(pemBytes)
			if err != nil {
				return fmt.Errorf("load public key %s: %w", o.key, err)
			}
			verified, err := signature.VerifyAttestations(cmd.Context(), ref, pub, o.predicateType, signature.VerifyOptions{RemoteOptions: remoteAuth()})
			if err != nil {
				return fmt.Errorf("verify attestations of %s: %w", ref, err)
			}
			digest := verified[0].Image
			g.logger.Info("verified", slog.String("image", digest.String()), slog.Int("attestations", len(verified)))
			if g.output == "json" {
				var statements []json.RawMessage
				for _, v := range verified {
					statements = append(statements, json.RawMessage(v.Raw))
				}
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(statements)
			}
			_, err = fmt.Fprintln(g.stdout, digest.String())
			return err
		},
	}
	o.addFlags(cmd.Flags(), "public key file (PEM)")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to the registry (for registries on localhost)")
	return cmd
}
