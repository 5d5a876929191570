package signature_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// A keyless policy for images a GitHub release workflow signs with cosign
// v3, checked offline against a trusted root fetched beforehand (TUF's
// trusted_root.json). Not run: it needs the real root and registry.
func ExampleNewBundleVerifier() {
	data, err := os.ReadFile("trusted_root.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	root, err := signature.LoadTrustedRoot(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := signature.NewBundleVerifier(signature.BundleOptions{
		Root: root,
		Identities: []signature.CertificateIdentity{{
			SubjectRegexp: `^https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/`,
			Issuer:        "https://token.actions.githubusercontent.com",
		}},
		RequireSCT: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ref, err := name.ParseReference("registry.example.com/acme/app:v1.2.3")
	if err != nil {
		fmt.Println(err)
		return
	}
	sigs, err := signature.VerifyImage(context.Background(), ref, v, nil)
	var verr *signature.VerificationError
	switch {
	case errors.Is(err, signature.ErrNoSignatures):
		fmt.Println("unsigned")
	case errors.As(err, &verr):
		fmt.Println("rejected:", verr.Reasons)
	case err != nil:
		fmt.Println("registry error:", err)
	default:
		fmt.Println("signed by", sigs[0].Signer)
	}
}
