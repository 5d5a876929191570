package workload

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestFromJSON(t *testing.T) {
	for _, tt := range []struct {
		name      string
		gvk       schema.GroupVersionKind
		raw       string
		ok        bool
		err       bool
		image     string
		label     string
		specPath  string
		hostPaths int
	}{
		{"pod", schema.GroupVersionKind{Version: "v1", Kind: "Pod"},
			`{"metadata":{"name":"p","labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"nginx:1"}],"volumes":[{"name":"s","hostPath":{"path":"/var/run/docker.sock"}}]}}`,
			true, false, "nginx:1", "a", "/spec", 1},
		{"deployment", schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			`{"metadata":{"name":"d"},"spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"web:2"}]}}}}`,
			true, false, "web:2", "web", "/spec/template/spec", 0},
		{"cronjob", schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"},
			`{"metadata":{"name":"cj"},"spec":{"schedule":"* * * * *","jobTemplate":{"spec":{"template":{"metadata":{"labels":{"app":"job"}},"spec":{"containers":[{"name":"c","image":"job:3"}]}}}}}}`,
			true, false, "job:3", "job", "/spec/jobTemplate/spec/template/spec", 0},
		{"podtemplate", schema.GroupVersionKind{Version: "v1", Kind: "PodTemplate"},
			`{"metadata":{"name":"t"},"template":{"metadata":{"labels":{"app":"t"}},"spec":{"containers":[{"name":"c","image":"t:4"}]}}}`,
			true, false, "t:4", "t", "/template/spec", 0},
		{"configmap", schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, `{"data":{}}`, false, false, "", "", "", 0},
		{"deployment in another group", schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Deployment"}, `{}`, false, false, "", "", "", 0},
		{"no template", schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, `{"metadata":{"name":"s"},"spec":{}}`, true, true, "", "", "", 0},
		{"bad json", schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, `{"spec":`, true, true, "", "", "", 0},
		{"wrong type", schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, `{"spec":{"containers":"x"}}`, true, true, "", "", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pod, ok, err := FromJSON(tt.gvk, []byte(tt.raw))
			if ok != tt.ok || (err != nil) != tt.err {
				t.Fatalf("FromJSON = %v, %v, %v; want ok %v, error %v", pod, ok, err, tt.ok, tt.err)
			}
			if pod == nil {
				return
			}
			if got := pod.Spec.Containers[0].Image; got != tt.image {
				t.Errorf("image = %q; want %q", got, tt.image)
			}
			if got := pod.Meta.Labels["app"]; got != tt.label {
				t.Errorf("label = %q; want %q", got, tt.label)
			}
			if pod.Kind.SpecPath != tt.specPath {
				t.Errorf("SpecPath = %q; want %q", pod.Kind.SpecPath, tt.specPath)
			}
			if n := len(pod.Spec.Volumes); n != tt.hostPaths {
				t.Errorf("%d volumes; want %d", n, tt.hostPaths)
			}
		})
	}
}

func FuzzFromJSON(f *testing.F) {
	f.Add("Pod", `{"spec":{"containers":[{"name":"c"}]}}`)
	f.Add("CronJob", `{"spec":{"jobTemplate":{"spec":{"template":{"spec":{}}}}}}`)
	f.Fuzz(func(t *testing.T, kind, raw string) {
		for _, k := range Kinds() {
			if k.Kind == kind {
				_, _, _ = FromJSON(schema.GroupVersionKind{Group: k.Group, Version: "v1", Kind: k.Kind}, []byte(raw))
			}
		}
	})
}
