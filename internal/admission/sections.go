package admission

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psapi "k8s.io/pod-security-admission/api"

	"github.com/kubeshield/kubeshield/internal/notation"
	"github.com/kubeshield/kubeshield/internal/podsecurity"
	"github.com/kubeshield/kubeshield/internal/policy"
	"github.com/kubeshield/kubeshield/internal/signature"
)

// Names of the policies the sections of this file configure.
const (
	PodSecurityPolicy = "podSecurity"
	RegoPolicy        = "rego"
)

// BuildEnv is what building policies needs beyond the configuration: a
// directory for relative file names and the services of the process.
type BuildEnv struct {
	// Dir is where relative file names of the configuration are found
	// (the configuration file's directory); "" is the working directory.
	Dir string
	// Keychain gives the registry credentials of a request (the pod's
	// and its service account's pull secrets); nil means anonymous and
	// the process's Docker config.
	Keychain func(ctx context.Context, r *Request) (authn.Keychain, error)
	// SignatureCache keeps signature verifications across reloads; nil
	// makes one per build.
	SignatureCache *signature.Cache
	// ScanCache keeps image scans across reloads; nil makes one per build.
	ScanCache *ScanCache
}

// path resolves a file name of the configuration.
func (e BuildEnv) path(name string) string {
	if filepath.IsAbs(name) || e.Dir == "" {
		return name
	}
	return filepath.Join(e.Dir, name)
}

// PodSecurityConfig configures the podSecurity policy: the Pod Security
// Standards, evaluated as the built-in admission plugin does for the
// level each namespace's pod-security.kubernetes.io labels give (these
// defaults where they give none), for Pods and, unlike the plugin, for
// the pod templates of workloads.
type PodSecurityConfig struct {
	Common `yaml:",inline"`
	// Enforce, Warn and Audit are the default levels, LEVEL[:VERSION]
	// ("baseline", "restricted:v1.30"); empty is privileged:latest.
	Enforce string `yaml:"enforce,omitempty"`
	Warn    string `yaml:"warn,omitempty"`
	Audit   string `yaml:"audit,omitempty"`
	// ExemptNamespaces, ExemptUsernames and ExemptRuntimeClasses are
	// never checked, as in the plugin's configuration.
	ExemptNamespaces     []string `yaml:"exemptNamespaces,omitempty"`
	ExemptUsernames      []string `yaml:"exemptUsernames,omitempty"`
	ExemptRuntimeClasses []string `yaml:"exemptRuntimeClasses,omitempty"`
	// EnforceTemplates denies workloads whose pod template fails the
	// enforce level (default true); false judges them as the plugin does
	// (warnings only).
	EnforceTemplates *bool `yaml:"enforceTemplates,omitempty"`
}

// policy builds the podSecurity policy.
func (c *PodSecurityConfig) policy() (Policy, error) {
	cfg := podsecurity.Config{EnforceTemplates: c.EnforceTemplates == nil || *c.EnforceTemplates,
		Exemptions: podsecurity.Exemptions{Namespaces: c.ExemptNamespaces, Usernames: c.ExemptUsernames, RuntimeClasses: c.ExemptRuntimeClasses}}
	for _, f := range []struct {
		field string
		value string
		level *psapi.Level
		ver   *psapi.Version
	}{
		{"enforce", c.Enforce, &cfg.Defaults.Enforce.Level, &cfg.Defaults.Enforce.Version},
		{"warn", c.Warn, &cfg.Defaults.Warn.Level, &cfg.Defaults.Warn.Version},
		{"audit", c.Audit, &cfg.Defaults.Audit.Level, &cfg.Defaults.Audit.Version},
	} {
		lv := psapi.LevelVersion{Level: psapi.LevelPrivileged, Version: psapi.LatestVersion()}
		if f.value != "" {
			var err error
			if lv, err = podsecurity.ParseLevelVersion(f.value); err != nil {
				return nil, &fieldError{Path: []string{f.field}, Err: err}
			}
		}
		*f.level, *f.ver = lv.Level, lv.Version
	}
	ev, err := podsecurity.New(cfg)
	if err != nil {
		return nil, err
	}
	return &podSecurity{ev: ev}, nil
}

// podSecurity adapts a podsecurity.Evaluator to a Policy.
type podSecurity struct{ ev *podsecurity.Evaluator }

// Name implements Policy.
func (p *podSecurity) Name() string { return PodSecurityPolicy }

