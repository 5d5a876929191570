package notation

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/signer"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// fixture signs images of a test registry in one way or another.
type fixture struct {
	t    *testing.T
	reg  testRegistry
	acme pki // its CA is the trust store's ca:acme
}

// sign signs dig with p through Sign.
func (f fixture) sign(dig name.Digest, p pki, mt string) {
	f.t.Helper()
	if _, err := Sign(testContext(f.t), dig, p.leafKey, p.chain(), SignOptions{MediaType: mt}); err != nil {
		f.t.Fatalf("Sign(%s): %v", dig, err)
	}
}

// signEdited signs the descriptor of signed with acme's key, lets edit
// change the envelope and pushes it as a signature of subject.
func (f fixture) signEdited(subject, signed name.Digest, mt string, edit func([]byte) []byte) {
	f.t.Helper()
	ctx := testContext(f.t)
	subj, err := resolve(subject, remoteOptions(ctx, nil))
	if err != nil {
		f.t.Fatal(err)
	}
	target, err := resolve(signed, remoteOptions(ctx, nil))
	if err != nil {
		f.t.Fatal(err)
	}
	gs, err := signer.NewGenericSigner(f.acme.leafKey, f.acme.chain())
	if err != nil {
		f.t.Fatal(err)
	}
	env, info, err := gs.Sign(ctx, target, notation.SignerSignOptions{SignatureMediaType: mt})
	if err != nil {
		f.t.Fatal(err)
	}
	env = edit(env)
	m, err := signatureManifest(subj, mt, env, info.CertificateChain, info.SignedAttributes.SigningTime)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := push(subject.Context(), m, mt, env, remoteOptions(ctx, nil)); err != nil {
		f.t.Fatal(err)
	}
}

// flipJWSSignature changes one bit of a JWS envelope's signature.
func flipJWSSignature(t *testing.T) func([]byte) []byte {
	return func(env []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(env, &m); err != nil {
			t.Fatal(err)
		}
		sig, err := base64.RawURLEncoding.DecodeString(m["signature"].(string))
		if err != nil {
			t.Fatal(err)
		}
		sig[len(sig)/2] ^= 1
		m["signature"] = base64.RawURLEncoding.EncodeToString(sig)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// flipLastByte changes the last byte of an envelope: in COSE_Sign1 it is
// part of the signature.
func flipLastByte(env []byte) []byte {
	out := append([]byte(nil), env...)
	out[len(out)-1] ^= 1
	return out
}

func identity(env []byte) []byte { return env }

func TestVerifyRejects(t *testing.T) {
	acme := newPKI(t, "acme-root")
	other := newPKI(t, "other-root")
	_, storeDir := writeStore(t, "ca", "acme", acme.ca)
	otherIdentity := []string{"x509.subject: C=US, ST=WA, O=Acme, CN=someone-else"}

	tests := []struct {
		name   string
		sign   func(f fixture, dig name.Digest)
		policy func(t *testing.T, dig name.Digest) []byte
		want   error
	}{{
		name: "signer CA not in trust store",
		sign: func(f fixture, dig name.Digest) { f.sign(dig, other, MediaTypeJWS) },
		want: ErrUntrustedSigner,
	}, {
		name: "identity not trusted",
		sign: func(f fixture, dig name.Digest) { f.sign(dig, acme, MediaTypeCOSE) },
		policy: func(t *testing.T, dig name.Digest) []byte {
			return policyJSON(t, "strict", []string{dig.Context().Name()}, []string{"ca:acme"}, otherIdentity)
		},
		want: ErrUntrustedIdentity,
	}, {
		name: "registry scope does not cover repository",
		sign: func(f fixture, dig name.Digest) { f.sign(dig, acme, MediaTypeJWS) },
		policy: func(t *testing.T, dig name.Digest) []byte {
			return policyJSON(t, "strict", []string{dig.Context().RegistryStr() + "/other/app"}, []string{"ca:acme"}, []string{trustedIdentity})
		},
		want: ErrNoTrustPolicy,
	}, {
		name: "JWS envelope tampered",
		sign: func(f fixture, dig name.Digest) { f.signEdited(dig, dig, MediaTypeJWS, flipJWSSignature(f.t)) },
		want: ErrTampered,
	}, {
		name: "COSE envelope tampered",
		sign: func(f fixture, dig name.Digest) { f.signEdited(dig, dig, MediaTypeCOSE, flipLastByte) },
		want: ErrTampered,
	}, {
		name: "JWS envelope truncated",
		sign: func(f fixture, dig name.Digest) {
			f.signEdited(dig, dig, MediaTypeJWS, func(b []byte) []byte { return b[:len(b)/2] })
		},
		want: ErrTampered,
	}, {
		name: "signature of another image moved onto this one",
		sign: func(f fixture, dig name.Digest) {
			// A valid signature of another image of the repository, its
			// subject changed to this image.
			f.signEdited(dig, f.reg.pushImage(f.t, "app/image"), MediaTypeJWS, identity)
		},
		want: signature.ErrDigestMismatch,
	}, {
		name: "no signature",
		want: signature.ErrNoSignatures,
	}}
	for mode, reg := range modes(t) {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				f := fixture{t: t, reg: reg, acme: acme}
				dig := reg.pushImage(t, "app/image")
				if tt.sign != nil {
					tt.sign(f, dig)
				}
				policy := strictPolicy(t, dig)
				if tt.policy != nil {
					policy = tt.policy(t, dig)
				}
				v := newVerifier(t, policy, storeDir)
				got, err := v.VerifyDigest(testContext(t), dig, nil)
				if !errors.Is(err, tt.want) {
					t.Fatalf("VerifyDigest(%s) = %v, %v; want an error wrapping %q", dig, got, err, tt.want)
				}
				t.Logf("VerifyDigest: %v", err)
				var ve *signature.VerificationError
				isVE := errors.As(err, &ve)
				if tt.want == signature.ErrNoSignatures {
					if isVE {
						t.Errorf("VerifyDigest(%s) = %v; want no *VerificationError without signatures", dig, err)
					}
					return
				}
				if !isVE || len(ve.Reasons) != 1 || ve.Ref != dig.String() {
					t.Errorf("VerifyDigest(%s) = %#v; want a *VerificationError for %s with one reason", dig, err, dig)
				}
			})
		}
	}
}

