package signature_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kubeshield/kubeshield/internal/signature"
)

func ExampleAttest() {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	ref, _ := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/app:v1")
	img, _ := random.Image(64, 1)
	if err := remote.Write(ref, img); err != nil {
		fmt.Println(err)
		return
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	bom := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}`)
	if _, err := signature.Attest(ctx, ref, key, signature.PredicateCycloneDX, bom, signature.SignOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	verified, err := signature.VerifyAttestations(ctx, ref, key.Public(), signature.PredicateCycloneDX, signature.VerifyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("verified:", len(verified), verified[0].Statement.Type)

	_, err = signature.VerifyAttestations(ctx, ref, key.Public(), signature.PredicateVuln, signature.VerifyOptions{})
	fmt.Println("no scan attestation:", errors.Is(err, signature.ErrPredicateMismatch))
	// Output:
	// verified: 1 https://in-toto.io/Statement/v0.1
	// no scan attestation: true
}
