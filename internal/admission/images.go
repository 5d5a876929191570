package admission

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// ImagesConfig configures the images policy.
type ImagesConfig struct {
	Common `yaml:",inline"`
	// RequireDigest makes an image without a digest a violation
	// (default false).
	RequireDigest *bool `yaml:"requireDigest,omitempty"`
	// ForbidLatest makes an image without a digest whose tag is latest,
	// or that has no tag (which means latest), a violation (default
	// true).
	ForbidLatest *bool `yaml:"forbidLatest,omitempty"`
}

// images judges image references: digests and tags.
type images struct {
	requireDigest, forbidLatest bool
	exempt                      []exemption
}

// policy builds the policy.
func (c *ImagesConfig) policy() (Policy, error) {
	exempt, err := parseExemptions("exempt", c.Exempt)
	if err != nil {
		return nil, err
	}
	p := &images{forbidLatest: true, exempt: exempt}
	if c.RequireDigest != nil {
		p.requireDigest = *c.RequireDigest
	}
	if c.ForbidLatest != nil {
		p.forbidLatest = *c.ForbidLatest
	}
	return p, nil
}

// Name implements Policy.
func (p *images) Name() string { return ImagesPolicy }

// Check implements Policy, for every container, init container and
// ephemeral container: an image that is not a valid reference is a
// violation; one with a digest is pinned and passes; without one, it is
// a violation when digests are required, and when its tag is latest or
// missing and latest is forbidden.
func (p *images) Check(ctx context.Context, r *Request) (Outcome, error) {
	pod, err := podToJudge(r, p.exempt)
	if pod == nil || err != nil {
		return Outcome{}, err
	}
	var out Outcome
	for _, c := range containers(pod) {
		ref, err := name.ParseReference(c.Image)
		if err != nil {
			out.Violations = append(out.Violations, fmt.Sprintf("%s: image %q is not a valid reference", c, c.Image))
			continue
		}
		if _, ok := ref.(name.Digest); ok {
			continue
		}
		if p.requireDigest {
			out.Violations = append(out.Violations, fmt.Sprintf("%s: image %q is not pinned to a digest", c, c.Image))
		}
		if p.forbidLatest {
			switch tag := explicitTag(c.Image); tag {
			case "":
				out.Violations = append(out.Violations, fmt.Sprintf("%s: image %q has no tag (latest)", c, c.Image))
			case "latest":
				out.Violations = append(out.Violations, fmt.Sprintf("%s: image %q uses the latest tag", c, c.Image))
			}
		}
	}
	return out, nil
}

// explicitTag returns the tag written in a reference without a digest,
// or "".
func explicitTag(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, _ := strings.Cut(last, ":")
	return tag
}

// RegistriesConfig configures the registries policy.
type RegistriesConfig struct {
	Common `yaml:",inline"`
	// Allow lists the registries ("ghcr.io", "registry.example.com:5000")
	// and repository prefixes ("ghcr.io/acme", "docker.io/library")
	// images may come from. Docker Hub names are normalised as docker
	// does: docker.io is index.docker.io, and nginx is
	// index.docker.io/library/nginx.
	Allow []string `yaml:"allow,omitempty"`
}

// registries allows images only from listed registries.
type registries struct {
	allow  []allowedRepo
	exempt []exemption
}

// allowedRepo is an allow list entry: a registry, and a repository
// prefix or "".
type allowedRepo struct {
	registry, repository string
}

// policy builds the policy. An entry without "/" is a registry; one with
// "/" is a repository prefix.
func (c *RegistriesConfig) policy() (Policy, error) {
	exempt, err := parseExemptions("exempt", c.Exempt)
	if err != nil {
		return nil, err
	}
	p := &registries{exempt: exempt}
	for i, s := range c.Allow {
		var a allowedRepo
		if !strings.Contains(s, "/") {
			reg, err := name.NewRegistry(s, name.StrictValidation)
			if err != nil {
				return nil, &fieldError{Path: []string{"allow", strconv.Itoa(i)}, Err: fmt.Errorf("registry %q: %w", s, err)}
			}
			a.registry = reg.RegistryStr()
		} else {
			reg, repo, err := parseRepoPrefix(s)
			if err != nil {
				return nil, &fieldError{Path: []string{"allow", strconv.Itoa(i)}, Err: err}
			}
			a.registry, a.repository = reg, repo
		}
		p.allow = append(p.allow, a)
	}
	return p, nil
}

// Name implements Policy.
func (p *registries) Name() string { return RegistriesPolicy }

// Check implements Policy, for every container, init container and
// ephemeral container: an image that is not a valid reference, or whose
// registry and repository match no allow list entry, is a violation. An
// entry matches an image of its registry whose repository is the
// entry's or under it ("ghcr.io/acme" allows ghcr.io/acme/app, not
// ghcr.io/acme-evil/app).
func (p *registries) Check(ctx context.Context, r *Request) (Outcome, error) {
	pod, err := podToJudge(r, p.exempt)
	if pod == nil || err != nil {
		return Outcome{}, err
	}
	var out Outcome
	for _, c := range containers(pod) {
		ref, err := name.ParseReference(c.Image)
		if err != nil {
			out.Violations = append(out.Violations, fmt.Sprintf("%s: image %q is not a valid reference", c, c.Image))
			continue
		}
		if !p.allowed(ref.Context()) {
			out.Violations = append(out.Violations, fmt.Sprintf("%s: image %q is from %s, which is not an allowed registry", c, c.Image, ref.Context().Name()))
		}
	}
	return out, nil
}

// allowed reports whether repo matches an allow list entry.
func (p *registries) allowed(repo name.Repository) bool {
	reg, path := repo.RegistryStr(), repo.RepositoryStr()
	for _, a := range p.allow {
		if a.registry != reg {
			continue
		}
		if a.repository == "" || path == a.repository || strings.HasPrefix(path, a.repository+"/") {
			return true
		}
	}
	return false
}

// parseRepoPrefix reads an allow list entry "registry/path" or, for
// Docker Hub, "path" with at least two components. The name package
// would read "docker.io/library" as the repository library/library;
// here it is the prefix "library".
func parseRepoPrefix(s string) (registry, repository string, err error) {
	first, rest, _ := strings.Cut(s, "/")
	registry = name.DefaultRegistry
	repository = s
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		reg, err := name.NewRegistry(first, name.StrictValidation)
		if err != nil {
			return "", "", fmt.Errorf("repository %q: %w", s, err)
		}
		registry, repository = reg.RegistryStr(), rest
	}
	// Validate the path's syntax with a name that has no implicit
	// namespace.
	_, err = name.NewRepository("example.com/"+repository, name.StrictValidation)
	if err != nil || slices.Contains(strings.Split(repository, "/"), "") {
		return "", "", fmt.Errorf("repository %q: not a valid repository prefix", s)
	}
	return registry, repository, nil
}
