package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// SimpleSigningMediaType is the media type of a signature layer.
	SimpleSigningMediaType types.MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation is the layer annotation holding the base64
	// signature of the layer's payload.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// sigSuffix ends the tag that stores an image's signatures.
	sigSuffix = ".sig"
)

// SignOptions tunes Sign.
type SignOptions struct {
	// Annotations go into the payload's optional section, where Verify
	// can require them.
	Annotations map[string]string
	// RemoteOptions are passed to every registry call: authentication
	// (remote.WithAuthFromKeychain), transport, platform. Without one, the
	// registry is used anonymously. Sign adds the context itself.
	RemoteOptions []remote.Option
}

// Signature is what Sign stored.
type Signature struct {
	// Image is the signed image, by digest.
	Image name.Digest
	// Tag is the tag of the signature image, sha256-<hex>.sig.
	Tag name.Tag
	// Payload is the signed simple-signing payload.
	Payload []byte
	// Signature is the raw signature of Payload (stored base64-encoded).
	Signature []byte
}

// Sign signs the image ref names, cosign-style: it resolves ref to its
// manifest digest, signs the payload naming that digest and ref's
// repository with signer, and appends the signature as a layer to the
// signature image tagged sha256-<hex>.sig (created when absent, earlier
// signatures kept). ECDSA and RSA (PKCS #1 v1.5) keys sign the SHA-256 of
// the payload, Ed25519 keys the payload itself, as cosign does. Errors are
// registry errors (wrapped transport errors) or signing errors; any other
// key type is an error.
func Sign(ctx context.Context, ref name.Reference, signer crypto.Signer, opts SignOptions) (Signature, error) {
	ropts := remoteOptions(ctx, opts.RemoteOptions)
	dig, err := resolve(ref, ropts)
	if err != nil {
		return Signature{}, err
	}
	payload, err := NewPayload(ref.Context().Name(), mustHash(dig), opts.Annotations)
	if err != nil {
		return Signature{}, err
	}
	sig, err := signPayload(signer, payload)
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", dig, err)
	}
	tag := sigTag(dig)
	base, err := sigImage(tag, ropts)
	switch {
	case errors.Is(err, ErrNoSignatures):
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	case err != nil:
		return Signature{}, err
	}
	b64 := base64.StdEncoding.EncodeToString(sig)
	dup, err := hasLayer(base, payload, b64)
	if err != nil {
		return Signature{}, fmt.Errorf("read %s: %w", tag, err)
	}
	out := Signature{Image: dig, Tag: tag, Payload: payload, Signature: sig}
	if dup {
		// A deterministic (Ed25519) signature already stored.
		return out, nil
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer(payload, SimpleSigningMediaType),
		Annotations: map[string]string{SignatureAnnotation: b64},
	})
	if err != nil {
		return Signature{}, fmt.Errorf("append signature: %w", err)
	}
	if err := remote.Write(tag, img, ropts...); err != nil {
		return Signature{}, fmt.Errorf("push %s: %w", tag, err)
	}
	return out, nil
}

// remoteOptions appends the context to the caller's options.
func remoteOptions(ctx context.Context, opts []remote.Option) []remote.Option {
	out := make([]remote.Option, 0, len(opts)+1)
	out = append(out, opts...)
	return append(out, remote.WithContext(ctx))
}

// resolve returns ref by digest, asking the registry (HEAD, then GET for
// registries that answer HEAD badly).
func resolve(ref name.Reference, ropts []remote.Option) (name.Digest, error) {
	desc, err := remote.Head(ref, ropts...)
	if err != nil {
		d, gerr := remote.Get(ref, ropts...)
		if gerr != nil {
			return name.Digest{}, fmt.Errorf("resolve %s: %w", ref, gerr)
		}
		desc = &d.Descriptor
	}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		return name.Digest{}, fmt.Errorf("resolve %s: registry answered digest %s", ref, desc.Digest)
	}
	return ref.Context().Digest(desc.Digest.String()), nil
}

func mustHash(d name.Digest) v1.Hash {
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		// name.Digest validated it.
		panic(err)
	}
	return h
}

// sigTag returns the tag storing the signatures of dig: sha256-<hex>.sig.
func sigTag(dig name.Digest) name.Tag {
	h := mustHash(dig)
	return dig.Context().Tag(h.Algorithm + "-" + h.Hex + sigSuffix)
}

// sigImage reads the signature image at tag; a tag the registry does not
// know yields an error wrapping ErrNoSignatures.
func sigImage(tag name.Tag, ropts []remote.Option) (v1.Image, error) {
	img, err := remote.Image(tag, ropts...)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %w", tag, ErrNoSignatures)
		}
		return nil, fmt.Errorf("read %s: %w", tag, err)
	}
	return img, nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// hasLayer reports whether img already holds payload signed as b64.
func hasLayer(img v1.Image, payload []byte, b64 string) (bool, error) {
	m, err := img.Manifest()
	if err != nil {
		return false, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(payload))
	if err != nil {
		return false, err
	}
	for _, l := range m.Layers {
		if l.Digest == h && l.Annotations[SignatureAnnotation] == b64 {
			return true, nil
		}
	}
	return false, nil
}

// signPayload signs payload as cosign does for the key type.
func signPayload(signer crypto.Signer, payload []byte) ([]byte, error) {
	switch signer.Public().(type) {
	case ed25519.PublicKey:
		return signer.Sign(rand.Reader, payload, crypto.Hash(0))
	case *ecdsa.PublicKey, *rsa.PublicKey:
		sum := sha256.Sum256(payload)
		return signer.Sign(rand.Reader, sum[:], crypto.SHA256)
	default:
		return nil, fmt.Errorf("unsupported key type %T", signer.Public())
	}
}

// checkSignature verifies sig over payload with pub, the counterpart of
// signPayload.
func checkSignature(pub crypto.PublicKey, payload, sig []byte) error {
	sum := sha256.Sum256(payload)
	var ok bool
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, sum[:], sig)
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, payload, sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
	default:
		return fmt.Errorf("unsupported key type %T", pub)
	}
	if !ok {
		return errors.New("signature does not match the payload and key")
	}
	return nil
}
