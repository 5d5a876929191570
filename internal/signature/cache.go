package signature

import (
	"container/list"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/singleflight"
)

// MaxNegativeTTL bounds how long a Cache keeps a negative outcome (no
// signatures, or none valid): a signature pushed after a denial is seen
// within this time even when the positive TTL is long.
const MaxNegativeTTL = 10 * time.Second

// Cache remembers verification outcomes by image digest and policy (the
// Verifier's Policy: public key and required annotations, say), for callers such as the admission webhook
// that verify the same digests again and again. It is safe for
// concurrent use; concurrent misses for one key verify once.
//
// Successes are kept for the TTL given to NewCache. Negative outcomes (an
// error wrapping ErrNoSignatures, or a *VerificationError) are kept for
// the TTL or MaxNegativeTTL, whichever is shorter. Any other error (a
// registry or transport failure) is never kept.
//
// The key does not include the registry options: use one Cache per set
// of registry credentials.
type Cache struct {
	size   int
	ttl    time.Duration
	negTTL time.Duration
	now    func() time.Time // replaced by tests

	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recently used first
	items map[string]*list.Element

	flight singleflight.Group
	hits   atomic.Uint64
	misses atomic.Uint64
}

type cacheEntry struct {
	key     string
	expires time.Time
	sigs    []Verified
	err     error
}

// CacheStats counts Cache lookups.
type CacheStats struct {
	// Hits are calls answered from the cache.
	Hits uint64
	// Misses are calls that verified (or waited for a concurrent call
	// verifying the same key).
	Misses uint64
	// Entries is the number of outcomes held now (some may be expired).
	Entries int
}

// NewCache returns a cache of at most size outcomes (at least 1), each
// fresh for ttl (negative ones for at most MaxNegativeTTL). A ttl of zero
// or less keeps nothing: every call verifies, though concurrent calls for
// one key still share a verification.
func NewCache(size int, ttl time.Duration) *Cache {
	return &Cache{
		size:   max(size, 1),
		ttl:    ttl,
		negTTL: min(ttl, MaxNegativeTTL),
		now:    time.Now,
		order:  list.New(),
		items:  map[string]*list.Element{},
	}
}

// Verify is VerifyImage with a cache. A reference by tag is resolved to
// its digest first (a HEAD request, even on a hit); a reference by digest
// is looked up without one. Outcomes are keyed by repository, digest and
// v.Policy(). On a miss it calls v.VerifyDigest and keeps the outcome as
// the Cache documentation says. The returned Verified values may be
// shared with other callers: treat them as read-only.
//
// Errors are those of VerifyDigest, and ctx's error when ctx ends first.
func (c *Cache) Verify(ctx context.Context, ref name.Reference, v Verifier, ropts []remote.Option) ([]Verified, error) {
	dig, ok := ref.(name.Digest)
	if !ok {
		var err error
		dig, err = resolve(ref, remoteOptions(ctx, ropts))
		if err != nil {
			return nil, err
		}
	}
	key := dig.Context().Name() + "@" + dig.DigestStr() + "#" + v.Policy()
	if e, ok := c.lookup(key); ok {
		c.hits.Add(1)
		return slices.Clip(e.sigs), e.err
	}
	c.misses.Add(1)
	// A shared verification runs under the context of the caller that
	// started it. When that context ends first, the others, whose own
	// contexts are live, start again rather than fail with its error.
	for attempt := 1; ; attempt++ {
		ch := c.flight.DoChan(key, func() (any, error) {
			sigs, err := v.VerifyDigest(ctx, dig, ropts)
			c.store(key, sigs, err)
			return sigs, err
		})
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case r := <-ch:
			if r.Shared && attempt < maxFlightAttempts && ctx.Err() == nil &&
				(errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded)) {
				continue
			}
			sigs, _ := r.Val.([]Verified)
			return slices.Clip(sigs), r.Err
		}
	}
}

// maxFlightAttempts bounds how often a caller starts again after a shared
// verification ended with another caller's context.
const maxFlightAttempts = 3

// Stats returns the lookup counts so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	n := len(c.items)
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: n}
}

// lookup returns the fresh entry for key, dropping an expired one.
func (c *Cache) lookup(key string) (*cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e, true
}

// store keeps an outcome if it is one to keep, evicting the least
// recently used entries beyond the size.
func (c *Cache) store(key string, sigs []Verified, err error) {
	var ttl time.Duration
	var verr *VerificationError
	switch {
	case err == nil:
		ttl = c.ttl
	case errors.Is(err, ErrNoSignatures), errors.As(err, &verr):
		ttl = c.negTTL
	}
	if ttl <= 0 {
		return
	}
	e := &cacheEntry{key: key, expires: c.now().Add(ttl), sigs: sigs, err: err}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(e)
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

// policyHash returns a stable hash of the public key's PKIX bytes and the
// required annotations, each length-prefixed, annotations sorted by key.
func policyHash(pub crypto.PublicKey, ann map[string]string) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	field(der)
	for _, k := range slices.Sorted(maps.Keys(ann)) {
		field([]byte(k))
		field([]byte(ann[k]))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
