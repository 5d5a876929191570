package signature

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

const testBOM = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[]}`

// attLayer is one layer of an attestation image.
type attLayer struct {
	envelope      []byte
	predicateType string
}

func readAttLayers(t *testing.T, ref name.Reference, d v1.Hash) []attLayer {
	t.Helper()
	img, err := remote.Image(attTag(digestRef(ref, d)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []attLayer
	for _, desc := range m.Layers {
		if desc.MediaType != DSSEMediaType {
			t.Errorf("attestation layer media type %q; want %q", desc.MediaType, DSSEMediaType)
		}
		b := layerBytes(t, img, desc)
		out = append(out, attLayer{envelope: b, predicateType: desc.Annotations[PredicateTypeAnnotation]})
	}
	return out
}

func writeAttLayers(t *testing.T, ref name.Reference, d v1.Hash, layers []attLayer) {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, l := range layers {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:       static.NewLayer(l.envelope, DSSEMediaType),
			Annotations: map[string]string{PredicateTypeAnnotation: l.predicateType},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := remote.Write(attTag(digestRef(ref, d)), img); err != nil {
		t.Fatal(err)
	}
}

// resign signs statement into a fresh envelope with key.
func resign(t *testing.T, key dsseKey, statement []byte) []byte {
	t.Helper()
	es, err := dsse.NewEnvelopeSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	env, err := es.SignPayload(context.Background(), InTotoPayloadType, statement)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAttestVerify(t *testing.T) {
	ctx := context.Background()
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	key := newKey(t)

	att, err := Attest(ctx, ref, key, PredicateCycloneDX, []byte(testBOM), SignOptions{})
	if err != nil {
		t.Fatalf("Attest(%s) = %v", ref, err)
	}
	if att.Image.DigestStr() != d.String() || att.Tag.TagStr() != "sha256-"+d.Hex+".att" {
		t.Errorf("Attest(%s) = image %s, tag %s; want digest %s", ref, att.Image, att.Tag, d)
	}
	st, _, err := ParseAttestation(att.Envelope)
	if err != nil {
		t.Fatalf("ParseAttestation(our envelope) = %v", err)
	}
	if st.Type != StatementV01 || st.Subject[0].Name != ref.Context().Name() || st.Subject[0].Digest["sha256"] != d.Hex {
		t.Errorf("statement = %+v; want v0.1 naming %s@%s", st, ref.Context().Name(), d)
	}

	got, err := VerifyAttestations(ctx, ref, key.Public(), PredicateCycloneDX, VerifyOptions{})
	if err != nil || len(got) != 1 {
		t.Fatalf("VerifyAttestations(%s) = %d, %v; want 1 attestation", ref, len(got), err)
	}
	var bom map[string]any
	if err := json.Unmarshal(got[0].Statement.Predicate, &bom); err != nil || bom["bomFormat"] != "CycloneDX" {
		t.Errorf("verified predicate = %s, %v; want the BOM", got[0].Statement.Predicate, err)
	}

	// A second attestation keeps the first.
	vuln, err := NewVulnPredicate([]byte(`{"schema":"kubeshield.scan/v1"}`), "https://kubeshield.dev", "dev", time.Now(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Attest(ctx, ref, key, PredicateVuln, vuln, SignOptions{}); err != nil {
		t.Fatalf("second Attest(%s) = %v", ref, err)
	}
	layers := readAttLayers(t, ref, d)
	if len(layers) != 2 || layers[0].predicateType != PredicateCycloneDX || layers[1].predicateType != PredicateVuln {
		t.Fatalf("attestation image has %d layers %+v; want cyclonedx then vuln", len(layers), layers)
	}
	for _, pt := range []string{PredicateCycloneDX, PredicateVuln} {
		if got, err := VerifyAttestations(ctx, ref, key.Public(), pt, VerifyOptions{}); err != nil || len(got) != 1 {
			t.Errorf("VerifyAttestations(%s, %s) = %d, %v; want 1", ref, pt, len(got), err)
		}
	}
	if got, err := VerifyAttestations(ctx, ref, key.Public(), "", VerifyOptions{}); err != nil || len(got) != 2 {
		t.Errorf("VerifyAttestations(%s, any) = %d, %v; want 2", ref, len(got), err)
	}

	// Signatures and attestations live apart.
	if _, err := Verify(ctx, ref, key.Public(), VerifyOptions{}); !errors.Is(err, ErrNoSignatures) {
		t.Errorf("Verify(%s) after Attest = %v; want ErrNoSignatures", ref, err)
	}
}

func TestAttestNone(t *testing.T) {
	host := fixture.Registry(t)
	ref, _ := pushRandom(t, host, "app:v1")
	_, err := VerifyAttestations(context.Background(), ref, newKey(t).Public(), PredicateCycloneDX, VerifyOptions{})
	if !errors.Is(err, ErrNoAttestations) {
		t.Errorf("VerifyAttestations(unattested) = %v; want ErrNoAttestations", err)
	}
}

func TestAttestRejects(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	signer := dsseKey{signer: key}
	statement := func(hex, predicateType string) []byte {
		b, err := json.Marshal(Statement{
			Type:          StatementV01,
			Subject:       []Subject{{Name: "x", Digest: map[string]string{"sha256": hex}}},
			PredicateType: predicateType,
			Predicate:     json.RawMessage(testBOM),
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		// layers makes the attestation layers from a valid envelope for
		// the image (digest hex) and the image's digest.
		layers        func(valid []byte, hex string) []attLayer
		predicateType string
		want          error
	}{
		{"wrong key", func(valid []byte, _ string) []attLayer {
			return []attLayer{{valid, PredicateCycloneDX}}
		}, PredicateCycloneDX, ErrBadSignature},
		{"edited payload", func(valid []byte, hex string) []attLayer {
			var env dsse.Envelope
			if err := json.Unmarshal(valid, &env); err != nil {
				t.Fatal(err)
			}
			edited := bytes.Replace(statement(hex, PredicateCycloneDX), []byte(`"components":[]`), []byte(`"components":[{}]`), 1)
			env.Payload = base64.StdEncoding.EncodeToString(edited)
			b, _ := json.Marshal(env)
			return []attLayer{{b, PredicateCycloneDX}}
		}, PredicateCycloneDX, ErrBadSignature},
		{"another digest", func(_ []byte, hex string) []attLayer {
			other := []byte(hex)
			other[0] ^= 1
			return []attLayer{{resign(t, signer, statement(string(other), PredicateCycloneDX)), PredicateCycloneDX}}
		}, PredicateCycloneDX, ErrDigestMismatch},
		{"wrong predicate type", func(valid []byte, _ string) []attLayer {
			return []attLayer{{valid, PredicateCycloneDX}}
		}, PredicateVuln, ErrPredicateMismatch},
		{"not an envelope", func(_ []byte, _ string) []attLayer {
			return []attLayer{{[]byte(`{"payloadType":"text/plain","payload":"","signatures":[]}`), PredicateCycloneDX}}
		}, PredicateCycloneDX, ErrBadPayload},
	}
	host := fixture.Registry(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref, d := pushRandom(t, host, "app:v1")
			valid := resign(t, signer, statement(d.Hex, PredicateCycloneDX))
			writeAttLayers(t, ref, d, tc.layers(valid, d.Hex))
			pub := key.Public()
			if tc.name == "wrong key" {
				pub = newKey(t).Public()
			}
			_, err := VerifyAttestations(ctx, ref, pub, tc.predicateType, VerifyOptions{})
			var verr *VerificationError
			if !errors.As(err, &verr) || len(verr.Reasons) != 1 {
				t.Fatalf("VerifyAttestations = %v; want a *VerificationError with one reason", err)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("VerifyAttestations = %v; want %v", err, tc.want)
			}
		})
	}
}

func FuzzParseAttestation(f *testing.F) {
	key, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	st, _ := json.Marshal(Statement{Type: StatementV1, Subject: []Subject{{Name: "r", Digest: map[string]string{"sha256": "ab"}}}, PredicateType: "p", Predicate: json.RawMessage(`{}`)})
	es, _ := dsse.NewEnvelopeSigner(dsseKey{signer: key})
	env, err := es.SignPayload(context.Background(), InTotoPayloadType, st)
	if err != nil {
		f.Fatal(err)
	}
	seed, _ := json.Marshal(env)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		st, payload, err := ParseAttestation(data)
		if err != nil {
			return
		}
		// What parses is a statement with a subject and a predicate type,
		// and its bytes parse again to the same.
		if len(st.Subject) == 0 || st.PredicateType == "" {
			t.Fatalf("ParseAttestation(%q) = %+v without subject or predicate type", data, st)
		}
		var again Statement
		if err := json.Unmarshal(payload, &again); err != nil || again.PredicateType != st.PredicateType {
			t.Fatalf("statement bytes %q reparse to %+v, %v", payload, again, err)
		}
	})
}

// TestCosignAttestsWeVerify: cosign attest, then VerifyAttestations.
func TestCosignAttestsWeVerify(t *testing.T) {
	bin := cosignBinary(t)
	dir := t.TempDir()
	pubPath := filepath.Join(dir, "cosign.pub")
	runCosign(t, bin, dir, "", "generate-key-pair")
	bomPath := filepath.Join(dir, "bom.json")
	if err := os.WriteFile(bomPath, []byte(testBOM), 0o600); err != nil {
		t.Fatal(err)
	}
	host := fixture.Registry(t)
	ref, d := pushRandom(t, host, "team/app:v1")
	runCosign(t, bin, dir, pubPath, "attest", "--key", "cosign.key", "--type", "cyclonedx", "--predicate", bomPath,
		"--tlog-upload=false", "-y", "--allow-insecure-registry", digestRef(ref, d).String())

	pemBytes, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyAttestations(context.Background(), ref, pub, PredicateCycloneDX, VerifyOptions{})
	if err != nil || len(got) != 1 {
		t.Fatalf("VerifyAttestations(%s) of cosign's attestation = %d, %v; want 1", ref, len(got), err)
	}
	if got[0].Statement.Subject[0].Name != ref.Context().Name() {
		t.Errorf("cosign's subject name = %q; we write %q", got[0].Statement.Subject[0].Name, ref.Context().Name())
	}
	if _, err := VerifyAttestations(context.Background(), ref, newKey(t).Public(), PredicateCycloneDX, VerifyOptions{}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifyAttestations(cosign's, other key) = %v; want ErrBadSignature", err)
	}
}

// TestWeAttestCosignVerifies: Attest, then cosign verify-attestation.
func TestWeAttestCosignVerifies(t *testing.T) {
	bin := cosignBinary(t)
	dir := t.TempDir()
	key := newKey(t)
	writePub := func(file string, k any) string {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pubPath := writePub("ours.pub", key.Public())
	host := fixture.Registry(t)
	ref, _ := pushRandom(t, host, "team/app:v1")
	if _, err := Attest(context.Background(), ref, key, PredicateCycloneDX, []byte(testBOM), SignOptions{}); err != nil {
		t.Fatalf("Attest(%s) = %v", ref, err)
	}
	verify := []string{"verify-attestation", "--type", "cyclonedx", "--allow-insecure-registry", "--insecure-ignore-tlog=true"}
	runCosign(t, bin, dir, pubPath, append(verify, "--key", pubPath, ref.String())...)

	// cosign's --type vuln finds our scan attestation, next to the SBOM.
	vuln, err := NewVulnPredicate([]byte(`{"schema":"kubeshield.scan/v1","findings":[]}`), "https://kubeshield.dev", "dev", time.Now(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Attest(context.Background(), ref, key, PredicateVuln, vuln, SignOptions{}); err != nil {
		t.Fatalf("Attest(%s, vuln) = %v", ref, err)
	}
	runCosign(t, bin, dir, pubPath, "verify-attestation", "--type", "vuln", "--allow-insecure-registry",
		"--insecure-ignore-tlog=true", "--key", pubPath, ref.String())

	otherPath := writePub("other.pub", newKey(t).Public())
	if out, err := cosignCmd(bin, dir, pubPath, append(verify, "--key", otherPath, ref.String())...).CombinedOutput(); err == nil {
		t.Errorf("cosign verify-attestation with another key passed:\n%s", out)
	}
}
