package podsecurity

import (
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/pod-security-admission/api"

	"github.com/kubeshield/kubeshield/internal/workload"
)

// FuzzCheck decodes random objects of every pod-carrying kind with
// workload.FromJSON and checks and admits what decodes at every level:
// no panic, and Admit agrees with Check on the enforce level.
func FuzzCheck(f *testing.F) {
	f.Add("Pod", `{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/a":"localhost/x"}},"spec":{"hostNetwork":true,"containers":[{"name":"a","ports":[{"containerPort":1}],"securityContext":{"privileged":true}}]}}`)
	f.Add("Deployment", `{"spec":{"template":{"spec":{"securityContext":{"sysctls":[{"name":"kernel.msgmax"}]},"volumes":[{"name":"h","hostPath":{"path":"/"}}]}}}}`)
	f.Add("CronJob", `{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"os":{"name":"windows"},"ephemeralContainers":[{"name":"e"}]}}}}}}`)
	e, err := New(Config{EnforceTemplates: true})
	if err != nil {
		f.Fatal(err)
	}
	levels := []api.LevelVersion{}
	for _, s := range []string{"privileged", "baseline:v1.0", "baseline", "restricted:v1.22", "restricted:v1.30", "restricted", "restricted:v1.99"} {
		levels = append(levels, mustLevel(f, s))
	}
	f.Fuzz(func(t *testing.T, kind, raw string) {
		k, ok := workload.Lookup("", kind)
		if !ok {
			if k, ok = workload.Lookup("apps", kind); !ok {
				k, ok = workload.Lookup("batch", kind)
			}
		}
		if !ok {
			return
		}
		pod, _, err := workload.FromJSON(schema.GroupVersionKind{Group: k.Group, Version: "v1", Kind: k.Kind}, []byte(raw))
		if err != nil {
			return
		}
		for _, lv := range levels {
			r := e.Check(lv, pod)
			d := e.Admit(Request{Operation: admissionv1.Create, Namespace: "n", Name: "x", Object: pod,
				NamespaceLabels: map[string]string{api.EnforceLevelLabel: string(lv.Level), api.EnforceVersionLabel: lv.Version.String()}})
			if d.Allowed != r.Allowed || d.Message != r.Message() {
				t.Fatalf("%s: Admit = %v %q; Check = %v %q", lv, d.Allowed, d.Message, r.Allowed, r.Message())
			}
		}
	})
}
