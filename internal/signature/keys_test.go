package signature_test

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// equaler is what every crypto private key implements, and pubEqualer every
// public key.
type (
	equaler    interface{ Equal(crypto.PrivateKey) bool }
	pubEqualer interface{ Equal(crypto.PublicKey) bool }
)

// keyFixtures are keys of every supported kind, generated once per run.
var keyFixtures = sync.OnceValue(func() map[string]crypto.Signer {
	must := func(k crypto.Signer, err error) crypto.Signer {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{
		"ecdsa-p256": must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"ecdsa-p384": must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)),
		"ecdsa-p521": must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader)),
		"rsa-2048":   must(rsa.GenerateKey(rand.Reader, 2048)),
		"ed25519":    ed,
	}
})

func pemEncode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// derOf returns a function that unwraps an encoder's result, failing t on
// an error.
func derOf(t *testing.T) func([]byte, error) []byte {
	return func(der []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
}

func TestGenerateKey(t *testing.T) {
	k, err := signature.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.Curve != elliptic.P256() {
		t.Errorf("GenerateKey() curve = %s; want P-256", k.Curve.Params().Name)
	}
}

// TestEncryptedRoundTrip writes keys in cosign's encrypted format and reads
// them back, with the right and a wrong password, under both PEM types.
func TestEncryptedRoundTrip(t *testing.T) {
	// Each scrypt derivation takes about a second under -race: the older
	// PEM type and the wrong password are tried on the first key only.
	tests := []struct {
		key      string
		password string
		all      bool
	}{
		{"ecdsa-p256", "correct horse battery staple", true},
		{"ecdsa-p256", "", false},
		{"ecdsa-p384", "pw", false},
		{"rsa-2048", "pw", false},
		{"ed25519", "pässwörd", false},
	}
	keys := keyFixtures()
	for _, tt := range tests {
		t.Run(tt.key+"/"+tt.password, func(t *testing.T) {
			t.Parallel()
			priv := keys[tt.key]
			data, err := signature.MarshalEncryptedPrivateKey(priv, []byte(tt.password))
			if err == nil && !signature.NeedsPassword(data) {
				t.Error("NeedsPassword = false for an encrypted key")
			}
			if err != nil {
				t.Fatalf("MarshalEncryptedPrivateKey: %v", err)
			}
			block, rest := pem.Decode(data)
			if block == nil || block.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" || len(rest) != 0 {
				t.Fatalf("MarshalEncryptedPrivateKey wrote %q; want one ENCRYPTED SIGSTORE PRIVATE KEY block", data)
			}
			var doc struct {
				KDF struct {
					Name   string
					Params struct{ N, R, P int }
				}
				Cipher struct{ Name string }
			}
			if err := json.Unmarshal(block.Bytes, &doc); err != nil {
				t.Fatalf("encrypted document: %v", err)
			}
			if doc.KDF.Name != "scrypt" || doc.KDF.Params.N != 65536 || doc.KDF.Params.R != 8 || doc.KDF.Params.P != 1 || doc.Cipher.Name != "nacl/secretbox" {
				t.Errorf("encrypted document %+v; want scrypt N=65536 r=8 p=1 and nacl/secretbox", doc)
			}

			got, err := signature.ParsePrivateKey(data, []byte(tt.password))
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if !got.(equaler).Equal(priv) {
				t.Errorf("ParsePrivateKey returned a different key")
			}

			if !tt.all {
				return
			}
			// cosign before v2.0 wrote the same document under another type.
			old := pemEncode("ENCRYPTED COSIGN PRIVATE KEY", block.Bytes)
			if got, err := signature.ParsePrivateKey(old, []byte(tt.password)); err != nil || !got.(equaler).Equal(priv) {
				t.Errorf("ParsePrivateKey(ENCRYPTED COSIGN PRIVATE KEY) = %v; want the key", err)
			}

			_, err = signature.ParsePrivateKey(data, []byte(tt.password+"x"))
			if !errors.Is(err, signature.ErrWrongPassword) {
				t.Errorf("ParsePrivateKey with a wrong password = %v; want ErrWrongPassword", err)
			}
			checkNoSecret(t, err, priv)
		})
	}
}

