package notation

import (
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	notaryregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/truststore"

	"github.com/kubeshield/kubeshield/internal/signature"
)

var envelopes = []string{MediaTypeJWS, MediaTypeCOSE}

// envelopeName names an envelope media type for repositories.
func envelopeName(mt string) string {
	if mt == MediaTypeCOSE {
		return "cose"
	}
	return "jws"
}

// TestVerifyNotationSignatures checks that signatures made by notation-go's
// own Sign over oras verify with Verifier, in both envelopes and both
// registry modes.
func TestVerifyNotationSignatures(t *testing.T) {
	p := newPKI(t, "acme-root")
	_, storeDir := writeStore(t, "ca", "acme", p.ca)
	for mode, reg := range modes(t) {
		for _, mt := range envelopes {
			t.Run(mode+"/"+mt, func(t *testing.T) {
				ctx := testContext(t)
				repo := "app/" + envelopeName(mt)
				dig := reg.pushImage(t, repo)
				gs, err := signer.NewGenericSigner(p.leafKey, p.chain())
				if err != nil {
					t.Fatal(err)
				}
				_, err = notation.Sign(ctx, gs, notaryregistry.NewRepository(reg.oras(t, repo)), notation.SignOptions{
					SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: mt},
					ArtifactReference: dig.String(),
				})
				if err != nil {
					t.Fatalf("notation.Sign: %v", err)
				}

				v := newVerifier(t, strictPolicy(t, dig), storeDir)
				got, err := v.VerifyDigest(ctx, dig, nil)
				if err != nil {
					t.Fatalf("VerifyDigest(%s) = %v; want a verified signature", dig, err)
				}
				if len(got) != 1 {
					t.Fatalf("VerifyDigest(%s) returned %d signatures; want 1", dig, len(got))
				}
				g := got[0]
				if g.Format != signature.FormatNotation || g.Digest.String() != dig.DigestStr() || g.Signer != p.leaf.Subject.String() {
					t.Errorf("VerifyDigest(%s) = {%s %s %q}; want {%s %s %q}", dig, g.Format, g.Digest, g.Signer, signature.FormatNotation, dig.DigestStr(), p.leaf.Subject)
				}
				if !strings.Contains(string(g.Raw), dig.DigestStr()) {
					t.Errorf("Raw payload %s does not name %s", g.Raw, dig.DigestStr())
				}
				if g.Layer == (v1.Hash{}) {
					t.Error("Layer is empty; want the signature manifest digest")
				}
			})
		}
	}
}

// TestSignVerifiedByNotation checks that signatures made by Sign verify
// with notation-go's own Verify over oras, and that the stored manifest is
// the one notation writes.
func TestSignVerifiedByNotation(t *testing.T) {
	p := newPKI(t, "acme-root")
	configRoot, storeDir := writeStore(t, "ca", "acme", p.ca)
	for mode, reg := range modes(t) {
		for _, mt := range envelopes {
			t.Run(mode+"/"+mt, func(t *testing.T) {
				ctx := testContext(t)
				repo := "app/" + envelopeName(mt)
				dig := reg.pushImage(t, repo)
				tag := dig.Context().Tag("latest")
				sig, err := Sign(ctx, tag, p.leafKey, p.chain(), SignOptions{MediaType: mt, UserMetadata: map[string]string{"team": "payments"}})
				if err != nil {
					t.Fatalf("Sign(%s): %v", tag, err)
				}
				if sig.Image != dig {
					t.Errorf("Sign(%s).Image = %s; want %s", tag, sig.Image, dig)
				}

				doc, err := ParsePolicy(strictPolicy(t, dig))
				if err != nil {
					t.Fatal(err)
				}
				nv, err := verifier.New(doc, truststore.NewX509TrustStore(dir.NewSysFS(configRoot)), nil)
				if err != nil {
					t.Fatal(err)
				}
				_, outcomes, err := notation.Verify(ctx, nv, notaryregistry.NewRepository(reg.oras(t, repo)), notation.VerifyOptions{
					ArtifactReference:    dig.String(),
					MaxSignatureAttempts: 10,
					UserMetadata:         map[string]string{"team": "payments"},
				})
				if err != nil {
					t.Fatalf("notation.Verify(%s): %v", dig, err)
				}
				if len(outcomes) != 1 || outcomes[0].EnvelopeContent == nil {
					t.Fatalf("notation.Verify(%s) outcomes = %v; want one with envelope content", dig, outcomes)
				}

				checkManifest(t, sig, dig, mt)
				if !reg.referrers {
					checkReferrersTag(t, dig, sig.Manifest)
				}

				got, err := newVerifier(t, strictPolicy(t, dig), storeDir).VerifyDigest(ctx, dig, nil)
				if err != nil || len(got) != 1 || got[0].Layer.String() != sig.Manifest.DigestStr() {
					t.Errorf("VerifyDigest(%s) = %v, %v; want the signature %s", dig, got, err, sig.Manifest)
				}
			})
		}
	}
}

