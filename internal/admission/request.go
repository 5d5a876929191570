package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kubeshield/kubeshield/internal/workload"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// NamespaceLabeler gives a namespace's labels. In the webhook it is an
// informer's lister; offline it is the manifests being checked. A
// namespace that does not exist may be answered with nil labels or an
// error.
type NamespaceLabeler interface {
	NamespaceLabels(ctx context.Context, namespace string) (map[string]string, error)
}

// NamespaceLabelsFunc adapts a function to NamespaceLabeler.
type NamespaceLabelsFunc func(ctx context.Context, namespace string) (map[string]string, error)

// NamespaceLabels calls f.
func (f NamespaceLabelsFunc) NamespaceLabels(ctx context.Context, namespace string) (map[string]string, error) {
	return f(ctx, namespace)
}

// Request is an admission request as the policies see it: the
// AdmissionRequest's identifiers, the raw objects, the pod the object
// describes and its namespace's labels.
type Request struct {
	// Admission is the AdmissionRequest the Request was built from, for
	// policies that take it whole (Rego sees it as input.review); read
	// only.
	Admission *admissionv1.AdmissionRequest
	// UID identifies the request; the response must echo it.
	UID types.UID
	// Kind is the object's kind (the request's kind, after any
	// conversion the API server made for the webhook).
	Kind schema.GroupVersionKind
	// Resource is the resource being requested.
	Resource schema.GroupVersionResource
	// SubResource is "status", "scale", "ephemeralcontainers", … or "".
	SubResource string
	// Namespace is the object's namespace; "" for cluster-scoped objects.
	Namespace string
	// Name is the object's name; "" on a CREATE with generateName.
	Name string
	// GenerateName is the object's metadata.generateName, if any.
	GenerateName string
	// Labels are the object's own labels.
	Labels map[string]string
	// Controller is the object's ownerReference with controller: true
	// (a pod's ReplicaSet, a ReplicaSet's Deployment), or nil.
	Controller *metav1.OwnerReference
	// Operation is CREATE, UPDATE, DELETE or CONNECT.
	Operation admissionv1.Operation
	// User is who makes the request.
	User authenticationv1.UserInfo
	// DryRun means the request is not persisted: a policy must have no
	// side effects beyond answering (no background scans started on its
	// behalf, no caches of results it would not keep otherwise).
	DryRun bool
	// Object is the new object (JSON): nil on DELETE and CONNECT.
	Object []byte
	// OldObject is the existing object (JSON) on UPDATE and DELETE.
	OldObject []byte

	// Pod is the pod Object describes (a Pod, or a workload's pod
	// template), or nil: for kinds that carry no pod, for DELETE, and
	// for subresources other than "ephemeralcontainers" (status and
	// scale updates do not change what runs).
	Pod *workload.Pod
	// OldPod is the pod OldObject describes on UPDATE, under the same
	// rules.
	OldPod *workload.Pod
	// PodErr is why Pod could not be decoded; policies that need the
	// pod return it, and their failure policy applies.
	PodErr error

	// NamespaceLabels are the labels of Namespace (of the object itself
	// when it is a Namespace), or nil.
	NamespaceLabels map[string]string
	// NamespaceErr is why NamespaceLabels could not be had; policies
	// that need them return it.
	NamespaceErr error
}

// objectMeta is the part of an object's metadata a Request keeps.
type objectMeta struct {
	Metadata struct {
		Name            string                  `json:"name"`
		GenerateName    string                  `json:"generateName"`
		Labels          map[string]string       `json:"labels"`
		OwnerReferences []metav1.OwnerReference `json:"ownerReferences"`
	} `json:"metadata"`
}

// NewRequest builds the Request of ar, looking up the labels of its
// namespace with ns (which may be nil). It fails only when ar is nil; a
// pod that does not decode or labels that cannot be had are recorded in
// PodErr and NamespaceErr for the policies that need them.
func NewRequest(ctx context.Context, ar *admissionv1.AdmissionRequest, ns NamespaceLabeler) (*Request, error) {
	if ar == nil {
		return nil, errors.New("admission request: missing")
	}
	r := &Request{
		Admission:   ar,
		UID:         ar.UID,
		Kind:        schema.GroupVersionKind{Group: ar.Kind.Group, Version: ar.Kind.Version, Kind: ar.Kind.Kind},
		Resource:    schema.GroupVersionResource{Group: ar.Resource.Group, Version: ar.Resource.Version, Resource: ar.Resource.Resource},
		SubResource: ar.SubResource,
		Namespace:   ar.Namespace,
		Name:        ar.Name,
		Operation:   ar.Operation,
		User:        ar.UserInfo,
		DryRun:      ar.DryRun != nil && *ar.DryRun,
		Object:      rawJSON(ar.Object.Raw),
		OldObject:   rawJSON(ar.OldObject.Raw),
	}
	var meta objectMeta
	if raw := firstNonNil(r.Object, r.OldObject); raw != nil {
		// Identifiers only; a malformed object is the pod decoder's to
		// report.
		_ = json.Unmarshal(raw, &meta)
		r.GenerateName = meta.Metadata.GenerateName
		r.Labels = meta.Metadata.Labels
		for i, o := range meta.Metadata.OwnerReferences {
			if o.Controller != nil && *o.Controller {
				r.Controller = &meta.Metadata.OwnerReferences[i]
				break
			}
		}
		if r.Name == "" {
			r.Name = meta.Metadata.Name
		}
	}
	if r.carriesPod() {
		if r.Object != nil {
			r.Pod, _, r.PodErr = workload.FromJSON(r.Kind, r.Object)
		}
		if r.OldObject != nil && r.Operation == admissionv1.Update {
			// An old object that does not decode only means the update
			// is judged as a whole.
			r.OldPod, _, _ = workload.FromJSON(r.Kind, r.OldObject)
		}
	}
	switch {
	case r.Kind.Group == "" && r.Kind.Kind == "Namespace" && r.SubResource == "":
		r.NamespaceLabels = meta.Metadata.Labels
	case r.Namespace != "" && ns != nil:
		r.NamespaceLabels, r.NamespaceErr = ns.NamespaceLabels(ctx, r.Namespace)
		if r.NamespaceErr != nil {
			r.NamespaceErr = fmt.Errorf("namespace %s: %w", r.Namespace, r.NamespaceErr)
		}
	}
	return r, nil
}

// carriesPod reports whether the request's object is a pod or pod
// template whose spec the request may change.
func (r *Request) carriesPod() bool {
	if _, ok := workload.Lookup(r.Kind.Group, r.Kind.Kind); !ok {
		return false
	}
	switch r.Operation {
	case admissionv1.Create, admissionv1.Update:
	default:
		return false
	}
	return r.SubResource == "" || (r.SubResource == "ephemeralcontainers" && r.Kind.Kind == "Pod")
}

// SpecUnchanged reports whether the request is an UPDATE that leaves the
// pod spec as it was (labels, annotations, finalizers, replicas changed).
// The built-in policies do not judge such updates, so that objects
// admitted before a policy existed can still be scaled, relabelled and
// have their finalizers removed.
func (r *Request) SpecUnchanged() bool {
	return r.Operation == admissionv1.Update && r.Pod != nil && r.OldPod != nil &&
		equality.Semantic.DeepEqual(r.Pod.Spec, r.OldPod.Spec)
}

// rawJSON returns raw, or nil when it is empty or JSON null.
func rawJSON(raw []byte) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func firstNonNil(a, b []byte) []byte {
	if a != nil {
		return a
	}
	return b
}
