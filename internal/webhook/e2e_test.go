package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeshield/kubeshield/internal/admission"
	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/signature"
)

// e2eRunLabel scopes the test's webhook configurations: only namespaces
// carrying it with this run's value are sent to the webhooks, so a
// failurePolicy Fail webhook that is down cannot block the rest of the
// shared test cluster.
const e2eRunLabel = "e2e.kubeshield.dev/run"

// warningsKey carries a request's *warningRecorder in its context.
type warningsKey struct{}

// warningRecorder collects the admission warnings of one request.
type warningRecorder struct {
	mu   sync.Mutex
	list []string
}

// warningHandler hands each warning to the recorder in the request's
// context (rest.WarningHandlerWithContext).
type warningHandler struct{}

func (warningHandler) HandleWarningHeaderWithContext(ctx context.Context, _ int, _ string, text string) {
	if w, ok := ctx.Value(warningsKey{}).(*warningRecorder); ok {
		w.mu.Lock()
		w.list = append(w.list, text)
		w.mu.Unlock()
	}
}

// withWarnings returns a context that records the warnings of requests
// made with it.
func withWarnings(ctx context.Context) (context.Context, *warningRecorder) {
	w := &warningRecorder{}
	return context.WithValue(ctx, warningsKey{}, w), w
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.list...)
}

