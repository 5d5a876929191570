package admission

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// SignedImagesPolicy is the name of the policy that admits only signed
// images.
const SignedImagesPolicy = "signedImages"

// Defaults of the signed images policy's verification cache.
const (
	DefaultSignatureCacheTTL  = 5 * time.Minute
	DefaultSignatureCacheSize = 4096
)

// ImageRule says who must have signed the images whose repository matches
// one of its patterns.
type ImageRule struct {
	// Name identifies the rule in messages.
	Name string
	// Images are repository patterns, matched against the normalized
	// repository (index.docker.io/library/nginx for nginx): path
	// segments are matched with path.Match ("*" within a segment), and a
	// "**" segment matches any number of segments
	// ("registry.example.com/team/**").
	Images []string
	// Verifier is who must have signed: signature.KeyVerifier,
	// signature.Any of key and bundle verifiers, a keyless
	// BundleVerifier, a notation.Verifier...
	Verifier signature.Verifier
}

// matches reports whether the repository matches one of the patterns.
func (r ImageRule) matches(repo string) bool {
	for _, p := range r.Images {
		if matchRepository(strings.Split(p, "/"), strings.Split(repo, "/")) {
			return true
		}
	}
	return false
}

// matchRepository matches path segments, "**" matching any number.
func matchRepository(pattern, repo []string) bool {
	for len(pattern) > 0 {
		if pattern[0] == "**" {
			rest := pattern[1:]
			for i := 0; i <= len(repo); i++ {
				if matchRepository(rest, repo[i:]) {
					return true
				}
			}
			return false
		}
		if len(repo) == 0 {
			return false
		}
		if ok, err := path.Match(pattern[0], repo[0]); err != nil || !ok {
			return false
		}
		pattern, repo = pattern[1:], repo[1:]
	}
	return len(repo) == 0
}

// SignedImagesOptions configure the signed images policy.
type SignedImagesOptions struct {
	// Rules are tried in order; the first whose pattern matches an image
	// applies.
	Rules []ImageRule
	// RequireRule makes an image that no rule matches a violation; by
	// default such images pass.
	RequireRule bool
	// Insecure registries are reached over plain HTTP (registries on
	// localhost in tests).
	Insecure []string
	// Keychain returns the registry credentials for a request: the
	// pod's and its service account's image pull secrets. Nil means
	// anonymous access (and the Docker config file of the process).
	Keychain func(ctx context.Context, r *Request) (authn.Keychain, error)
	// Cache keeps verification outcomes by digest and rule; nil makes
	// one of DefaultSignatureCacheSize entries for
	// DefaultSignatureCacheTTL. Share one Cache across reloads to keep
	// it warm.
	Cache *signature.Cache
	// Exempt lists objects not judged ("namespace/name").
	Exempt []string
}

// signedImages admits only images signed as a rule says, and pins each
// verified tag to the digest that was verified (the mutating webhook
// applies the patch, so the kubelet pulls exactly what was verified).
type signedImages struct {
	opts   SignedImagesOptions
	exempt []exemption
	cache  *signature.Cache
}

// NewSignedImages returns the signed images policy. Errors: a rule
// without a name, patterns or verifier, a bad exemption.
func NewSignedImages(opts SignedImagesOptions) (Policy, error) {
	for i, r := range opts.Rules {
		switch {
		case r.Name == "":
			return nil, fmt.Errorf("signed images rule %d: no name", i+1)
		case len(r.Images) == 0:
			return nil, fmt.Errorf("signed images rule %s: no image patterns", r.Name)
		case r.Verifier == nil:
			return nil, fmt.Errorf("signed images rule %s: no verifier", r.Name)
		}
		for _, p := range r.Images {
			if _, err := path.Match(strings.ReplaceAll(p, "**", "x"), ""); err != nil {
				return nil, fmt.Errorf("signed images rule %s: pattern %q: %w", r.Name, p, err)
			}
		}
	}
	exempt, err := parseExemptions("exempt", opts.Exempt)
	if err != nil {
		return nil, err
	}
	cache := opts.Cache
	if cache == nil {
		cache = signature.NewCache(DefaultSignatureCacheSize, DefaultSignatureCacheTTL)
	}
	return &signedImages{opts: opts, exempt: exempt, cache: cache}, nil
}