func TestVerifyLevels(t *testing.T) {
	acme := newPKI(t, "acme-root")
	other := newPKI(t, "other-root")
	_, storeDir := writeStore(t, "ca", "acme", acme.ca)
	reg := newRegistry(t, true)

	policy := func(level string, identities ...string) func(t *testing.T, dig name.Digest) []byte {
		return func(t *testing.T, dig name.Digest) []byte {
			return policyJSON(t, level, []string{dig.Context().Name()}, []string{"ca:acme"}, identities)
		}
	}
	tests := []struct {
		name       string
		sign       func(f fixture, dig name.Digest)
		policy     func(t *testing.T, dig name.Digest) []byte
		wantSigner string
		want       error
	}{{
		name:       "audit accepts an untrusted signer",
		sign:       func(f fixture, dig name.Digest) { f.sign(dig, other, MediaTypeJWS) },
		policy:     policy("audit", trustedIdentity),
		wantSigner: other.leaf.Subject.String(),
	}, {
		name:       "audit accepts an untrusted identity",
		sign:       func(f fixture, dig name.Digest) { f.sign(dig, acme, MediaTypeJWS) },
		policy:     policy("audit", "x509.subject: C=US, ST=WA, O=Other"),
		wantSigner: acme.leaf.Subject.String(),
	}, {
		name:   "audit enforces integrity",
		sign:   func(f fixture, dig name.Digest) { f.signEdited(dig, dig, MediaTypeCOSE, flipLastByte) },
		policy: policy("audit", trustedIdentity),
		want:   ErrTampered,
	}, {
		name:   "audit requires a signature",
		policy: policy("audit", trustedIdentity),
		want:   signature.ErrNoSignatures,
	}, {
		name:   "permissive enforces authenticity",
		sign:   func(f fixture, dig name.Digest) { f.sign(dig, other, MediaTypeJWS) },
		policy: policy("permissive", trustedIdentity),
		want:   ErrUntrustedSigner,
	}, {
		name: "wildcard scope and identity",
		sign: func(f fixture, dig name.Digest) { f.sign(dig, acme, MediaTypeJWS) },
		policy: func(t *testing.T, _ name.Digest) []byte {
			return policyJSON(t, "strict", []string{"*"}, []string{"ca:acme"}, []string{"*"})
		},
		wantSigner: acme.leaf.Subject.String(),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dig := reg.pushImage(t, "app/levels")
			if tt.sign != nil {
				tt.sign(fixture{t: t, reg: reg, acme: acme}, dig)
			}
			v := newVerifier(t, tt.policy(t, dig), storeDir)
			got, err := v.VerifyDigest(testContext(t), dig, nil)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("VerifyDigest(%s) = %v, %v; want an error wrapping %q", dig, got, err, tt.want)
				}
				return
			}
			if err != nil || len(got) != 1 || got[0].Signer != tt.wantSigner {
				t.Fatalf("VerifyDigest(%s) = %v, %v; want one signature by %q", dig, got, err, tt.wantSigner)
			}
		})
	}
}