// TestWebhookEndToEnd registers Kubeshield's mutating and validating
// webhooks with the real kube-apiserver of the test control plane and
// creates pods and Deployments through client-go: each policy's
// violations are denied with its message, compliant objects and exempt
// namespaces are admitted, a signed image is pinned to its digest, an
// unsigned one is denied, a warn-mode violation is admitted with a
// warning, a dry run is judged and not stored. Then the webhook is
// stopped: failurePolicy Fail rejects requests in the selected
// namespaces, Ignore admits them unchecked, other namespaces never notice.
func TestWebhookEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane and a registry")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cp := fixture.ControlPlane(t)
	restCfg, _, err := cluster.RESTConfig(cp.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	restCfg.WarningHandlerWithContext = warningHandler{}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}

	// 1. Images: app signed with a key (as v1 and latest), unsigned not.
	host := fixture.Registry(t)
	appImg, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	otherImg, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	signedRef := fixture.Push(t, host, "team/app:v1", appImg)
	latestRef := fixture.Push(t, host, "team/app:latest", appImg)
	unsignedRef := fixture.Push(t, host, "team/unsigned:v1", otherImg)
	key, err := signature.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(signedRef)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signature.Sign(ctx, ref, key, signature.SignOptions{})
	if err != nil {
		t.Fatalf("sign %s: %v", signedRef, err)
	}
	digest := sig.Image.DigestStr()
	pub, err := signature.MarshalPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}

	// Namespaces of this run: "base" gets the configured default level
	// (baseline), "priv" and "exempt" are labelled privileged (so only
	// runtimeSockets tells them apart), "other" is not selected.
	run := fmt.Sprintf("ks-e2e-%d", time.Now().UnixNano())
	nsBase, nsPriv, nsExempt, nsOther := run, run+"-priv", run+"-exempt", run+"-other"

	dir := t.TempDir()
	config := fmt.Sprintf(`apiVersion: kubeshield.dev/v1alpha1
kind: AdmissionConfig
podSecurity:
  enforce: baseline
  enforceTemplates: true
runtimeSockets:
  exempt: [%q]
images:
  mode: warn
  forbidLatest: true
signedImages:
  insecure: [%q]
  rules:
  - name: team
    images: [%q]
    keyFile: cosign.pub
`, nsExempt+"/*", host, host+"/team/*")
	if err := os.WriteFile(filepath.Join(dir, "cosign.pub"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := admission.ParseConfig(data)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	bindings, err := parsed.Bindings(ctx, admission.BuildEnv{Dir: dir})
	if err != nil {
		t.Fatalf("Bindings: %v", err)
	}
	eng, err := admission.NewEngine(nil, nil, bindings...)
	if err != nil {
		t.Fatal(err)
	}

	// 2. The webhook over TLS on 127.0.0.1, with a CA of its own.
	ca, err := NewCA("kubeshield-e2e", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writePair(t, ca, t.TempDir(), "localhost")
	certs, err := NewCertReloader(certFile, keyFile, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var decisions bytes.Buffer
	srv := &Server{
		Engine: func() *admission.Engine { return eng },
		Namespaces: admission.NamespaceLabelsFunc(func(ctx context.Context, ns string) (map[string]string, error) {
			n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			return n.Labels, nil
		}),
		Decisions: admission.NewDecisionLog(&lockedBuffer{buf: &decisions}),
		Metrics:   NewMetrics(),
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }() // ends when hs is closed
	t.Cleanup(func() { _ = hs.Close() })
	base := "https://" + ln.Addr().String()

	for _, ns := range []struct {
		name   string
		labels map[string]string
	}{
		{nsBase, map[string]string{e2eRunLabel: run}},
		{nsPriv, map[string]string{e2eRunLabel: run, "pod-security.kubernetes.io/enforce": "privileged"}},
		{nsExempt, map[string]string{e2eRunLabel: run, "pod-security.kubernetes.io/enforce": "privileged"}},
		{nsOther, nil},
	} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.name, Labels: ns.labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create namespace %s: %v", ns.name, err)
		}
		t.Cleanup(func() {
			_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.name, metav1.DeleteOptions{})
		})
	}

	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(5)
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{e2eRunLabel: run}}
	rules := []admissionregistrationv1.RuleWithOperations{
		{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}},
		{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}}},
	}
	clientConfig := func(path string) admissionregistrationv1.WebhookClientConfig {
		u := base + path
		return admissionregistrationv1.WebhookClientConfig{URL: &u, CABundle: ca.Cert}
	}
	adm := cs.AdmissionregistrationV1()
	t.Cleanup(func() {
		_ = adm.ValidatingWebhookConfigurations().Delete(context.Background(), run, metav1.DeleteOptions{})
		_ = adm.MutatingWebhookConfigurations().Delete(context.Background(), run, metav1.DeleteOptions{})
	})

	// The validating configuration first, then the mutating one, each
	// probed with a dry run until the API server calls it.
	if _, err := adm.ValidatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: run},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.e2e.kubeshield.dev", ClientConfig: clientConfig("/validate"), Rules: rules,
			FailurePolicy: &fail, SideEffects: &none, TimeoutSeconds: &timeout,
			NamespaceSelector: selector, AdmissionReviewVersions: []string{"v1"},
		}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ValidatingWebhookConfiguration: %v", err)
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	// Until the mutating webhook is registered, denials are the
	// validating webhook's.
	var probeErr error
	waitFor(ctx, t, "the validating webhook", func() bool {
		_, probeErr = cs.CoreV1().Pods(nsBase).Create(ctx, hostNetwork(testPod("probe", signedRef)), dryRun)
		return statusCode(probeErr) == http.StatusForbidden
	})
	t.Logf("host network pod, validating webhook alone: %s", wantDenied(t, probeErr, `"validate.e2e.kubeshield.dev"`, "podSecurity: ", "hostNetwork"))
	if _, err := adm.MutatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: run},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "mutate.e2e.kubeshield.dev", ClientConfig: clientConfig("/mutate"), Rules: rules,
			FailurePolicy: &fail, SideEffects: &none, TimeoutSeconds: &timeout,
			NamespaceSelector: selector, AdmissionReviewVersions: []string{"v1"},
		}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create MutatingWebhookConfiguration: %v", err)
	}
	waitFor(ctx, t, "the mutating webhook", func() bool {
		p, err := cs.CoreV1().Pods(nsBase).Create(ctx, testPod("probe", signedRef), dryRun)
		return err == nil && strings.Contains(p.Spec.Containers[0].Image, "@sha256:")
	})
	t.Logf("webhooks in effect after %s", time.Since(began).Round(time.Millisecond))

	// 3. Policies, through the API server.
	pods := func(ns string) podClient { return cs.CoreV1().Pods(ns) }
	pinned := signedRef + "@" + digest

	// The API server runs with --allow-privileged=false: its validation
	// would reject a privileged container too ("disallowed by cluster
	// policy"), but only after the mutating webhooks, which deny first.
	_, err = pods(nsBase).Create(ctx, privileged(testPod("privileged", signedRef)), metav1.CreateOptions{})
	t.Logf("privileged pod: %s", wantDenied(t, err, "podSecurity: ", `violates PodSecurity "baseline:latest"`, "privileged"))

	_, err = pods(nsBase).Create(ctx, hostNetwork(testPod("host-network", signedRef)), metav1.CreateOptions{})
	t.Logf("host network pod: %s", wantDenied(t, err, "podSecurity: ", `violates PodSecurity "baseline:latest"`, "hostNetwork"))

	_, err = pods(nsPriv).Create(ctx, withSocket(testPod("docker-sock", signedRef)), metav1.CreateOptions{})
	msg := wantDenied(t, err, "runtimeSockets: ", "docker.sock")
	if strings.Contains(msg, "podSecurity") {
		t.Errorf("docker socket pod in a privileged namespace: podSecurity denied it too: %s", msg)
	}
	t.Logf("docker socket pod: %s", msg)

	p, err := pods(nsExempt).Create(ctx, withSocket(testPod("docker-sock", signedRef)), metav1.CreateOptions{})
	if err != nil {
		t.Errorf("docker socket pod in the exempt namespace: %v; want admitted", err)
	} else {
		t.Logf("docker socket pod in exempt namespace %s: admitted", p.Namespace)
	}

	_, err = cs.AppsV1().Deployments(nsBase).Create(ctx, privileged(testDeployment("privileged", signedRef)), metav1.CreateOptions{})
	t.Logf("Deployment with a privileged template: %s", wantDenied(t, err, "podSecurity: ", "privileged"))

	d, err := cs.AppsV1().Deployments(nsBase).Create(ctx, testDeployment("web", signedRef), metav1.CreateOptions{})
	if err != nil {
		t.Errorf("compliant Deployment: %v; want admitted", err)
	} else {
		if got := d.Spec.Template.Spec.Containers[0].Image; got != pinned {
			t.Errorf("compliant Deployment's template image = %q; want %q", got, pinned)
		}
		t.Logf("compliant Deployment: admitted, template image %s", d.Spec.Template.Spec.Containers[0].Image)
		// UPDATE: a privileged template is denied as on CREATE.
		d = privileged(d)
		_, err = cs.AppsV1().Deployments(nsBase).Update(ctx, d, metav1.UpdateOptions{})
		t.Logf("update of the Deployment to a privileged template: %s", wantDenied(t, err, "podSecurity: ", "privileged"))
	}

	if _, err := pods(nsBase).Create(ctx, testPod("signed", signedRef), metav1.CreateOptions{}); err != nil {
		t.Errorf("compliant pod with the signed image: %v; want admitted", err)
	} else if stored, err := pods(nsBase).Get(ctx, "signed", metav1.GetOptions{}); err != nil {
		t.Error(err)
	} else if got := stored.Spec.Containers[0].Image; got != pinned {
		t.Errorf("stored image of the signed pod = %q; want %q (pinned by the mutating webhook)", got, pinned)
	} else {
		t.Logf("signed image pod: admitted, stored image %s", got)
	}

	_, err = pods(nsBase).Create(ctx, testPod("unsigned", unsignedRef), metav1.CreateOptions{})
	t.Logf("unsigned image pod: %s", wantDenied(t, err, "signedImages: ", unsignedRef, "is not signed (rule team)"))

	// A signed image by the latest tag is pinned by the mutating webhook;
	// the validating webhook then sees tag@digest, which the images
	// policy accepts: no warning, the tag no longer decides what runs.
	wctx, warnings := withWarnings(ctx)
	if p, err := pods(nsBase).Create(wctx, testPod("latest", latestRef), metav1.CreateOptions{}); err != nil {
		t.Errorf("pod with the latest tag (images policy in warn mode): %v; want admitted", err)
	} else {
		if len(warnings.all()) != 0 {
			t.Errorf("warnings of the pinned latest-tag pod = %q; want none", warnings.all())
		}
		if got := p.Spec.Containers[0].Image; got != latestRef+"@"+digest {
			t.Errorf("latest-tag pod's image = %q; want it pinned, %q", got, latestRef+"@"+digest)
		}
		t.Logf("latest-tag pod: admitted with warnings %q", warnings.all())
	}

	// An image no signedImages rule covers is not pinned: the validating
	// webhook warns about it, once.
	const unruled = "registry.example.com/tools/debug:latest"
	wctx, warnings = withWarnings(ctx)
	if p, err := pods(nsBase).Create(wctx, testPod("unruled-latest", unruled), metav1.CreateOptions{}); err != nil {
		t.Errorf("pod with the latest tag of an image no rule covers: %v; want admitted", err)
	} else {
		want := fmt.Sprintf(`images: container "app": image %q uses the latest tag`, unruled)
		if got := warnings.all(); len(got) != 1 || got[0] != want {
			t.Errorf("warnings of the unruled latest-tag pod = %q; want [%q]", got, want)
		}
		if got := p.Spec.Containers[0].Image; got != unruled {
			t.Errorf("unruled latest-tag pod's image = %q; want %q, unchanged", got, unruled)
		}
		t.Logf("latest-tag pod of an image no rule covers: admitted with warnings %q", warnings.all())
	}

	_, err = pods(nsBase).Create(ctx, privileged(testPod("dry-run", signedRef)), dryRun)
	t.Logf("dry-run privileged pod: %s", wantDenied(t, err, "podSecurity: "))
	if _, err := pods(nsBase).Get(ctx, "dry-run", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dry-run pod: Get = %v; want not found", err)
	}
	if !dryRunLogged(t, decisions.String(), nsBase, "dry-run") {
		t.Errorf("decision log has no dry-run record of pod %s/dry-run", nsBase)
	}

	if _, err := pods(nsOther).Create(ctx, hostNetwork(testPod("host-network", signedRef)), metav1.CreateOptions{}); err != nil {
		t.Errorf("host network pod in the unselected namespace: %v; want admitted (the webhooks do not see it)", err)
	} else {
		t.Logf("host network pod in unselected namespace %s: admitted", nsOther)
	}

	// 4. The webhook goes away.
	if err := hs.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = pods(nsBase).Create(ctx, testPod("down-fail", signedRef), metav1.CreateOptions{})
	var se *apierrors.StatusError
	switch {
	case !errors.As(err, &se) || !apierrors.IsInternalError(err):
		t.Errorf("pod create with the webhook down, failurePolicy Fail: %v; want an internal error", err)
	case !strings.Contains(se.ErrStatus.Message, "failed calling webhook"):
		t.Errorf("pod create with the webhook down, failurePolicy Fail: %q; want \"failed calling webhook\"", se.ErrStatus.Message)
	default:
		t.Logf("webhook down, failurePolicy Fail: rejected: %s", se.ErrStatus.Message)
	}
	if _, err := pods(nsOther).Create(ctx, testPod("down-fail", signedRef), metav1.CreateOptions{}); err != nil {
		t.Errorf("pod create in the unselected namespace with the webhook down: %v; want admitted", err)
	} else {
		t.Logf("webhook down, unselected namespace %s: admitted", nsOther)
	}

	ignore := []byte(`[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]`)
	if _, err := adm.ValidatingWebhookConfigurations().Patch(ctx, run, types.JSONPatchType, ignore, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.MutatingWebhookConfigurations().Patch(ctx, run, types.JSONPatchType, ignore, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	var admitted *corev1.Pod
	n := 0
	waitFor(ctx, t, "failurePolicy Ignore", func() bool {
		n++
		admitted, err = pods(nsBase).Create(ctx, hostNetwork(testPod(fmt.Sprintf("down-ignore-%d", n), signedRef)), metav1.CreateOptions{})
		return err == nil
	})
	if got := admitted.Spec.Containers[0].Image; got != signedRef {
		t.Errorf("pod admitted with the webhook down = image %q; want %q, unpinned", got, signedRef)
	}
	t.Logf("webhook down, failurePolicy Ignore: host network pod %s admitted unchecked, image %s not pinned", admitted.Name, admitted.Spec.Containers[0].Image)
	t.Logf("end to end in %s", time.Since(began).Round(time.Millisecond))
}

// podClient is the part of the pods client the test uses.
type podClient interface {
	Create(ctx context.Context, p *corev1.Pod, opts metav1.CreateOptions) (*corev1.Pod, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Pod, error)
}

// testPod is a pod that passes Pod Security baseline.
func testPod(name, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

// testDeployment is a Deployment whose template passes Pod Security
// baseline.
func testDeployment(name, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       testPod(name, image).Spec,
			},
		},
	}
}

