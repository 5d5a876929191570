package admission

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/image"
	"github.com/kubeshield/kubeshield/internal/imagefacts"
	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/vuln"
	"github.com/kubeshield/kubeshield/internal/vulndb"
)

// ImageGatesPolicy is the name of the policy that judges images by what a
// scan finds in them.
const ImageGatesPolicy = "imageGates"

// Defaults of the image gates.
const (
	DefaultScanCacheTTL = time.Hour
	DefaultScanTimeout  = 5 * time.Minute
)

// minimalChecks maps the names the configuration uses to the image rules
// of package imagefacts.
var minimalChecks = map[string]string{
	"root":           "KS-IMG-001",
	"shell":          "KS-IMG-002",
	"packageManager": "KS-IMG-003",
	"setuid":         "KS-IMG-004",
	"secretEnv":      "KS-IMG-005",
}

// ImageGatesConfig configures the imageGates policy: images with fixable
// vulnerabilities at or above a severity, or that are not minimal, are
// violations. Images are scanned once per digest with the scanner and
// database of `kubeshield image scan`; a scan that cannot finish within a
// request's deadline is the policy's failure (its failurePolicy decides)
// and goes on in the background, so the next request is answered from the
// cache.
type ImageGatesConfig struct {
	Common `yaml:",inline"`
	// DB is the vulnerability database (kubeshield db import or update).
	DB string `yaml:"db"`
	// Severity is the lowest severity of a vulnerability that is a
	// violation: LOW, MEDIUM, HIGH or CRITICAL; empty: none is.
	Severity string `yaml:"severity,omitempty"`
	// IncludeUnfixed counts vulnerabilities without a fixed version too.
	IncludeUnfixed bool `yaml:"includeUnfixed,omitempty"`
	// Minimal lists the image checks that are violations: root, shell,
	// packageManager, setuid, secretEnv.
	Minimal []string `yaml:"minimal,omitempty"`
	// Insecure registries are reached over plain HTTP.
	Insecure []string `yaml:"insecure,omitempty"`
	// CacheTTL keeps a scan's result (default 1h).
	CacheTTL Duration `yaml:"cacheTTL,omitempty"`
	// ScanTimeout bounds one background scan (default 5m).
	ScanTimeout Duration `yaml:"scanTimeout,omitempty"`
}

func (c *ImageGatesConfig) check() error {
	if c.DB == "" {
		return &fieldError{Path: []string{"db"}, Err: errors.New("no vulnerability database")}
	}
	if c.Severity != "" {
		if _, err := finding.ParseSeverity(c.Severity); err != nil {
			return &fieldError{Path: []string{"severity"}, Err: err}
		}
	}
	for i, m := range c.Minimal {
		if _, ok := minimalChecks[m]; !ok {
			return &fieldError{Path: []string{"minimal", fmt.Sprint(i)}, Err: fmt.Errorf("unknown check %q (want root, shell, packageManager, setuid or secretEnv)", m)}
		}
	}
	if c.Severity == "" && len(c.Minimal) == 0 {
		return errors.New("give a severity or minimal checks")
	}
	return nil
}

func (c *ImageGatesConfig) build(ctx context.Context, env BuildEnv) (Policy, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	db, err := vulndb.Open(ctx, env.path(c.DB), nil)
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database: %w", err)
	}
	cache := env.ScanCache
	if cache == nil {
		cache = NewScanCache()
	}
	p := &imageGates{
		db: db, dbPath: env.path(c.DB), includeUnfixed: c.IncludeUnfixed, insecure: c.Insecure, keychain: env.Keychain,
		ttl: DefaultScanCacheTTL, scanTimeout: DefaultScanTimeout, cache: cache,
	}
	if c.Severity != "" {
		p.severity, _ = finding.ParseSeverity(c.Severity)
	}
	for _, m := range c.Minimal {
		p.minimal = append(p.minimal, minimalChecks[m])
	}
	if c.CacheTTL.Duration > 0 {
		p.ttl = c.CacheTTL.Duration
	}
	if c.ScanTimeout.Duration > 0 {
		p.scanTimeout = c.ScanTimeout.Duration
	}
	if p.exempt, err = parseExemptions("exempt", c.Exempt); err != nil {
		return nil, err
	}
	return p, nil
}

// imageGates judges images by their scan results.
type imageGates struct {
	db             *vulndb.DB
	severity       finding.Severity // Unknown: no vulnerability gate
	includeUnfixed bool
	minimal        []string
	insecure       []string
	keychain       func(ctx context.Context, r *Request) (authn.Keychain, error)
	ttl            time.Duration
	scanTimeout    time.Duration
	exempt         []exemption
	dbPath         string
	cache          *ScanCache
}

// ScanCache keeps image scans by digest (and database) for the imageGates
// policy, shared across configuration reloads so a reload does not scan
// every image again. It is safe for concurrent use.
type ScanCache struct {
	mu      sync.Mutex
	results map[string]*scanEntry // by database and repository@digest
}

// NewScanCache returns an empty cache.
func NewScanCache() *ScanCache { return &ScanCache{results: map[string]*scanEntry{}} }

// scanEntry is one scan: in flight (done open) or finished.
type scanEntry struct {
	done     chan struct{}
	findings []finding.Finding
	err      error
	expires  time.Time
}

// Name implements Policy.
func (p *imageGates) Name() string { return ImageGatesPolicy }

