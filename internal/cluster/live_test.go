package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubeshield/kubeshield/internal/controlplane"
	"github.com/kubeshield/kubeshield/internal/fixture"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.StopControlPlane()
	os.Exit(code)
}

// liveClient returns an admin client of the shared control plane and
// the control plane.
func liveClient(t *testing.T) (kubernetes.Interface, *controlplane.ControlPlane) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the test control plane")
	}
	cp := fixture.ControlPlane(t)
	cfg, _, err := RESTConfig(cp.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs, cp
}

// TestLoadLive creates objects of several kinds and loads them back, in
// pages of one object and of the default size.
func TestLoadLive(t *testing.T) {
	cs, _ := liveClient(t)
	ctx := context.Background()
	ns := fmt.Sprintf("live-%d", time.Now().UnixNano())
	create := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	create(err)
	for i := range 3 {
		_, err = cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sa-%d", i)}}, metav1.CreateOptions{})
		create(err)
	}
	_, err = cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}}, metav1.CreateOptions{})
	create(err)
	_, err = cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "sa-0", Namespace: ns}}}, metav1.CreateOptions{})
	create(err)
	one := int32(1)
	labels := map[string]string{"app": "web"}
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.example.com/web:1"}}}}}}, metav1.CreateOptions{})
	create(err)

	all, err := LoadLive(ctx, cs, LiveOptions{})
	if err != nil {
		t.Fatalf("LoadLive: %v", err)
	}
	paged, err := LoadLive(ctx, cs, LiveOptions{PageSize: 1})
	if err != nil {
		t.Fatalf("LoadLive(page 1): %v", err)
	}
	if a, p := names(all), names(paged); !slices.Equal(a, p) {
		t.Errorf("pages of 1 and of %d differ: %d vs %d objects", DefaultPageSize, len(p), len(a))
	}
	got := strings.Join(names(all), "\n") + "\n"
	for _, want := range []string{
		"Namespace " + ns, "ServiceAccount " + ns + "/sa-2", "Role " + ns + "/reader", "RoleBinding " + ns + "/reader",
		"Deployment " + ns + "/web", "ClusterRole cluster-admin", "ClusterRoleBinding cluster-admin",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("LoadLive lacks %q", want)
		}
	}
	if len(all.ClusterRoles) < 2 {
		t.Errorf("%d cluster roles; want the bootstrap ones (several pages of 1)", len(all.ClusterRoles))
	}
	if src, ok := all.Source(KindRoleBinding, ns, "reader"); !ok || src.String() != "api" {
		t.Errorf("Source(RoleBinding) = %v, %v; want api", src, ok)
	}

	one2, err := LoadLive(ctx, cs, LiveOptions{Kinds: []Kind{KindServiceAccount}, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if len(one2.ServiceAccounts) != 3 || len(one2.Roles) != 0 || len(one2.Namespaces) != 0 {
		t.Errorf("LoadLive(ServiceAccounts in %s) = %q; want 3 service accounts only", ns, names(one2))
	}
	if _, err := LoadLive(ctx, cs, LiveOptions{Kinds: []Kind{"Gadget"}}); err == nil {
		t.Error("LoadLive(unknown kind): no error")
	}
}

// TestLoadLiveForbidden: a user who may list only roles and rolebindings
// in one namespace gets an error naming every other list the RBAC kinds
// need, not a partial snapshot.
func TestLoadLiveForbidden(t *testing.T) {
	cs, cp := liveClient(t)
	ctx := context.Background()
	ns := fmt.Sprintf("forbidden-%d", time.Now().UnixNano())
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "rbac-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles", "rolebindings"}, Verbs: []string{"list"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "auditor"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "rbac-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "auditor"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := cp.ClientCertificate("auditor")
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := kubernetes.NewForConfig(&rest.Config{Host: cp.URL, TLSClientConfig: rest.TLSClientConfig{CAData: cp.CA, CertData: certPEM, KeyData: keyPEM}})
	if err != nil {
		t.Fatal(err)
	}
	// The RBAC change takes effect when the authorizer's cache sees it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := LoadLive(ctx, auditor, LiveOptions{Kinds: []Kind{KindRole, KindRoleBinding}, Namespace: ns})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("LoadLive(roles, rolebindings in %s) as auditor: %v", ns, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	snap, err := LoadLive(ctx, auditor, LiveOptions{Kinds: RBACKinds(), Namespace: ns})
	if snap != nil || err == nil {
		t.Fatalf("LoadLive(RBAC kinds) as auditor = %v, %v; want an error", snap, err)
	}
	var forbidden []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *ForbiddenError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a *ForbiddenError", e)
		}
		forbidden = append(forbidden, fe.Resource.String())
	}
	want := []string{"namespaces", "serviceaccounts", "clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io"}
	if !slices.Equal(forbidden, want) {
		t.Errorf("forbidden lists = %q; want %q\n%v", forbidden, want, err)
	}
}
