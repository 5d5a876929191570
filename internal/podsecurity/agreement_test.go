package podsecurity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/pod-security-admission/api"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/controlplane"
	"github.com/kubeshield/kubeshield/internal/fixture"
	"github.com/kubeshield/kubeshield/internal/workload"
)

// warnings collects the warnings of one client's requests.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.list
	w.list = nil
	return l
}

// agreementNamespaces are the namespaces of the agreement test, by name
// suffix, with their pod-security labels.
func agreementNamespaces() map[string]map[string]string {
	ns := map[string]map[string]string{
		"default":            {},
		"warn-only":          {api.WarnLevelLabel: "restricted", api.WarnVersionLabel: "v1.25", api.AuditLevelLabel: "restricted"},
		"baseline-warn":      {api.EnforceLevelLabel: "baseline", api.EnforceVersionLabel: "v1.30", api.WarnLevelLabel: "restricted", api.WarnVersionLabel: "latest"},
		"version-only":       {api.EnforceVersionLabel: "v1.25"},
		"privileged-enforce": {api.EnforceLevelLabel: "privileged", api.WarnLevelLabel: "baseline", api.WarnVersionLabel: "v1.22"},
	}
	for _, level := range []string{"baseline", "restricted"} {
		for _, v := range []string{"v1.22", "v1.25", "v1.30", "v1.34", "latest"} {
			ns[level+"-"+strings.ReplaceAll(v, ".", "-")] = map[string]string{api.EnforceLevelLabel: level, api.EnforceVersionLabel: v}
		}
	}
	return ns
}