// TestVerifySkip checks that level skip accepts the image without asking
// the registry (the host below does not exist).
func TestVerifySkip(t *testing.T) {
	dig := name.MustParseReference("127.0.0.1:1/skip/app@sha256:" + "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd").(name.Digest)
	policy := policyJSON(t, "skip", []string{dig.Context().Name()}, nil, nil)
	v := newVerifier(t, policy, t.TempDir())
	got, err := v.VerifyDigest(testContext(t), dig, []remote.Option{})
	if err != nil || len(got) != 1 || got[0].Signer != "" || got[0].Format != signature.FormatNotation || got[0].Digest.String() != dig.DigestStr() {
		t.Fatalf("VerifyDigest(%s) under skip = %v, %v; want one Verified with no signer", dig, got, err)
	}

	// Another repository is not covered by the skip statement: the
	// registry is asked, and does not answer.
	other := dig.Context().Registry.Repo("other").Digest(dig.DigestStr())
	_, err = v.VerifyDigest(testContext(t), other, nil)
	var ve *signature.VerificationError
	if err == nil || errors.Is(err, signature.ErrNoSignatures) || errors.As(err, &ve) {
		t.Errorf("VerifyDigest(%s) = %v; want a registry error", other, err)
	}
}

// TestVerifyRegistryDown checks that a registry that does not answer is
// neither ErrNoSignatures nor a *VerificationError.
func TestVerifyRegistryDown(t *testing.T) {
	acme := newPKI(t, "acme-root")
	_, storeDir := writeStore(t, "ca", "acme", acme.ca)
	reg := newRegistry(t, true)
	dig := reg.pushImage(t, "app")
	gone, err := name.NewDigest("127.0.0.1:1/app@" + dig.DigestStr())
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, policyJSON(t, "strict", []string{"*"}, []string{"ca:acme"}, []string{trustedIdentity}), storeDir)
	_, err = v.VerifyDigest(testContext(t), gone, nil)
	var ve *signature.VerificationError
	if err == nil || errors.Is(err, signature.ErrNoSignatures) || errors.As(err, &ve) {
		t.Errorf("VerifyDigest(%s) = %v; want a registry error", gone, err)
	}
}

// TestVerifyMalformedReferrer checks that a Notation referrer that is not
// a well-formed signature manifest is rejected, not trusted.
func TestVerifyMalformedReferrer(t *testing.T) {
	acme := newPKI(t, "acme-root")
	_, storeDir := writeStore(t, "ca", "acme", acme.ca)
	reg := newRegistry(t, true)
	dig := reg.pushImage(t, "app")
	ctx := testContext(t)
	subj, err := resolve(dig, remoteOptions(ctx, nil))
	if err != nil {
		t.Fatal(err)
	}
	env := []byte(`{"not":"an envelope"}`)
	m, err := signatureManifest(subj, "application/json", env, acme.chain(), acme.leaf.NotBefore)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := push(dig.Context(), m, "application/json", env, remoteOptions(ctx, nil)); err != nil {
		t.Fatal(err)
	}
	_, err = newVerifier(t, strictPolicy(t, dig), storeDir).VerifyDigest(ctx, dig, nil)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("VerifyDigest(%s) = %v; want an error wrapping %q", dig, err, ErrMalformed)
	}
}

// TestVerifyConcurrent checks that one Verifier serves concurrent calls
// (run with -race), as the admission webhook makes them.
func TestVerifyConcurrent(t *testing.T) {
	acme := newPKI(t, "acme-root")
	_, storeDir := writeStore(t, "ca", "acme", acme.ca)
	reg := newRegistry(t, false)
	dig := reg.pushImage(t, "app")
	fixture{t: t, reg: reg, acme: acme}.sign(dig, acme, MediaTypeCOSE)
	v := newVerifier(t, strictPolicy(t, dig), storeDir)
	ctx := testContext(t)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := v.VerifyDigest(ctx, dig, nil)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Errorf("VerifyDigest(%s) = %v; want a verified signature", dig, err)
		}
	}
}
