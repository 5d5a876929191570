package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubeshield/kubeshield/internal/signature"
)

// namespace is where every pod of the bench is created.
const namespace = "shop"

// images are the images the pods run: a signed and an unsigned one in the
// registry on 127.0.0.1, by digest.
type images struct {
	host     string // 127.0.0.1:PORT
	signed   string // host/bench/app@sha256:…
	unsigned string // host/bench/unsigned@sha256:…
	pubPEM   []byte
}

// startRegistry serves go-containerregistry's registry on 127.0.0.1,
// pushes two random images and signs the first; stop closes the registry.
func startRegistry(ctx context.Context) (images, func(), error) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	im := images{host: strings.TrimPrefix(srv.URL, "http://")}
	push := func(repo string) (name.Digest, error) {
		ref, err := name.ParseReference(im.host+"/bench/"+repo+":1", name.Insecure)
		if err != nil {
			return name.Digest{}, err
		}
		img, err := random.Image(1024, 1)
		if err != nil {
			return name.Digest{}, err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return name.Digest{}, fmt.Errorf("push %s: %w", ref, err)
		}
		d, err := img.Digest()
		if err != nil {
			return name.Digest{}, err
		}
		return ref.Context().Digest(d.String()), nil
	}
	signed, err := push("app")
	if err != nil {
		srv.Close()
		return images{}, nil, err
	}
	unsigned, err := push("unsigned")
	if err != nil {
		srv.Close()
		return images{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		srv.Close()
		return images{}, nil, err
	}
	if _, err := signature.Sign(ctx, signed, key, signature.SignOptions{}); err != nil {
		srv.Close()
		return images{}, nil, fmt.Errorf("sign: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		srv.Close()
		return images{}, nil, err
	}
	im.signed, im.unsigned = signed.String(), unsigned.String()
	im.pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return im, srv.Close, nil
}

// constraint is one Gatekeeper constraint of the bench.
type constraint struct {
	kind     string
	name     string
	template string // directory of the template in the library
	params   map[string]any
}

// constraints are the 10 constraints, every one matching Pods.
func constraints(host string) []constraint {
	labels := func(key string) map[string]any {
		return map[string]any{"labels": []any{map[string]any{"key": key}}}
	}
	return []constraint{
		{"K8sRequiredLabels", "must-have-app", "general/requiredlabels", labels("app")},
		{"K8sRequiredLabels", "must-have-team", "general/requiredlabels", labels("team")},
		{"K8sRequiredLabels", "must-have-tier", "general/requiredlabels", labels("tier")},
		{"K8sAllowedRepos", "repos-bench", "general/allowedrepos", map[string]any{"repos": []any{host + "/bench/"}}},
		{"K8sAllowedRepos", "repos-internal", "general/allowedrepos", map[string]any{"repos": []any{host + "/", "registry.example.com/"}}},
		{"K8sDisallowedTags", "no-latest", "general/disallowedtags", map[string]any{"tags": []any{"latest"}}},
		{"K8sDisallowedTags", "no-dev-test", "general/disallowedtags", map[string]any{"tags": []any{"dev", "test"}}},
		{"K8sContainerLimits", "limits", "general/containerlimits", map[string]any{"cpu": "2", "memory": "1Gi"}},
		{"K8sPSPPrivilegedContainer", "no-privileged", "pod-security-policy/privileged-containers", nil},
		{"K8sPSPHostFilesystem", "no-host-paths", "pod-security-policy/host-filesystem", nil},
	}
}

// templateFiles returns the template.yaml of each template the
// constraints use, once each, in order.
func templateFiles(library string, cs []constraint) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cs {
		if !seen[c.template] {
			seen[c.template] = true
			out = append(out, filepath.Join(library, c.template, "template.yaml"))
		}
	}
	return out
}

// writeConstraints writes the constraints as a multi-document YAML file
// (JSON documents).
func writeConstraints(file string, cs []constraint) error {
	var docs []string
	for _, c := range cs {
		spec := map[string]any{"match": map[string]any{"kinds": []any{map[string]any{"apiGroups": []any{""}, "kinds": []any{"Pod"}}}}}
		if c.params != nil {
			spec["parameters"] = c.params
		}
		data, err := json.Marshal(map[string]any{
			"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": c.kind,
			"metadata": map[string]any{"name": c.name}, "spec": spec,
		})
		if err != nil {
			return err
		}
		docs = append(docs, string(data))
	}
	return os.WriteFile(file, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644)
}

// writeConfig writes the admission configuration of the webhook:
// podSecurity, signedImages and rego over the templates and constraints.
func writeConfig(dir string, im images, templates []string, constraintsFile string) (string, error) {
	if err := os.WriteFile(filepath.Join(dir, "cosign.pub"), im.pubPEM, 0o644); err != nil {
		return "", err
	}
	paths, err := json.Marshal(append(append([]string(nil), templates...), constraintsFile))
	if err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`apiVersion: kubeshield.dev/v1alpha1
kind: AdmissionConfig
podSecurity:
  enforce: baseline
  warn: restricted
signedImages:
  insecure: [%q]
  rules:
  - name: bench
    images: ["%s/bench/**"]
    keyFile: cosign.pub
rego:
  paths: %s
`, im.host, im.host, paths)
	file := filepath.Join(dir, "admission.yaml")
	return file, os.WriteFile(file, []byte(cfg), 0o644)
}

// variant is one kind of pod of the mix.
type variant struct {
	name      string
	compliant bool
	pod       func(im images) corev1.Pod
}

