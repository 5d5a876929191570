package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// MaxKeySize is the largest PEM input, in bytes, that ParsePrivateKey and
// ParsePublicKey read. An 8192-bit RSA key in PKCS #8 is about 6.5 KiB.
const MaxKeySize = 64 << 10

// Sentinel errors of the key functions, wrapped with detail; check them with
// errors.Is.
var (
	// ErrWrongPassword means an encrypted private key did not open with the
	// password given. Authenticated encryption cannot tell a wrong password
	// from a damaged file, so a damaged ciphertext reports it too.
	ErrWrongPassword = errors.New("wrong password")
	// ErrNotKey means the input holds no key of the kind asked for: no PEM
	// block, a PEM type that is not a key, or key data that does not parse.
	ErrNotKey = errors.New("not a key")
	// ErrUnsupportedKey means the input is a key, but of a type, curve, size
	// or encryption Kubeshield does not use.
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrKeyTooLarge means the input is longer than MaxKeySize.
	ErrKeyTooLarge = errors.New("key file too large")
)

// PEM block types of the key files.
const (
	pemSigstore   = "ENCRYPTED SIGSTORE PRIVATE KEY" // cosign since v2.0
	pemCosign     = "ENCRYPTED COSIGN PRIVATE KEY"   // cosign before v2.0
	pemPKCS8      = "PRIVATE KEY"
	pemEC         = "EC PRIVATE KEY"
	pemPKCS1      = "RSA PRIVATE KEY"
	pemPublic     = "PUBLIC KEY"
	pemPKCS1Pub   = "RSA PUBLIC KEY"
	pemECParams   = "EC PARAMETERS"
	pemPKCS8Crypt = "ENCRYPTED PRIVATE KEY"
)

// RSA key sizes accepted, in bits.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// GenerateKey returns a new ECDSA P-256 private key, the key type cosign
// generates. It returns an error only if the system's random source fails.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ECDSA P-256 key: %w", err)
	}
	return priv, nil
}

// MarshalEncryptedPrivateKey encodes priv the way `cosign generate-key-pair`
// does: PKCS #8, sealed with NaCl secretbox under a key derived from
// password with scrypt (N=65536, r=8, p=1), in a JSON document wrapped in a
// PEM block of type "ENCRYPTED SIGSTORE PRIVATE KEY". An empty password is
// allowed, as in cosign. priv must be an *ecdsa.PrivateKey (P-256, P-384 or
// P-521), an *rsa.PrivateKey (2048 to 8192 bits) or an ed25519.PrivateKey;
// other keys return an error wrapping ErrUnsupportedKey.
func MarshalEncryptedPrivateKey(priv crypto.PrivateKey, password []byte) ([]byte, error) {
	if _, err := checkPrivate(priv); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS #8 encoding: %w", ErrUnsupportedKey, err)
	}
	defer clear(der)
	sealed, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemSigstore, Bytes: sealed}), nil
}

// ParsePrivateKey reads the first private key in pemBytes. It reads cosign's
// encrypted formats ("ENCRYPTED SIGSTORE PRIVATE KEY" and the older
// "ENCRYPTED COSIGN PRIVATE KEY"), opened with password, and unencrypted PEM
// keys, for which password is ignored: "EC PRIVATE KEY" (SEC 1),
// "RSA PRIVATE KEY" (PKCS #1) and "PRIVATE KEY" (PKCS #8 holding ECDSA,
// RSA or Ed25519). "EC PARAMETERS" blocks before the key are skipped.
//
// The errors wrap ErrKeyTooLarge (input over MaxKeySize), ErrNotKey (no PEM
// block, not a private key, or data that does not parse), ErrWrongPassword
// (an encrypted key that does not open) or ErrUnsupportedKey (a curve, size
// or key type the package does not use, or an encryption other than
// cosign's). No error contains key material.
func ParsePrivateKey(pemBytes, password []byte) (crypto.Signer, error) {
	block, err := decodePEM(pemBytes)
	if err != nil {
		return nil, err
	}
	if _, ok := block.Headers["Proc-Type"]; ok {
		return nil, fmt.Errorf("%w: %.64q block encrypted with a Proc-Type header (legacy OpenSSL encryption)", ErrUnsupportedKey, block.Type)
	}
	var key any
	switch block.Type {
	case pemSigstore, pemCosign:
		der, err := decrypt(block.Bytes, password)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", block.Type, err)
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
		clear(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %s does not hold a PKCS #8 key: %w", ErrNotKey, block.Type, err)
		}
	case pemEC:
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case pemPKCS1:
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case pemPKCS8:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case pemPKCS8Crypt:
		return nil, fmt.Errorf("%w: %s (PKCS #8 password encryption); cosign's encrypted format and unencrypted keys are read", ErrUnsupportedKey, block.Type)
	case pemPublic, pemPKCS1Pub, "CERTIFICATE":
		return nil, fmt.Errorf("%w: PEM block %s holds no private key", ErrNotKey, block.Type)
	default:
		return nil, fmt.Errorf("%w: PEM block type %.64q", ErrNotKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s does not parse: %w", ErrNotKey, block.Type, err)
	}
	return checkPrivate(key)
}

// NeedsPassword reports whether the private key file pemBytes is in
// cosign's encrypted format, so ParsePrivateKey needs its password; a
// caller asks for one only then. It is false for unencrypted keys and for
// data ParsePrivateKey rejects anyway.
func NeedsPassword(pemBytes []byte) bool {
	block, err := decodePEM(pemBytes)
	return err == nil && (block.Type == pemSigstore || block.Type == pemCosign)
}

// MarshalPublicKey encodes pub as a PEM "PUBLIC KEY" block (PKIX), the
// format of cosign's .pub files. It accepts the public halves of the keys
// MarshalEncryptedPrivateKey accepts; others return an error wrapping
// ErrUnsupportedKey.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	if err := checkPublic(pub); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: PKIX encoding: %w", ErrUnsupportedKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der}), nil
}

