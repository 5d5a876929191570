package signature

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// TestAny checks how Any combines the outcomes of its verifiers, on real
// signatures in a real registry.
func TestAny(t *testing.T) {
	ctx := context.Background()
	host := fixture.Registry(t)
	k1, k2, k3 := newKey(t), newKey(t), newKey(t)
	any12 := Any(KeyVerifier{Key: k1.Public()}, KeyVerifier{Key: k2.Public()})

	tests := []struct {
		name    string
		signers []*ecdsa.PrivateKey
		wantErr error // nil: success
		reasons int   // of a *VerificationError
	}{
		{name: "second verifier passes", signers: []*ecdsa.PrivateKey{k2}},
		{name: "both pass", signers: []*ecdsa.PrivateKey{k1, k2}},
		{name: "unsigned", wantErr: ErrNoSignatures},
		{name: "signed by neither", signers: []*ecdsa.PrivateKey{k3}, wantErr: ErrBadSignature, reasons: 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, d := pushRandom(t, host, "any/app:"+string(rune('a'+i)))
			for _, k := range tt.signers {
				if _, err := Sign(ctx, ref, k, SignOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := any12.VerifyDigest(ctx, digestRef(ref, d), nil)
			if tt.wantErr == nil {
				if err != nil || len(got) != len(tt.signers) {
					t.Fatalf("VerifyDigest = %d signatures, %v; want %d", len(got), err, len(tt.signers))
				}
				for _, v := range got {
					if v.Format != FormatCosign || v.Digest != d {
						t.Errorf("Verified = %s %s; want %s %s", v.Format, v.Digest, FormatCosign, d)
					}
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyDigest = %v; want %v", err, tt.wantErr)
			}
			var verr *VerificationError
			if errors.As(err, &verr) != (tt.reasons > 0) {
				t.Fatalf("VerifyDigest = %T %v; want a *VerificationError: %v", err, err, tt.reasons > 0)
			}
			if verr != nil && len(verr.Reasons) != tt.reasons {
				t.Errorf("reasons = %q; want %d", verr.Reasons, tt.reasons)
			}
		})
	}

	t.Run("policy names every verifier", func(t *testing.T) {
		p := any12.Policy()
		for _, v := range []Verifier{KeyVerifier{Key: k1.Public()}, KeyVerifier{Key: k2.Public()}} {
			if !strings.Contains(p, v.Policy()) {
				t.Errorf("Any policy %q lacks %q", p, v.Policy())
			}
		}
		if Any(KeyVerifier{Key: k2.Public()}).Policy() == (KeyVerifier{Key: k2.Public()}).Policy() {
			t.Error("Any policy equals one member's")
		}
	})

	t.Run("registry error wins", func(t *testing.T) {
		srv := httptest.NewServer(registry.New())
		ref, d := pushRandom(t, strings.TrimPrefix(srv.URL, "http://"), "app:v1")
		srv.Close()
		_, err := any12.VerifyDigest(ctx, digestRef(ref, d), nil)
		var verr *VerificationError
		if err == nil || errors.Is(err, ErrNoSignatures) || errors.As(err, &verr) {
			t.Errorf("VerifyDigest against a closed registry = %v; want a plain error", err)
		}
	})
}
