package podsecurity

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeshield/kubeshield/internal/workload"
)

// Evaluator checks pods against the Pod Security Standards and decides
// admission requests. Build it once with New; it is safe for concurrent
// use.
type Evaluator struct {
	cfg    Config
	checks policy.Evaluator
	// ids names, per level and version, the checks the upstream
	// evaluator runs, in the order it runs them.
	ids map[api.LevelVersion][]policy.CheckID
	// maxVersion is the newest version any check knows; later versions
	// and latest evaluate as it.
	maxVersion api.Version
}

// New returns an Evaluator for cfg with the upstream library's default
// checks, as the API server's plugin builds it. Errors: a cfg that does
// not validate (wrapping ErrInvalidConfig), or checks the library rejects.
func New(cfg Config) (*Evaluator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	checks := policy.DefaultChecks()
	ev, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		return nil, fmt.Errorf("pod security checks: %w", err)
	}
	e := &Evaluator{cfg: cfg, checks: ev, ids: map[api.LevelVersion][]policy.CheckID{}}
	for _, c := range checks {
		if last := c.Versions[len(c.Versions)-1].MinimumVersion; e.maxVersion.Older(last) {
			e.maxVersion = last
		}
	}
	for minor := 0; minor <= e.maxVersion.Minor(); minor++ {
		v := api.MajorMinorVersion(1, minor)
		for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
			e.ids[api.LevelVersion{Level: level, Version: v}] = checkIDs(checks, level, v)
		}
	}
	return e, nil
}

// checkIDs lists the checks of level at version v in the order the
// upstream registry runs them: baseline IDs sorted, then restricted IDs
// sorted, without the baseline checks a restricted one overrides.
func checkIDs(checks []policy.Check, level api.Level, v api.Version) []policy.CheckID {
	var baseline, restricted []policy.CheckID
	overridden := map[policy.CheckID]bool{}
	for _, c := range checks {
		vc, ok := versionAt(c, v)
		if !ok {
			continue
		}
		switch {
		case c.Level == api.LevelBaseline:
			baseline = append(baseline, c.ID)
		case level == api.LevelRestricted:
			restricted = append(restricted, c.ID)
			for _, id := range vc.OverrideCheckIDs {
				overridden[id] = true
			}
		}
	}
	if level == api.LevelRestricted {
		baseline = slices.DeleteFunc(baseline, func(id policy.CheckID) bool { return overridden[id] })
	}
	slices.Sort(baseline)
	slices.Sort(restricted)
	return append(baseline, restricted...)
}

// versionAt returns the revision of c in force at version v.
func versionAt(c policy.Check, v api.Version) (policy.VersionedCheck, bool) {
	var found policy.VersionedCheck
	ok := false
	for _, vc := range c.Versions {
		if v.Older(vc.MinimumVersion) {
			break
		}
		found, ok = vc, true
	}
	return found, ok
}

// Config returns the configuration the Evaluator was built with.
func (e *Evaluator) Config() Config { return e.cfg }

// Result is the outcome of checking one pod against one level and version.
type Result struct {
	// Level is the level and version checked, as the namespace label or
	// the configuration named it (latest stays latest).
	Level api.LevelVersion
	// Allowed is true when the pod passes every check of Level.
	Allowed bool
	// Failed lists the checks the pod fails, in the plugin's order.
	Failed []FailedCheck
}

// FailedCheck is one check a pod fails.
type FailedCheck struct {
	// ID is the upstream check ID ("privileged", "runAsNonRoot",
	// "seccompProfile_restricted", …); empty only if the upstream
	// registry ever ran checks in an order New did not foresee.
	ID string
	// Reason is the check's short reason ("privileged",
	// "allowPrivilegeEscalation != false").
	Reason string
	// Detail says which containers and values fail; it may be empty.
	Detail string
}

// Detail returns the failed checks as the plugin lists them:
// `reason (detail), reason, …`.
func (r Result) Detail() string {
	var b strings.Builder
	for i, f := range r.Failed {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Reason)
		if f.Detail != "" {
			b.WriteString(" (")
			b.WriteString(f.Detail)
			b.WriteString(")")
		}
	}
	return b.String()
}

// Message returns the plugin's denial text, `violates PodSecurity
// "restricted:latest": …`, or "" when the pod is allowed.
func (r Result) Message() string {
	if r.Allowed {
		return ""
	}
	return fmt.Sprintf("violates PodSecurity %q: %s", r.Level.String(), r.Detail())
}

// Warning returns the plugin's warning and audit text, `would violate
// PodSecurity "baseline:v1.30": …`, or "" when the pod is allowed.
func (r Result) Warning() string {
	if r.Allowed {
		return ""
	}
	return fmt.Sprintf("would violate PodSecurity %q: %s", r.Level.String(), r.Detail())
}

// Check evaluates pod against level lv with the upstream checks. A Pod
// (not a workload's template) is checked as the API server hands it to
// admission on create: with host networking its container ports are also
// host ports, and a deprecated AppArmor annotation is copied to the
// container's appArmorProfile field. The privileged level allows
// everything; a zero Version in lv means latest.
func (e *Evaluator) Check(lv api.LevelVersion, pod *workload.Pod) Result {
	return e.check(lv, &pod.Meta, asAdmitted(pod))
}

