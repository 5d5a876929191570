package admission_test

import (
	"context"
	"fmt"
	"os"

	"github.com/kubeshield/kubeshield/internal/admission"
)

// The webhook's hot path: decode a review, run the configured policies,
// answer.
func ExampleEngine_Admit() {
	cfg, err := admission.ParseConfig([]byte(`
apiVersion: kubeshield.dev/v1alpha1
kind: AdmissionConfig
runtimeSockets: {}
images:
  mode: warn
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	bindings, err := cfg.Bindings(context.Background(), admission.BuildEnv{})
	if err != nil {
		fmt.Println(err)
		return
	}
	engine, err := admission.NewEngine(nil, nil, bindings...)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, err := os.Open("testdata/reviews/pod-create-docker-sock.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer body.Close()
	review, err := admission.DecodeReview(body, admission.DefaultMaxReviewSize)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := engine.Admit(context.Background(), review.Request)
	resp := admission.Response(review, d).Response
	fmt.Println(resp.UID, resp.Allowed, resp.Result.Code)
	fmt.Println(resp.Result.Message)
	fmt.Println(resp.Warnings)
	// Output:
	// u-pod-sock false 403
	// runtimeSockets: hostPath volume "sock" (/var/run//docker.sock/) is the container runtime socket /run/docker.sock
	// [images: container "app": image "nginx" has no tag (latest)]
}

func ExampleParseConfig_error() {
	_, err := admission.ParseConfig([]byte(`apiVersion: kubeshield.dev/v1alpha1
kind: AdmissionConfig
registries:
  mode: enforce
  allowed: [ghcr.io]
`))
	fmt.Println(err)
	// Output:
	// admission config: line 5: unknown field "allowed"
}