func ptr[T any](v T) *T { return &v }

// goodContainer is a container that every policy admits, restricted
// Pod Security included.
func goodContainer(name, image string) corev1.Container {
	return corev1.Container{
		Name: name, Image: image,
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")}},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot: ptr(true), AllowPrivilegeEscalation: ptr(false),
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

func labels(keys ...string) map[string]string {
	m := map[string]string{}
	for _, k := range keys {
		m[k] = "bench"
	}
	return m
}

// variants are the pods of the mix: half compliant, half violating
// several policies each.
func variants() []variant {
	return []variant{
		{"compliant", true, func(im images) corev1.Pod {
			return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels("app", "team", "tier")},
				Spec: corev1.PodSpec{Containers: []corev1.Container{goodContainer("app", im.signed)}}}
		}},
		{"compliant-3-containers", true, func(im images) corev1.Pod {
			return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels("app", "team", "tier")},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{goodContainer("init", im.signed)},
					Containers:     []corev1.Container{goodContainer("app", im.signed), goodContainer("sidecar", im.signed)}}}
		}},
		// Pod Security baseline, K8sPSPPrivilegedContainer, a required label.
		{"privileged", false, func(im images) corev1.Pod {
			c := goodContainer("app", im.signed)
			c.SecurityContext.Privileged = ptr(true)
			return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels("app", "tier")},
				Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
		}},
		// Pod Security baseline (hostPath), host filesystem, both allowed
		// repos, latest tag, no limits.
		{"hostpath-latest", false, func(im images) corev1.Pod {
			c := corev1.Container{Name: "web", Image: "docker.io/library/nginx:latest",
				VolumeMounts: []corev1.VolumeMount{{Name: "logs", MountPath: "/logs"}}}
			return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels("app", "team", "tier")},
				Spec: corev1.PodSpec{Containers: []corev1.Container{c},
					Volumes: []corev1.Volume{{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}}}}}
		}},
		// An unsigned image (signedImages) and a missing label.
		{"unsigned", false, func(im images) corev1.Pod {
			return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels("app", "team")},
				Spec: corev1.PodSpec{Containers: []corev1.Container{goodContainer("app", im.unsigned)}}}
		}},
		// An init container from another registry with a dev tag, and a
		// memory limit over the maximum.
		{"dev-tag-big-memory", false, func(im images) corev1.Pod {
			c := goodContainer("app", im.signed)
			c.Resources.Limits[corev1.ResourceMemory] = resource.MustParse("4Gi")
			return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels("app", "team", "tier")},
				Spec: corev1.PodSpec{InitContainers: []corev1.Container{goodContainer("tool", "ghcr.io/acme/tool:dev")},
					Containers: []corev1.Container{c}}}
		}},
	}
}

// mix is the order in which the load cycles through the variants: four
// compliant pods, four violating ones.
var mix = []int{0, 2, 1, 3, 0, 4, 1, 5}

// podManifest returns pod i of the manifests (variant i%len(variants)).
func podManifest(im images, vs []variant, v int, podName string) ([]byte, error) {
	p := vs[v].pod(im)
	p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	p.Name, p.Namespace = podName, namespace
	return json.Marshal(&p)
}

// admissionRequest is the AdmissionRequest of creating a pod.
func admissionRequest(uid, podName string, pod []byte) *admissionv1.AdmissionRequest {
	return &admissionv1.AdmissionRequest{
		UID:       types.UID(uid),
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: namespace, Name: podName,
		Operation: admissionv1.Create,
		UserInfo:  authenticationv1.UserInfo{Username: "bench"},
		Object:    runtime.RawExtension{Raw: pod},
	}
}

// inputs are the requests of the load: per entry of mix, the
// AdmissionReview for the webhook and the body for OPA's data API.
type inputs struct {
	requests []*admissionv1.AdmissionRequest
	variant  []int
	reviews  [][]byte
	opa      [][]byte
}

func buildInputs(im images, vs []variant) (inputs, error) {
	var in inputs
	for i, v := range mix {
		podName := fmt.Sprintf("%s-%d", vs[v].name, i)
		pod, err := podManifest(im, vs, v, podName)
		if err != nil {
			return inputs{}, err
		}
		req := admissionRequest(fmt.Sprintf("bench-%d", i), podName, pod)
		review, err := json.Marshal(&admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: req})
		if err != nil {
			return inputs{}, err
		}
		body, err := json.Marshal(map[string]any{"input": map[string]any{"review": req}})
		if err != nil {
			return inputs{}, err
		}
		in.requests = append(in.requests, req)
		in.variant = append(in.variant, v)
		in.reviews = append(in.reviews, review)
		in.opa = append(in.opa, body)
	}
	return in, nil
}

// writePods writes n pod manifests (the variants in turn) as one
// multi-document file and returns their AdmissionRequests.
func writePods(file string, im images, vs []variant, n int) ([]*admissionv1.AdmissionRequest, error) {
	var docs []string
	var reqs []*admissionv1.AdmissionRequest
	for i := range n {
		podName := fmt.Sprintf("pod-%d", i)
		pod, err := podManifest(im, vs, mix[i%len(mix)], podName)
		if err != nil {
			return nil, err
		}
		docs = append(docs, string(pod))
		reqs = append(reqs, admissionRequest(fmt.Sprintf("offline-%d", i), podName, pod))
	}
	return reqs, os.WriteFile(file, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644)
}
