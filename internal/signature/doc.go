// Package signature signs and verifies container images in a way that is
// interoperable with cosign: the same key files, the same signature
// payloads and the same places in a registry.
//
// Keys (keys.go) are plain crypto values. GenerateKey makes an ECDSA P-256
// key, MarshalEncryptedPrivateKey writes it in cosign's password-protected
// format (PEM "ENCRYPTED SIGSTORE PRIVATE KEY": JSON holding a PKCS #8 key
// sealed with NaCl secretbox under a scrypt-derived key), and
// ParsePrivateKey reads that format, cosign's older "ENCRYPTED COSIGN
// PRIVATE KEY" and unencrypted PEM keys. Public keys are PEM "PUBLIC KEY"
// (PKIX). Parsing is deterministic and does no I/O; reading files and
// asking for passwords is the caller's business.
//
// Signatures (payload.go, sign.go, verify.go) are cosign's "simple signing"
// signatures, stored where cosign v2 stores them: the sha256-<hex>.sig tag
// of the image's repository, one layer per signature, the signature in the
// dev.cosignproject.cosign/signature annotation. Sign resolves the
// reference to a digest first and appends a layer (a second signature
// keeps the first); Verify checks every signature against the key and
// requires the payload's digest to equal the image's, its identity to name
// the image's repository, and the required annotations. No signature at
// all is ErrNoSignatures; signatures that all fail are a
// *VerificationError naming each reason; a registry that does not answer
// is a plain error, so the admission webhook can apply its failure policy.
//
// Every signature format implements Verifier (verifier.go): a Policy
// string that identifies what it requires and VerifyDigest, which checks
// one image digest. KeyVerifier is the cosign v2 one; Any combines several
// (cosign v2 signatures and Sigstore bundles under the same key, say), and
// VerifyImage resolves a reference first. Verifiers of other packages
// (Notation) report rejections with NewVerificationError.
//
// A Cache (cache.go) keeps verification outcomes by repository, digest
// and the Verifier's policy for the webhook's hot path: a bounded LRU whose successes live for its TTL and
// whose negative outcomes live for at most MaxNegativeTTL, so a signature
// pushed after a denial is seen soon. Registry errors are never kept, and
// concurrent misses for one key share one verification.
//
// Attestations (attest.go) are cosign's too: Attest signs an in-toto
// Statement v0.1 about the image digest in a DSSE envelope and appends it
// to the sha256-<hex>.att tag, annotated with its predicate type;
// VerifyAttestations checks the envelope, the subject digest and the
// predicate type, with the same error style as Verify (ErrNoAttestations,
// *VerificationError).
//
// Sigstore bundles (bundle.go) are cosign v3's signatures: a bundle
// (v0.1 to v0.3) holding a DSSE envelope whose in-toto Statement has
// predicate type CosignSignPredicateType and names the image digest in
// its subject, attached as an OCI 1.1 referrer of the image (artifact
// type and single layer BundleMediaType, empty config, predicate type
// annotation), listed through the referrers API or, on registries
// without it, the sha256-<hex> referrers tag. A BundleVerifier, built by
// NewBundleVerifier from BundleOptions, checks them offline with
// sigstore-go, either keyless (a certificate chaining to a certificate
// authority of a TrustedRoot, a transparency log entry of one of its logs
// with an inclusion proof, an RFC 3161 timestamp for Rekor v2 entries, an
// SCT if required, and a subject and OIDC issuer matching one of the
// CertificateIdentity values) or with a public key (the log entry then
// checked only if a root is given too), plus the required annotations.
// LoadTrustedRoot parses trusted_root.json and ParseBundle a bundle, both
// without I/O; AttachBundle writes a bundle as cosign v3 does. Rejected
// bundles come back in a *VerificationError whose errors also wrap
// ErrCertificateIdentity, ErrUntrustedCertificate or ErrTransparencyLog.
// Package sigstoretest makes a virtual Sigstore, its trusted root and
// bundles for tests.
//
// The package never logs, and no error it returns contains private key
// material.
package signature
