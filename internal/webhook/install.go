package webhook

import (
	"bytes"
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/kubeshield/kubeshield/internal/workload"
)

// InstallOptions describe a webhook deployment.
type InstallOptions struct {
	// Namespace is Kubeshield's own namespace (never sent to its
	// webhooks).
	Namespace string
	// Name prefixes every object ("kubeshield").
	Name string
	// Image is the Kubeshield image, by digest in production.
	Image string
	// Replicas of the webhook Deployment (at least 2 keeps it up while a
	// node drains).
	Replicas int32
	// ConfigMap holds the policy configuration file (config.yaml).
	ConfigMap string
	// TimeoutSeconds is the webhooks' timeout (1 to 30).
	TimeoutSeconds int32
	// ValidatingFailurePolicy is Fail (deny when the webhook cannot
	// answer: safe) or Ignore (admit: available).
	ValidatingFailurePolicy admissionregistrationv1.FailurePolicyType
	// MutatingFailurePolicy is the mutating webhook's; Ignore by default,
	// since the validating webhook still verifies what it would pin.
	MutatingFailurePolicy admissionregistrationv1.FailurePolicyType
	// ExcludedNamespaces are never sent to the webhooks, besides
	// Namespace and kube-system.
	ExcludedNamespaces []string
}

// DefaultInstallOptions returns the defaults `kubeshield webhook install`
// uses.
func DefaultInstallOptions() InstallOptions {
	return InstallOptions{
		Namespace:               "kubeshield",
		Name:                    "kubeshield",
		Image:                   "ghcr.io/kubeshield/kubeshield:latest",
		Replicas:                2,
		ConfigMap:               "kubeshield-policy",
		TimeoutSeconds:          5,
		ValidatingFailurePolicy: admissionregistrationv1.Fail,
		MutatingFailurePolicy:   admissionregistrationv1.Ignore,
	}
}

// Port is the webhook's HTTPS port in its pod.
const Port = 8443

// ConfigFile is the policy configuration's key in the ConfigMap and its
// file name in the webhook's pod (mounted at ConfigDir).
const (
	ConfigFile = "config.yaml"
	ConfigDir  = "/etc/kubeshield"
)

// DefaultConfig is the policy configuration `webhook install` starts
// with: Pod Security baseline enforced and restricted warned (namespace
// labels win), runtime sockets denied, latest tags warned.
const DefaultConfig = `apiVersion: kubeshield.dev/v1alpha1
kind: AdmissionConfig
defaults:
  failurePolicy: Fail
  timeout: 2s
podSecurity:
  enforce: baseline
  warn: restricted
runtimeSockets: {}
images:
  mode: warn
  forbidLatest: true
`

