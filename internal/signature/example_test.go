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
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kubeshield/kubeshield/internal/signature"
)

func ExampleVerify() {
	ctx := context.Background()
	// A registry with one image in it.
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	ref, _ := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/app:v1")
	img, _ := random.Image(64, 1)
	if err := remote.Write(ref, img); err != nil {
		fmt.Println(err)
		return
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	_, err := signature.Verify(ctx, ref, key.Public(), signature.VerifyOptions{})
	fmt.Println("before signing, no signatures:", errors.Is(err, signature.ErrNoSignatures))

	if _, err := signature.Sign(ctx, ref, key, signature.SignOptions{Annotations: map[string]string{"env": "prod"}}); err != nil {
		fmt.Println(err)
		return
	}
	verified, err := signature.Verify(ctx, ref, key.Public(), signature.VerifyOptions{Annotations: map[string]string{"env": "prod"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	env, _ := verified[0].Payload.Annotation("env")
	fmt.Println("verified:", len(verified), "env:", env)

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err = signature.Verify(ctx, ref, other.Public(), signature.VerifyOptions{})
	var verr *signature.VerificationError
	fmt.Println("another key:", errors.As(err, &verr), errors.Is(err, signature.ErrBadSignature))
	// Output:
	// before signing, no signatures: true
	// verified: 1 env: prod
	// another key: true true
}

func ExampleCache() {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	tag, _ := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/app:v1")
	img, _ := random.Image(64, 1)
	if err := remote.Write(tag, img); err != nil {
		fmt.Println(err)
		return
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sig, err := signature.Sign(ctx, tag, key, signature.SignOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}

	// One cache for the webhook's life; it sees references by digest.
	cache := signature.NewCache(1024, 5*time.Minute)
	for range 3 {
		if _, err := cache.Verify(ctx, sig.Image, signature.KeyVerifier{Key: key.Public()}, nil); err != nil {
			fmt.Println(err)
			return
		}
	}
	s := cache.Stats()
	fmt.Println("misses:", s.Misses, "hits:", s.Hits)
	// Output:
	// misses: 1 hits: 2
}
