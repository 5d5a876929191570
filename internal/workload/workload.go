// Package workload finds the pod an object describes: a Pod's own
// metadata and spec, or the pod template of a workload (Deployment,
// ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController,
// PodTemplate). Admission control, Pod Security and network policy
// analysis all start from it, so a workload is judged by the pods it
// will create, not only its pods later.
package workload

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kind is a kind that carries a pod: its group and kind, and where its
// pod spec is.
type Kind struct {
	// Group is the API group ("" for core).
	Group string
	// Kind is the kind name.
	Kind string
	// Resource is the plural resource name.
	Resource string
	// SpecPath is the JSON pointer of the pod spec in the object
	// ("/spec" for a Pod, "/spec/template/spec" for a Deployment), for
	// JSON patches.
	SpecPath string
	// MetaPath is the JSON pointer of the pod metadata ("/metadata" for
	// a Pod, "/spec/template/metadata" for a Deployment).
	MetaPath string
}

// Kinds returns every kind that carries a pod, Pod first.
func Kinds() []Kind {
	return []Kind{
		{"", "Pod", "pods", "/spec", "/metadata"},
		{"", "PodTemplate", "podtemplates", "/template/spec", "/template/metadata"},
		{"", "ReplicationController", "replicationcontrollers", "/spec/template/spec", "/spec/template/metadata"},
		{"apps", "Deployment", "deployments", "/spec/template/spec", "/spec/template/metadata"},
		{"apps", "ReplicaSet", "replicasets", "/spec/template/spec", "/spec/template/metadata"},
		{"apps", "StatefulSet", "statefulsets", "/spec/template/spec", "/spec/template/metadata"},
		{"apps", "DaemonSet", "daemonsets", "/spec/template/spec", "/spec/template/metadata"},
		{"batch", "Job", "jobs", "/spec/template/spec", "/spec/template/metadata"},
		{"batch", "CronJob", "cronjobs", "/spec/jobTemplate/spec/template/spec", "/spec/jobTemplate/spec/template/metadata"},
	}
}

// Lookup returns the Kind of group and kind, if it carries a pod.
func Lookup(group, kind string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.Group == group && k.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}

// Pod is the pod an object describes.
type Pod struct {
	// Kind is the object's kind.
	Kind Kind
	// Meta is the pod's metadata: the Pod's own, or the template's
	// (labels and annotations; the name is usually empty).
	Meta metav1.ObjectMeta
	// Spec is the pod spec.
	Spec corev1.PodSpec
}

// templateOf is the part of every workload kind that holds its pod
// template; the JSON of any of them decodes into it.
type templateOf struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		corev1.PodSpec
		Template    *corev1.PodTemplateSpec `json:"template"`
		JobTemplate *struct {
			Spec struct {
				Template *corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
	Template *corev1.PodTemplateSpec `json:"template"`
}

// FromJSON returns the pod the object raw (JSON) of kind gvk describes.
// ok is false for a kind that carries no pod. Errors: JSON that does not
// decode, or a workload without a pod template.
func FromJSON(gvk schema.GroupVersionKind, raw []byte) (pod *Pod, ok bool, err error) {
	k, ok := Lookup(gvk.Group, gvk.Kind)
	if !ok {
		return nil, false, nil
	}
	var t templateOf
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, true, fmt.Errorf("decode %s: %w", gvk.Kind, err)
	}
	var tmpl *corev1.PodTemplateSpec
	switch k.Kind {
	case "Pod":
		p := &Pod{Kind: k, Meta: t.Metadata}
		// A Pod's spec decodes into the embedded PodSpec; a template
		// field there would be a workload's.
		if err := json.Unmarshal(raw, &struct {
			Spec *corev1.PodSpec `json:"spec"`
		}{&p.Spec}); err != nil {
			return nil, true, fmt.Errorf("decode Pod: %w", err)
		}
		return p, true, nil
	case "PodTemplate":
		tmpl = t.Template
	case "CronJob":
		if t.Spec.JobTemplate != nil {
			tmpl = t.Spec.JobTemplate.Spec.Template
		}
	default:
		tmpl = t.Spec.Template
	}
	if tmpl == nil {
		return nil, true, fmt.Errorf("%s %q has no pod template", gvk.Kind, t.Metadata.Name)
	}
	return &Pod{Kind: k, Meta: tmpl.ObjectMeta, Spec: tmpl.Spec}, true, nil
}
