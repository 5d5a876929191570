package admission

import (
	"context"
	"strings"
	"testing"

	"github.com/kubeshield/kubeshield/internal/workload"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podRequest returns a CREATE request for a Pod with spec in namespace ns.
func podRequest(ns string, spec corev1.PodSpec) *Request {
	k, _ := workload.Lookup("", "Pod")
	return &Request{UID: "u", Namespace: ns, Name: "p", Operation: admissionv1.Create, Pod: &workload.Pod{Kind: k, Spec: spec}}
}

func hostPathSpec(paths ...string) corev1.PodSpec {
	var s corev1.PodSpec
	for i, p := range paths {
		s.Volumes = append(s.Volumes, corev1.Volume{Name: "v" + string(rune('0'+i)), VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: p}}})
	}
	return s
}

func check(t *testing.T, p Policy, r *Request) []string {
	t.Helper()
	out, err := p.Check(context.Background(), r)
	if err != nil {
		t.Fatalf("%s.Check: %v", p.Name(), err)
	}
	return out.Violations
}

func TestRuntimeSockets(t *testing.T) {
	p, err := (&RuntimeSocketsConfig{Paths: []string{"/opt/rt//custom.sock"}}).policy()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		deny bool
	}{
		{"/var/run/docker.sock", true},
		{"/run/docker.sock", true},
		{"/var/run/containerd/containerd.sock", true},
		{"/run/containerd/containerd.sock", true},
		{"/var/run/crio/crio.sock", true},
		{"/run/crio/crio.sock", true},
		{"/var/run/cri-dockerd.sock", true},
		{"/run/k3s/containerd/containerd.sock", true},
		{"/var/run", true},
		{"/run", true},
		{"/var/run/containerd", true},
		{"/run/crio/", true},
		{"/var", true},
		{"/", true},
		{"//", true},
		{"", true}, // the API server rejects it; cleaned it is /
		{"/var/run/docker.sock/", true},
		{"//var//run//docker.sock", true},
		{"/var/run/./docker.sock", true},
		{"/var/lib/../run/docker.sock", true},
		{"/tmp/../../var/run", true},
		{"var/run/docker.sock", true},
		{"/home/me/docker.sock", true}, // named like a runtime socket
		{"/opt/rt/custom.sock", true},
		{"/opt/rt", true},
		{`\\.\pipe\docker_engine`, true},
		{`\\.\PIPE\containerd-containerd`, true},
		{"/var/log", false},
		{"/var/lib/docker", false},
		{"/run/docker.sock.d", false},
		{"/var/run/docker", false},
		{"/run/containerd2", false},
		{"/etc/docker.sock.bak", false},
		{"/opt/rt/other.sock", false},
	}
	for _, tt := range tests {
		got := check(t, p, podRequest("default", hostPathSpec(tt.path)))
		if (len(got) > 0) != tt.deny {
			t.Errorf("hostPath %q: violations %q; want deny %v", tt.path, got, tt.deny)
		}
	}
	// Non-hostPath volumes are fine; every bad volume is reported.
	spec := hostPathSpec("/run/docker.sock", "/data", "/run/crio")
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	if got := check(t, p, podRequest("default", spec)); len(got) != 2 {
		t.Errorf("violations %q; want 2", got)
	}
}

