package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubeshield/kubeshield/internal/workload"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// reviewSeeds returns the request bodies of testdata/reviews.
func reviewSeeds(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob("testdata/reviews/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	var out [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// FuzzDecodeReview checks that DecodeReview never panics, returns a
// review or an error, and that a decoded review can be answered.
func FuzzDecodeReview(f *testing.F) {
	for _, s := range reviewSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE","object":null}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":"x"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		review, err := DecodeReview(bytes.NewReader(body), 1<<16)
		if err != nil {
			if review != nil {
				t.Fatalf("DecodeReview = %v, %v", review, err)
			}
			if !errors.Is(err, ErrInvalidReview) && !errors.Is(err, ErrReviewTooLarge) {
				t.Fatalf("DecodeReview error %v wraps neither sentinel", err)
			}
			return
		}
		if review.Request == nil || review.Request.UID == "" {
			t.Fatalf("DecodeReview accepted a review without a request UID")
		}
		resp := Response(review, Decision{})
		if resp.Response.UID != review.Request.UID {
			t.Fatalf("response UID %q; want %q", resp.Response.UID, review.Request.UID)
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("marshal response: %v", err)
		}
	})
}

var fuzzOperations = []admissionv1.Operation{admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect}

// FuzzReview runs random objects of every workload kind through the
// built-in policies: the engine always decides, for the request's UID,
// and no policy panics.
func FuzzReview(f *testing.F) {
	for i, s := range reviewSeeds(f) {
		var r admissionv1.AdmissionReview
		if err := json.Unmarshal(s, &r); err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), uint8(i), r.Request.Object.Raw, r.Request.OldObject.Raw, r.Request.SubResource)
	}
	f.Add(uint8(0), uint8(0), []byte(`{"spec":{"volumes":[{"name":"v","hostPath":{"path":"/../../"}}],"containers":[{"image":"@@"}]}}`), []byte(nil), "")
	f.Add(uint8(3), uint8(1), []byte(`{"spec":{"template":{"spec":{"containers":null}}}}`), []byte(`{"spec":7}`), "")
	kinds := workload.Kinds()
	e := testEngine(f, nil)
	f.Fuzz(func(t *testing.T, kind, op uint8, obj, old []byte, sub string) {
		k := kinds[int(kind)%len(kinds)]
		ar := &admissionv1.AdmissionRequest{
			UID:         "fuzz-uid",
			Kind:        metav1.GroupVersionKind{Group: k.Group, Version: "v1", Kind: k.Kind},
			Resource:    metav1.GroupVersionResource{Group: k.Group, Version: "v1", Resource: k.Resource},
			SubResource: sub,
			Namespace:   "default",
			Operation:   fuzzOperations[int(op)%len(fuzzOperations)],
			Object:      runtime.RawExtension{Raw: obj},
			OldObject:   runtime.RawExtension{Raw: old},
		}
		d := e.Admit(context.Background(), ar)
		if d.UID != "fuzz-uid" {
			t.Fatalf("decision UID %q", d.UID)
		}
		if len(d.Results) != len(e.bindings) {
			t.Fatalf("%d results; want %d", len(d.Results), len(e.bindings))
		}
		for _, r := range d.Results {
			var pe *PanicError
			if errors.As(r.Err, &pe) {
				t.Fatalf("policy %s panicked: %v\n%s", r.Policy, pe.Value, pe.Stack)
			}
		}
		if !d.Allowed && d.Message == "" {
			t.Fatal("denied without a message")
		}
		if _, err := json.Marshal(Response(&admissionv1.AdmissionReview{Request: ar}, d)); err != nil {
			t.Fatalf("marshal response: %v", err)
		}
	})
}

// FuzzParseConfig: any file is a configuration or a *ConfigError; a
// configuration that parses builds its pure policies without panicking.
func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"testdata/config.yaml", "../../examples/admission/config.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\npodSecurity: {enforce: restricted:v1.30, warn: x}\n"))
	f.Add([]byte("apiVersion: kubeshield.dev/v1alpha1\nkind: AdmissionConfig\nsignedImages: {rules: [{name: a, images: [x], key: k}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseConfig error %T %v is not a *ConfigError", err, err)
			}
			return
		}
		for _, s := range cfg.sections() {
			_ = s.check()
		}
	})
}
