package podsecurity

import (
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/pod-security-admission/api"

	"github.com/kubeshield/kubeshield/internal/workload"
)

// Audit annotation keys and exemption reasons, as the plugin writes them.
const (
	// AnnotationEnforcePolicy holds the enforce level:version evaluated.
	AnnotationEnforcePolicy = api.EnforcedPolicyAnnotationKey
	// AnnotationAuditViolations holds the audit level's "would violate" text.
	AnnotationAuditViolations = api.AuditViolationsAnnotationKey
	// AnnotationExempt holds why a request was exempt: "namespace", "user"
	// or "runtimeClass".
	AnnotationExempt = api.ExemptionReasonAnnotationKey
	// AnnotationError holds why the namespace's labels did not parse.
	AnnotationError = "error"
)

// Request is what Admit needs of an admission request for a Pod or a
// workload. The caller looks up the namespace's labels.
type Request struct {
	// Operation is CREATE or UPDATE; others are allowed unevaluated.
	Operation admissionv1.Operation
	// Namespace is the request's namespace.
	Namespace string
	// NamespaceLabels are the labels of Namespace.
	NamespaceLabels map[string]string
	// Name is the object's name, for the denial status.
	Name string
	// Subresource is the request's subresource ("" for the object).
	Subresource string
	// Username is the requesting user's name.
	Username string
	// Object is the pod, or the workload's pod template (see
	// workload.FromJSON); its Kind says which (a zero Kind is a Pod).
	Object *workload.Pod
	// OldObject is the pod before an UPDATE of a Pod; without it the
	// update is evaluated in full.
	OldObject *workload.Pod
}

// Decision is Admit's answer, in the plugin's words.
type Decision struct {
	// Allowed is false when the request is denied.
	Allowed bool
	// Message is the denial text, `violates PodSecurity "LEVEL:VERSION":
	// …`; empty when allowed.
	Message string
	// Warnings are the warnings to return to the client.
	Warnings []string
	// AuditAnnotations are the audit annotations the plugin records
	// (keys without the pod-security.kubernetes.io/ prefix the API server
	// adds).
	AuditAnnotations map[string]string
	// Exempt is why the request was not evaluated ("namespace", "user",
	// "runtimeClass"), or "".
	Exempt string
}

// Status returns the denial as the API server reports it, a Forbidden
// status for resource and name (`pods "web" is forbidden: violates
// PodSecurity …`), or nil when the request is allowed.
func (d Decision) Status(resource schema.GroupResource, name string) *metav1.Status {
	if d.Allowed {
		return nil
	}
	return &apierrors.NewForbidden(resource, name, errors.New(d.Message)).ErrStatus
}

// ignoredPodSubresources are the pod subresources that cannot change the
// pod's spec; the plugin evaluates every other one.
var ignoredPodSubresources = map[string]bool{
	"attach": true, "binding": true, "eviction": true, "exec": true,
	"log": true, "portforward": true, "proxy": true, "status": true,
}

// Admit decides a request as the built-in PodSecurity plugin does: exempt
// namespaces and users first, then the namespace's policy; a Pod is denied
// when it violates the enforce level, and a pod update that changes no
// image nor adds a container is allowed unevaluated; a workload's template
// only draws warnings and audit annotations unless Config.EnforceTemplates
// is set, when it is denied as a Pod would be; a pod or template with an
// exempt runtime class is allowed. Warnings are only given to allowed
// requests. A request without an Object is allowed.
func (e *Evaluator) Admit(req Request) Decision {
	allowed := Decision{Allowed: true}
	if req.Object == nil || req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return allowed
	}
	pod := isPod(req.Object.Kind)
	if pod && ignoredPodSubresources[req.Subresource] || !pod && req.Subresource != "" {
		return allowed
	}
	if e.cfg.Exemptions.namespace(req.Namespace) {
		return exempt("namespace")
	}
	if e.cfg.Exemptions.username(req.Username) {
		return exempt("user")
	}
	nsPolicy, errs := e.cfg.PolicyFor(req.NamespaceLabels)
	enforce := pod || e.cfg.EnforceTemplates
	if len(errs) == 0 {
		if enforce && nsPolicy.FullyPrivileged() {
			priv := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
			return Decision{Allowed: true, AuditAnnotations: map[string]string{AnnotationEnforcePolicy: priv.String()}}
		}
		if !enforce && nsPolicy.Warn.Level == api.LevelPrivileged && nsPolicy.Audit.Level == api.LevelPrivileged {
			return allowed
		}
	}
	if pod && req.Operation == admissionv1.Update && req.OldObject != nil && !significantUpdate(&req.Object.Spec, &req.OldObject.Spec) {
		return allowed
	}
	if e.cfg.Exemptions.runtimeClass(req.Object.Spec.RuntimeClassName) {
		return exempt("runtimeClass")
	}

	meta, spec := &req.Object.Meta, asAdmitted(req.Object)
	d := Decision{Allowed: true, AuditAnnotations: map[string]string{}}
	if len(errs) > 0 {
		d.AuditAnnotations[AnnotationError] = fmt.Sprintf("Failed to parse policy: %v", errs.ToAggregate())
	}
	results := map[api.LevelVersion]Result{}
	evaluate := func(lv api.LevelVersion) Result {
		r, ok := results[lv]
		if !ok {
			r = e.check(lv, meta, spec)
			results[lv] = r
		}
		return r
	}
	if enforce {
		d.AuditAnnotations[AnnotationEnforcePolicy] = nsPolicy.Enforce.String()
		if r := evaluate(nsPolicy.Enforce); !r.Allowed {
			d.Allowed, d.Message = false, r.Message()
		}
	}
	if r := evaluate(nsPolicy.Audit); !r.Allowed {
		d.AuditAnnotations[AnnotationAuditViolations] = r.Warning()
	}
	if d.Allowed {
		if r := evaluate(nsPolicy.Warn); !r.Allowed {
			d.Warnings = append(d.Warnings, r.Warning())
		}
	}
	return d
}

func exempt(reason string) Decision {
	return Decision{Allowed: true, Exempt: reason, AuditAnnotations: map[string]string{AnnotationExempt: reason}}
}

// significantUpdate reports whether a pod update can change what Pod
// Security judges: the plugin re-evaluates when containers or init
// containers are added or removed, an image changes, or an ephemeral
// container is added or changes image; the rest of a pod's spec is
// immutable.
func significantUpdate(spec, old *corev1.PodSpec) bool {
	if len(spec.Containers) != len(old.Containers) || len(spec.InitContainers) != len(old.InitContainers) {
		return true
	}
	for i := range spec.Containers {
		if spec.Containers[i].Image != old.Containers[i].Image {
			return true
		}
	}
	for i := range spec.InitContainers {
		if spec.InitContainers[i].Image != old.InitContainers[i].Image {
			return true
		}
	}
	for _, c := range spec.EphemeralContainers {
		found := false
		for _, o := range old.EphemeralContainers {
			if o.Name == c.Name {
				if o.Image != c.Image {
					return true
				}
				found = true
				break
			}
		}
		if !found {
			return true
		}
	}
	return false
}
