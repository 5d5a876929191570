package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultPageSize is the page size of LoadLive's list calls.
const DefaultPageSize = 500

// LiveOptions tune LoadLive.
type LiveOptions struct {
	// Kinds are the kinds to list; empty means AllKinds. List only what
	// the engine needs: each kind is a list permission (RBACKinds for
	// RBAC analysis).
	Kinds []Kind
	// Namespace restricts the lists of namespaced kinds to one
	// namespace; empty means all namespaces.
	Namespace string
	// PageSize is the limit of each list call; 0 means DefaultPageSize.
	PageSize int64
}

// ForbiddenError means the credentials may not list a resource that was
// asked for. LoadLive reports every such list, joined, rather than
// returning a Snapshot that silently lacks them.
type ForbiddenError struct {
	// Resource is the resource, as in "clusterroles.rbac.authorization.k8s.io".
	Resource schema.GroupResource
	// Namespace is the namespace listed; empty for all namespaces or a
	// cluster-scoped resource.
	Namespace string
	// Err is the API server's answer.
	Err error
}

// Error implements error.
func (e *ForbiddenError) Error() string {
	where := "in all namespaces"
	if e.Namespace != "" {
		where = "in namespace " + e.Namespace
	}
	return fmt.Sprintf("list %s %s: forbidden (grant list on it, or load from files): %v", e.Resource, where, e.Err)
}

// Unwrap returns the API server's answer.
func (e *ForbiddenError) Unwrap() error { return e.Err }

// LoadLive lists the kinds asked for from the API server behind cs, page
// by page, into a Snapshot; every object's Source is "api".
//
// Errors: a *ForbiddenError per forbidden list, joined with errors.Join
// (nothing is skipped silently); any other API or transport error, naming
// the resource; ctx's error. An unknown Kind is an error.
func LoadLive(ctx context.Context, cs kubernetes.Interface, opts LiveOptions) (*Snapshot, error) {
	want := opts.Kinds
	if len(want) == 0 {
		want = AllKinds()
	}
	page := opts.PageSize
	if page <= 0 {
		page = DefaultPageSize
	}
	for _, k := range want {
		if _, ok := lookupKindName(k); !ok {
			return nil, fmt.Errorf("load %s: unknown kind", k)
		}
	}
	snap := &Snapshot{}
	var forbidden []error
	for _, k := range kinds() {
		if !slices.Contains(want, k.kind) {
			continue
		}
		ns := ""
		if k.namespaced {
			ns = opts.Namespace
		}
		err := listKind(ctx, cs, k.kind, ns, page, snap)
		switch {
		case err == nil:
		case apierrors.IsForbidden(err):
			forbidden = append(forbidden, &ForbiddenError{Resource: k.GroupResource(), Namespace: ns, Err: err})
		default:
			return nil, fmt.Errorf("list %s: %w", k.GroupResource(), err)
		}
	}
	if len(forbidden) > 0 {
		return nil, errors.Join(forbidden...)
	}
	return snap, nil
}

func lookupKindName(k Kind) (kindInfo, bool) {
	for _, ki := range kinds() {
		if ki.kind == k {
			return ki, true
		}
	}
	return kindInfo{}, false
}

// paginate calls list with Limit and Continue until the server has no
// more pages, handing each item to add.
func paginate[T any, L runtime.Object](ctx context.Context, page int64, list func(context.Context, metav1.ListOptions) (L, error), add func(T)) error {
	opts := metav1.ListOptions{Limit: page}
	for {
		l, err := list(ctx, opts)
		if err != nil {
			return err
		}
		objs, err := meta.ExtractList(l)
		if err != nil {
			return err
		}
		for _, o := range objs {
			t, ok := any(o).(*T)
			if !ok {
				return fmt.Errorf("list item of type %T", o)
			}
			add(*t)
		}
		lm, err := meta.ListAccessor(l)
		if err != nil {
			return err
		}
		if lm.GetContinue() == "" {
			return nil
		}
		opts.Continue = lm.GetContinue()
	}
}

// appendTo returns a function that appends an object to dst and records
// that it came from the API server.
func appendTo[T any, PT interface {
	*T
	GetNamespace() string
	GetName() string
}](snap *Snapshot, dst *[]T, k Kind) func(T) {
	return func(t T) {
		*dst = append(*dst, t)
		p := PT(&t)
		snap.setSource(k, p.GetNamespace(), p.GetName(), Source{})
	}
}

