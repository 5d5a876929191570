package cluster

import (
	"encoding/json"
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kind names a kind of object the Snapshot holds by type.
type Kind string

// The kinds a Snapshot holds by type.
const (
	KindNamespace                      Kind = "Namespace"
	KindNode                           Kind = "Node"
	KindPod                            Kind = "Pod"
	KindServiceAccount                 Kind = "ServiceAccount"
	KindService                        Kind = "Service"
	KindReplicationController          Kind = "ReplicationController"
	KindDeployment                     Kind = "Deployment"
	KindReplicaSet                     Kind = "ReplicaSet"
	KindStatefulSet                    Kind = "StatefulSet"
	KindDaemonSet                      Kind = "DaemonSet"
	KindJob                            Kind = "Job"
	KindCronJob                        Kind = "CronJob"
	KindIngress                        Kind = "Ingress"
	KindNetworkPolicy                  Kind = "NetworkPolicy"
	KindRole                           Kind = "Role"
	KindClusterRole                    Kind = "ClusterRole"
	KindRoleBinding                    Kind = "RoleBinding"
	KindClusterRoleBinding             Kind = "ClusterRoleBinding"
	KindValidatingWebhookConfiguration Kind = "ValidatingWebhookConfiguration"
	KindMutatingWebhookConfiguration   Kind = "MutatingWebhookConfiguration"
)

// kindInfo says where a kind lives in the API and how a decoded object of
// it is added to a Snapshot.
type kindInfo struct {
	kind       Kind
	group      string
	versions   []string // the API versions whose objects decode into the typed struct
	resource   string
	namespaced bool
	// add decodes one object (JSON) and appends it to s.
	add func(s *Snapshot, data []byte) error
}

// GroupResource returns the kind's group and resource, as in
// "deployments.apps" or "pods".
func (k kindInfo) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: k.group, Resource: k.resource}
}

// appender returns an add function that decodes into T and appends to the
// slice field returns.
func appender[T any](field func(*Snapshot) *[]T) func(*Snapshot, []byte) error {
	return func(s *Snapshot, data []byte) error {
		var obj T
		if err := json.Unmarshal(data, &obj); err != nil {
			return err
		}
		f := field(s)
		*f = append(*f, obj)
		return nil
	}
}

