// Package notation signs and verifies container images with Notary Project
// signatures, interoperable with the notation CLI and notation-go.
//
// Sign (sign.go) resolves a reference to its manifest descriptor, signs it
// with notation-go's generic signer in a JWS or COSE envelope and stores
// the envelope where notation stores it: an OCI image manifest whose
// config has media type application/vnd.cncf.notary.signature (the
// content is the empty JSON object), whose one layer is the envelope and
// whose subject is the image, annotated with the signing certificate
// chain's SHA-256 thumbprints and the signing time. Every registry call
// goes through go-containerregistry's remote package with the caller's
// options; on a registry without the referrers API, remote.Put updates the
// sha256-<hex> referrers tag index.
//
// A Verifier (verify.go) checks signatures against a trust policy and a
// trust store in notation's own formats (policy.go): the trust policy
// document (trustpolicy.json, version 1.0) and a trust store directory
// laid out as DIR/x509/{ca,signingAuthority,tsa}/NAME/*.{crt,pem}.
// NewVerifier parses and validates both once; VerifyDigest lists the
// image's referrers of artifact type application/vnd.cncf.notary.signature
// (the referrers API, else the referrers tag), fetches each envelope and
// hands it to notation-go's verifier, so that the registry scopes, the
// verification level, the trust stores and the trusted identities apply as
// they do in notation. It then requires the signed payload's target
// descriptor to be the image's. A Verifier implements signature.Verifier,
// so the admission webhook caches and combines it with cosign verifiers.
//
// Errors follow package signature: an image with no Notation signature is
// an error wrapping signature.ErrNoSignatures; signatures that are all
// rejected are a *signature.VerificationError whose per-signature errors
// wrap this package's ErrNoTrustPolicy, ErrUntrustedSigner,
// ErrUntrustedIdentity, ErrTampered, ErrExpired, ErrRevoked, ErrMalformed
// or signature.ErrDigestMismatch; anything else is a registry failure.
//
// The package never logs: notation-go logs only to a logger placed in the
// context, and none is.
package notation