// TestParsePrivateKeyUnencrypted reads every unencrypted PEM form, made
// here with crypto/x509.
func TestParsePrivateKeyUnencrypted(t *testing.T) {
	mustDER := derOf(t)
	keys := keyFixtures()
	p256 := keys["ecdsa-p256"].(*ecdsa.PrivateKey)
	p384 := keys["ecdsa-p384"].(*ecdsa.PrivateKey)
	rsaKey := keys["rsa-2048"].(*rsa.PrivateKey)
	pkcs8 := func(k crypto.Signer) []byte {
		return pemEncode("PRIVATE KEY", mustDER(x509.MarshalPKCS8PrivateKey(k)))
	}
	sec1 := func(k *ecdsa.PrivateKey) []byte {
		return pemEncode("EC PRIVATE KEY", mustDER(x509.MarshalECPrivateKey(k)))
	}
	// openssl ecparam -genkey writes the curve's OID first.
	params := pemEncode("EC PARAMETERS", mustDER(asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})))

	tests := []struct {
		name string
		data []byte
		want crypto.Signer
	}{
		{"ecdsa-p256-sec1", sec1(p256), p256},
		{"ecdsa-p256-sec1-after-params", append(params, sec1(p256)...), p256},
		{"ecdsa-p256-pkcs8", pkcs8(p256), p256},
		{"ecdsa-p384-sec1", sec1(p384), p384},
		{"ecdsa-p384-pkcs8", pkcs8(p384), p384},
		{"ecdsa-p521-pkcs8", pkcs8(keys["ecdsa-p521"]), keys["ecdsa-p521"]},
		{"rsa-pkcs1", pemEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), rsaKey},
		{"rsa-pkcs8", pkcs8(rsaKey), rsaKey},
		{"ed25519-pkcs8", pkcs8(keys["ed25519"]), keys["ed25519"]},
		{"text-around", append(append([]byte("comment\n"), pkcs8(p256)...), "trailer\n"...), p256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if signature.NeedsPassword(tt.data) {
				t.Error("NeedsPassword = true for an unencrypted key")
			}
			got, err := signature.ParsePrivateKey(tt.data, []byte("ignored"))
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if !got.(equaler).Equal(tt.want) {
				t.Errorf("ParsePrivateKey returned a different key")
			}
		})
	}
}

