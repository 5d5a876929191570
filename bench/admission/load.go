package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kubeshield/kubeshield/internal/admission"
	"github.com/kubeshield/kubeshield/internal/webhook"
)

// tlsFiles are a CA and a serving certificate for 127.0.0.1, shared by
// the webhook and OPA's server.
type tlsFiles struct {
	ca                *webhook.CA
	certFile, keyFile string
}

func newTLS(dir string) (tlsFiles, error) {
	ca, err := webhook.NewCA("kubeshield-bench", time.Hour)
	if err != nil {
		return tlsFiles{}, err
	}
	certPEM, keyPEM, err := ca.Issue(nil, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	if err != nil {
		return tlsFiles{}, err
	}
	t := tlsFiles{ca: ca, certFile: filepath.Join(dir, "tls.crt"), keyFile: filepath.Join(dir, "tls.key")}
	if err := os.WriteFile(t.certFile, certPEM, 0o644); err != nil {
		return tlsFiles{}, err
	}
	return t, os.WriteFile(t.keyFile, keyPEM, 0o600)
}

// client returns an HTTPS client trusting the CA that keeps up to conns
// connections alive.
func (t tlsFiles) client(conns int) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(t.ca.Cert)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
	}}
}

// serveWebhook serves eng with webhook.Server over TLS on 127.0.0.1 (with
// metrics and a decision log written to io.Discard, as in a cluster) and
// returns the /validate URL.
func serveWebhook(eng *admission.Engine, t tlsFiles) (string, func(), error) {
	certs, err := webhook.NewCertReloader(t.certFile, t.keyFile, time.Minute)
	if err != nil {
		return "", nil, err
	}
	s := &webhook.Server{
		Engine:     func() *admission.Engine { return eng },
		Decisions:  admission.NewDecisionLog(io.Discard),
		Metrics:    webhook.NewMetrics(),
		FailClosed: true,
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12})
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }() // ends when Close closes the listener
	return "https://" + ln.Addr().String() + "/validate", func() { _ = hs.Close() }, nil
}

// target is a server under load: a URL, the bodies to POST in turn and a
// check of each answer.
type target struct {
	url    string
	client *http.Client
	bodies [][]byte
	check  func(body []byte) error
}

// post sends one body and checks the answer.
func (t *target) post(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	if err := t.check(b); err != nil {
		return nil, err
	}
	return b, nil
}

// stats are the figures of one load run.
type stats struct {
	sent     int // requests completed, with or without error
	errs     int
	firstErr error
	late     int // paced runs: requests sent over 1 ms after their slot
	capped   bool
	wall     time.Duration
	p50, p99 time.Duration
	max      time.Duration
}

func (s stats) rps() float64 { return float64(s.sent) / s.wall.Seconds() }

// load sends n requests (the bodies in turn) from conc goroutines, each
// on a kept-alive connection, stopping early at maxTime. With rate > 0,
// request i is sent no earlier than i/rate seconds after the start (a
// paced run); latency is measured from the moment it is sent.
func (t *target) load(ctx context.Context, conc, n, rate int, maxTime time.Duration) stats {
	var next atomic.Int64
	lats := make([][]time.Duration, conc)
	errs, late := make([]int, conc), make([]int, conc)
	var firstErr atomic.Pointer[error]
	var capped atomic.Bool
	var interval time.Duration
	if rate > 0 {
		interval = time.Second / time.Duration(rate)
	}
	start := time.Now()
	deadline := start.Add(maxTime)
	var wg sync.WaitGroup
	for w := range conc {
		wg.Go(func() { // ends when n requests were taken or at the deadline
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if interval > 0 {
					slot := start.Add(time.Duration(i) * interval)
					if d := time.Until(slot); d > 0 {
						time.Sleep(d)
					} else if d < -time.Millisecond {
						late[w]++
					}
				}
				if time.Now().After(deadline) || ctx.Err() != nil {
					capped.Store(true)
					return
				}
				t0 := time.Now()
				_, err := t.post(ctx, t.bodies[i%len(t.bodies)])
				lat := time.Since(t0)
				if err != nil {
					errs[w]++
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				lats[w] = append(lats[w], lat)
			}
		})
	}
	wg.Wait()
	s := stats{wall: time.Since(start), capped: capped.Load()}
	all := slices.Concat(lats...)
	slices.Sort(all)
	for w := range conc {
		s.errs += errs[w]
		s.late += late[w]
	}
	s.sent = len(all) + s.errs
	if p := firstErr.Load(); p != nil {
		s.firstErr = *p
	}
	if len(all) > 0 {
		s.p50, s.p99, s.max = all[len(all)/2], all[min(len(all)-1, len(all)*99/100)], all[len(all)-1]
	}
	return s
}

// warm opens conc connections and sends every body once, unmeasured.
func (t *target) warm(ctx context.Context, conc int) error {
	for _, b := range t.bodies {
		if _, err := t.post(ctx, b); err != nil {
			return err
		}
	}
	if s := t.load(ctx, conc, 4*conc, 0, 30*time.Second); s.errs > 0 {
		return fmt.Errorf("warm-up: %d errors: %w", s.errs, s.firstErr)
	}
	return nil
}

// checkReview accepts an AdmissionReview answer in which no policy
// failed.
func checkReview(b []byte) error {
	if !bytes.Contains(b, []byte(`"response"`)) {
		return fmt.Errorf("not an AdmissionReview: %.200s", b)
	}
	if bytes.Contains(b, []byte("could not be evaluated")) || bytes.Contains(b, []byte("could not review")) {
		return fmt.Errorf("a policy failed: %.300s", b)
	}
	return nil
}

// checkOPA accepts an answer of OPA's data API with a result.
func checkOPA(b []byte) error {
	if !bytes.Contains(b, []byte(`"result"`)) {
		return fmt.Errorf("no result: %.200s", b)
	}
	return nil
}

var errMissed = errors.New("a target was missed")
