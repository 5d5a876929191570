package signature

import (
	"context"
	"crypto"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
)

// countingRegistry is go-containerregistry's registry behind a handler
// that counts requests, can fail them, and can hold them until released.
type countingRegistry struct {
	host     string
	requests atomic.Int64
	fail     atomic.Bool
	mu       sync.Mutex
	gate     chan struct{} // when non-nil, requests wait for it to close
}

func newCountingRegistry(t *testing.T) *countingRegistry {
	t.Helper()
	r := &countingRegistry{}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		r.mu.Lock()
		gate := r.gate
		r.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if r.fail.Load() {
			// Not a status go-containerregistry retries.
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		reg.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// take returns the requests counted since the last call.
func (r *countingRegistry) take() int64 { return r.requests.Swap(0) }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func newTestCache(size int, ttl time.Duration) (*Cache, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCache(size, ttl)
	c.now = clk.now
	return c, clk
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	const ttl = time.Minute
	tests := []struct {
		name string
		run  func(t *testing.T, r *countingRegistry)
	}{
		{"hit after miss", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			ref, d := pushRandom(t, r.host, "app:1")
			if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			c, _ := newTestCache(8, ttl)
			dig := digestRef(ref, d)
			r.take()
			mustVerify(t, c, dig, key, nil)
			if n := r.take(); n == 0 {
				t.Fatalf("first Verify made no registry request")
			}
			mustVerify(t, c, dig, key, nil)
			if n := r.take(); n != 0 {
				t.Errorf("second Verify made %d registry requests; want 0", n)
			}
			if s := c.Stats(); s.Hits != 1 || s.Misses != 1 {
				t.Errorf("Stats() = %+v; want 1 hit, 1 miss", s)
			}
		}},
		{"tag resolved, outcome cached", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			ref, _ := pushRandom(t, r.host, "app:tag")
			if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			c, _ := newTestCache(8, ttl)
			r.take()
			mustVerify(t, c, ref, key, nil)
			cold := r.take()
			mustVerify(t, c, ref, key, nil)
			if n := r.take(); n == 0 || n >= cold {
				t.Errorf("second Verify by tag made %d registry requests; want only the resolution (the first made %d)", n, cold)
			}
			if s := c.Stats(); s.Hits != 1 {
				t.Errorf("Stats() = %+v; want 1 hit", s)
			}
		}},
		{"expiry", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			ref, d := pushRandom(t, r.host, "app:2")
			if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			c, clk := newTestCache(8, ttl)
			dig := digestRef(ref, d)
			mustVerify(t, c, dig, key, nil)
			clk.advance(ttl - time.Second)
			r.take()
			mustVerify(t, c, dig, key, nil)
			if n := r.take(); n != 0 {
				t.Errorf("Verify before the TTL made %d requests; want 0", n)
			}
			clk.advance(time.Second)
			mustVerify(t, c, dig, key, nil)
			if n := r.take(); n == 0 {
				t.Errorf("Verify at the TTL made no request; want a new verification")
			}
		}},
		{"new signature seen after the negative TTL", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			ref, d := pushRandom(t, r.host, "app:3")
			c, clk := newTestCache(8, ttl)
			dig := digestRef(ref, d)
			for range 2 {
				if _, err := c.Verify(ctx, dig, KeyVerifier{Key: key.Public()}, nil); !errors.Is(err, ErrNoSignatures) {
					t.Fatalf("Verify(unsigned) = %v; want ErrNoSignatures", err)
				}
			}
			if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			r.take()
			clk.advance(MaxNegativeTTL - time.Second)
			if _, err := c.Verify(ctx, dig, KeyVerifier{Key: key.Public()}, nil); !errors.Is(err, ErrNoSignatures) {
				t.Fatalf("Verify within the negative TTL = %v; want the cached ErrNoSignatures", err)
			}
			if n := r.take(); n != 0 {
				t.Errorf("Verify within the negative TTL made %d requests; want 0", n)
			}
			clk.advance(time.Second)
			mustVerify(t, c, dig, key, nil)
		}},
		{"verification error cached with the negative TTL", func(t *testing.T, r *countingRegistry) {
			key, other := newKey(t), newKey(t)
			ref, d := pushRandom(t, r.host, "app:4")
			if _, err := Sign(ctx, ref, other, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			c, clk := newTestCache(8, ttl)
			dig := digestRef(ref, d)
			var verr *VerificationError
			if _, err := c.Verify(ctx, dig, KeyVerifier{Key: key.Public()}, nil); !errors.As(err, &verr) {
				t.Fatalf("Verify(wrong key) = %v; want *VerificationError", err)
			}
			r.take()
			if _, err := c.Verify(ctx, dig, KeyVerifier{Key: key.Public()}, nil); !errors.As(err, &verr) {
				t.Fatalf("cached Verify(wrong key) = %v; want *VerificationError", err)
			}
			if n := r.take(); n != 0 {
				t.Errorf("second Verify made %d requests; want 0", n)
			}
			if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			clk.advance(MaxNegativeTTL)
			mustVerify(t, c, dig, key, nil)
		}},
		{"eviction at size", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			c, _ := newTestCache(2, ttl)
			var digs []name.Digest
			for _, tag := range []string{"e:1", "e:2", "e:3"} {
				ref, d := pushRandom(t, r.host, tag)
				if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
					t.Fatal(err)
				}
				digs = append(digs, digestRef(ref, d))
			}
			for _, d := range digs {
				mustVerify(t, c, d, key, nil)
			}
			if s := c.Stats(); s.Entries != 2 {
				t.Errorf("Stats().Entries = %d; want 2", s.Entries)
			}
			r.take()
			mustVerify(t, c, digs[2], key, nil)
			mustVerify(t, c, digs[1], key, nil)
			if n := r.take(); n != 0 {
				t.Errorf("Verify of the two newest made %d requests; want 0", n)
			}
			mustVerify(t, c, digs[0], key, nil)
			if n := r.take(); n == 0 {
				t.Errorf("Verify of the evicted oldest made no request")
			}
		}},
		{"annotations are part of the key", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			ref, d := pushRandom(t, r.host, "app:5")
			if _, err := Sign(ctx, ref, key, SignOptions{Annotations: map[string]string{"env": "prod"}}); err != nil {
				t.Fatal(err)
			}
			c, _ := newTestCache(8, ttl)
			dig := digestRef(ref, d)
			mustVerify(t, c, dig, key, map[string]string{"env": "prod"})
			r.take()
			_, err := c.Verify(ctx, dig, KeyVerifier{Key: key.Public(), Annotations: map[string]string{"env": "dev"}}, nil)
			if !errors.Is(err, ErrMissingAnnotation) {
				t.Errorf("Verify(env=dev) = %v; want ErrMissingAnnotation", err)
			}
			if n := r.take(); n == 0 {
				t.Errorf("Verify with other annotations made no request; want a new verification")
			}
			mustVerify(t, c, dig, key, nil)
			if n := r.take(); n == 0 {
				t.Errorf("Verify without annotations made no request; want a new verification")
			}
		}},
		{"concurrent misses verify once", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			ref, d := pushRandom(t, r.host, "app:6")
			if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			dig := digestRef(ref, d)
			r.take()
			if _, err := (KeyVerifier{Key: key.Public()}).VerifyDigest(ctx, dig, nil); err != nil {
				t.Fatal(err)
			}
			once := r.take()

			c, _ := newTestCache(8, ttl)
			gate := make(chan struct{})
			r.mu.Lock()
			r.gate = gate
			r.mu.Unlock()
			const callers = 16
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for range callers {
				wg.Go(func() {
					_, err := c.Verify(ctx, dig, KeyVerifier{Key: key.Public()}, nil)
					errs <- err
				})
			}
			waitMisses(t, c, callers)
			r.mu.Lock()
			r.gate = nil
			r.mu.Unlock()
			close(gate)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("concurrent Verify: %v", err)
				}
			}
			if n := r.take(); n != once {
				t.Errorf("%d concurrent callers made %d requests; one verification makes %d", callers, n, once)
			}
		}},
		{"a cancelled first caller does not fail the others", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			ref, d := pushRandom(t, r.host, "app:8")
			if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			dig := digestRef(ref, d)
			c, _ := newTestCache(8, ttl)
			gate := make(chan struct{})
			r.mu.Lock()
			r.gate = gate
			r.mu.Unlock()
			firstCtx, cancel := context.WithCancel(ctx)
			first := make(chan error, 1)
			go func() {
				_, err := c.Verify(firstCtx, dig, KeyVerifier{Key: key.Public()}, nil)
				first <- err
			}()
			waitMisses(t, c, 1)
			second := make(chan error, 1)
			go func() {
				_, err := c.Verify(ctx, dig, KeyVerifier{Key: key.Public()}, nil)
				second <- err
			}()
			waitMisses(t, c, 2)
			cancel()
			if err := <-first; !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled Verify = %v; want context.Canceled", err)
			}
			time.Sleep(50 * time.Millisecond)
			r.mu.Lock()
			r.gate = nil
			r.mu.Unlock()
			close(gate)
			if err := <-second; err != nil {
				t.Errorf("Verify sharing a cancelled verification = %v; want success", err)
			}
		}},
		{"transport errors are not cached", func(t *testing.T, r *countingRegistry) {
			key := newKey(t)
			ref, d := pushRandom(t, r.host, "app:7")
			if _, err := Sign(ctx, ref, key, SignOptions{}); err != nil {
				t.Fatal(err)
			}
			c, _ := newTestCache(8, ttl)
			dig := digestRef(ref, d)
			r.fail.Store(true)
			_, err := c.Verify(ctx, dig, KeyVerifier{Key: key.Public()}, nil)
			var verr *VerificationError
			if err == nil || errors.Is(err, ErrNoSignatures) || errors.As(err, &verr) {
				t.Fatalf("Verify(failing registry) = %v; want a transport error", err)
			}
			r.fail.Store(false)
			r.take()
			mustVerify(t, c, dig, key, nil)
			if n := r.take(); n == 0 {
				t.Errorf("Verify after a transport error made no request; the error was cached")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newCountingRegistry(t))
		})
	}
}