func TestExemptions(t *testing.T) {
	p, err := (&RuntimeSocketsConfig{Common: Common{Exempt: []string{"monitoring/node-exporter", "tools/*", "*/sock-agent"}}}).policy()
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	owner := func(kind, name string) *metav1.OwnerReference {
		return &metav1.OwnerReference{Kind: kind, Name: name, Controller: &yes}
	}
	tests := []struct {
		name   string
		ns     string
		obj    string
		owner  *metav1.OwnerReference
		labels map[string]string
		exempt bool
	}{
		{"by name", "monitoring", "node-exporter", nil, nil, true},
		{"other namespace", "default", "node-exporter", nil, nil, false},
		{"whole namespace", "tools", "anything", nil, nil, true},
		{"any namespace", "x", "sock-agent", nil, nil, true},
		{"DaemonSet pod", "monitoring", "", owner("DaemonSet", "node-exporter"), nil, true},
		{"Deployment's ReplicaSet", "monitoring", "node-exporter-5d8f", owner("Deployment", "node-exporter"), nil, true},
		{"Deployment pod", "monitoring", "", owner("ReplicaSet", "node-exporter-5d8f"), map[string]string{"pod-template-hash": "5d8f"}, true},
		{"ReplicaSet of another name", "monitoring", "", owner("ReplicaSet", "node-exporter-evil-5d8f"), map[string]string{"pod-template-hash": "5d8f"}, false},
		{"ReplicaSet without hash", "monitoring", "", owner("ReplicaSet", "node-exporter-5d8f"), nil, false},
		{"CronJob's Job pod", "monitoring", "", owner("Job", "node-exporter-28000000"), nil, true},
		{"Job of another name", "monitoring", "", owner("Job", "node-exporter-x"), nil, false},
		{"not a controller", "monitoring", "other", &metav1.OwnerReference{Kind: "DaemonSet", Name: "node-exporter"}, nil, false},
	}
	for _, tt := range tests {
		r := podRequest(tt.ns, hostPathSpec("/run/docker.sock"))
		r.Name, r.Labels = tt.obj, tt.labels
		if tt.owner != nil && tt.owner.Controller != nil {
			r.Controller = tt.owner
		}
		if got := len(check(t, p, r)) == 0; got != tt.exempt {
			t.Errorf("%s: exempt = %v; want %v", tt.name, got, tt.exempt)
		}
	}
	for _, bad := range []string{"node-exporter", "/x", "x/", "Bad_NS/x", "a/b/c"} {
		if _, err := (&RuntimeSocketsConfig{Common: Common{Exempt: []string{bad}}}).policy(); err == nil {
			t.Errorf("exemption %q accepted", bad)
		}
	}
}

// allContainers returns a spec with one container, one init container
// and one ephemeral container of the given images.
func allContainers(c, init, eph string) corev1.PodSpec {
	return corev1.PodSpec{
		Containers:          []corev1.Container{{Name: "c", Image: c}},
		InitContainers:      []corev1.Container{{Name: "i", Image: init}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e", Image: eph}}},
	}
}

const digest = "@sha256:0123456789012345678901234567890123456789012345678901234567890123"

func TestImages(t *testing.T) {
	const ok = "ok:1" + digest
	yes, no := true, false
	tests := []struct {
		cfg   ImagesConfig
		image string
		want  string // substring of the violation, "" none
	}{
		{ImagesConfig{}, "nginx", "has no tag"},
		{ImagesConfig{}, "nginx:latest", "uses the latest tag"},
		{ImagesConfig{}, "registry:5000/nginx", "has no tag"},
		{ImagesConfig{}, "registry:5000/nginx:1.25", ""},
		{ImagesConfig{}, "nginx:latest" + digest, ""},
		{ImagesConfig{}, "nginx" + digest, ""},
		{ImagesConfig{}, "nginx:1.25", ""},
		{ImagesConfig{}, "Not A Ref", "not a valid reference"},
		{ImagesConfig{}, "", "not a valid reference"},
		{ImagesConfig{ForbidLatest: &no}, "nginx", ""},
		{ImagesConfig{RequireDigest: &yes}, "nginx:1.25", "not pinned to a digest"},
		{ImagesConfig{RequireDigest: &yes}, "nginx@sha256:abc", "not a valid reference"},
		{ImagesConfig{RequireDigest: &yes, ForbidLatest: &no}, "nginx" + digest, ""},
	}
	for _, tt := range tests {
		p, err := tt.cfg.policy()
		if err != nil {
			t.Fatal(err)
		}
		for i, spec := range []corev1.PodSpec{allContainers(tt.image, ok, ok), allContainers(ok, tt.image, ok), allContainers(ok, ok, tt.image)} {
			got := check(t, p, podRequest("default", spec))
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("image %q in list %d: violations %q; want none", tt.image, i, got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Errorf("image %q in list %d: violations %q; want one with %q", tt.image, i, got, tt.want)
			}
		}
	}
}

func TestRegistries(t *testing.T) {
	p, err := (&RegistriesConfig{Allow: []string{"docker.io/library", "ghcr.io/acme", "registry.example.com:5000", "gcr.io", "acme/tools"}}).policy()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		image string
		allow bool
	}{
		{"nginx", true},
		{"nginx:1.25", true},
		{"library/nginx", true},
		{"docker.io/nginx", true},
		{"index.docker.io/library/nginx" + digest, true},
		{"docker.io/bitnami/redis", false},
		{"bitnami/redis", false},
		{"acme/tools", true},
		{"acme/tools/sub:1", true},
		{"acme/toolsevil", false},
		{"ghcr.io/acme/app:1", true},
		{"ghcr.io/acme", true},
		{"ghcr.io/acme-evil/app", false},
		{"ghcr.io/other/app", false},
		{"registry.example.com:5000/any/thing", true},
		{"registry.example.com/any", false},
		{"gcr.io/project/img", true},
		{"gcr.io.evil.com/project/img", false},
		{"evil.com/gcr.io/img", false},
		{"::bad", false},
	}
	for _, tt := range tests {
		for i, spec := range []corev1.PodSpec{allContainers(tt.image, "nginx", "nginx"), allContainers("nginx", tt.image, "nginx"), allContainers("nginx", "nginx", tt.image)} {
			if got := check(t, p, podRequest("default", spec)); (len(got) == 0) != tt.allow {
				t.Errorf("image %q in list %d: violations %q; want allowed %v", tt.image, i, got, tt.allow)
			}
		}
	}
	for _, bad := range []string{"", "bad host!", "ghcr.io/", "ghcr.io/UPPER", "a//b"} {
		if _, err := (&RegistriesConfig{Allow: []string{bad}}).policy(); err == nil {
			t.Errorf("allow entry %q accepted", bad)
		}
	}
}

