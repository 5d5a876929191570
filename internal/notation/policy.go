package notation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
)

// Bounds on the trust policy documents ParsePolicy accepts. Notation's
// validation compares trusted identities pairwise, so their number is
// bounded as well as the size.
const (
	// MaxPolicySize bounds the document, in bytes.
	MaxPolicySize = 256 << 10
	// MaxPolicyEntries bounds the statements of a document and the
	// registry scopes, trust stores and trusted identities of each.
	MaxPolicyEntries = 512
)

// ParsePolicy decodes and validates a trust policy document in notation's
// format (trustpolicy.json or trustpolicy.oci.json, version "1.0"):
//
//	{"version": "1.0", "trustPolicies": [{
//	    "name": "prod",
//	    "registryScopes": ["registry.example/app"],
//	    "signatureVerification": {"level": "strict"},
//	    "trustStores": ["ca:acme"],
//	    "trustedIdentities": ["x509.subject: C=US, ST=WA, O=Acme, CN=release"]}]}
//
// Unknown fields, trailing data and documents over MaxPolicySize are
// errors, as is anything notation-go's own validation rejects (unknown
// level, a skip statement with trust stores, overlapping identities, a
// registry scope in two statements, ...). Parsing does no I/O.
func ParsePolicy(b []byte) (*trustpolicy.Document, error) {
	if len(b) > MaxPolicySize {
		return nil, fmt.Errorf("trust policy: %d bytes, more than %d", len(b), MaxPolicySize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc trustpolicy.Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("trust policy: decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trust policy: data after the document")
	}
	if err := checkBounds(&doc); err != nil {
		return nil, fmt.Errorf("trust policy: %w", err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("validate trust policy: %w", err)
	}
	return &doc, nil
}

// checkBounds applies MaxPolicyEntries.
func checkBounds(doc *trustpolicy.Document) error {
	if n := len(doc.TrustPolicies); n > MaxPolicyEntries {
		return fmt.Errorf("%d statements, more than %d", n, MaxPolicyEntries)
	}
	for _, p := range doc.TrustPolicies {
		for what, n := range map[string]int{
			"registry scopes":    len(p.RegistryScopes),
			"trust stores":       len(p.TrustStores),
			"trusted identities": len(p.TrustedIdentities),
		} {
			if n > MaxPolicyEntries {
				return fmt.Errorf("statement %q has %d %s, more than %d", p.Name, n, what, MaxPolicyEntries)
			}
		}
	}
	return nil
}

// trustStore is the part of a trust store directory a policy names, read
// once: notation-go asks it for certificates on every verification.
type trustStore struct {
	// certs maps "type:name" to the certificates of that store.
	certs map[string][]*x509.Certificate
}

// loadTrustStore reads every store doc names from root, laid out as
// root/x509/TYPE/NAME/*. It uses notation-go's own reader (which requires
// CA or self-signed certificates, regular files, no symlinks), so a store
// loads here exactly when notation would load it.
func loadTrustStore(doc *trustpolicy.Document, root string) (*trustStore, error) {
	ts := &trustStore{certs: map[string][]*x509.Certificate{}}
	reader := truststore.NewX509TrustStore(storeFS{FS: os.DirFS(root), root: root})
	for _, p := range doc.TrustPolicies {
		for _, s := range p.TrustStores {
			if _, ok := ts.certs[s]; ok {
				continue
			}
			typ, name, _ := strings.Cut(s, ":") // Validate checked the form.
			certs, err := reader.GetCertificates(context.Background(), truststore.Type(typ), name)
			if err != nil {
				return nil, fmt.Errorf("trust store %s (policy %q) in %s: %w", s, p.Name, root, err)
			}
			ts.certs[s] = certs
		}
	}
	return ts, nil
}

// GetCertificates implements truststore.X509TrustStore.
func (ts *trustStore) GetCertificates(_ context.Context, typ truststore.Type, name string) ([]*x509.Certificate, error) {
	certs, ok := ts.certs[string(typ)+":"+name]
	if !ok {
		return nil, truststore.TrustStoreError{Msg: fmt.Sprintf("trust store %s:%s is not named by the trust policy", typ, name)}
	}
	return slices.Clone(certs), nil
}

// storeFS roots notation-go's trust store reader at a trust store
// directory: notation asks for truststore/x509/TYPE/NAME under its
// configuration directory, this answers root/x509/TYPE/NAME.
type storeFS struct {
	fs.FS
	root string
}

// SysPath implements dir.SysFS.
func (s storeFS) SysPath(items ...string) (string, error) {
	rel, ok := strings.CutPrefix(path.Join(items...), dir.TrustStoreDir+"/")
	if !ok {
		return "", fmt.Errorf("path %q is outside the trust store", path.Join(items...))
	}
	return filepath.Join(s.root, filepath.FromSlash(rel)), nil
}

// policyHash returns a stable digest of the policy (re-encoded, so layout
// and key order do not matter) and of the certificates of every store it
// names.
func policyHash(doc *trustpolicy.Document, ts *trustStore) (string, error) {
	canon, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("trust policy: encode: %w", err)
	}
	h := sha256.New()
	writeField := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	writeField([]byte("notation-trust-policy/v1"))
	writeField(canon)
	keys := make([]string, 0, len(ts.certs))
	for k := range ts.certs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		writeField([]byte(k))
		for _, c := range ts.certs[k] {
			writeField(c.Raw)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