func TestCacheZeroTTL(t *testing.T) {
	r := newCountingRegistry(t)
	key := newKey(t)
	ref, d := pushRandom(t, r.host, "app:1")
	if _, err := Sign(context.Background(), ref, key, SignOptions{}); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestCache(8, 0)
	dig := digestRef(ref, d)
	mustVerify(t, c, dig, key, nil)
	r.take()
	mustVerify(t, c, dig, key, nil)
	if n := r.take(); n == 0 {
		t.Errorf("Verify with a zero TTL made no request; want no caching")
	}
}

// waitMisses waits until c counted n misses, then a little longer for the
// last caller to join the shared verification.
func waitMisses(t *testing.T, c *Cache, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Misses < n {
		if time.Now().After(deadline) {
			t.Fatalf("Stats().Misses = %d after 10s; want %d", c.Stats().Misses, n)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
}

func mustVerify(t *testing.T, c *Cache, ref name.Reference, key interface{ Public() crypto.PublicKey }, ann map[string]string) {
	t.Helper()
	got, err := c.Verify(context.Background(), ref, KeyVerifier{Key: key.Public(), Annotations: ann}, nil)
	if err != nil {
		t.Fatalf("Cache.Verify(%s) = %v; want success", ref, err)
	}
	if len(got) == 0 {
		t.Fatalf("Cache.Verify(%s) returned no signatures", ref)
	}
}
