// Package cluster is the typed model of a Kubernetes cluster that the
// engines (RBAC, admission, network policies) read: a Snapshot of the
// objects they need, loaded the same way from a live API server (client-go)
// or from manifests (files, directories, multi-document YAML, JSON, List
// objects, Helm-rendered output).
package cluster

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Snapshot holds the objects of one cluster (or one set of manifests)
// that the engines need, by kind. The slices are in the order the objects
// were loaded; engines must not depend on it.
type Snapshot struct {
	Namespaces             []corev1.Namespace
	Nodes                  []corev1.Node
	Pods                   []corev1.Pod
	ServiceAccounts        []corev1.ServiceAccount
	Services               []corev1.Service
	ReplicationControllers []corev1.ReplicationController
	Deployments            []appsv1.Deployment
	ReplicaSets            []appsv1.ReplicaSet
	StatefulSets           []appsv1.StatefulSet
	DaemonSets             []appsv1.DaemonSet
	Jobs                   []batchv1.Job
	CronJobs               []batchv1.CronJob
	Ingresses              []networkingv1.Ingress
	NetworkPolicies        []networkingv1.NetworkPolicy

	Roles               []rbacv1.Role
	ClusterRoles        []rbacv1.ClusterRole
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoleBindings []rbacv1.ClusterRoleBinding

	ValidatingWebhookConfigurations []admissionregistrationv1.ValidatingWebhookConfiguration
	MutatingWebhookConfigurations   []admissionregistrationv1.MutatingWebhookConfiguration

	// Other holds objects of kinds the engines do not read (CRDs,
	// ConfigMaps, ...), kept so nothing loaded is silently lost.
	Other []unstructured.Unstructured

	sources map[objectKey]Source
}

type objectKey struct {
	kind            Kind
	namespace, name string
}

// Source returns where the object of kind in namespace (empty for
// cluster-scoped kinds) named name was loaded from; false when the
// Snapshot did not record it (objects added by hand).
func (s *Snapshot) Source(kind Kind, namespace, name string) (Source, bool) {
	src, ok := s.sources[objectKey{kind, namespace, name}]
	return src, ok
}

func (s *Snapshot) setSource(kind Kind, namespace, name string, src Source) {
	if s.sources == nil {
		s.sources = map[objectKey]Source{}
	}
	s.sources[objectKey{kind, namespace, name}] = src
}
