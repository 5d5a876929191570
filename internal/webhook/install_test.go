package webhook

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubeshield/kubeshield/internal/admission"
	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/fixture"
)

func TestManifestsOptions(t *testing.T) {
	for _, mod := range []func(*InstallOptions){
		func(o *InstallOptions) { o.Image = "" },
		func(o *InstallOptions) { o.Replicas = 0 },
		func(o *InstallOptions) { o.TimeoutSeconds = 31 },
		func(o *InstallOptions) { o.ValidatingFailurePolicy = "Sometimes" },
	} {
		o := DefaultInstallOptions()
		mod(&o)
		if _, err := Manifests(o); err == nil {
			t.Errorf("Manifests(%+v): no error", o)
		}
	}
	objs, err := Manifests(DefaultInstallOptions())
	if err != nil {
		t.Fatal(err)
	}
	y, err := YAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	// The manifests read back as the same objects.
	snap, err := cluster.LoadFiles(context.Background(), []string{"-"}, cluster.FileOptions{Stdin: bytes.NewReader(y)})
	if err != nil {
		t.Fatalf("LoadFiles(manifests): %v", err)
	}
	if len(snap.Deployments) != 1 || len(snap.ValidatingWebhookConfigurations) != 1 || len(snap.MutatingWebhookConfigurations) != 1 ||
		len(snap.ClusterRoles) != 1 || len(snap.Services) != 1 {
		t.Errorf("manifests hold %d deployments, %d/%d webhook configurations, %d cluster roles, %d services",
			len(snap.Deployments), len(snap.ValidatingWebhookConfigurations), len(snap.MutatingWebhookConfigurations), len(snap.ClusterRoles), len(snap.Services))
	}
	// The default configuration is valid.
	if _, err := admission.ParseConfig([]byte(DefaultConfig)); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
	for _, want := range []string{"kubernetes.io/metadata.name", "kube-system", "failurePolicy: Fail", "failurePolicy: Ignore", "timeoutSeconds: 5",
		"readOnlyRootFilesystem: true", "runAsNonRoot: true", "minAvailable: 1", "system:node:"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("manifests lack %q", want)
		}
	}
}

// TestManifestsDryRun has the real API server validate every object
// (server-side dry run), so the manifests are known to apply.
func TestManifestsDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane")
	}
	_, cs := fixture.ControlPlaneClient(t)
	o := DefaultInstallOptions()
	o.Namespace = fmt.Sprintf("ks-install-%d", time.Now().UnixNano())
	o.Name = o.Namespace
	objs, err := Manifests(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	for _, obj := range objs {
		var err error
		switch v := obj.(type) {
		case *corev1.Namespace:
			_, err = cs.CoreV1().Namespaces().Create(ctx, v, metav1.CreateOptions{}) // real: the rest lives in it
		case *corev1.ServiceAccount:
			_, err = cs.CoreV1().ServiceAccounts(v.Namespace).Create(ctx, v, dry)
		case *corev1.Service:
			_, err = cs.CoreV1().Services(v.Namespace).Create(ctx, v, dry)
		case *rbacv1.ClusterRole:
			_, err = cs.RbacV1().ClusterRoles().Create(ctx, v, dry)
		case *rbacv1.ClusterRoleBinding:
			_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, v, dry)
		case *rbacv1.Role:
			_, err = cs.RbacV1().Roles(v.Namespace).Create(ctx, v, dry)
		case *rbacv1.RoleBinding:
			_, err = cs.RbacV1().RoleBindings(v.Namespace).Create(ctx, v, dry)
		case *corev1.ConfigMap:
			_, err = cs.CoreV1().ConfigMaps(v.Namespace).Create(ctx, v, dry)
		case *appsv1.Deployment:
			_, err = cs.AppsV1().Deployments(v.Namespace).Create(ctx, v, dry)
		case *policyv1.PodDisruptionBudget:
			_, err = cs.PolicyV1().PodDisruptionBudgets(v.Namespace).Create(ctx, v, dry)
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			_, err = cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, v, dry)
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			_, err = cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, v, dry)
		default:
			t.Fatalf("unexpected object %T", obj)
		}
		if err != nil {
			t.Errorf("create %s: %v", describe(obj), err)
		}
	}
}

func describe(obj runtime.Object) string {
	m, _ := obj.(metav1.Object)
	return fmt.Sprintf("%T %s/%s", obj, m.GetNamespace(), m.GetName())
}

// TestApply creates the manifests in the real API server, then applies
// them again (updates, the ConfigMap kept), and removes the webhook
// configurations so they cannot affect other tests.
func TestApply(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane")
	}
	_, cs := fixture.ControlPlaneClient(t)
	o := DefaultInstallOptions()
	o.Namespace = fmt.Sprintf("ks-apply-%d", time.Now().UnixNano())
	o.Name = o.Namespace
	// Nothing of this test's may block other tests' requests.
	o.ValidatingFailurePolicy, o.MutatingFailurePolicy = admissionregistrationv1.Ignore, admissionregistrationv1.Ignore
	objs, err := Manifests(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name := o.Name + "-webhook"
	t.Cleanup(func() {
		_ = cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, name, metav1.DeleteOptions{})
		_ = cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(ctx, name, metav1.DeleteOptions{})
	})
	done, err := Apply(ctx, cs, objs)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(done) != len(objs) || !strings.HasPrefix(done[0], "created Namespace") {
		t.Errorf("first Apply = %q", done)
	}
	objs, _ = Manifests(o)
	done, err = Apply(ctx, cs, objs)
	if err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	joined := strings.Join(done, "\n")
	if !strings.Contains(joined, "updated Deployment") || !strings.Contains(joined, "kept ConfigMap") || strings.Contains(joined, "created") {
		t.Errorf("second Apply = %q", done)
	}
}