// ParsePublicKey reads the first public key in pemBytes: a PEM "PUBLIC KEY"
// block (PKIX) or an "RSA PUBLIC KEY" block (PKCS #1). It returns an
// *ecdsa.PublicKey, an *rsa.PublicKey or an ed25519.PublicKey. The errors
// wrap ErrKeyTooLarge, ErrNotKey (no public key, including a private key
// given by mistake) or ErrUnsupportedKey.
func ParsePublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	block, err := decodePEM(pemBytes)
	if err != nil {
		return nil, err
	}
	var pub any
	switch block.Type {
	case pemPublic:
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case pemPKCS1Pub:
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case pemSigstore, pemCosign, pemPKCS8, pemEC, pemPKCS1, pemPKCS8Crypt:
		return nil, fmt.Errorf("%w: PEM block %s is a private key, not a public key", ErrNotKey, block.Type)
	default:
		return nil, fmt.Errorf("%w: PEM block type %.64q", ErrNotKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s does not parse: %w", ErrNotKey, block.Type, err)
	}
	if err := checkPublic(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// decodePEM returns the first PEM block of data that is not "EC PARAMETERS".
func decodePEM(data []byte) (*pem.Block, error) {
	if len(data) > MaxKeySize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrKeyTooLarge, len(data), MaxKeySize)
	}
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%w: no PEM block", ErrNotKey)
		}
		if block.Type != pemECParams {
			return block, nil
		}
		data = rest
	}
}

// sealedKey is the JSON document inside cosign's encrypted PEM blocks, as
// written by go-securesystemslib's encrypted package.
type sealedKey struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N int `json:"N"`
			R int `json:"r"`
			P int `json:"p"`
		} `json:"params"`
		Salt []byte `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// Sizes of NaCl secretbox.
const (
	secretboxNonceSize = 24
	secretboxOverhead  = 16
)

// decrypt opens a sealed key. It checks the document's structure first, so
// that a failure of the cipher itself can only mean a wrong password (or a
// damaged ciphertext) and is reported as ErrWrongPassword.
func decrypt(doc, password []byte) ([]byte, error) {
	var s sealedKey
	if err := json.Unmarshal(doc, &s); err != nil {
		return nil, fmt.Errorf("%w: encrypted key document is not JSON: %w", ErrNotKey, err)
	}
	if s.KDF.Name != "scrypt" || s.Cipher.Name != "nacl/secretbox" {
		return nil, fmt.Errorf("%w: encryption %.32q with key derivation %.32q (want nacl/secretbox with scrypt)", ErrUnsupportedKey, s.Cipher.Name, s.KDF.Name)
	}
	// The three scrypt settings go-securesystemslib writes; anything else
	// could make key derivation arbitrarily slow.
	p := s.KDF.Params
	switch {
	case p.R == 8 && p.P == 1 && (p.N == 1<<15 || p.N == 1<<16 || p.N == 1<<17):
	default:
		return nil, fmt.Errorf("%w: scrypt parameters N=%d r=%d p=%d", ErrUnsupportedKey, p.N, p.R, p.P)
	}
	if len(s.Cipher.Nonce) != secretboxNonceSize || len(s.Ciphertext) < secretboxOverhead {
		return nil, fmt.Errorf("%w: encrypted key document has a bad nonce or ciphertext length", ErrNotKey)
	}
	der, err := encrypted.Decrypt(doc, password)
	if err != nil {
		return nil, ErrWrongPassword
	}
	return der, nil
}

// checkPrivate returns priv as a signer if it is a key type, curve and size
// the package uses, else an error wrapping ErrUnsupportedKey.
func checkPrivate(priv crypto.PrivateKey) (crypto.Signer, error) {
	var signer crypto.Signer
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		signer = k
	case *rsa.PrivateKey:
		signer = k
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: Ed25519 private key of %d bytes", ErrUnsupportedKey, len(k))
		}
		signer = k
	default:
		return nil, fmt.Errorf("%w: private key type %T", ErrUnsupportedKey, priv)
	}
	if err := checkPublic(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// checkPublic returns an error wrapping ErrUnsupportedKey unless pub is an
// ECDSA key on P-256, P-384 or P-521, an RSA key of 2048 to 8192 bits or an
// Ed25519 key.
func checkPublic(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return fmt.Errorf("%w: ECDSA key without a curve", ErrUnsupportedKey)
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: ECDSA curve %s (want P-256, P-384 or P-521)", ErrUnsupportedKey, k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: RSA key without a modulus", ErrUnsupportedKey)
		}
		if bits := k.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return fmt.Errorf("%w: %d-bit RSA key (want %d to %d bits)", ErrUnsupportedKey, bits, minRSABits, maxRSABits)
		}
		return nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 public key of %d bytes", ErrUnsupportedKey, len(k))
		}
		return nil
	}
	return fmt.Errorf("%w: public key type %T", ErrUnsupportedKey, pub)
}
