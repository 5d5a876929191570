package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

// TestSignVerify: generate a key, sign an image in a registry on
// 127.0.0.1, verify it, and see verification fail with the wrong key and a
// missing annotation.
func TestSignVerify(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBESHIELD_PASSWORD", "correct horse")
	for _, prefix := range []string{"good", "other"} {
		if _, errOut, code := runCLI(t, "key", "generate", "--output-key-prefix", filepath.Join(dir, prefix)); code != 0 {
			t.Fatalf("key generate: exit %d: %s", code, errOut)
		}
	}
	layer := filepath.Join(dir, "l.tar.gz")
	if err := fixture.Layer(layer, []fixture.TarEntry{{Name: "app", Body: "v1"}}); err != nil {
		t.Fatal(err)
	}
	img, err := fixture.ImageFromLayers(layer)
	if err != nil {
		t.Fatal(err)
	}
	ref := fixture.Push(t, fixture.Registry(t), "team/app:1", img)
	digest, _ := img.Digest()

	out, errOut, code := runCLI(t, "sign", "-q", "--key", filepath.Join(dir, "good.key"), "-a", "env=prod", ref)
	if code != 0 || !strings.Contains(out, digest.String()) {
		t.Fatalf("sign: exit %d, out %q: %s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "verify", "-q", "--key", filepath.Join(dir, "good.pub"), "-a", "env=prod", ref)
	if code != 0 || strings.TrimSpace(out) != strings.Split(ref, ":1")[0]+"@"+digest.String() {
		t.Fatalf("verify: exit %d, out %q: %s", code, out, errOut)
	}
	out, _, code = runCLI(t, "verify", "-q", "-o", "json", "--key", filepath.Join(dir, "good.pub"), ref)
	var payloads []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &payloads) != nil || len(payloads) != 1 {
		t.Fatalf("verify -o json: exit %d: %s", code, out)
	}
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--key", filepath.Join(dir, "other.pub")}, "signature"},
		{[]string{"--key", filepath.Join(dir, "good.pub"), "-a", "env=dev"}, "annotation"},
	} {
		_, errOut, code := runCLI(t, append(append([]string{"verify", "-q"}, tt.args...), ref)...)
		if code != 1 || !strings.Contains(errOut, tt.msg) {
			t.Errorf("verify %v: exit %d, stderr %q; want 1 naming %q", tt.args, code, errOut, tt.msg)
		}
	}
	if _, errOut, code := runCLI(t, "verify", ref); code != 2 || !strings.Contains(errOut, "--key") {
		t.Errorf("verify without --key: exit %d, %q", code, errOut)
	}
	t.Setenv("KUBESHIELD_PASSWORD", "wrong")
	if _, errOut, code := runCLI(t, "sign", "-q", "--key", filepath.Join(dir, "good.key"), ref); code != 1 || !strings.Contains(errOut, "password") {
		t.Errorf("sign with a wrong password: exit %d, %q", code, errOut)
	}
}
