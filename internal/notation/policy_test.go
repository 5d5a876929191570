package notation

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// policyStore writes the trust store the testdata policies name: ca:acme
// holds a CA, ca:leaf a certificate that is neither CA nor self-signed.
func policyStore(t *testing.T, p pki) string {
	t.Helper()
	_, dir := writeStore(t, "ca", "acme", p.ca)
	leafDir := filepath.Join(dir, "x509", "ca", "leaf")
	if err := os.MkdirAll(leafDir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, leafStore := writeStore(t, "ca", "leaf", p.leaf)
	b, err := os.ReadFile(filepath.Join(leafStore, "x509", "ca", "leaf", "leaf.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(leafDir, "leaf.pem"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func testdataFiles(t testing.TB, pattern string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "policy", pattern))
	if err != nil || len(paths) == 0 {
		t.Fatalf("glob %s: %v, %d files", pattern, err, len(paths))
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestNewVerifierValid(t *testing.T) {
	dir := policyStore(t, newPKI(t, "acme-root"))
	for name, b := range testdataFiles(t, "valid/*.json") {
		t.Run(name, func(t *testing.T) {
			v, err := NewVerifier(b, dir)
			if err != nil {
				t.Fatalf("NewVerifier(%s) = %v; want a verifier", name, err)
			}
			if !strings.HasPrefix(v.Policy(), "notation:") {
				t.Errorf("Policy() = %q; want a notation: prefix", v.Policy())
			}
		})
	}
}

func TestNewVerifierInvalid(t *testing.T) {
	dir := policyStore(t, newPKI(t, "acme-root"))
	files := testdataFiles(t, "invalid/*.json")
	files["too-large"] = append([]byte(`{"version":"1.0","trustPolicies":[]}`), bytes.Repeat([]byte(" "), MaxPolicySize)...)
	files["empty"] = nil
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			if v, err := NewVerifier(b, dir); err == nil {
				t.Fatalf("NewVerifier(%s) = %v, nil; want an error", name, v.Policy())
			} else {
				t.Logf("NewVerifier(%s): %v", name, err)
			}
		})
	}
}

func TestPolicyStable(t *testing.T) {
	acme := newPKI(t, "acme-root")
	dir := policyStore(t, acme)
	doc := testdataFiles(t, "valid/strict.json")["strict.json"]
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		t.Fatal(err)
	}
	base := newVerifier(t, doc, dir).Policy()

	if got := newVerifier(t, compact.Bytes(), dir).Policy(); got != base {
		t.Errorf("Policy() of the compacted document = %s; want %s", got, base)
	}
	if got := newVerifier(t, doc, dir).Policy(); got != base {
		t.Errorf("Policy() of a second verifier = %s; want %s", got, base)
	}
	otherCA := policyStore(t, newPKI(t, "acme-root"))
	if got := newVerifier(t, doc, otherCA).Policy(); got == base {
		t.Errorf("Policy() with another CA in ca:acme = %s; want it to differ", got)
	}
	changed := bytes.Replace(doc, []byte(`"level": "strict"`), []byte(`"level": "audit"`), 1)
	if got := newVerifier(t, changed, dir).Policy(); got == base {
		t.Errorf("Policy() with another level = %s; want it to differ", got)
	}
}

func TestParsePolicy(t *testing.T) {
	doc, err := ParsePolicy(testdataFiles(t, "valid/strict.json")["strict.json"])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range doc.TrustPolicies {
		got = append(got, p.Name+":"+p.SignatureVerification.VerificationLevel)
	}
	want := []string{"production:strict", "staging:permissive", "everything-else:audit"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParsePolicy(strict.json) statements (-want +got):\n%s", diff)
	}
}
