package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeshield/kubeshield/internal/fixture"
)

const gatorInstall = "go install github.com/open-policy-agent/gatekeeper/v3/cmd/gator@v3.23.1"

// TestGatorDifferential compares Review with Gatekeeper's own gator CLI
// (`gator test`, Rego engine only) on the same templates, constraints
// and objects: the library samples and a set of constraints that
// exercise every spec.match field.
func TestGatorDifferential(t *testing.T) {
	gator := fixture.Tool(t, "gator", gatorInstall)
	t.Run("match", func(t *testing.T) {
		compareWithGator(t, gator, "testdata/match")
	})
	for _, c := range libraryCases(t) {
		t.Run(c.name, func(t *testing.T) {
			obj := readObject(t, c.object)
			if obj["kind"] == "AdmissionReview" {
				t.Skip("gator test reviews objects, not AdmissionReviews")
			}
			// gator test treats an object without namespace as being in
			// a Namespace named "", which no namespaces list matches;
			// Gatekeeper's webhook always knows the namespace.
			md, _ := obj["metadata"].(map[string]any)
			if obj["kind"] != "Namespace" && md != nil && md["namespace"] == nil {
				md["namespace"] = "default"
			}
			data, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "object.json")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			compareWithGator(t, gator, c.template, c.constraint, file)
		})
	}
}

// gatorResult is one element of `gator test -o json`.
type gatorResult struct {
	Msg      string `json:"msg"`
	Metadata struct {
		Details any `json:"details"`
	} `json:"metadata"`
	Constraint struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	} `json:"constraint"`
	EnforcementAction string `json:"enforcementAction"`
	ViolatingObject   struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	} `json:"violatingObject"`
}

func resultLine(kind, name string, action any, objKind, objNS, objName, msg string, details any) string {
	d, _ := json.Marshal(details)
	return fmt.Sprintf("%s/%s %s %s %s/%s: %s %s", kind, name, action, objKind, objNS, objName, msg, d)
}

func compareWithGator(t *testing.T, gator string, paths ...string) {
	t.Helper()
	args := []string{"test", "-o", "json", "--enable-k8s-native-validation=false"}
	for _, p := range paths {
		args = append(args, "-f", p)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(gator, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("gator %q: %v\n%s", args, err, stderr.String())
	}
	var results []gatorResult
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatalf("gator %q output: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	var want []string
	for _, r := range results {
		want = append(want, resultLine(r.Constraint.Kind, r.Constraint.Metadata.Name, r.EnforcementAction,
			r.ViolatingObject.Kind, r.ViolatingObject.Metadata.Namespace, r.ViolatingObject.Metadata.Name, r.Msg, r.Metadata.Details))
	}

	e := loadEngine(t, paths...)
	objs := readDocuments(t, paths...)
	namespaces := map[string]*corev1.Namespace{}
	for _, o := range objs {
		if o["kind"] == "Namespace" && o["apiVersion"] == "v1" {
			var ns corev1.Namespace
			data, _ := json.Marshal(o)
			if err := json.Unmarshal(data, &ns); err != nil {
				t.Fatal(err)
			}
			namespaces[ns.Name] = &ns
		}
	}
	var got []string
	for _, o := range objs {
		md, _ := o["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		namespace, _ := md["namespace"].(string)
		// The Namespace gator gives the object (see its
		// expand.NamespaceForResource): an empty one when the object
		// names none.
		ns := namespaces[namespace]
		switch {
		case namespace == "":
			ns = &corev1.Namespace{}
		case ns == nil && namespace == "default":
			ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
		}
		obj, err := NewObject(o, ns)
		if err != nil {
			t.Fatalf("NewObject(%s) = %v", name, err)
		}
		vs, err := e.Review(context.Background(), obj)
		if err != nil {
			t.Fatalf("Review(%s) = %v", name, err)
		}
		for _, v := range vs {
			got = append(got, resultLine(v.ConstraintKind, v.ConstraintName, v.EnforcementAction, o["kind"].(string), namespace, name, v.Msg, v.Details))
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Review differs from gator test (-gator +ours):\n%s", diff)
	}
	t.Logf("%d violations, as gator reports", len(got))
}

// readDocuments reads every YAML document of files and directories.
func readDocuments(t *testing.T, paths ...string) []map[string]any {
	t.Helper()
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		m, _ := filepath.Glob(filepath.Join(p, "*.yaml"))
		files = append(files, m...)
	}
	var out []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var n yaml.Node
			if err := dec.Decode(&n); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(n.Content) == 0 {
				continue
			}
			js, err := nodeJSON(n.Content[0])
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(js, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}