// TestPublicKeyRoundTrip writes and reads the public half of every kind,
// and reads PKCS #1 RSA public keys.
func TestPublicKeyRoundTrip(t *testing.T) {
	for name, priv := range keyFixtures() {
		t.Run(name, func(t *testing.T) {
			data, err := signature.MarshalPublicKey(priv.Public())
			if err != nil {
				t.Fatalf("MarshalPublicKey: %v", err)
			}
			if block, _ := pem.Decode(data); block == nil || block.Type != "PUBLIC KEY" {
				t.Fatalf("MarshalPublicKey wrote %q; want a PUBLIC KEY block", data)
			}
			got, err := signature.ParsePublicKey(data)
			if err != nil {
				t.Fatalf("ParsePublicKey: %v", err)
			}
			if !got.(pubEqualer).Equal(priv.Public()) {
				t.Errorf("ParsePublicKey returned a different key")
			}
		})
	}
	rsaPub := keyFixtures()["rsa-2048"].Public().(*rsa.PublicKey)
	got, err := signature.ParsePublicKey(pemEncode("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rsaPub)))
	if err != nil || !rsaPub.Equal(got) {
		t.Errorf("ParsePublicKey(RSA PUBLIC KEY) = %v; want the key", err)
	}
}

// TestParseKeyErrors feeds malformed, unsupported and misplaced inputs and
// checks the sentinel each returns, and that no message leaks the key.
func TestParseKeyErrors(t *testing.T) {
	mustDER := derOf(t)
	keys := keyFixtures()
	p256 := keys["ecdsa-p256"].(*ecdsa.PrivateKey)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1 := mustDER(x509.MarshalECPrivateKey(p256))
	pkcs8 := mustDER(x509.MarshalPKCS8PrivateKey(p256))
	pub := pemEncode("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(p256.Public())))

	// An encrypted key, and variants of its JSON document.
	const password = "pw"
	sealed, err := signature.MarshalEncryptedPrivateKey(p256, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(sealed)
	editDoc := func(edit func(doc map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(block.Bytes, &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return pemEncode("ENCRYPTED SIGSTORE PRIVATE KEY", b)
	}
	field := func(doc map[string]any, path ...string) map[string]any {
		for _, p := range path {
			doc = doc[p].(map[string]any)
		}
		return doc
	}
	flipped := editDoc(func(doc map[string]any) {
		ct, _ := base64.StdEncoding.DecodeString(doc["ciphertext"].(string))
		ct[len(ct)/2] ^= 1
		doc["ciphertext"] = base64.StdEncoding.EncodeToString(ct)
	})

	private := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, signature.ErrNotKey},
		{"not-pem", []byte("hello"), signature.ErrNotKey},
		{"only-ec-params", pemEncode("EC PARAMETERS", []byte{6, 1, 0}), signature.ErrNotKey},
		{"unknown-type", pemEncode("OPENSSH PRIVATE KEY", sec1), signature.ErrNotKey},
		{"public-key", pub, signature.ErrNotKey},
		{"certificate", pemEncode("CERTIFICATE", []byte{0x30, 0}), signature.ErrNotKey},
		{"truncated-sec1", pemEncode("EC PRIVATE KEY", sec1[:len(sec1)/2]), signature.ErrNotKey},
		{"truncated-pkcs8", pemEncode("PRIVATE KEY", pkcs8[:len(pkcs8)-3]), signature.ErrNotKey},
		{"pkcs8-as-pkcs1", pemEncode("RSA PRIVATE KEY", pkcs8), signature.ErrNotKey},
		{"too-large", append(pemEncode("EC PRIVATE KEY", sec1), make([]byte, signature.MaxKeySize)...), signature.ErrKeyTooLarge},
		{"p224", pemEncode("EC PRIVATE KEY", mustDER(x509.MarshalECPrivateKey(p224))), signature.ErrUnsupportedKey},
		{"rsa-1024", pemEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024)), signature.ErrUnsupportedKey},
		{"x25519", pemEncode("PRIVATE KEY", mustDER(x509.MarshalPKCS8PrivateKey(x25519))), signature.ErrUnsupportedKey},
		{"pkcs8-encrypted", pemEncode("ENCRYPTED PRIVATE KEY", []byte{0x30, 0}), signature.ErrUnsupportedKey},
		{"proc-type", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: sec1}), signature.ErrUnsupportedKey},
		{"sealed-not-json", pemEncode("ENCRYPTED SIGSTORE PRIVATE KEY", sec1), signature.ErrNotKey},
		{"sealed-other-kdf", editDoc(func(doc map[string]any) { field(doc, "kdf")["name"] = "pbkdf2" }), signature.ErrUnsupportedKey},
		{"sealed-other-cipher", editDoc(func(doc map[string]any) { field(doc, "cipher")["name"] = "aes-gcm" }), signature.ErrUnsupportedKey},
		{"sealed-huge-scrypt", editDoc(func(doc map[string]any) { field(doc, "kdf", "params")["N"] = 1 << 30 }), signature.ErrUnsupportedKey},
		{"sealed-short-nonce", editDoc(func(doc map[string]any) { field(doc, "cipher")["nonce"] = "AAAA" }), signature.ErrNotKey},
		{"sealed-no-ciphertext", editDoc(func(doc map[string]any) { delete(doc, "ciphertext") }), signature.ErrNotKey},
		{"sealed-damaged", flipped, signature.ErrWrongPassword},
	}
	for _, tt := range private {
		t.Run("private/"+tt.name, func(t *testing.T) {
			got, err := signature.ParsePrivateKey(tt.data, []byte(password))
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParsePrivateKey = %v, %v; want error %v", got, err, tt.want)
			}
			checkNoSecret(t, err, p256)
		})
	}

	public := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, signature.ErrNotKey},
		{"private-key", pemEncode("EC PRIVATE KEY", sec1), signature.ErrNotKey},
		{"encrypted-private-key", sealed, signature.ErrNotKey},
		{"unknown-type", pemEncode("SSH2 PUBLIC KEY", []byte{1}), signature.ErrNotKey},
		{"truncated", pub[:len(pub)/2], signature.ErrNotKey},
		{"garbage-der", pemEncode("PUBLIC KEY", []byte{0x30, 3, 1, 2, 3}), signature.ErrNotKey},
		{"too-large", make([]byte, signature.MaxKeySize+1), signature.ErrKeyTooLarge},
		{"p224", pemEncode("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(p224.Public()))), signature.ErrUnsupportedKey},
		{"rsa-1024", pemEncode("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(rsa1024.Public()))), signature.ErrUnsupportedKey},
		{"x25519", pemEncode("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(x25519.Public()))), signature.ErrUnsupportedKey},
	}
	for _, tt := range public {
		t.Run("public/"+tt.name, func(t *testing.T) {
			got, err := signature.ParsePublicKey(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParsePublicKey = %v, %v; want error %v", got, err, tt.want)
			}
			checkNoSecret(t, err, p256)
		})
	}
}

func TestMarshalUnsupported(t *testing.T) {
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []crypto.PrivateKey{nil, p224, x25519, ed25519.PrivateKey{1, 2, 3}, &rsa.PrivateKey{}} {
		if _, err := signature.MarshalEncryptedPrivateKey(k, []byte("pw")); !errors.Is(err, signature.ErrUnsupportedKey) {
			t.Errorf("MarshalEncryptedPrivateKey(%T) = %v; want ErrUnsupportedKey", k, err)
		}
	}
	for _, k := range []crypto.PublicKey{nil, p224.Public(), x25519.Public(), ed25519.PublicKey{1}, &ecdsa.PublicKey{}, &rsa.PublicKey{}} {
		if _, err := signature.MarshalPublicKey(k); !errors.Is(err, signature.ErrUnsupportedKey) {
			t.Errorf("MarshalPublicKey(%T) = %v; want ErrUnsupportedKey", k, err)
		}
	}
}

// checkNoSecret fails if err's message holds any 8-byte run of priv's
// PKCS #8 encoding, raw, in hex or in base64.
func checkNoSecret(t *testing.T, err error, priv crypto.Signer) {
	t.Helper()
	if err == nil {
		return
	}
	der, merr := x509.MarshalPKCS8PrivateKey(priv)
	if merr != nil {
		t.Fatal(merr)
	}
	msg := err.Error()
	for i := 0; i+8 <= len(der); i += 4 {
		run := der[i : i+8]
		if strings.Contains(msg, string(run)) || strings.Contains(strings.ToLower(msg), hex.EncodeToString(run)) {
			t.Fatalf("error message %q contains key bytes", msg)
		}
	}
	b64 := base64.StdEncoding.EncodeToString(der)
	for i := 0; i+12 <= len(b64); i += 4 {
		if strings.Contains(msg, b64[i:i+12]) {
			t.Fatalf("error message %q contains base64 key bytes", msg)
		}
	}
}

// FuzzParseKey feeds arbitrary bytes to both parsers. Neither may panic;
// whatever parses must be a supported key that survives a public-key round
// trip.
func FuzzParseKey(f *testing.F) {
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if signer, err := signature.ParsePrivateKey(data, []byte("password")); err == nil {
			checkPublicRoundTrip(t, signer.Public())
		} else if !errors.Is(err, signature.ErrNotKey) && !errors.Is(err, signature.ErrUnsupportedKey) && !errors.Is(err, signature.ErrWrongPassword) && !errors.Is(err, signature.ErrKeyTooLarge) {
			t.Fatalf("ParsePrivateKey error %v wraps no sentinel", err)
		}
		if pub, err := signature.ParsePublicKey(data); err == nil {
			checkPublicRoundTrip(t, pub)
		} else if !errors.Is(err, signature.ErrNotKey) && !errors.Is(err, signature.ErrUnsupportedKey) && !errors.Is(err, signature.ErrKeyTooLarge) {
			t.Fatalf("ParsePublicKey error %v wraps no sentinel", err)
		}
	})
}

func checkPublicRoundTrip(t *testing.T, pub crypto.PublicKey) {
	t.Helper()
	data, err := signature.MarshalPublicKey(pub)
	if err != nil {
		t.Fatalf("MarshalPublicKey of a parsed key: %v", err)
	}
	back, err := signature.ParsePublicKey(data)
	if err != nil {
		t.Fatalf("ParsePublicKey of a marshalled key: %v", err)
	}
	if !back.(pubEqualer).Equal(pub) {
		t.Fatalf("public key changed in a round trip")
	}
}