// checkManifest compares the stored signature manifest with notation's.
func checkManifest(t *testing.T, sig Signature, dig name.Digest, mt string) {
	t.Helper()
	d, err := remote.Get(sig.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != ArtifactType || m.Config.Size != 2 {
		t.Errorf("manifest media type %s, config %s (%d bytes); want %s, %s (2 bytes)", m.MediaType, m.Config.MediaType, m.Config.Size, types.OCIManifestSchema1, ArtifactType)
	}
	if len(m.Layers) != 1 || string(m.Layers[0].MediaType) != mt {
		t.Errorf("layers %v; want one of media type %s", m.Layers, mt)
	}
	if m.Subject == nil || m.Subject.Digest.String() != dig.DigestStr() {
		t.Errorf("subject %v; want %s", m.Subject, dig.DigestStr())
	}
	for _, k := range []string{AnnotationThumbprints, "org.opencontainers.image.created"} {
		if m.Annotations[k] == "" {
			t.Errorf("annotation %s missing in %v", k, m.Annotations)
		}
	}
	var thumbs []string
	if err := json.Unmarshal([]byte(m.Annotations[AnnotationThumbprints]), &thumbs); err != nil || len(thumbs) != 2 {
		t.Errorf("thumbprints %q; want a JSON list of 2", m.Annotations[AnnotationThumbprints])
	}
}

// checkReferrersTag requires the sha256-<hex> index to list the signature.
func checkReferrersTag(t *testing.T, dig name.Digest, sigManifest name.Digest) {
	t.Helper()
	tag := dig.Context().Tag(strings.Replace(dig.DigestStr(), ":", "-", 1))
	idx, err := remote.Index(tag)
	if err != nil {
		t.Fatalf("read referrers tag %s: %v", tag, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Digest.String() == sigManifest.DigestStr() && d.ArtifactType == ArtifactType {
			return
		}
	}
	t.Errorf("referrers tag %s = %v; want %s of type %s", tag, im.Manifests, sigManifest.DigestStr(), ArtifactType)
}

func TestSignErrors(t *testing.T) {
	p := newPKI(t, "acme-root")
	other := newPKI(t, "other-root")
	reg := newRegistry(t, true)
	dig := reg.pushImage(t, "app")
	ctx := testContext(t)
	tests := []struct {
		name string
		key  crypto.Signer
		opts SignOptions
	}{
		{name: "bad media type", key: p.leafKey, opts: SignOptions{MediaType: "application/json"}},
		{name: "key not matching chain", key: other.leafKey},
		{name: "reserved metadata", key: p.leafKey, opts: SignOptions{UserMetadata: map[string]string{"io.cncf.notary.x": "y"}}},
		{name: "unsupported key", key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Sign(ctx, dig, tt.key, p.chain(), tt.opts); err == nil {
				t.Fatalf("Sign(%s) with %s = nil; want an error", dig, tt.name)
			}
		})
	}
	missing := dig.Context().Digest("sha256:" + strings.Repeat("0", 64))
	if _, err := Sign(ctx, missing, p.leafKey, p.chain(), SignOptions{}); err == nil {
		t.Errorf("Sign(%s) of a missing image = nil; want an error", missing)
	}
}