// Manifests returns the objects that run the webhook, in apply order:
// Namespace, ServiceAccount, ClusterRole and ClusterRoleBinding (read
// namespaces, pods' service accounts and pull secrets; update only its own
// webhook configurations, for the caBundle), Role and RoleBinding (the
// Secret of the CA its replicas share), the ConfigMap of the policy
// configuration (DefaultConfig; edit it, the webhook reloads it),
// Deployment (anti-affinity across nodes, restricted security
// context, read-only root filesystem, probes), PodDisruptionBudget,
// Service, and the validating and mutating webhook configurations (short
// timeouts, a failure policy each, Kubeshield's namespace and kube-system
// excluded, node requests skipped by a matchCondition). Errors: invalid
// options.
func Manifests(o InstallOptions) ([]runtime.Object, error) {
	switch {
	case o.Namespace == "" || o.Name == "" || o.Image == "" || o.ConfigMap == "":
		return nil, errors.New("webhook install: namespace, name, image and config map are required")
	case o.Replicas < 1:
		return nil, errors.New("webhook install: replicas must be at least 1")
	case o.TimeoutSeconds < 1 || o.TimeoutSeconds > 30:
		return nil, fmt.Errorf("webhook install: timeout %ds: want 1 to 30", o.TimeoutSeconds)
	}
	for _, fp := range []admissionregistrationv1.FailurePolicyType{o.ValidatingFailurePolicy, o.MutatingFailurePolicy} {
		if fp != admissionregistrationv1.Fail && fp != admissionregistrationv1.Ignore {
			return nil, fmt.Errorf("webhook install: failure policy %q: want Fail or Ignore", fp)
		}
	}
	labels := map[string]string{"app.kubernetes.io/name": "kubeshield", "app.kubernetes.io/component": "webhook"}
	meta := func(name string, namespaced bool) metav1.ObjectMeta {
		m := metav1.ObjectMeta{Name: name, Labels: labels}
		if namespaced {
			m.Namespace = o.Namespace
		}
		return m
	}
	webhookName := o.Name + "-webhook"
	service := webhookName
	excluded := append([]string{o.Namespace, "kube-system"}, o.ExcludedNamespaces...)

	objs := []runtime.Object{
		&corev1.Namespace{TypeMeta: tm("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: o.Namespace, Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted",
		}}},
		&corev1.ServiceAccount{TypeMeta: tm("v1", "ServiceAccount"), ObjectMeta: meta(webhookName, true)},
		&rbacv1.ClusterRole{TypeMeta: tm("rbac.authorization.k8s.io/v1", "ClusterRole"), ObjectMeta: meta(webhookName, false), Rules: []rbacv1.PolicyRule{
			// Namespace labels decide Pod Security levels.
			{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"}},
			// A pod's service account's image pull secrets, and the
			// secrets themselves, to verify images in private registries.
			{APIGroups: []string{""}, Resources: []string{"serviceaccounts", "secrets"}, Verbs: []string{"get"}},
			// Its own webhook configurations: the caBundle of its CA.
			{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"validatingwebhookconfigurations", "mutatingwebhookconfigurations"},
				ResourceNames: []string{webhookName}, Verbs: []string{"get", "update"}},
		}},
		&rbacv1.ClusterRoleBinding{TypeMeta: tm("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ObjectMeta: meta(webhookName, false),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: webhookName},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: webhookName, Namespace: o.Namespace}}},
		// The CA the replicas share (SharedCA): read it, or create it once.
		&rbacv1.Role{TypeMeta: tm("rbac.authorization.k8s.io/v1", "Role"), ObjectMeta: meta(webhookName, true), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{webhookName + "-ca"}, Verbs: []string{"get"}},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
		}},
		&rbacv1.RoleBinding{TypeMeta: tm("rbac.authorization.k8s.io/v1", "RoleBinding"), ObjectMeta: meta(webhookName, true),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: webhookName},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: webhookName, Namespace: o.Namespace}}},
		&corev1.ConfigMap{TypeMeta: tm("v1", "ConfigMap"), ObjectMeta: meta(o.ConfigMap, true), Data: map[string]string{
			ConfigFile: DefaultConfig,
		}},
		deployment(o, meta(webhookName, true), labels, webhookName),
		&policyv1.PodDisruptionBudget{TypeMeta: tm("policy/v1", "PodDisruptionBudget"), ObjectMeta: meta(webhookName, true),
			Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels}}},
		&corev1.Service{TypeMeta: tm("v1", "Service"), ObjectMeta: meta(service, true), Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(Port)}},
		}},
	}

	rules := []admissionregistrationv1.RuleWithOperations{}
	for _, k := range workload.Kinds() {
		rules = append(rules, admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{k.Group}, APIVersions: []string{"*"}, Resources: []string{k.Resource},
				Scope: ptr(admissionregistrationv1.NamespacedScope)},
		})
	}
	nsSelector := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: excluded,
	}}}
	conditions := []admissionregistrationv1.MatchCondition{
		// The kubelet's mirror-pod and status requests are not workloads
		// anyone submits.
		{Name: "not-a-node", Expression: "!request.userInfo.username.startsWith('system:node:')"},
	}
	sideEffects := admissionregistrationv1.SideEffectClassNone
	clientConfig := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
			Namespace: o.Namespace, Name: service, Path: ptr(path), Port: ptr(int32(443)),
		}}
	}
	objs = append(objs,
		&admissionregistrationv1.MutatingWebhookConfiguration{TypeMeta: tm("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
			ObjectMeta: meta(webhookName, false),
			Webhooks: []admissionregistrationv1.MutatingWebhook{{
				Name: "mutate.kubeshield.dev", ClientConfig: clientConfig("/mutate"), Rules: rules,
				FailurePolicy: ptr(o.MutatingFailurePolicy), SideEffects: &sideEffects, TimeoutSeconds: ptr(o.TimeoutSeconds),
				NamespaceSelector: nsSelector, MatchConditions: conditions, AdmissionReviewVersions: []string{"v1"},
				ReinvocationPolicy: ptr(admissionregistrationv1.IfNeededReinvocationPolicy),
			}},
		},
		&admissionregistrationv1.ValidatingWebhookConfiguration{TypeMeta: tm("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
			ObjectMeta: meta(webhookName, false),
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name: "validate.kubeshield.dev", ClientConfig: clientConfig("/validate"), Rules: rules,
				FailurePolicy: ptr(o.ValidatingFailurePolicy), SideEffects: &sideEffects, TimeoutSeconds: ptr(o.TimeoutSeconds),
				NamespaceSelector: nsSelector, MatchConditions: conditions, AdmissionReviewVersions: []string{"v1"},
			}},
		},
	)
	return objs, nil
}

// deployment is the webhook's Deployment.
func deployment(o InstallOptions, meta metav1.ObjectMeta, labels map[string]string, name string) *appsv1.Deployment {
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: path, Port: intstr.FromInt32(Port), Scheme: corev1.URISchemeHTTPS,
		}}, PeriodSeconds: 5, TimeoutSeconds: 2}
	}
	return &appsv1.Deployment{TypeMeta: tm("apps/v1", "Deployment"), ObjectMeta: meta, Spec: appsv1.DeploymentSpec{
		Replicas: ptr(o.Replicas),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr(intstr.FromInt32(0)), MaxSurge: ptr(intstr.FromInt32(1)),
		}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			ServiceAccountName:           name,
			AutomountServiceAccountToken: ptr(true), // it reads namespaces and pull secrets
			PriorityClassName:            "system-cluster-critical",
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(65532)), RunAsGroup: ptr(int64(65532)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{
					LabelSelector: &metav1.LabelSelector{MatchLabels: labels}, TopologyKey: "kubernetes.io/hostname",
				}}},
			}},
			Containers: []corev1.Container{{
				Name:  "webhook",
				Image: o.Image,
				Args: []string{"webhook", "serve", "--listen", fmt.Sprintf(":%d", Port), "--self-signed",
					"--service", name, "--namespace", o.Namespace, "--config", ConfigDir + "/" + ConfigFile,
					"--webhook-configuration", name, "--ca-secret", name + "-ca", "--log-format", "json"},
				Ports:          []corev1.ContainerPort{{Name: "https", ContainerPort: Port}},
				ReadinessProbe: probe("/readyz"),
				LivenessProbe:  probe("/healthz"),
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
				},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}, {Name: "config", MountPath: ConfigDir, ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: o.ConfigMap}}}},
			},
		}},
	}}
}

// YAML renders objects as one multi-document YAML stream.
func YAML(objs []runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("render manifest %d: %w", i+1, err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes(), nil
}

func tm(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func ptr[T any](v T) *T { return &v }
