package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/kubeshield/kubeshield/internal/notation"
	"github.com/kubeshield/kubeshield/internal/signature"
)

// verifyOptions are the flags of `kubeshield verify`.
type verifyOptions struct {
	signFlags
	identity, identityRegexp string
	issuer, issuerRegexp     string
	trustedRoot              string
	ignoreSCT                bool
	trustPolicy, trustStore  string
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify IMAGE",
		Short: "Verify an image's signatures: cosign (key or keyless) or Notation (-o table|json)",
		Long: `Verify the signatures of an image. The reference is resolved to its digest
and a signature counts only if it is bound to that digest. Give one policy:

With --key (a public key): cosign v2 signatures (the sha256-<digest>.sig
tag) and Sigstore bundles signed with the key (cosign v3, OCI referrers)
are checked; their payload must name the digest and, for cosign v2, the
image's repository, and carry every --annotations key=value.

Keyless, with --certificate-identity or --certificate-identity-regexp,
--certificate-oidc-issuer or --certificate-oidc-issuer-regexp, and
--trusted-root: Sigstore bundles (cosign v3) whose Fulcio-style certificate
chains to a certificate authority of the trusted root (a Sigstore
trusted_root.json), names a matching identity and OIDC issuer, and whose
Rekor-style transparency log entry's inclusion proof verifies against a log
of the trusted root, and (unless --insecure-ignore-sct, as in cosign) whose
certificate carries a timestamp from a CT log of the trusted root.
Verification is offline.

With --trust-policy and --trust-store: Notary Project signatures (OCI
referrers), under a trust policy (notation's trustpolicy.json) and a trust
store directory laid out as notation's (DIR/x509/ca/NAME/*.crt, ...).

Prints the verified image by digest, which a deploy step can pin
(-o json: the image and each verified signature with its format, signer
and payload). Exits 1 when no signature passes, naming why each failed.`,
		Example: `  kubeshield verify --key kubeshield.pub registry.example.com/app:1.2.3
  kubeshield verify --key cosign.pub -a env=prod -o json --insecure 127.0.0.1:5000/app:1
  kubeshield verify --trusted-root trusted_root.json \
      --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com registry.example.com/app:1.2.3
  kubeshield verify --trust-policy trustpolicy.json --trust-store truststore registry.example.com/app:1.2.3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, g, args[0])
		},
	}
	o.addFlags(cmd.Flags(), "public key file (PEM)")
	f := cmd.Flags()
	f.StringVar(&o.identity, "certificate-identity", "", "keyless: the certificate's identity (a SAN: email, URI)")
	f.StringVar(&o.identityRegexp, "certificate-identity-regexp", "", "keyless: a regular expression the certificate's identity must match")
	f.StringVar(&o.issuer, "certificate-oidc-issuer", "", "keyless: the OIDC issuer in the certificate")
	f.StringVar(&o.issuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: a regular expression the OIDC issuer must match")
	f.StringVar(&o.trustedRoot, "trusted-root", "", "keyless: Sigstore trusted root JSON (certificate authorities and transparency logs)")
	f.BoolVar(&o.ignoreSCT, "insecure-ignore-sct", false, "keyless: accept certificates without a signed certificate timestamp from a CT log of the trusted root")
	f.StringVar(&o.trustPolicy, "trust-policy", "", "Notation: trust policy file (trustpolicy.json)")
	f.StringVar(&o.trustStore, "trust-store", "", "Notation: trust store directory (x509/ca/NAME/*.crt, ...)")
	return cmd
}

// verifier builds the Verifier the flags describe.
func (o *verifyOptions) verifier(ann map[string]string) (signature.Verifier, error) {
	keyless := o.identity != "" || o.identityRegexp != "" || o.issuer != "" || o.issuerRegexp != "" || o.trustedRoot != "" || o.ignoreSCT
	notary := o.trustPolicy != "" || o.trustStore != ""
	modes := 0
	for _, m := range []bool{o.key != "", keyless, notary} {
		if m {
			modes++
		}
	}
	switch {
	case modes == 0:
		return nil, usageErrorf("give --key, the keyless flags (--certificate-identity, --certificate-oidc-issuer, --trusted-root) or --trust-policy and --trust-store")
	case modes > 1:
		return nil, usageErrorf("--key, the keyless flags and the Notation flags are different policies: give one")
	}
	switch {
	case o.key != "":
		pemBytes, err := readLimited(o.key, maxKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read key: %w", err)
		}
		pub, err := signature.ParsePublicKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("load public key %s: %w", o.key, err)
		}
		bv, err := signature.NewBundleVerifier(signature.BundleOptions{Key: pub, Annotations: ann})
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", o.key, err)
		}
		return signature.Any(signature.KeyVerifier{Key: pub, Annotations: ann}, bv), nil
	case keyless:
		if (o.identity == "") == (o.identityRegexp == "") {
			return nil, usageErrorf("keyless: give one of --certificate-identity and --certificate-identity-regexp")
		}
		if (o.issuer == "") == (o.issuerRegexp == "") {
			return nil, usageErrorf("keyless: give one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp")
		}
		if o.trustedRoot == "" {
			return nil, usageErrorf("keyless: --trusted-root is required (verification is offline)")
		}
		data, err := readLimited(o.trustedRoot, maxPolicyFile)
		if err != nil {
			return nil, fmt.Errorf("read trusted root: %w", err)
		}
		tr, err := signature.LoadTrustedRoot(data)
		if err != nil {
			return nil, fmt.Errorf("load trusted root %s: %w", o.trustedRoot, err)
		}
		bv, err := signature.NewBundleVerifier(signature.BundleOptions{
			Root: tr,
			Identities: []signature.CertificateIdentity{{
				Subject: o.identity, SubjectRegexp: o.identityRegexp,
				Issuer: o.issuer, IssuerRegexp: o.issuerRegexp,
			}},
			Annotations: ann,
			RequireSCT:  !o.ignoreSCT,
		})
		if err != nil {
			return nil, usageErrorf("keyless: %v", err)
		}
		return bv, nil
	default:
		if o.trustPolicy == "" || o.trustStore == "" {
			return nil, usageErrorf("Notation: give both --trust-policy and --trust-store")
		}
		if len(ann) > 0 {
			return nil, usageErrorf("--annotations are not checked on Notation signatures")
		}
		if fi, err := os.Stat(o.trustStore); err != nil || !fi.IsDir() {
			return nil, usageErrorf("--trust-store %s: not a directory", o.trustStore)
		}
		data, err := readLimited(o.trustPolicy, maxPolicyFile)
		if err != nil {
			return nil, fmt.Errorf("read trust policy: %w", err)
		}
		v, err := notation.NewVerifier(data, o.trustStore)
		if err != nil {
			return nil, fmt.Errorf("load trust policy %s: %w", o.trustPolicy, err)
		}
		return v, nil
	}
}

// verifiedJSON is one verified signature in `verify -o json`.
type verifiedJSON struct {
	Format  string          `json:"format"`
	Signer  string          `json:"signer,omitempty"`
	Layer   string          `json:"layer,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (o *verifyOptions) run(cmd *cobra.Command, g *globalOptions, arg string) error {
	if err := g.checkOutput("table", "json"); err != nil {
		return err
	}
	ann, err := o.parseAnnotations()
	if err != nil {
		return err
	}
	ref, err := o.reference(arg)
	if err != nil {
		return err
	}
	v, err := o.verifier(ann)
	if err != nil {
		return err
	}
	verified, err := signature.VerifyImage(cmd.Context(), ref, v, remoteAuth())
	if err != nil {
		// The error names the image by digest (or the failed resolve).
		return err
	}
	image := ref.Context().Digest(verified[0].Digest.String()).String()
	g.logger.Info("verified", slog.String("image", image), slog.Int("signatures", len(verified)))
	if g.output == "json" {
		out := struct {
			Image      string         `json:"image"`
			Signatures []verifiedJSON `json:"signatures"`
		}{Image: image}
		for _, s := range verified {
			j := verifiedJSON{Format: s.Format, Signer: s.Signer}
			if s.Layer.Hex != "" {
				j.Layer = s.Layer.String()
			}
			if json.Valid(s.Raw) {
				j.Payload = s.Raw
			}
			out.Signatures = append(out.Signatures, j)
		}
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	_, err = fmt.Fprintln(g.stdout, image)
	return err
}
