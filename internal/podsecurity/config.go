package podsecurity

import (
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"
	admissionapi "k8s.io/pod-security-admission/admission/api"
	"k8s.io/pod-security-admission/admission/api/validation"
	"k8s.io/pod-security-admission/api"
)

// ErrInvalidConfig means a Config does not validate; the error wrapping it
// names each bad field.
var ErrInvalidConfig = errors.New("invalid pod security configuration")

// Config is what the API server's PodSecurityConfiguration holds, plus
// Kubeshield's choice to deny workloads.
type Config struct {
	// Defaults is the policy of a namespace without pod-security labels.
	// A mode whose Level is empty defaults to privileged, and a zero
	// Version to latest, so the zero Config is the API server's default
	// configuration (privileged:latest in every mode).
	Defaults api.Policy
	// Exemptions are requests Pod Security does not judge.
	Exemptions Exemptions
	// EnforceTemplates makes Admit deny a workload (Deployment, Job, …)
	// whose pod template violates the enforce level, as it denies a Pod.
	// The built-in plugin only warns and audits for workloads; false
	// mirrors it.
	EnforceTemplates bool
}

// Exemptions are requests allowed without evaluation, as in the API
// server's PodSecurityConfiguration.
type Exemptions struct {
	// Namespaces are exempt namespace names.
	Namespaces []string
	// Usernames are exempt authenticated user names.
	Usernames []string
	// RuntimeClasses are exempt runtime class names (spec.runtimeClassName).
	RuntimeClasses []string
}

// DefaultPolicy returns the API server's default policy: privileged:latest
// for enforce, audit and warn.
func DefaultPolicy() api.Policy {
	p := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	return api.Policy{Enforce: p, Audit: p, Warn: p}
}

// defaults returns Defaults with empty levels and zero versions filled in.
func (c Config) defaults() api.Policy {
	fill := func(lv *api.LevelVersion) {
		if lv.Level == "" {
			lv.Level = api.LevelPrivileged
		}
		if lv.Version == (api.Version{}) {
			lv.Version = api.LatestVersion()
		}
	}
	p := c.Defaults
	fill(&p.Enforce)
	fill(&p.Audit)
	fill(&p.Warn)
	return p
}

// Validate checks the configuration with the upstream library's own
// validation of a PodSecurityConfiguration: valid levels, exempt
// namespaces that are namespace names, runtime classes that are DNS
// subdomains, non-empty usernames, no duplicates. Errors wrap
// ErrInvalidConfig.
func (c Config) Validate() error {
	d := c.defaults()
	upstream := &admissionapi.PodSecurityConfiguration{
		Defaults: admissionapi.PodSecurityDefaults{
			Enforce: string(d.Enforce.Level), EnforceVersion: d.Enforce.Version.String(),
			Audit: string(d.Audit.Level), AuditVersion: d.Audit.Version.String(),
			Warn: string(d.Warn.Level), WarnVersion: d.Warn.Version.String(),
		},
		Exemptions: admissionapi.PodSecurityExemptions{
			Namespaces:     c.Exemptions.Namespaces,
			Usernames:      c.Exemptions.Usernames,
			RuntimeClasses: c.Exemptions.RuntimeClasses,
		},
	}
	if errs := validation.ValidatePodSecurityConfiguration(upstream); len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errs.ToAggregate())
	}
	return nil
}

// PolicyFor returns the policy of a namespace with labels: each
// pod-security.kubernetes.io/{enforce,audit,warn}[-version] label over the
// configured default, exactly as the built-in plugin resolves them. An
// invalid label value is reported in errs and falls back as the plugin
// does: an invalid enforce level means restricted, an invalid audit or
// warn level privileged, an invalid version latest; warn follows a stricter
// enforce level set by label unless warn is labelled itself.
func (c Config) PolicyFor(namespaceLabels map[string]string) (p api.Policy, errs field.ErrorList) {
	return api.PolicyToEvaluate(namespaceLabels, c.defaults())
}

func (e Exemptions) namespace(name string) bool {
	return name != "" && slices.Contains(e.Namespaces, name)
}

func (e Exemptions) username(name string) bool {
	return name != "" && slices.Contains(e.Usernames, name)
}

func (e Exemptions) runtimeClass(name *string) bool {
	return name != nil && *name != "" && slices.Contains(e.RuntimeClasses, *name)
}
