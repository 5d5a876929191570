package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kubeshield/kubeshield/internal/admission"
)

// panicky is a policy that panics, for the recovery tests.
type panicky struct{}

func (panicky) Name() string { return "panicky" }
func (panicky) Check(context.Context, *admission.Request) (admission.Outcome, error) {
	panic("policy bug")
}

// slow is a policy that never answers before its timeout.
type slow struct{}

func (slow) Name() string { return "slow" }
func (slow) Check(ctx context.Context, _ *admission.Request) (admission.Outcome, error) {
	<-ctx.Done()
	return admission.Outcome{}, ctx.Err()
}

func engineFrom(t *testing.T, config string, extra ...admission.Binding) *admission.Engine {
	t.Helper()
	cfg, err := admission.ParseConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := cfg.Bindings(context.Background(), admission.BuildEnv{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := admission.NewEngine(nil, nil, append(bs, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// review is an AdmissionReview of creating a pod with a hostPath volume.
func review(uid, hostPath string) []byte {
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"shop"},"spec":{"containers":[{"name":"c","image":"registry.example.com/app@sha256:` +
		strings.Repeat("a", 64) + `"}],"volumes":[{"name":"v","hostPath":{"path":"` + hostPath + `"}}]}}`
	return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"` + uid +
		`","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},` +
		`"namespace":"shop","name":"p","operation":"CREATE","userInfo":{"username":"jane"},"object":` + pod + `}}`)
}

type answer struct {
	status int
	review *admissionv1.AdmissionReview
	body   string
}

func post(t *testing.T, c *http.Client, url string, body []byte) answer {
	t.Helper()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: string(b)}
	if resp.StatusCode == http.StatusOK {
		a.review = &admissionv1.AdmissionReview{}
		if err := json.Unmarshal(b, a.review); err != nil {
			t.Fatalf("response is not an AdmissionReview: %v: %s", err, b)
		}
	}
	return a
}

// TestServer serves the webhook over TLS on 127.0.0.1 and checks its
// answers: policy decisions, the failure mode for reviews it cannot
// read, panics and timeouts of policies, health and metrics.
func TestServer(t *testing.T) {
	ca, err := NewCA("test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := writePair(t, ca, t.TempDir(), "webhook")
	certs, err := NewCertReloader(cf, kf, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	base := "apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\nruntimeSockets: {}\n"
	var current atomic.Pointer[admission.Engine]
	current.Store(engineFrom(t, base))
	var decisions bytes.Buffer
	s := &Server{
		Engine:       current.Load,
		Decisions:    admission.NewDecisionLog(&lockedBuffer{buf: &decisions}),
		Metrics:      NewMetrics(),
		MaxBodyBytes: 64 << 10,
		Timeout:      time.Second,
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	srv := struct{ URL string }{"https://" + ln.Addr().String()}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.Cert)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		DialContext: (&net.Dialer{}).DialContext}}

	// Allowed and denied by the runtime sockets policy.
	a := post(t, c, srv.URL+"/validate", review("u-ok", "/data"))
	if a.review == nil || !a.review.Response.Allowed || a.review.Response.UID != "u-ok" {
		t.Fatalf("compliant pod: %d %s", a.status, a.body)
	}
	a = post(t, c, srv.URL+"/validate", review("u-sock", "/var/run/docker.sock"))
	if a.review == nil || a.review.Response.Allowed || a.review.Response.Result.Code != 403 ||
		!strings.Contains(a.review.Response.Result.Message, "docker.sock") {
		t.Fatalf("docker socket pod: %d %s", a.status, a.body)
	}

	// Reviews it cannot read: no uid gives 400 (the API server applies
	// the webhook's failure policy); a uid gives the server's failure mode.
	for _, tt := range []struct {
		name   string
		body   []byte
		status int
	}{
		{"not JSON", []byte("{{{"), http.StatusBadRequest},
		{"too large", bytes.Repeat([]byte("x"), 65<<10), http.StatusBadRequest},
		{"wrong kind, with a uid", []byte(`{"apiVersion":"v1","kind":"Pod","request":{"uid":"u-wrong"}}`), http.StatusOK},
	} {
		a := post(t, c, srv.URL+"/validate", tt.body)
		if a.status != tt.status {
			t.Errorf("%s: status %d (%s); want %d", tt.name, a.status, a.body, tt.status)
		}
		if a.review != nil && (!a.review.Response.Allowed || a.review.Response.UID != "u-wrong") {
			t.Errorf("%s: fail-open answer = %+v", tt.name, a.review.Response)
		}
	}
	s.FailClosed = true
	a = post(t, c, srv.URL+"/validate", []byte(`{"apiVersion":"v1","kind":"Pod","request":{"uid":"u-closed"}}`))
	if a.review == nil || a.review.Response.Allowed || a.review.Response.UID != "u-closed" {
		t.Errorf("fail-closed answer: %d %s", a.status, a.body)
	}
	s.FailClosed = false
	if resp, err := c.Get(srv.URL + "/validate"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /validate: %v %v", resp, err)
	}

	// A policy that panics, and one that times out, follow their failure
	// policies: Fail denies, Ignore admits; the server stays up.
	for _, tt := range []struct {
		name    string
		binding admission.Binding
		allowed bool
	}{
		{"panic, Fail", admission.Binding{Policy: panicky{}, FailurePolicy: admission.Fail}, false},
		{"panic, Ignore", admission.Binding{Policy: panicky{}, FailurePolicy: admission.Ignore}, true},
		{"timeout, Fail", admission.Binding{Policy: slow{}, FailurePolicy: admission.Fail, Timeout: 50 * time.Millisecond}, false},
		{"timeout, Ignore", admission.Binding{Policy: slow{}, FailurePolicy: admission.Ignore, Timeout: 50 * time.Millisecond}, true},
	} {
		current.Store(engineFrom(t, base, tt.binding))
		a := post(t, c, srv.URL+"/validate", review("u-"+strings.ReplaceAll(tt.name, " ", ""), "/data"))
		if a.review == nil || a.review.Response.Allowed != tt.allowed {
			t.Errorf("%s: %d %s; want allowed=%v", tt.name, a.status, a.body, tt.allowed)
		}
	}
	current.Store(engineFrom(t, base))

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/nope": 404} {
		resp, err := c.Get(srv.URL + path)
		if err != nil || resp.StatusCode != want {
			t.Errorf("GET %s: %v, %v; want %d", path, resp, err, want)
		}
	}
	current.Store(nil)
	if resp, err := c.Get(srv.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz without an engine: %v %v; want 503", resp, err)
	}
	current.Store(engineFrom(t, base))

	resp, err := c.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`kubeshield_admission_requests_total{allowed="false",kind="Pod",operation="CREATE",webhook="validate"}`,
		`kubeshield_admission_invalid_requests_total{reason="too-large",webhook="validate"} 1`,
		`kubeshield_admission_policy_errors_total{policy="panicky"} 2`,
		`kubeshield_admission_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// One decision line per decided review, naming the request, not the
	// object's contents.
	lines := strings.Split(strings.TrimSpace(decisions.String()), "\n")
	if len(lines) < 6 || !strings.Contains(lines[1], `"uid":"u-sock"`) || strings.Contains(decisions.String(), "docker.sock\"}") {
		t.Errorf("decision log:\n%s", decisions.String())
	}
}

// lockedBuffer serializes writes for the decision log in tests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