func (e *Evaluator) check(lv api.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) Result {
	if lv.Version == (api.Version{}) {
		lv.Version = api.LatestVersion()
	}
	results := e.checks.EvaluatePod(lv, meta, spec)
	ids := e.ids[e.clamp(lv)]
	r := Result{Level: lv, Allowed: true}
	for i, cr := range results {
		if cr.Allowed {
			continue
		}
		r.Allowed = false
		f := FailedCheck{Reason: cr.ForbiddenReason, Detail: cr.ForbiddenDetail}
		if f.Reason == "" {
			f.Reason = policy.UnknownForbiddenReason
		}
		if len(ids) == len(results) {
			f.ID = string(ids[i])
		}
		r.Failed = append(r.Failed, f)
	}
	return r
}

// clamp returns the key of ids for lv: versions after the newest check
// and latest evaluate as the newest.
func (e *Evaluator) clamp(lv api.LevelVersion) api.LevelVersion {
	if e.maxVersion.Older(lv.Version) {
		lv.Version = e.maxVersion
	}
	return lv
}

// asAdmitted returns the pod spec of pod as the API server's PodSecurity
// plugin sees it. For a Pod, defaulting and the pod strategy have run on
// create: with host networking a container port without a host port has
// the container port as host port, and a container with a deprecated
// AppArmor annotation (container.apparmor.security.beta.kubernetes.io/NAME)
// and no appArmorProfile of its own gets the annotation's profile unless
// it is the pod's. Workload templates go through neither. pod itself is
// never modified.
func asAdmitted(pod *workload.Pod) *corev1.PodSpec {
	if !isPod(pod.Kind) || !pod.Spec.HostNetwork && !hasAppArmorAnnotation(pod.Meta.Annotations) {
		return &pod.Spec
	}
	spec := pod.Spec.DeepCopy()
	if spec.HostNetwork {
		defaultHostPorts(spec.Containers)
		defaultHostPorts(spec.InitContainers)
	}
	syncAppArmor(pod.Meta.Annotations, spec)
	return spec
}

func defaultHostPorts(cs []corev1.Container) {
	for i := range cs {
		for j := range cs[i].Ports {
			if cs[i].Ports[j].HostPort == 0 {
				cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
			}
		}
	}
}

func hasAppArmorAnnotation(annotations map[string]string) bool {
	for k := range annotations {
		if strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			return true
		}
	}
	return false
}

// syncAppArmor copies deprecated AppArmor annotations to the containers'
// appArmorProfile fields, as the API server does when a Pod is created.
func syncAppArmor(annotations map[string]string, spec *corev1.PodSpec) {
	if spec.OS != nil && spec.OS.Name == corev1.Windows {
		return
	}
	var podProfile *corev1.AppArmorProfile
	if spec.SecurityContext != nil {
		podProfile = spec.SecurityContext.AppArmorProfile
	}
	sync := func(name string, sc **corev1.SecurityContext) {
		value, ok := annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+name]
		if !ok || *sc != nil && (*sc).AppArmorProfile != nil {
			return
		}
		profile := appArmorProfileOf(value)
		if profile == nil || sameAppArmorProfile(profile, podProfile) {
			return
		}
		if *sc == nil {
			*sc = &corev1.SecurityContext{}
		}
		(*sc).AppArmorProfile = profile
	}
	for i := range spec.InitContainers {
		sync(spec.InitContainers[i].Name, &spec.InitContainers[i].SecurityContext)
	}
	for i := range spec.Containers {
		sync(spec.Containers[i].Name, &spec.Containers[i].SecurityContext)
	}
	for i := range spec.EphemeralContainers {
		sync(spec.EphemeralContainers[i].Name, &spec.EphemeralContainers[i].SecurityContext)
	}
}

// appArmorProfileOf returns the profile a deprecated annotation value
// names, or nil for a value the API server would not copy.
func appArmorProfileOf(value string) *corev1.AppArmorProfile {
	switch {
	case value == corev1.DeprecatedAppArmorBetaProfileNameUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case value == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case strings.HasPrefix(value, corev1.DeprecatedAppArmorBetaProfileNamePrefix):
		name := strings.TrimPrefix(value, corev1.DeprecatedAppArmorBetaProfileNamePrefix)
		// The API server copies only a name its validation accepts.
		if name == "" || strings.TrimSpace(name) != name || len(name) > 4095 {
			return nil
		}
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
	}
	return nil
}

func sameAppArmorProfile(a, b *corev1.AppArmorProfile) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Type != b.Type || (a.LocalhostProfile == nil) != (b.LocalhostProfile == nil) {
		return false
	}
	return a.LocalhostProfile == nil || *a.LocalhostProfile == *b.LocalhostProfile
}

// isPod reports whether k is the Pod kind; a zero Kind counts as a Pod, so
// that a pod built without one is enforced rather than only warned about.
func isPod(k workload.Kind) bool {
	return k.Group == "" && (k.Kind == "Pod" || k.Kind == "")
}