// Check implements Policy: the plugin's decision for the request at the
// namespace's levels. A denial is a violation; the warn level's messages
// are warnings; the audit level's go to the details.
func (p *podSecurity) Check(_ context.Context, r *Request) (Outcome, error) {
	if r.Pod == nil && r.PodErr == nil {
		return Outcome{}, nil
	}
	if r.PodErr != nil {
		return Outcome{}, r.PodErr
	}
	if r.NamespaceErr != nil {
		return Outcome{}, fmt.Errorf("namespace %s: %w", r.Namespace, r.NamespaceErr)
	}
	d := p.ev.Admit(podsecurity.Request{
		Operation: r.Operation, Namespace: r.Namespace, NamespaceLabels: r.NamespaceLabels, Name: r.Name,
		Subresource: r.SubResource, Username: r.User.Username, Object: r.Pod, OldObject: r.OldPod,
	})
	out := Outcome{Warnings: d.Warnings}
	if !d.Allowed {
		out.Violations = []string{d.Message}
	}
	if len(d.AuditAnnotations) > 0 {
		out.Details = map[string]string{}
		for k, v := range d.AuditAnnotations {
			out.Details[k] = v
		}
	}
	return out, nil
}

// SignedImagesConfig configures the signedImages policy.
type SignedImagesConfig struct {
	Common `yaml:",inline"`
	// Rules are tried in order; the first whose images match applies.
	Rules []SignedImageRuleConfig `yaml:"rules"`
	// RequireRule makes an image no rule matches a violation.
	RequireRule bool `yaml:"requireRule,omitempty"`
	// Insecure registries are reached over plain HTTP (test registries
	// on localhost).
	Insecure []string `yaml:"insecure,omitempty"`
}

// SignedImageRuleConfig is one rule: the images it covers and one way
// they must be signed.
type SignedImageRuleConfig struct {
	// Name identifies the rule in messages.
	Name string `yaml:"name"`
	// Images are repository patterns (path segments with *, and **).
	Images []string `yaml:"images"`
	// Key is a PEM public key, inline; KeyFile names one. Either means
	// cosign signatures and Sigstore bundles signed with it.
	Key     string `yaml:"key,omitempty"`
	KeyFile string `yaml:"keyFile,omitempty"`
	// Keyless means Sigstore bundles with a certificate for one of the
	// identities, checked against a trusted root.
	Keyless *KeylessConfig `yaml:"keyless,omitempty"`
	// Notation means Notary Project signatures under a trust policy.
	Notation *NotationConfig `yaml:"notation,omitempty"`
	// Annotations must be in the signed payload (cosign and bundles).
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// KeylessConfig is a keyless signing identity.
type KeylessConfig struct {
	// TrustedRoot names a Sigstore trusted_root.json.
	TrustedRoot string `yaml:"trustedRoot"`
	// Identities: a certificate must match one (subject or
	// subjectRegexp, and issuer or issuerRegexp).
	Identities []IdentityConfig `yaml:"identities"`
	// RequireSCT requires a certificate transparency timestamp.
	RequireSCT bool `yaml:"requireSCT,omitempty"`
}

// IdentityConfig is one accepted certificate identity.
type IdentityConfig struct {
	Subject       string `yaml:"subject,omitempty"`
	SubjectRegexp string `yaml:"subjectRegexp,omitempty"`
	Issuer        string `yaml:"issuer,omitempty"`
	IssuerRegexp  string `yaml:"issuerRegexp,omitempty"`
}

// NotationConfig names notation's trust policy and trust store.
type NotationConfig struct {
	TrustPolicy string `yaml:"trustPolicy"`
	TrustStore  string `yaml:"trustStore"`
}

// check validates the section without reading files.
func (c *SignedImagesConfig) check() error {
	if len(c.Rules) == 0 {
		return &fieldError{Path: []string{"rules"}, Err: errors.New("no rules")}
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		at := func(err error, field ...string) error {
			return &fieldError{Path: append([]string{"rules", strconv.Itoa(i)}, field...), Err: err}
		}
		switch {
		case r.Name == "":
			return at(errors.New("no name"), "name")
		case seen[r.Name]:
			return at(fmt.Errorf("name %q used twice", r.Name), "name")
		case len(r.Images) == 0:
			return at(errors.New("no image patterns"), "images")
		}
		seen[r.Name] = true
		ways := 0
		if r.Key != "" || r.KeyFile != "" {
			ways++
		}
		if r.Key != "" && r.KeyFile != "" {
			return at(errors.New("key and keyFile: give one"), "key")
		}
		if r.Keyless != nil {
			ways++
			if r.Keyless.TrustedRoot == "" || len(r.Keyless.Identities) == 0 {
				return at(errors.New("keyless needs trustedRoot and identities"), "keyless")
			}
		}
		if r.Notation != nil {
			ways++
			if r.Notation.TrustPolicy == "" || r.Notation.TrustStore == "" {
				return at(errors.New("notation needs trustPolicy and trustStore"), "notation")
			}
			if len(r.Annotations) > 0 {
				return at(errors.New("annotations are not checked on Notation signatures"), "annotations")
			}
		}
		if ways != 1 {
			return at(errors.New("give exactly one of key (or keyFile), keyless and notation"))
		}
		if r.Key != "" {
			if _, err := signature.ParsePublicKey([]byte(r.Key)); err != nil {
				return at(err, "key")
			}
		}
	}
	return nil
}

// build reads the keys, roots and trust policies and makes the policy.
func (c *SignedImagesConfig) build(_ context.Context, env BuildEnv) (Policy, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var rules []ImageRule
	for _, r := range c.Rules {
		v, err := r.verifier(env)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		rules = append(rules, ImageRule{Name: r.Name, Images: r.Images, Verifier: v})
	}
	return NewSignedImages(SignedImagesOptions{Rules: rules, RequireRule: c.RequireRule, Insecure: c.Insecure,
		Keychain: env.Keychain, Cache: env.SignatureCache, Exempt: c.Exempt})
}

// maxPolicyFile bounds the key, root and trust policy files read.
const maxPolicyFile = 4 << 20

func readSmall(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxPolicyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxPolicyFile)
	}
	return os.ReadFile(name)
}

