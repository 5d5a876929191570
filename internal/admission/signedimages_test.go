package admission

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/signature"
	"github.com/kubeshield/kubeshield/internal/signature/sigstoretest"
)

func TestMatchRepository(t *testing.T) {
	for _, tt := range []struct {
		pattern, repo string
		want          bool
	}{
		{"registry.example.com/team/app", "registry.example.com/team/app", true},
		{"registry.example.com/team/*", "registry.example.com/team/app", true},
		{"registry.example.com/team/*", "registry.example.com/team/sub/app", false},
		{"registry.example.com/team/**", "registry.example.com/team/sub/app", true},
		{"registry.example.com/team/**", "registry.example.com/team", true},
		{"registry.example.com/**", "registry.example.com.evil.io/app", false},
		{"**", "index.docker.io/library/nginx", true},
		{"index.docker.io/library/*", "index.docker.io/library/nginx", true},
		{"*.example.com/app", "registry.example.com/app", true},
		{"registry.example.com/app", "registry.example.com/app2", false},
	} {
		rule := ImageRule{Images: []string{tt.pattern}}
		if got := rule.matches(tt.repo); got != tt.want {
			t.Errorf("pattern %q matches %q = %v; want %v", tt.pattern, tt.repo, got, tt.want)
		}
	}
}

// signedPodRequest builds the Request of creating a pod running image.
func signedPodRequest(t *testing.T, image string) *Request {
	t.Helper()
	obj := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "app", "namespace": "shop"},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": image}}},
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	ar := &admissionv1.AdmissionRequest{
		UID: "u1", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: "shop", Name: "app", Operation: admissionv1.Create,
		Object: runtime.RawExtension{Raw: raw},
	}
	r, err := NewRequest(context.Background(), ar, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSignedImages verifies real signatures in a registry on 127.0.0.1:
// cosign-format with keys, and keyless Sigstore bundles.
func TestSignedImages(t *testing.T) {
	ctx := context.Background()
	host := fixture.Registry(t)
	push := func(repoTag string) (tagRef, digestRef string) {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		tagRef = fixture.Push(t, host, repoTag, img)
		d, _ := img.Digest()
		return tagRef, tagRef[:strings.LastIndex(tagRef, ":")] + "@" + d.String()
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sign := func(ref string, k *ecdsa.PrivateKey) {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signature.Sign(ctx, r, k, signature.SignOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	signedTag, signedDigest := push("team/signed:1")
	sign(signedTag, key)
	unsignedTag, _ := push("team/unsigned:1")
	wrongTag, _ := push("team/wrong:1")
	sign(wrongTag, other)
	freeTag, _ := push("other/free:1")

	// A keyless bundle from the virtual Sigstore.
	ss := sigstoretest.New(t)
	root, err := signature.LoadTrustedRoot(ss.TrustedRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	keylessTag, keylessDigest := push("ci/keyless:1")
	dig, _ := name.NewDigest(keylessDigest)
	hash, err := v1.NewHash(dig.DigestStr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signature.AttachBundle(ctx, dig, ss.SignImage(t, hash, "ci@example.com", "https://issuer.example.com", nil), nil); err != nil {
		t.Fatal(err)
	}
	keyless, err := signature.NewBundleVerifier(signature.BundleOptions{Root: root,
		Identities: []signature.CertificateIdentity{{Subject: "ci@example.com", Issuer: "https://issuer.example.com"}}})
	if err != nil {
		t.Fatal(err)
	}

	rules := []ImageRule{
		{Name: "team", Images: []string{host + "/team/*"}, Verifier: signature.KeyVerifier{Key: key.Public()}},
		{Name: "ci", Images: []string{host + "/ci/**"}, Verifier: keyless},
	}
	p, err := NewSignedImages(SignedImagesOptions{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	strict, err := NewSignedImages(SignedImagesOptions{Rules: rules, RequireRule: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		policy    Policy
		image     string
		violation string // "" for none
		pinned    string // the patched image, "" for no patch
	}{
		{"signed tag is pinned", p, signedTag, "", signedTag + "@" + signedDigest[strings.Index(signedDigest, "@")+1:]},
		{"signed digest", p, signedDigest, "", ""},
		{"unsigned", p, unsignedTag, "is not signed (rule team)", ""},
		{"signed by another key", p, wrongTag, "has no valid signature (rule team)", ""},
		{"keyless", p, keylessTag, "", keylessTag + "@" + keylessDigest[strings.Index(keylessDigest, "@")+1:]},
		{"no rule", p, freeTag, "", ""},
		{"no rule, rule required", strict, freeTag, "matches no signed images rule", ""},
		{"bad reference", p, "UPPER/Case:::", "not a valid reference", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.policy.Check(ctx, signedPodRequest(t, tt.image))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			got := strings.Join(out.Violations, "\n")
			if (tt.violation == "") != (got == "") || !strings.Contains(got, tt.violation) {
				t.Errorf("violations = %q; want %q", got, tt.violation)
			}
			var pinned string
			if len(out.Patch) == 1 {
				pinned, _ = out.Patch[0].Value.(string)
				if out.Patch[0].Path != "/spec/containers/0/image" {
					t.Errorf("patch path %q", out.Patch[0].Path)
				}
			}
			if pinned != tt.pinned {
				t.Errorf("pinned = %q; want %q", pinned, tt.pinned)
			}
		})
	}

	// A registry that does not answer is an error: the failure policy
	// decides, not a denial.
	srv := httptest.NewServer(registry.New())
	downHost := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	down, err := NewSignedImages(SignedImagesOptions{Rules: []ImageRule{{Name: "all", Images: []string{"**"}, Verifier: signature.KeyVerifier{Key: key.Public()}}}})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := down.Check(ctx, signedPodRequest(t, downHost+"/team/app:1")); err == nil {
		t.Errorf("Check against a closed registry = %+v, nil; want an error", out)
	}
	if _, err := NewSignedImages(SignedImagesOptions{Rules: []ImageRule{{Name: "x", Images: []string{"a/["}, Verifier: signature.KeyVerifier{Key: key.Public()}}}}); err == nil {
		t.Error("NewSignedImages with a bad pattern: no error")
	}
}