// Name implements Policy.
func (p *signedImages) Name() string { return SignedImagesPolicy }

// Check implements Policy: every container image whose repository a rule
// matches must have a signature the rule's verifier accepts, for the
// digest the image names or its tag resolves to now; a tag is pinned
// (patched to tag@digest). A registry that cannot be reached is an error
// (the failure policy decides); no signature, or none valid, is a
// violation that names the image and the reasons.
func (p *signedImages) Check(ctx context.Context, r *Request) (Outcome, error) {
	pod, err := podToJudge(r, p.exempt)
	if pod == nil || err != nil {
		return Outcome{}, err
	}
	var (
		out   Outcome
		ropts []remote.Option
	)
	for _, c := range containers(pod) {
		ref, err := name.ParseReference(c.Image, p.nameOptions(c.Image)...)
		if err != nil {
			out.Violations = append(out.Violations, fmt.Sprintf("%s: image %q is not a valid reference", c, c.Image))
			continue
		}
		rule, ok := p.rule(ref.Context().Name())
		if !ok {
			if p.opts.RequireRule {
				out.Violations = append(out.Violations, fmt.Sprintf("%s: image %s matches no signed images rule", c, c.Image))
			}
			continue
		}
		if ropts == nil {
			ropts = []remote.Option{remote.WithAuthFromKeychain(keychainFor(ctx, r, p.opts.Keychain)), remote.WithUserAgent("kubeshield")}
		}
		sigs, err := p.cache.Verify(ctx, ref, rule.Verifier, ropts)
		var verr *signature.VerificationError
		switch {
		case err == nil:
		case errors.Is(err, signature.ErrNoSignatures):
			out.Violations = append(out.Violations, fmt.Sprintf("%s: image %s is not signed (rule %s)", c, c.Image, rule.Name))
			continue
		case errors.As(err, &verr):
			out.Violations = append(out.Violations, fmt.Sprintf("%s: image %s has no valid signature (rule %s): %s", c, c.Image, rule.Name, strings.Join(verr.Reasons, "; ")))
			continue
		default:
			return Outcome{}, fmt.Errorf("verify %s: %w", c.Image, err)
		}
		digest := sigs[0].Digest.String()
		if out.Details == nil {
			out.Details = map[string]string{}
		}
		// Keys become audit annotation keys: qualified names only.
		out.Details[fmt.Sprintf("%s.%d", c.Field, c.Index)] = ref.Context().Name() + "@" + digest
		if _, byDigest := ref.(name.Digest); !byDigest {
			out.Patch = append(out.Patch, JSONPatchOp{Op: "replace", Path: c.ImagePath, Value: c.Image + "@" + digest})
		}
	}
	return out, nil
}

// rule returns the first rule matching the repository.
func (p *signedImages) rule(repo string) (ImageRule, bool) {
	for _, r := range p.opts.Rules {
		if r.matches(repo) {
			return r, true
		}
	}
	return ImageRule{}, false
}

// nameOptions makes references to insecure registries plain HTTP.
func (p *signedImages) nameOptions(image string) []name.Option {
	for _, reg := range p.opts.Insecure {
		if strings.HasPrefix(image, reg+"/") {
			return []name.Option{name.Insecure}
		}
	}
	return nil
}

// keychainFor returns the registry credentials of r: make's keychain,
// built only when the registry is first asked (a verification answered
// from the cache reads no pull secrets), or the default keychain when make
// is nil.
func keychainFor(ctx context.Context, r *Request, make func(context.Context, *Request) (authn.Keychain, error)) authn.Keychain {
	if make == nil {
		return authn.DefaultKeychain
	}
	return &lazyKeychain{make: func() (authn.Keychain, error) { return make(ctx, r) }}
}

// lazyKeychain builds its keychain on the first Resolve.
type lazyKeychain struct {
	once sync.Once
	make func() (authn.Keychain, error)
	kc   authn.Keychain
	err  error
}

// Resolve implements authn.Keychain.
func (l *lazyKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	l.once.Do(func() { l.kc, l.err = l.make() })
	if l.err != nil {
		return nil, fmt.Errorf("registry credentials: %w", l.err)
	}
	return l.kc.Resolve(res)
}
