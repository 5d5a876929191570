package podsecurity

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/pod-security-admission/api"

	"github.com/kubeshield/kubeshield/internal/workload"
)

// object is one manifest of a testdata corpus.
type object struct {
	name string
	gvk  schema.GroupVersionKind
	raw  []byte // JSON
	pod  *workload.Pod
	u    *unstructured.Unstructured
}

// loadObjects reads the multi-document YAML file testdata/name.
func loadObjects(t testing.TB, name string) []object {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var objs []object
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		pod, ok, err := workload.FromJSON(u.GroupVersionKind(), raw)
		if !ok || err != nil {
			t.Fatalf("%s: %s %s: FromJSON = %v, %v", name, u.GetKind(), u.GetName(), ok, err)
		}
		objs = append(objs, object{name: u.GetName(), gvk: u.GroupVersionKind(), raw: raw, pod: pod, u: u})
	}
	return objs
}

// objectByName returns the object of objs named name.
func objectByName(t testing.TB, objs []object, name string) object {
	t.Helper()
	for _, o := range objs {
		if o.name == name {
			return o
		}
	}
	t.Fatalf("no object %q in the corpus", name)
	return object{}
}

// mustLevel parses s or fails the test.
func mustLevel(t testing.TB, s string) api.LevelVersion {
	t.Helper()
	lv, err := ParseLevelVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return lv
}

type workloadPod = workload.Pod

func ephemeral(name, image string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: image}}
}

func jsonDecode(raw []byte, v any) error { return json.Unmarshal(raw, v) }
