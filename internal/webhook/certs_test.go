package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.StopControlPlane()
	os.Exit(code)
}

// writePair issues a serving certificate for host from ca and writes it.
func writePair(t *testing.T, ca *CA, dir, host string) (string, string) {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue([]string{host}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	// Write then rename, as a Secret volume update does.
	for f, data := range map[string][]byte{cf: certPEM, kf: keyPEM} {
		if err := os.WriteFile(f+".new", data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f+".new", f); err != nil {
			t.Fatal(err)
		}
	}
	return cf, kf
}

// handshake connects to addr trusting pool and returns the server
// certificate's common name.
func handshake(t *testing.T, addr string, pool *x509.CertPool) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestCertReloader serves TLS on loopback and rotates the key pair on
// disk: new handshakes get the new certificate; a broken pair keeps the
// old one in service and is reported.
func TestCertReloader(t *testing.T) {
	ca, err := NewCA("test-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.Cert)
	dir := t.TempDir()
	cf, kf := writePair(t, ca, dir, "first.example")
	r, err := NewCertReloader(cf, kf, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: r.GetCertificate, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	if cn := handshake(t, ln.Addr().String(), pool); cn != "first.example" {
		t.Fatalf("first certificate CN = %q", cn)
	}
	time.Sleep(5 * time.Millisecond)
	writePair(t, ca, dir, "second.example")
	time.Sleep(5 * time.Millisecond)
	if cn := handshake(t, ln.Addr().String(), pool); cn != "second.example" {
		t.Errorf("after rotation CN = %q; want second.example", cn)
	}
	if r.Reloads() != 1 || r.LastError() != nil {
		t.Errorf("Reloads() = %d, LastError() = %v; want 1, nil", r.Reloads(), r.LastError())
	}
	if err := os.WriteFile(cf, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if cn := handshake(t, ln.Addr().String(), pool); cn != "second.example" {
		t.Errorf("after a broken rotation CN = %q; want the old second.example", cn)
	}
	if r.LastError() == nil {
		t.Error("LastError() = nil after a broken pair")
	}
	if _, err := NewCertReloader(cf, kf, 0); err == nil {
		t.Error("NewCertReloader(broken pair): no error")
	}
}

func TestCAIssue(t *testing.T) {
	ca, err := NewCA("ks", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ca.Issue(nil, nil, time.Hour); err == nil {
		t.Error("Issue with no names: no error")
	}
	certPEM, keyPEM, err := ca.Issue([]string{"kubeshield-webhook.kubeshield.svc"}, nil, 100*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("issued pair does not load: %v", err)
	}
	block, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.Cert)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "kubeshield-webhook.kubeshield.svc"}); err != nil {
		t.Errorf("serving certificate does not verify: %v", err)
	}
	if leaf.NotAfter.After(ca.cert.NotAfter) {
		t.Errorf("serving certificate outlives its CA: %v > %v", leaf.NotAfter, ca.cert.NotAfter)
	}
}

// TestInjectCABundle writes the CA into webhook configurations of the real
// API server, and reports a missing one.
func TestInjectCABundle(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane")
	}
	_, cs := fixture.ControlPlaneClient(t)
	ctx := context.Background()
	name := fmt.Sprintf("ks-inject-%d", time.Now().UnixNano())
	url := "https://127.0.0.1:1/validate"
	none := admissionregistrationv1.SideEffectClassNone
	ignore := admissionregistrationv1.Ignore
	hook := func(n string) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{Name: n, ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url},
			SideEffects: &none, FailurePolicy: &ignore, AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"never": name}}}
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Webhooks: []admissionregistrationv1.ValidatingWebhook{hook("a.kubeshield.dev"), hook("b.kubeshield.dev")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ca, err := NewCA("ks", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := InjectCABundle(ctx, cs, []string{name}, nil, ca.Cert); err != nil {
		t.Fatalf("InjectCABundle: %v", err)
	}
	got, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range got.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, ca.Cert) {
			t.Errorf("webhook %s caBundle not injected", w.Name)
		}
	}
	err = InjectCABundle(ctx, cs, nil, []string{name + "-missing"}, ca.Cert)
	if err == nil || !IsNotFound(err) {
		t.Errorf("InjectCABundle(missing) = %v; want a not-found error", err)
	}
}

// TestSharedCA: the first replica creates the CA Secret, the next one
// reads the same CA.
func TestSharedCA(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane")
	}
	_, cs := fixture.ControlPlaneClient(t)
	ctx := context.Background()
	ns := fmt.Sprintf("ks-ca-%d", time.Now().UnixNano())
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	first, err := SharedCA(ctx, cs, ns, "webhook-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	second, err := SharedCA(ctx, cs, ns, "webhook-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Cert, second.Cert) {
		t.Error("two replicas got different CAs")
	}
	certPEM, keyPEM, err := second.Issue([]string{"svc"}, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("a certificate of the shared CA does not load: %v", err)
	}
	if _, err := ParseCA([]byte("x"), []byte("y")); err == nil {
		t.Error("ParseCA(garbage): no error")
	}
}