// privileged makes the first container of a pod or Deployment
// privileged.
func privileged[T *corev1.Pod | *appsv1.Deployment](obj T) T {
	var c *corev1.Container
	switch o := any(obj).(type) {
	case *corev1.Pod:
		c = &o.Spec.Containers[0]
	case *appsv1.Deployment:
		c = &o.Spec.Template.Spec.Containers[0]
	}
	yes := true
	c.SecurityContext = &corev1.SecurityContext{Privileged: &yes}
	return obj
}

// hostNetwork puts the pod in the node's network namespace, which Pod
// Security baseline forbids.
func hostNetwork(p *corev1.Pod) *corev1.Pod {
	p.Spec.HostNetwork = true
	return p
}

// withSocket mounts the Docker socket of the node into the pod.
func withSocket(p *corev1.Pod) *corev1.Pod {
	p.Spec.Volumes = []corev1.Volume{{Name: "docker", VolumeSource: corev1.VolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: "/var/run/docker.sock"}}}}
	p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "docker", MountPath: "/var/run/docker.sock"}}
	return p
}

// wantDenied checks that err is the API server's 403 for a webhook's
// denial and that its message holds each of want; it returns the
// message.
func wantDenied(t *testing.T, err error, want ...string) string {
	t.Helper()
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Code != http.StatusForbidden {
		t.Errorf("got %v; want a 403 denial", err)
		return fmt.Sprint(err)
	}
	msg := se.ErrStatus.Message
	for _, w := range append([]string{"admission webhook", "denied the request"}, want...) {
		if !strings.Contains(msg, w) {
			t.Errorf("denial %q lacks %q", msg, w)
		}
	}
	return "denied: " + msg
}

// statusCode returns the HTTP status code of an API error, 0 for nil or
// another error.
func statusCode(err error) int32 {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se.ErrStatus.Code
	}
	return 0
}

// waitFor polls ok until it is true, failing the test after 20 s.
func waitFor(ctx context.Context, t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("%s: not in effect after 20 s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dryRunLogged reports whether the decision log holds a dry-run record
// of the pod ns/name.
func dryRunLogged(t *testing.T, log, ns, name string) bool {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec admission.DecisionRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("decision log line %q: %v", line, err)
			continue
		}
		if rec.Namespace == ns && rec.Name == name && rec.DryRun && !rec.Allowed {
			return true
		}
	}
	return false
}
