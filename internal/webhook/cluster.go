package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	kauth "github.com/google/go-containerregistry/pkg/authn/kubernetes"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/kubeshield/kubeshield/internal/admission"
)

// NamespaceCache gives the policies namespace labels from an informer's
// cache (list and watch on namespaces), asking the API server directly for
// a namespace the cache does not hold yet. It implements
// admission.NamespaceLabeler.
type NamespaceCache struct {
	cs      kubernetes.Interface
	factory informers.SharedInformerFactory
	lister  corelisters.NamespaceLister
	synced  cache.InformerSynced
}

// NewNamespaceCache returns a cache over cs; Start begins filling it.
func NewNamespaceCache(cs kubernetes.Interface) *NamespaceCache {
	f := informers.NewSharedInformerFactory(cs, 10*time.Minute)
	inf := f.Core().V1().Namespaces()
	return &NamespaceCache{cs: cs, factory: f, lister: inf.Lister(), synced: inf.Informer().HasSynced}
}

// Start runs the informer until ctx ends.
func (c *NamespaceCache) Start(ctx context.Context) { c.factory.Start(ctx.Done()) }

// Synced reports, as an error, whether the cache holds every namespace yet.
func (c *NamespaceCache) Synced() error {
	if !c.synced() {
		return errors.New("namespace cache not synced")
	}
	return nil
}

// NamespaceLabels implements admission.NamespaceLabeler. A namespace that
// does not exist has nil labels.
func (c *NamespaceCache) NamespaceLabels(ctx context.Context, name string) (map[string]string, error) {
	if name == "" {
		return nil, nil
	}
	if ns, err := c.lister.Get(name); err == nil {
		return ns.Labels, nil
	}
	ns, err := c.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get namespace %s: %w", name, err)
	}
	return ns.Labels, nil
}

var _ admission.NamespaceLabeler = (*NamespaceCache)(nil)

// PullSecrets returns the registry credentials of a request, as the
// kubelet would use them: the image pull secrets of the pod and of its
// service account (needs get on serviceaccounts and secrets), then the
// anonymous keychain.
func PullSecrets(cs kubernetes.Interface) func(ctx context.Context, r *admission.Request) (authn.Keychain, error) {
	return func(ctx context.Context, r *admission.Request) (authn.Keychain, error) {
		if r.Pod == nil || r.Namespace == "" {
			return authn.DefaultKeychain, nil
		}
		sa := r.Pod.Spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		var secrets []string
		for _, s := range r.Pod.Spec.ImagePullSecrets {
			secrets = append(secrets, s.Name)
		}
		kc, err := kauth.New(ctx, cs, kauth.Options{Namespace: r.Namespace, ServiceAccountName: sa, ImagePullSecrets: secrets})
		if err != nil {
			return nil, fmt.Errorf("image pull secrets of %s/%s: %w", r.Namespace, sa, err)
		}
		return authn.NewMultiKeychain(kc, authn.DefaultKeychain), nil
	}
}

// SharedCA returns the CA kept in the Secret namespace/name, creating it
// when it does not exist, so that every replica of the webhook serves
// certificates of the same CA (the caBundle is one). It needs get on that
// Secret and create on secrets in namespace.
func SharedCA(ctx context.Context, cs kubernetes.Interface, namespace, name string, validity time.Duration) (*CA, error) {
	for attempt := 0; attempt < 3; attempt++ {
		s, err := cs.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return ParseCA(s.Data["ca.crt"], s.Data["ca.key"])
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("get CA secret %s/%s: %w", namespace, name, err)
		}
		ca, err := NewCA("kubeshield-webhook-ca", validity)
		if err != nil {
			return nil, err
		}
		keyPEM, err := ca.KeyPEM()
		if err != nil {
			return nil, err
		}
		_, err = cs.CoreV1().Secrets(namespace).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/name": "kubeshield"}},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{"ca.crt": ca.Cert, "ca.key": keyPEM},
		}, metav1.CreateOptions{})
		if err == nil {
			return ca, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create CA secret %s/%s: %w", namespace, name, err)
		}
		// Another replica created it first: read theirs.
	}
	return nil, fmt.Errorf("CA secret %s/%s: gave up after concurrent creations", namespace, name)
}
