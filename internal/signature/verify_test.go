package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pushRandom pushes a small random image as host/repoTag and returns the
// reference by tag and the image's digest.
func pushRandom(t *testing.T, host, repoTag string) (name.Reference, v1.Hash) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	return pushImage(t, host, repoTag, img)
}

func pushImage(t *testing.T, host, repoTag string, img v1.Image) (name.Reference, v1.Hash) {
	t.Helper()
	ref, err := name.ParseReference(fixture.Push(t, host, repoTag, img))
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref, d
}

func digestRef(ref name.Reference, d v1.Hash) name.Digest {
	return ref.Context().Digest(d.String())
}

// sigLayer is one layer of a hand-made signature image.
type sigLayer struct {
	payload   []byte
	sig       string          // the annotation value
	mediaType types.MediaType // SimpleSigningMediaType when empty
}

// readSigLayers returns the layers of the signature image of ref@d.
func readSigLayers(t *testing.T, ref name.Reference, d v1.Hash) []sigLayer {
	t.Helper()
	img, err := remote.Image(sigTag(digestRef(ref, d)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []sigLayer
	for _, desc := range m.Layers {
		b := layerBytes(t, img, desc)
		out = append(out, sigLayer{payload: b, sig: desc.Annotations[SignatureAnnotation]})
	}
	return out
}

// writeSigLayers replaces the signature image of ref@d.
func writeSigLayers(t *testing.T, ref name.Reference, d v1.Hash, layers []sigLayer) {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, l := range layers {
		mt := l.mediaType
		if mt == "" {
			mt = SimpleSigningMediaType
		}
		var err error
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:       static.NewLayer(l.payload, mt),
			Annotations: map[string]string{SignatureAnnotation: l.sig},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := remote.Write(sigTag(digestRef(ref, d)), img); err != nil {
		t.Fatal(err)
	}
}

func TestSignVerify(t *testing.T) {
	ctx := context.Background()
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	key1, key2 := newKey(t), newKey(t)

	sig, err := Sign(ctx, ref, key1, SignOptions{Annotations: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatalf("Sign(%s) = %v", ref, err)
	}
	if sig.Image.DigestStr() != d.String() {
		t.Errorf("Sign(%s).Image = %s; want digest %s", ref, sig.Image, d)
	}
	if want := "sha256-" + d.Hex + ".sig"; sig.Tag.TagStr() != want {
		t.Errorf("Sign(%s).Tag = %s; want tag %s", ref, sig.Tag, want)
	}

	for _, r := range []name.Reference{ref, digestRef(ref, d)} {
		got, err := Verify(ctx, r, key1.Public(), VerifyOptions{Annotations: map[string]string{"env": "prod"}})
		if err != nil {
			t.Fatalf("Verify(%s) = %v", r, err)
		}
		if len(got) != 1 {
			t.Fatalf("Verify(%s) = %d signatures; want 1", r, len(got))
		}
		if !bytes.Equal(got[0].Raw, sig.Payload) {
			t.Errorf("Verify(%s) payload = %s; want %s", r, got[0].Raw, sig.Payload)
		}
		if got[0].Payload.Critical.Identity.DockerReference != ref.Context().Name() {
			t.Errorf("Verify(%s) identity = %q; want %q", r, got[0].Payload.Critical.Identity.DockerReference, ref.Context().Name())
		}
	}

	// A second signature keeps the first.
	if _, err := Sign(ctx, ref, key2, SignOptions{}); err != nil {
		t.Fatalf("second Sign(%s) = %v", ref, err)
	}
	if n := len(readSigLayers(t, ref, d)); n != 2 {
		t.Fatalf("signature image has %d layers; want 2", n)
	}
	for i, k := range []*ecdsa.PrivateKey{key1, key2} {
		got, err := Verify(ctx, ref, k.Public(), VerifyOptions{})
		if err != nil || len(got) != 1 {
			t.Errorf("Verify(%s) with key %d = %d, %v; want 1 signature", ref, i+1, len(got), err)
		}
	}

	// Required annotations: absent, different.
	for _, ann := range []map[string]string{{"team": "core"}, {"env": "dev"}} {
		_, err := Verify(ctx, ref, key1.Public(), VerifyOptions{Annotations: ann})
		var verr *VerificationError
		if !errors.As(err, &verr) || !errors.Is(err, ErrMissingAnnotation) {
			t.Errorf("Verify(%s, annotations %v) = %v; want a VerificationError for %v", ref, ann, err, ErrMissingAnnotation)
		}
	}
}

func TestSignEd25519(t *testing.T) {
	ctx := context.Background()
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "app:v1")
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(ctx, ref, priv, SignOptions{})
	if err != nil {
		t.Fatalf("Sign(%s) = %v", ref, err)
	}
	// cosign signs the payload itself with Ed25519, not its hash.
	if !ed25519.Verify(pub, sig.Payload, sig.Signature) {
		t.Error("Ed25519 signature does not verify over the payload")
	}
	// Signing twice stores the deterministic signature once.
	if _, err := Sign(ctx, ref, priv, SignOptions{}); err != nil {
		t.Fatalf("second Sign(%s) = %v", ref, err)
	}
	if n := len(readSigLayers(t, ref, d)); n != 1 {
		t.Errorf("signature image has %d layers; want 1", n)
	}
	if got, err := Verify(ctx, ref, pub, VerifyOptions{}); err != nil || len(got) != 1 {
		t.Errorf("Verify(%s) = %d, %v; want 1 signature", ref, len(got), err)
	}
}

// TestVerifyKeepsGood checks that bad signatures next to a good one do not
// hide it.
func TestVerifyKeepsGood(t *testing.T) {
	ctx := context.Background()
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "app:v1")
	key := newKey(t)
	if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
		t.Fatal(err)
	}
	good := readSigLayers(t, ref, d)[0]
	junk := sigLayer{payload: []byte("{}"), sig: "AAAA"}
	writeSigLayers(t, ref, d, []sigLayer{junk, good, junk})
	got, err := Verify(ctx, ref, key.Public(), VerifyOptions{})
	if err != nil || len(got) != 1 {
		t.Fatalf("Verify(%s) = %d, %v; want 1 signature", ref, len(got), err)
	}
}

func TestVerifyNoSignatures(t *testing.T) {
	host := fixture.Registry(t)
	ref, _ := pushRandom(t, host, "app:v1")
	_, err := Verify(context.Background(), ref, newKey(t).Public(), VerifyOptions{})
	var verr *VerificationError
	if !errors.Is(err, ErrNoSignatures) || errors.As(err, &verr) {
		t.Errorf("Verify(unsigned %s) = %v; want %v", ref, err, ErrNoSignatures)
	}
}

func TestVerifyRegistryError(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, _ := pushRandom(t, host, "app:v1")
	srv.Close()
	_, err := Verify(context.Background(), ref, newKey(t).Public(), VerifyOptions{})
	var verr *VerificationError
	if err == nil || errors.Is(err, ErrNoSignatures) || errors.As(err, &verr) {
		t.Errorf("Verify against a closed registry = %v; want a plain error", err)
	}
	if _, err := Sign(context.Background(), ref, newKey(t), SignOptions{}); err == nil {
		t.Error("Sign against a closed registry: no error")
	}
}

// TestVerifyAttacks tampers with a signed registry in each way an attacker
// could and checks that Verify rejects the result for the right reason.
func TestVerifyAttacks(t *testing.T) {
	type env struct {
		host string
		key  *ecdsa.PrivateKey
		ref  name.Reference // app:v1, signed with key (annotation env=dev)
		d    v1.Hash
	}
	tests := []struct {
		name string
		// attack tampers and returns what to verify and with which key.
		attack func(t *testing.T, e env) (name.Reference, crypto.PublicKey)
		want   error
	}{
		{
			name: "payload edited",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				ls := readSigLayers(t, e.ref, e.d)
				ls[0].payload = bytes.Replace(ls[0].payload, []byte(`"dev"`), []byte(`"prod"`), 1)
				writeSigLayers(t, e.ref, e.d, ls)
				return e.ref, e.key.Public()
			},
			want: ErrBadSignature,
		},
		{
			name: "signature copied to the same image in another repository",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				img, err := remote.Image(e.ref)
				if err != nil {
					t.Fatal(err)
				}
				other, d := pushImage(t, e.host, "evil/app:v1", img)
				writeSigLayers(t, other, d, readSigLayers(t, e.ref, e.d))
				return other, e.key.Public()
			},
			want: ErrIdentityMismatch,
		},
		{
			name: "signature of another digest of the same repository",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				other, d := pushRandom(t, e.host, "app:v2")
				writeSigLayers(t, other, d, readSigLayers(t, e.ref, e.d))
				return other, e.key.Public()
			},
			want: ErrDigestMismatch,
		},
		{
			name: "tag repointed after signing",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				pushRandom(t, e.host, "app:v1")
				return e.ref, e.key.Public()
			},
			want: ErrNoSignatures,
		},
		{
			name: "tag repointed to an image signed by another key",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				ref, _ := pushRandom(t, e.host, "app:v1")
				if _, err := Sign(context.Background(), ref, newKey(t), SignOptions{}); err != nil {
					t.Fatal(err)
				}
				return e.ref, e.key.Public()
			},
			want: ErrBadSignature,
		},
		{
			name: "signature layer with another media type",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				ls := readSigLayers(t, e.ref, e.d)
				ls[0].mediaType = "application/json"
				writeSigLayers(t, e.ref, e.d, ls)
				return e.ref, e.key.Public()
			},
			want: ErrBadPayload,
		},
		{
			name: "signature image emptied",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				writeSigLayers(t, e.ref, e.d, nil)
				return e.ref, e.key.Public()
			},
			want: ErrNoSignatures,
		},
		{
			name: "wrong key",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				return e.ref, newKey(t).Public()
			},
			want: ErrBadSignature,
		},
		{
			name: "truncated signature",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				ls := readSigLayers(t, e.ref, e.d)
				raw, err := base64.StdEncoding.DecodeString(ls[0].sig)
				if err != nil {
					t.Fatal(err)
				}
				ls[0].sig = base64.StdEncoding.EncodeToString(raw[:len(raw)-5])
				writeSigLayers(t, e.ref, e.d, ls)
				return e.ref, e.key.Public()
			},
			want: ErrBadSignature,
		},
		{
			name: "truncated annotation",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				ls := readSigLayers(t, e.ref, e.d)
				ls[0].sig = ls[0].sig[:len(ls[0].sig)/2+1]
				writeSigLayers(t, e.ref, e.d, ls)
				return e.ref, e.key.Public()
			},
			want: ErrBadSignature,
		},
		{
			name: "garbage annotation",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				ls := readSigLayers(t, e.ref, e.d)
				ls[0].sig = "not a signature!"
				writeSigLayers(t, e.ref, e.d, ls)
				return e.ref, e.key.Public()
			},
			want: ErrBadSignature,
		},
		{
			name: "payload re-signed with the attacker's key",
			attack: func(t *testing.T, e env) (name.Reference, crypto.PublicKey) {
				// The attacker's own key cannot help: verification uses ours.
				evil := newKey(t)
				p, err := NewPayload(e.ref.Context().Name(), e.d, nil)
				if err != nil {
					t.Fatal(err)
				}
				s, err := signPayload(evil, p)
				if err != nil {
					t.Fatal(err)
				}
				writeSigLayers(t, e.ref, e.d, []sigLayer{{payload: p, sig: base64.StdEncoding.EncodeToString(s)}})
				return e.ref, e.key.Public()
			},
			want: ErrBadSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			host := fixture.Registry(t)
			ref, d := pushRandom(t, host, "app:v1")
			key := newKey(t)
			if _, err := Sign(ctx, ref, key, SignOptions{Annotations: map[string]string{"env": "dev"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(ctx, ref, key.Public(), VerifyOptions{}); err != nil {
				t.Fatalf("Verify before the attack = %v", err)
			}
			vref, pub := tt.attack(t, env{host: host, key: key, ref: ref, d: d})
			got, err := Verify(ctx, vref, pub, VerifyOptions{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify(%s) = %d signatures, %v; want %v", vref, len(got), err, tt.want)
			}
			if tt.want == ErrNoSignatures {
				return
			}
			var verr *VerificationError
			if !errors.As(err, &verr) || len(verr.Reasons) == 0 {
				t.Fatalf("Verify(%s) = %v; want a *VerificationError with reasons", vref, err)
			}
			t.Logf("reasons: %q", verr.Reasons)
		})
	}
}

// layerBytes reads one layer of img as stored.
func layerBytes(t *testing.T, img v1.Image, desc v1.Descriptor) []byte {
	t.Helper()
	l, err := img.LayerByDigest(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