func TestServiceAccountTokens(t *testing.T) {
	p, err := (&ServiceAccountTokensConfig{NeedAPI: []string{"ops/controller", "kube-system/*"}}).policy()
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	tests := []struct {
		ns        string
		sa        string
		deprecSA  string
		automount *bool
		want      string
	}{
		{"default", "", "", nil, `service account "default"`},
		{"default", "", "", &yes, `service account "default"`},
		{"default", "", "", &no, ""},
		{"default", "app", "", nil, `service account "app"`},
		{"default", "", "old", nil, `service account "old"`},
		{"ops", "controller", "", nil, ""},
		{"ops", "controller", "", &yes, ""},
		{"ops", "other", "", nil, `service account "other"`},
		{"kube-system", "anything", "", nil, ""},
	}
	for _, tt := range tests {
		spec := allContainers("a", "b", "c")
		spec.ServiceAccountName, spec.DeprecatedServiceAccount, spec.AutomountServiceAccountToken = tt.sa, tt.deprecSA, tt.automount
		got := check(t, p, podRequest(tt.ns, spec))
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%+v: violations %q; want none", tt, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
			t.Errorf("%+v: violations %q; want one with %q", tt, got, tt.want)
		}
	}
}

// TestBuiltinsSkip checks what no built-in policy judges: requests
// without a pod and updates that leave the pod spec as it was.
func TestBuiltinsSkip(t *testing.T) {
	bad := hostPathSpec("/run/docker.sock")
	bad.Containers = []corev1.Container{{Name: "c", Image: "evil.com/x"}}
	var policies []Policy
	for _, c := range []interface{ policy() (Policy, error) }{&RuntimeSocketsConfig{}, &ImagesConfig{}, &RegistriesConfig{}, &ServiceAccountTokensConfig{}} {
		p, err := c.policy()
		if err != nil {
			t.Fatal(err)
		}
		policies = append(policies, p)
	}
	noPod := &Request{UID: "u", Operation: admissionv1.Create}
	unchanged := podRequest("default", bad)
	unchanged.Operation = admissionv1.Update
	unchanged.OldPod = &workload.Pod{Kind: unchanged.Pod.Kind, Spec: *bad.DeepCopy()}
	changed := podRequest("default", bad)
	changed.Operation = admissionv1.Update
	changed.OldPod = &workload.Pod{Kind: changed.Pod.Kind}
	for _, p := range policies {
		if got := check(t, p, noPod); len(got) > 0 {
			t.Errorf("%s on a request without a pod: %q", p.Name(), got)
		}
		if got := check(t, p, unchanged); len(got) > 0 {
			t.Errorf("%s on an update with the spec unchanged: %q", p.Name(), got)
		}
		if got := check(t, p, changed); len(got) == 0 {
			t.Errorf("%s on an update that changes the spec: no violation", p.Name())
		}
	}
}