// TestAgreementWithAPIServer creates every pod and workload of testdata
// with server-side dry run in namespaces labelled with each level and
// version, and wants Admit to decide each as the API server's built-in
// PodSecurity admission did: the same allow or deny, the same denial
// message, the same PodSecurity warnings.
func TestAgreementWithAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	// A control plane of its own: the shared one runs the API server with
	// its default --allow-privileged=false, which rejects privileged and
	// HostProcess containers in validation, before Pod Security is asked.
	dir := t.TempDir()
	cp, err := controlplane.Start(ctx, controlplane.Options{BinDir: fixture.ControlPlaneBin(t), Dir: dir, APIServerArgs: []string{"--allow-privileged=true"}})
	if err != nil {
		t.Fatalf("start the control plane: %v", err)
	}
	t.Cleanup(func() { cp.Stop() })

	base, _, err := cluster.RESTConfig(cp.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	quiet := rest.CopyConfig(base)
	quiet.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(quiet)
	if err != nil {
		t.Fatal(err)
	}
	// A runtime class must exist for a pod to name it.
	_, err = cs.NodeV1().RuntimeClasses().Create(ctx, &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "gvisor"}, Handler: "runsc"}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	namespaces := agreementNamespaces()
	for suffix, labels := range namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ps-" + suffix, Labels: labels}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	pods := loadObjects(t, "pods.yaml")
	workloads := loadObjects(t, "workloads.yaml")

	type job struct {
		ns     string
		labels map[string]string
		obj    object
	}
	var jobs []job
	for suffix, labels := range namespaces {
		for _, o := range append(append([]object(nil), pods...), workloads...) {
			jobs = append(jobs, job{"ps-" + suffix, labels, o})
		}
	}

	var (
		mu                                            sync.Mutex
		podsAllowed, podsDenied, workloadReqs, warned int
		otherWarnings                                 int
		wg                                            sync.WaitGroup
		next                                          = make(chan job)
	)
	const workers = 8
	for range workers {
		w := &warnings{}
		cfg := rest.CopyConfig(base)
		cfg.WarningHandler = w
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { // ends when next is closed
			defer wg.Done()
			for j := range next {
				k := j.obj.pod.Kind
				gvr := schema.GroupVersionResource{Group: k.Group, Version: j.obj.gvk.Version, Resource: k.Resource}
				u := j.obj.u.DeepCopy()
				u.SetNamespace(j.ns)
				w.take()
				_, err := dyn.Resource(gvr).Namespace(j.ns).Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
				got := w.take()
				want := e.Admit(Request{Operation: admissionv1.Create, Namespace: j.ns, NamespaceLabels: j.labels, Name: j.obj.name, Object: j.obj.pod})
				where := fmt.Sprintf("%s %s in %s", j.obj.gvk.Kind, j.obj.name, j.ns)

				var psWarnings []string
				for _, text := range got {
					if strings.Contains(text, "PodSecurity") {
						psWarnings = append(psWarnings, text)
					}
				}
				mu.Lock()
				otherWarnings += len(got) - len(psWarnings)
				if len(psWarnings) > 0 {
					warned++
				}
				if k.Kind == "Pod" {
					if err == nil {
						podsAllowed++
					} else {
						podsDenied++
					}
				} else {
					workloadReqs++
				}
				mu.Unlock()

				var status apierrors.APIStatus
				switch {
				case err != nil && !apierrors.IsForbidden(err):
					t.Errorf("%s: the API server rejects it for another reason: %v", where, err)
					continue
				case err == nil && !want.Allowed:
					t.Errorf("%s: API server allows it; Admit denies: %s", where, want.Message)
				case err != nil && want.Allowed:
					t.Errorf("%s: API server denies it (%v); Admit allows it", where, err)
				case err != nil && errors.As(err, &status):
					if s := want.Status(gvr.GroupResource(), j.obj.name); s.Message != status.Status().Message {
						t.Errorf("%s: denial message\n%s\nwant (API server)\n%s", where, s.Message, status.Status().Message)
					}
				}
				if strings.Join(want.Warnings, "\n") != strings.Join(psWarnings, "\n") {
					t.Errorf("%s: warnings\n%q\nwant (API server)\n%q", where, want.Warnings, psWarnings)
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	t.Logf("agreement with kube-apiserver's PodSecurity over %d namespaces: %d pods allowed, %d denied, %d workloads; %d responses with PodSecurity warnings, %d other warnings ignored; %s",
		len(namespaces), podsAllowed, podsDenied, workloadReqs, warned, otherWarnings, time.Since(start).Round(time.Millisecond))
	t.Logf("pod updates: %d decided as the API server did", testUpdateAgreement(ctx, t, cs, e, objectByName(t, pods, "privileged")))
}

// testUpdateAgreement creates a privileged pod for real while its
// namespace is privileged, then enforces baseline on the namespace: an
// update that changes labels only is allowed, one that changes an image is
// denied, by the API server and by Admit alike.
func testUpdateAgreement(ctx context.Context, t *testing.T, cs kubernetes.Interface, e *Evaluator, o object) (n int) {
	t.Helper()
	const ns = "ps-update"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	typed := &corev1.Pod{}
	if err := jsonDecode(o.raw, typed); err != nil {
		t.Fatal(err)
	}
	typed.Namespace = ns
	old, err := cs.CoreV1().Pods(ns).Create(ctx, typed, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		old, err = cs.CoreV1().Pods(ns).Get(ctx, typed.Name, metav1.GetOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{api.EnforceLevelLabel: "baseline"}
	nsObj, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nsObj.Labels = labels
	if _, err := cs.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	oldPod := &workload.Pod{Kind: o.pod.Kind, Meta: old.ObjectMeta, Spec: old.Spec}
	for _, tt := range []struct {
		name   string
		change func(p *corev1.Pod)
	}{
		{"labels only", func(p *corev1.Pod) { p.Labels = map[string]string{"tier": "web"} }},
		{"new image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "registry.example/app:2" }},
	} {
		p := old.DeepCopy()
		tt.change(p)
		_, err := cs.CoreV1().Pods(ns).Update(ctx, p, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
		want := e.Admit(Request{Operation: admissionv1.Update, Namespace: ns, NamespaceLabels: labels, Name: p.Name,
			Object: &workload.Pod{Kind: o.pod.Kind, Meta: p.ObjectMeta, Spec: p.Spec}, OldObject: oldPod})
		n++
		switch {
		case err != nil && !apierrors.IsForbidden(err):
			t.Errorf("update %s: %v", tt.name, err)
		case (err == nil) != want.Allowed:
			t.Errorf("update %s: API server error %v; Admit allowed %v", tt.name, err, want.Allowed)
		case err != nil && err.Error() != want.Status(corev1.Resource("pods"), p.Name).Message:
			t.Errorf("update %s: API server says %q; Admit %q", tt.name, err, want.Status(corev1.Resource("pods"), p.Name).Message)
		}
	}
	return n
}