// listKind lists one kind into snap.
func listKind(ctx context.Context, cs kubernetes.Interface, k Kind, ns string, page int64, snap *Snapshot) error {
	core, apps, batch, net, rbac, adm := cs.CoreV1(), cs.AppsV1(), cs.BatchV1(), cs.NetworkingV1(), cs.RbacV1(), cs.AdmissionregistrationV1()
	switch k {
	case KindNamespace:
		return paginate(ctx, page, core.Namespaces().List, appendTo[corev1.Namespace](snap, &snap.Namespaces, k))
	case KindNode:
		return paginate(ctx, page, core.Nodes().List, appendTo[corev1.Node](snap, &snap.Nodes, k))
	case KindPod:
		return paginate(ctx, page, core.Pods(ns).List, appendTo[corev1.Pod](snap, &snap.Pods, k))
	case KindServiceAccount:
		return paginate(ctx, page, core.ServiceAccounts(ns).List, appendTo[corev1.ServiceAccount](snap, &snap.ServiceAccounts, k))
	case KindService:
		return paginate(ctx, page, core.Services(ns).List, appendTo[corev1.Service](snap, &snap.Services, k))
	case KindReplicationController:
		return paginate(ctx, page, core.ReplicationControllers(ns).List, appendTo[corev1.ReplicationController](snap, &snap.ReplicationControllers, k))
	case KindDeployment:
		return paginate(ctx, page, apps.Deployments(ns).List, appendTo[appsv1.Deployment](snap, &snap.Deployments, k))
	case KindReplicaSet:
		return paginate(ctx, page, apps.ReplicaSets(ns).List, appendTo[appsv1.ReplicaSet](snap, &snap.ReplicaSets, k))
	case KindStatefulSet:
		return paginate(ctx, page, apps.StatefulSets(ns).List, appendTo[appsv1.StatefulSet](snap, &snap.StatefulSets, k))
	case KindDaemonSet:
		return paginate(ctx, page, apps.DaemonSets(ns).List, appendTo[appsv1.DaemonSet](snap, &snap.DaemonSets, k))
	case KindJob:
		return paginate(ctx, page, batch.Jobs(ns).List, appendTo[batchv1.Job](snap, &snap.Jobs, k))
	case KindCronJob:
		return paginate(ctx, page, batch.CronJobs(ns).List, appendTo[batchv1.CronJob](snap, &snap.CronJobs, k))
	case KindIngress:
		return paginate(ctx, page, net.Ingresses(ns).List, appendTo[networkingv1.Ingress](snap, &snap.Ingresses, k))
	case KindNetworkPolicy:
		return paginate(ctx, page, net.NetworkPolicies(ns).List, appendTo[networkingv1.NetworkPolicy](snap, &snap.NetworkPolicies, k))
	case KindRole:
		return paginate(ctx, page, rbac.Roles(ns).List, appendTo[rbacv1.Role](snap, &snap.Roles, k))
	case KindClusterRole:
		return paginate(ctx, page, rbac.ClusterRoles().List, appendTo[rbacv1.ClusterRole](snap, &snap.ClusterRoles, k))
	case KindRoleBinding:
		return paginate(ctx, page, rbac.RoleBindings(ns).List, appendTo[rbacv1.RoleBinding](snap, &snap.RoleBindings, k))
	case KindClusterRoleBinding:
		return paginate(ctx, page, rbac.ClusterRoleBindings().List, appendTo[rbacv1.ClusterRoleBinding](snap, &snap.ClusterRoleBindings, k))
	case KindValidatingWebhookConfiguration:
		return paginate(ctx, page, adm.ValidatingWebhookConfigurations().List, appendTo[admissionregistrationv1.ValidatingWebhookConfiguration](snap, &snap.ValidatingWebhookConfigurations, k))
	case KindMutatingWebhookConfiguration:
		return paginate(ctx, page, adm.MutatingWebhookConfigurations().List, appendTo[admissionregistrationv1.MutatingWebhookConfiguration](snap, &snap.MutatingWebhookConfigurations, k))
	}
	return fmt.Errorf("unknown kind %s", k)
}

// RESTConfig returns the client configuration kubectl would use: the
// kubeconfig file (kubeconfig if set, else $KUBECONFIG, else
// ~/.kube/config) and its context (context if set, else the current one),
// or the in-cluster configuration when no kubeconfig exists and the
// process runs in a pod. It also returns the context's namespace
// ("default" when it names none).
//
// Errors: no configuration found, or a kubeconfig that does not load or
// lacks the context.
func RESTConfig(kubeconfig, context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes client configuration: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes client namespace: %w", err)
	}
	cfg.UserAgent = "kubeshield"
	// client-go's default of 5 requests a second makes paginated lists of
	// a big cluster crawl; these are kubectl's limits.
	cfg.QPS, cfg.Burst = 50, 300
	return cfg, ns, nil
}