// kinds returns every kind a Snapshot holds by type. Older API versions
// whose fields the engines read are the same in the current one are
// accepted too (rbac v1beta1, batch v1beta1 CronJobs, ...).
func kinds() []kindInfo {
	return []kindInfo{
		{KindNamespace, "", []string{"v1"}, "namespaces", false, appender(func(s *Snapshot) *[]corev1.Namespace { return &s.Namespaces })},
		{KindNode, "", []string{"v1"}, "nodes", false, appender(func(s *Snapshot) *[]corev1.Node { return &s.Nodes })},
		{KindPod, "", []string{"v1"}, "pods", true, appender(func(s *Snapshot) *[]corev1.Pod { return &s.Pods })},
		{KindServiceAccount, "", []string{"v1"}, "serviceaccounts", true, appender(func(s *Snapshot) *[]corev1.ServiceAccount { return &s.ServiceAccounts })},
		{KindService, "", []string{"v1"}, "services", true, appender(func(s *Snapshot) *[]corev1.Service { return &s.Services })},
		{KindReplicationController, "", []string{"v1"}, "replicationcontrollers", true, appender(func(s *Snapshot) *[]corev1.ReplicationController { return &s.ReplicationControllers })},
		{KindDeployment, "apps", []string{"v1", "v1beta2", "v1beta1"}, "deployments", true, appender(func(s *Snapshot) *[]appsv1.Deployment { return &s.Deployments })},
		{KindReplicaSet, "apps", []string{"v1", "v1beta2"}, "replicasets", true, appender(func(s *Snapshot) *[]appsv1.ReplicaSet { return &s.ReplicaSets })},
		{KindStatefulSet, "apps", []string{"v1", "v1beta2", "v1beta1"}, "statefulsets", true, appender(func(s *Snapshot) *[]appsv1.StatefulSet { return &s.StatefulSets })},
		{KindDaemonSet, "apps", []string{"v1", "v1beta2"}, "daemonsets", true, appender(func(s *Snapshot) *[]appsv1.DaemonSet { return &s.DaemonSets })},
		{KindJob, "batch", []string{"v1"}, "jobs", true, appender(func(s *Snapshot) *[]batchv1.Job { return &s.Jobs })},
		{KindCronJob, "batch", []string{"v1", "v1beta1"}, "cronjobs", true, appender(func(s *Snapshot) *[]batchv1.CronJob { return &s.CronJobs })},
		{KindIngress, "networking.k8s.io", []string{"v1"}, "ingresses", true, appender(func(s *Snapshot) *[]networkingv1.Ingress { return &s.Ingresses })},
		{KindNetworkPolicy, "networking.k8s.io", []string{"v1"}, "networkpolicies", true, appender(func(s *Snapshot) *[]networkingv1.NetworkPolicy { return &s.NetworkPolicies })},
		{KindRole, "rbac.authorization.k8s.io", []string{"v1", "v1beta1"}, "roles", true, appender(func(s *Snapshot) *[]rbacv1.Role { return &s.Roles })},
		{KindClusterRole, "rbac.authorization.k8s.io", []string{"v1", "v1beta1"}, "clusterroles", false, appender(func(s *Snapshot) *[]rbacv1.ClusterRole { return &s.ClusterRoles })},
		{KindRoleBinding, "rbac.authorization.k8s.io", []string{"v1", "v1beta1"}, "rolebindings", true, appender(func(s *Snapshot) *[]rbacv1.RoleBinding { return &s.RoleBindings })},
		{KindClusterRoleBinding, "rbac.authorization.k8s.io", []string{"v1", "v1beta1"}, "clusterrolebindings", false, appender(func(s *Snapshot) *[]rbacv1.ClusterRoleBinding { return &s.ClusterRoleBindings })},
		{KindValidatingWebhookConfiguration, "admissionregistration.k8s.io", []string{"v1"}, "validatingwebhookconfigurations", false,
			appender(func(s *Snapshot) *[]admissionregistrationv1.ValidatingWebhookConfiguration {
				return &s.ValidatingWebhookConfigurations
			})},
		{KindMutatingWebhookConfiguration, "admissionregistration.k8s.io", []string{"v1"}, "mutatingwebhookconfigurations", false,
			appender(func(s *Snapshot) *[]admissionregistrationv1.MutatingWebhookConfiguration {
				return &s.MutatingWebhookConfigurations
			})},
	}
}

// lookupKind returns the kind apiVersion and kind name, if the Snapshot
// holds it by type. An apiVersion of a known group and kind but an
// unknown version is an error: its fields may differ.
func lookupKind(apiVersion, kind string) (kindInfo, bool, error) {
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group, version = "", apiVersion
	}
	for _, k := range kinds() {
		if string(k.kind) != kind || k.group != group {
			continue
		}
		for _, v := range k.versions {
			if v == version {
				return k, true, nil
			}
		}
		return kindInfo{}, false, fmt.Errorf("%s %s: unsupported API version (want %s/%s)", apiVersion, kind, k.group, strings.Join(k.versions, ", "))
	}
	return kindInfo{}, false, nil
}

// AllKinds returns every Kind a Snapshot holds by type.
func AllKinds() []Kind {
	var out []Kind
	for _, k := range kinds() {
		out = append(out, k.kind)
	}
	return out
}

// RBACKinds returns the kinds RBAC analysis reads: the RBAC objects, the
// namespaces and the service accounts.
func RBACKinds() []Kind {
	return []Kind{KindNamespace, KindServiceAccount, KindRole, KindClusterRole, KindRoleBinding, KindClusterRoleBinding}
}