// Check implements Policy: every image is resolved to its digest and
// judged by the scan of that digest, from the cache or scanned now.
func (p *imageGates) Check(ctx context.Context, r *Request) (Outcome, error) {
	pod, err := podToJudge(r, p.exempt)
	if pod == nil || err != nil {
		return Outcome{}, err
	}
	// The keychain may first be used by a scan that outlives the
	// request: it must not end with the request's context.
	kc := keychainFor(context.WithoutCancel(ctx), r, p.keychain)
	var out Outcome
	for _, c := range containers(pod) {
		var opts []name.Option
		insecure := p.isInsecure(c.Image)
		if insecure {
			opts = append(opts, name.Insecure)
		}
		ref, err := name.ParseReference(c.Image, opts...)
		if err != nil {
			continue // the images policy reports references that do not parse
		}
		dig, ok := ref.(name.Digest)
		if !ok {
			desc, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc))
			if err != nil {
				return Outcome{}, fmt.Errorf("resolve %s: %w", c.Image, err)
			}
			dig = ref.Context().Digest(desc.Digest.String())
		}
		findings, err := p.scan(ctx, dig, kc, insecure, r.DryRun)
		if err != nil {
			return Outcome{}, err
		}
		out.Violations = append(out.Violations, p.judge(c, findings)...)
	}
	return out, nil
}

// judge turns one image's findings into violations.
func (p *imageGates) judge(c container, fs []finding.Finding) []string {
	var vulns []string
	var out []string
	for _, f := range fs {
		switch {
		case slices.Contains(p.minimal, f.RuleID):
			out = append(out, fmt.Sprintf("%s: image %s: %s (%s)", c, c.Image, strings.ToLower(f.Title[:1])+f.Title[1:], f.RuleID))
		case strings.HasPrefix(f.RuleID, "KS-"):
		case p.severity != finding.Unknown && f.Severity >= p.severity && f.Suppressed == nil && (p.includeUnfixed || len(f.FixedVersions) > 0):
			vulns = append(vulns, f.RuleID)
		}
	}
	if len(vulns) > 0 {
		slices.Sort(vulns)
		vulns = slices.Compact(vulns)
		shown := vulns
		if len(shown) > 5 {
			shown = shown[:5]
		}
		kind := "fixable vulnerabilities"
		if p.includeUnfixed {
			kind = "vulnerabilities"
		}
		msg := fmt.Sprintf("%s: image %s has %d %s at or above %s: %s", c, c.Image, len(vulns), kind, p.severity, strings.Join(shown, ", "))
		if len(vulns) > len(shown) {
			msg += ", …"
		}
		out = append([]string{msg}, out...)
	}
	return out
}

func (p *imageGates) isInsecure(image string) bool {
	for _, reg := range p.insecure {
		if strings.HasPrefix(image, reg+"/") {
			return true
		}
	}
	return false
}

// scan returns the findings of dig: from the cache, from a scan in
// flight, or from a new one that runs under its own timeout (not the
// request's), so that it finishes in the background when the request
// gives up. A dry-run request starts no scan: without a cached result it
// is the policy's failure.
func (p *imageGates) scan(ctx context.Context, dig name.Digest, kc authn.Keychain, insecure, dryRun bool) ([]finding.Finding, error) {
	key := p.dbPath + "|" + dig.String()
	c := p.cache
	c.mu.Lock()
	e, ok := c.results[key]
	if ok && !e.expires.IsZero() && time.Now().After(e.expires) {
		delete(c.results, key)
		ok = false
	}
	if !ok {
		if dryRun {
			c.mu.Unlock()
			return nil, fmt.Errorf("image %s has not been scanned yet (a dry run starts no scan)", dig)
		}
		e = &scanEntry{done: make(chan struct{})}
		c.results[key] = e
		go p.run(e, key, dig, kc, insecure) // ends within scanTimeout
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.findings, e.err
	case <-ctx.Done():
		return nil, fmt.Errorf("scan of %s not finished (it goes on in the background): %w", dig, ctx.Err())
	}
}

// run scans one image and records the outcome; a failed scan is
// forgotten so the next request tries again.
func (p *imageGates) run(e *scanEntry, key string, dig name.Digest, kc authn.Keychain, insecure bool) {
	ctx, cancel := context.WithTimeout(context.Background(), p.scanTimeout)
	defer cancel()
	findings, err := p.scanImage(ctx, dig, kc, insecure)
	c := p.cache
	c.mu.Lock()
	e.findings, e.err = findings, err
	if err != nil {
		delete(c.results, key)
	} else {
		e.expires = time.Now().Add(p.ttl)
	}
	c.mu.Unlock()
	close(e.done)
}

// scanImage catalogues the image and matches its packages, as
// `kubeshield image scan` does.
func (p *imageGates) scanImage(ctx context.Context, dig name.Digest, kc authn.Keychain, insecure bool) ([]finding.Finding, error) {
	cats := inventory.Catalogers()
	img, err := image.Open(ctx, image.Source{Kind: image.Registry, Ref: dig.String()},
		image.Options{Keychain: kc, Insecure: insecure, Want: inventory.Wants(cats)})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dig, err)
	}
	defer img.Close()
	inv, err := inventory.Run(ctx, img.FS, cats)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dig, err)
	}
	facts, err := imagefacts.Collect(ctx, img.FS, img.Config, img.Size(), len(img.Layers))
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dig, err)
	}
	matched, err := vuln.MatchAll(ctx, p.db, inv)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dig, err)
	}
	res := finding.Resource{Kind: "Image", Image: dig.String(), Digest: dig.DigestStr()}
	return append(vuln.Findings(matched.Matches, res), imagefacts.Check(facts, res)...), nil
}
