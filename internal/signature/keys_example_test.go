package signature_test

import (
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// A key pair written in cosign's format and read back.
func ExampleMarshalEncryptedPrivateKey() {
	priv, err := signature.GenerateKey()
	if err != nil {
		panic(err)
	}
	keyPEM, err := signature.MarshalEncryptedPrivateKey(priv, []byte("my password"))
	if err != nil {
		panic(err)
	}
	pubPEM, err := signature.MarshalPublicKey(priv.Public())
	if err != nil {
		panic(err)
	}

	signer, err := signature.ParsePrivateKey(keyPEM, []byte("my password"))
	if err != nil {
		panic(err)
	}
	pub, err := signature.ParsePublicKey(pubPEM)
	if err != nil {
		panic(err)
	}
	fmt.Println(signer.Public().(*ecdsa.PublicKey).Equal(pub))

	_, err = signature.ParsePrivateKey(keyPEM, []byte("guess"))
	fmt.Println(errors.Is(err, signature.ErrWrongPassword))
	// Output:
	// true
	// true
}
