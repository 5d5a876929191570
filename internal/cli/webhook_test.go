package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubeshield/kubeshield/internal/webhook"
)

// TestWebhookServe runs `kubeshield webhook serve` with TLS files and a
// configuration, asks it a review, changes the configuration (reloaded)
// and breaks it (the old policies stay), then stops it with the context.
func TestWebhookServe(t *testing.T) {
	dir := t.TempDir()
	// No cluster: namespace labels and pull secrets are unknown.
	t.Setenv("KUBECONFIG", filepath.Join(dir, "no-kubeconfig"))
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	ca, err := webhook.NewCA("test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue(nil, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key := write("tls.crt", string(certPEM)), write("tls.key", string(keyPEM))
	base := "apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\n"
	config := write("config.yaml", base+"runtimeSockets: {}\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"webhook", "serve", "--listen", addr, "--config", config, "--tls-cert-file", cert,
			"--tls-private-key-file", key, "--decision-log", "", "--reload-interval", "50ms"}, &stdout, &stderr)
	}()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.Cert)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var ready bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := c.Get("https://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if ready = resp.StatusCode == 200; ready {
				break
			}
		}
	}
	if !ready {
		cancel()
		t.Fatalf("webhook serve not ready: %s", stderr.String())
	}
	review := func(hostPath string) string {
		body := fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"version":"v1","kind":"Pod"},`+
			`"resource":{"version":"v1","resource":"pods"},"namespace":"shop","name":"p","operation":"CREATE","userInfo":{"username":"jane"},`+
			`"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx:latest"}],`+
			`"volumes":[{"name":"v","hostPath":{"path":%q}}]}}}}`, hostPath)
		resp, err := c.Post("https://"+addr+"/validate", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := review("/run/containerd/containerd.sock"); !strings.Contains(got, `"allowed":false`) {
		t.Errorf("containerd socket: %s", got)
	}
	// The configuration changes: latest tags are now denied too.
	write("config.yaml", base+"runtimeSockets: {}\nimages: {forbidLatest: true}\n")
	var reloaded bool
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !reloaded; time.Sleep(50 * time.Millisecond) {
		reloaded = strings.Contains(review("/data"), "latest")
	}
	if !reloaded {
		t.Errorf("configuration change not picked up: %s", stderr.String())
	}
	// A broken configuration keeps the policies in service.
	write("config.yaml", base+"images: {forbidLatest: maybe}\n")
	time.Sleep(300 * time.Millisecond)
	if got := review("/data"); !strings.Contains(got, "latest") {
		t.Errorf("after a broken configuration: %s", got)
	}
	if !strings.Contains(stderr.String(), "configuration not reloaded") {
		t.Errorf("the broken configuration is not logged: %s", stderr.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("webhook serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("webhook serve did not stop")
	}

	for _, args := range [][]string{
		{"webhook", "serve"},
		{"webhook", "serve", "--config", config},
		{"webhook", "serve", "--config", config, "--self-signed", "--tls-cert-file", cert},
		{"webhook", "serve", "--config", config, "--self-signed"},
	} {
		if _, errOut, code := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d (%s); want 2", args, code, errOut)
		}
	}
}

func TestWebhookInstall(t *testing.T) {
	out, errOut, code := runCLI(t, "webhook", "install", "--image", "registry.example.com/kubeshield@sha256:"+strings.Repeat("0", 64), "--exclude-namespace", "monitoring")
	if code != 0 || !strings.Contains(out, "kind: ValidatingWebhookConfiguration") || !strings.Contains(out, "- monitoring") ||
		!strings.Contains(out, "registry.example.com/kubeshield@sha256:") {
		t.Errorf("webhook install: exit %d (%s):\n%.500s", code, errOut, out)
	}
	if _, _, code := runCLI(t, "webhook", "install", "--timeout-seconds", "60"); code != 2 {
		t.Errorf("webhook install --timeout-seconds 60: exit %d; want 2", code)
	}
}
