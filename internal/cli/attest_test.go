package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/signature"
)

// TestAttestVerifyAttestation: attest an image in a registry on 127.0.0.1
// with its own SBOM and with a given scan report, verify both, and see
// verification fail with the wrong key.
func TestAttestVerifyAttestation(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBESHIELD_PASSWORD", "correct horse")
	for _, prefix := range []string{"good", "other"} {
		if _, errOut, code := runCLI(t, "key", "generate", "--output-key-prefix", filepath.Join(dir, prefix)); code != 0 {
			t.Fatalf("key generate: exit %d: %s", code, errOut)
		}
	}
	layer := filepath.Join(dir, "l.tar.gz")
	status := "Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\n\n"
	if err := fixture.Layer(layer, []fixture.TarEntry{{Name: "var/lib/dpkg/status", Body: status}}); err != nil {
		t.Fatal(err)
	}
	img, err := fixture.ImageFromLayers(layer)
	if err != nil {
		t.Fatal(err)
	}
	ref := fixture.Push(t, fixture.Registry(t), "team/app:1", img)
	digest, _ := img.Digest()
	byDigest := strings.Split(ref, ":1")[0] + "@" + digest.String()

	out, errOut, code := runCLI(t, "attest", "-q", "--key", filepath.Join(dir, "good.key"), "--type", "sbom", ref)
	if code != 0 || strings.TrimSpace(out) != byDigest {
		t.Fatalf("attest --type sbom: exit %d, out %q: %s", code, out, errOut)
	}
	scan := filepath.Join(dir, "scan.json")
	if err := os.WriteFile(scan, []byte(`{"schema":"kubeshield.scan/v1","findings":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "attest", "-q", "--key", filepath.Join(dir, "good.key"), "--type", "vuln", "--predicate", scan, ref); code != 0 {
		t.Fatalf("attest --type vuln --predicate: exit %d: %s", code, errOut)
	}

	// Without --predicate, --type vuln scans the image with --db.
	db := exampleDB(t, djangoRecord)
	if _, errOut, code := runCLI(t, "attest", "-q", "--db", db, "--key", filepath.Join(dir, "good.key"), "--type", "vuln", ref); code != 0 {
		t.Fatalf("attest --type vuln: exit %d: %s", code, errOut)
	}

	out, errOut, code = runCLI(t, "verify-attestation", "-q", "--key", filepath.Join(dir, "good.pub"), "--type", "sbom", ref)
	if code != 0 || strings.TrimSpace(out) != byDigest {
		t.Fatalf("verify-attestation: exit %d, out %q: %s", code, out, errOut)
	}
	out, _, code = runCLI(t, "verify-attestation", "-q", "-o", "json", "--key", filepath.Join(dir, "good.pub"), "--type", "sbom", ref)
	var sboms []signature.Statement
	if code != 0 || json.Unmarshal([]byte(out), &sboms) != nil || len(sboms) != 1 {
		t.Fatalf("verify-attestation -o json: exit %d: %s", code, out)
	}
	var bom struct {
		BOMFormat string `json:"bomFormat"`
	}
	if json.Unmarshal(sboms[0].Predicate, &bom) != nil || bom.BOMFormat != "CycloneDX" || !strings.Contains(string(sboms[0].Predicate), `"hello"`) {
		t.Errorf("sbom predicate = %.300s; want a CycloneDX BOM listing hello", sboms[0].Predicate)
	}
	out, _, code = runCLI(t, "verify-attestation", "-q", "-o", "json", "--key", filepath.Join(dir, "good.pub"), "--type", "vuln", ref)
	var vulns []struct {
		PredicateType string                  `json:"predicateType"`
		Predicate     signature.VulnPredicate `json:"predicate"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &vulns) != nil || len(vulns) != 2 {
		t.Fatalf("verify-attestation --type vuln -o json: exit %d: %s", code, out)
	}
	for _, v := range vulns {
		if v.PredicateType != signature.PredicateVuln || !strings.Contains(string(v.Predicate.Scanner.Result), "kubeshield.scan/v1") {
			t.Errorf("vuln statement = %+v; want the scan report as scanner.result", v)
		}
	}
	if v := vulns[1].Predicate; v.Scanner.URI != scannerURI || v.Metadata.ScanStartedOn.IsZero() {
		t.Errorf("scanned vuln predicate = %+v; want scanner %s and times", v, scannerURI)
	}

	if _, errOut, code := runCLI(t, "verify-attestation", "-q", "--key", filepath.Join(dir, "other.pub"), "--type", "sbom", ref); code != 1 || !strings.Contains(errOut, "signature") {
		t.Errorf("verify-attestation with another key: exit %d, %q; want 1 naming the signature", code, errOut)
	}
	for _, args := range [][]string{
		{"verify-attestation", "--type", "sbom", ref},
		{"verify-attestation", "--key", filepath.Join(dir, "good.pub"), "--type", "spdx", ref},
		{"attest", "--key", filepath.Join(dir, "good.key"), "--type", "x", ref},
	} {
		if _, errOut, code := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, %q; want 2", args, code, errOut)
		}
	}
}