// verifier makes the rule's signature.Verifier.
func (r SignedImageRuleConfig) verifier(env BuildEnv) (signature.Verifier, error) {
	switch {
	case r.Key != "" || r.KeyFile != "":
		pemBytes := []byte(r.Key)
		if r.KeyFile != "" {
			var err error
			if pemBytes, err = readSmall(env.path(r.KeyFile)); err != nil {
				return nil, fmt.Errorf("read key: %w", err)
			}
		}
		pub, err := signature.ParsePublicKey(pemBytes)
		if err != nil {
			return nil, err
		}
		bv, err := signature.NewBundleVerifier(signature.BundleOptions{Key: pub, Annotations: r.Annotations})
		if err != nil {
			return nil, err
		}
		return signature.Any(signature.KeyVerifier{Key: pub, Annotations: r.Annotations}, bv), nil
	case r.Keyless != nil:
		data, err := readSmall(env.path(r.Keyless.TrustedRoot))
		if err != nil {
			return nil, fmt.Errorf("read trusted root: %w", err)
		}
		root, err := signature.LoadTrustedRoot(data)
		if err != nil {
			return nil, err
		}
		var ids []signature.CertificateIdentity
		for _, id := range r.Keyless.Identities {
			ids = append(ids, signature.CertificateIdentity{Subject: id.Subject, SubjectRegexp: id.SubjectRegexp, Issuer: id.Issuer, IssuerRegexp: id.IssuerRegexp})
		}
		return signature.NewBundleVerifier(signature.BundleOptions{Root: root, Identities: ids, Annotations: r.Annotations, RequireSCT: r.Keyless.RequireSCT})
	default:
		data, err := readSmall(env.path(r.Notation.TrustPolicy))
		if err != nil {
			return nil, fmt.Errorf("read trust policy: %w", err)
		}
		return notation.NewVerifier(data, env.path(r.Notation.TrustStore))
	}
}

// RegoConfig configures the rego policy: Gatekeeper ConstraintTemplates
// and Constraints, evaluated with OPA as Gatekeeper would. A
// constraint's enforcementAction decides what its violations do within
// the policy's mode: deny is a violation, warn a warning, dryrun is only
// recorded in the details.
type RegoConfig struct {
	Common `yaml:",inline"`
	// Paths are files and directories of templates and constraints.
	Paths []string `yaml:"paths"`
}

func (c *RegoConfig) check() error {
	if len(c.Paths) == 0 {
		return &fieldError{Path: []string{"paths"}, Err: errors.New("no paths")}
	}
	return nil
}

func (c *RegoConfig) build(ctx context.Context, env BuildEnv) (Policy, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range c.Paths {
		paths = append(paths, env.path(p))
	}
	ps, err := policy.Load(ctx, paths...)
	if err != nil {
		return nil, err
	}
	eng, err := policy.New(ctx, ps)
	if err != nil {
		return nil, err
	}
	return &rego{eng: eng}, nil
}

// rego adapts a policy.Engine to a Policy.
type rego struct{ eng *policy.Engine }

// Name implements Policy.
func (p *rego) Name() string { return RegoPolicy }

// Check implements Policy: each violation is "Kind/name: msg".
func (p *rego) Check(ctx context.Context, r *Request) (Outcome, error) {
	if r.Admission == nil {
		return Outcome{}, errors.New("rego: no admission request")
	}
	if r.NamespaceErr != nil && r.Namespace != "" {
		return Outcome{}, fmt.Errorf("namespace %s: %w", r.Namespace, r.NamespaceErr)
	}
	obj := policy.Object{Request: r.Admission}
	if r.Namespace != "" {
		obj.Namespace = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.Namespace, Labels: r.NamespaceLabels}}
	}
	vs, err := p.eng.Review(ctx, obj)
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	var dry []string
	for _, v := range vs {
		msg := v.ConstraintKind + "/" + v.ConstraintName + ": " + v.Msg
		switch v.EnforcementAction {
		case policy.Warn:
			out.Warnings = append(out.Warnings, msg)
		case policy.DryRun:
			dry = append(dry, msg)
		default:
			out.Violations = append(out.Violations, msg)
		}
	}
	if len(dry) > 0 {
		out.Details = map[string]string{"dryrun": strings.Join(dry, "; ")}
	}
	return out, nil
}
