package notation_test

import (
	"fmt"
	"os"

	"github.com/kubeshield/kubeshield/internal/notation"
)

func ExampleParsePolicy() {
	b, err := os.ReadFile("testdata/policy/valid/strict.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, err := notation.ParsePolicy(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range doc.TrustPolicies {
		fmt.Println(p.Name, p.RegistryScopes, p.SignatureVerification.VerificationLevel, p.TrustStores)
	}
	// Output:
	// production [registry.acme.example/prod/api registry.acme.example/prod/web] strict [ca:acme]
	// staging [registry.acme.example/staging/api] permissive [ca:acme]
	// everything-else [*] audit [ca:acme]
}
