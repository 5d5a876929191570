package webhook

import (
	"context"
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// Apply creates the objects Manifests returns, in order, updating those
// that exist (their resourceVersion taken from the cluster; the caBundle
// of webhook configurations kept). It returns one line per object
// ("created Deployment kubeshield/kubeshield-webhook") and the errors of
// those it could not apply, joined.
func Apply(ctx context.Context, cs kubernetes.Interface, objs []runtime.Object) ([]string, error) {
	var (
		done []string
		errs []error
	)
	for _, obj := range objs {
		verb, err := applyOne(ctx, cs, obj)
		m := obj.(metav1.Object)
		what := fmt.Sprintf("%s %s", obj.GetObjectKind().GroupVersionKind().Kind, m.GetName())
		if m.GetNamespace() != "" {
			what = fmt.Sprintf("%s %s/%s", obj.GetObjectKind().GroupVersionKind().Kind, m.GetNamespace(), m.GetName())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			continue
		}
		done = append(done, verb+" "+what)
	}
	return done, errors.Join(errs...)
}

// upsert creates obj, or on AlreadyExists gets the current one, lets keep
// copy what must survive, and updates.
func upsert[T metav1.Object](ctx context.Context, obj T, create func(context.Context, T, metav1.CreateOptions) (T, error),
	get func(context.Context, string, metav1.GetOptions) (T, error), update func(context.Context, T, metav1.UpdateOptions) (T, error),
	keep func(current, desired T)) (string, error) {
	if _, err := create(ctx, obj, metav1.CreateOptions{}); err == nil {
		return "created", nil
	} else if !apierrors.IsAlreadyExists(err) {
		return "", err
	}
	cur, err := get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	obj.SetResourceVersion(cur.GetResourceVersion())
	if keep != nil {
		keep(cur, obj)
	}
	if _, err := update(ctx, obj, metav1.UpdateOptions{}); err != nil {
		return "", err
	}
	return "updated", nil
}

func applyOne(ctx context.Context, cs kubernetes.Interface, obj runtime.Object) (string, error) {
	core, rbac, apps, adm := cs.CoreV1(), cs.RbacV1(), cs.AppsV1(), cs.AdmissionregistrationV1()
	switch v := obj.(type) {
	case *corev1.Namespace:
		return upsert(ctx, v, core.Namespaces().Create, core.Namespaces().Get, core.Namespaces().Update, nil)
	case *corev1.ServiceAccount:
		c := core.ServiceAccounts(v.Namespace)
		return upsert(ctx, v, c.Create, c.Get, c.Update, nil)
	case *corev1.ConfigMap:
		// An edited policy configuration is the user's: created, never
		// overwritten.
		if _, err := core.ConfigMaps(v.Namespace).Create(ctx, v, metav1.CreateOptions{}); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return "kept", nil
			}
			return "", err
		}
		return "created", nil
	case *corev1.Service:
		c := core.Services(v.Namespace)
		return upsert(ctx, v, c.Create, c.Get, c.Update, func(cur, want *corev1.Service) {
			want.Spec.ClusterIP, want.Spec.ClusterIPs = cur.Spec.ClusterIP, cur.Spec.ClusterIPs
		})
	case *rbacv1.ClusterRole:
		return upsert(ctx, v, rbac.ClusterRoles().Create, rbac.ClusterRoles().Get, rbac.ClusterRoles().Update, nil)
	case *rbacv1.ClusterRoleBinding:
		return upsert(ctx, v, rbac.ClusterRoleBindings().Create, rbac.ClusterRoleBindings().Get, rbac.ClusterRoleBindings().Update, nil)
	case *rbacv1.Role:
		c := rbac.Roles(v.Namespace)
		return upsert(ctx, v, c.Create, c.Get, c.Update, nil)
	case *rbacv1.RoleBinding:
		c := rbac.RoleBindings(v.Namespace)
		return upsert(ctx, v, c.Create, c.Get, c.Update, nil)
	case *appsv1.Deployment:
		c := apps.Deployments(v.Namespace)
		return upsert(ctx, v, c.Create, c.Get, c.Update, nil)
	case *policyv1.PodDisruptionBudget:
		c := cs.PolicyV1().PodDisruptionBudgets(v.Namespace)
		return upsert(ctx, v, c.Create, c.Get, c.Update, nil)
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		c := adm.ValidatingWebhookConfigurations()
		return upsert(ctx, v, c.Create, c.Get, c.Update, func(cur, want *admissionregistrationv1.ValidatingWebhookConfiguration) {
			for i := range want.Webhooks {
				if i < len(cur.Webhooks) {
					want.Webhooks[i].ClientConfig.CABundle = cur.Webhooks[i].ClientConfig.CABundle
				}
			}
		})
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		c := adm.MutatingWebhookConfigurations()
		return upsert(ctx, v, c.Create, c.Get, c.Update, func(cur, want *admissionregistrationv1.MutatingWebhookConfiguration) {
			for i := range want.Webhooks {
				if i < len(cur.Webhooks) {
					want.Webhooks[i].ClientConfig.CABundle = cur.Webhooks[i].ClientConfig.CABundle
				}
			}
		})
	}
	return "", fmt.Errorf("cannot apply %T", obj)
}
