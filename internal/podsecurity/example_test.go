package podsecurity_test

import (
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubeshield/kubeshield/internal/podsecurity"
	"github.com/kubeshield/kubeshield/internal/workload"
)

func ExampleEvaluator_Admit() {
	e, err := podsecurity.New(podsecurity.Config{EnforceTemplates: true})
	if err != nil {
		panic(err)
	}
	deployment := `{"metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx","securityContext":{"privileged":true}}]}}}}`
	pod, _, err := workload.FromJSON(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, []byte(deployment))
	if err != nil {
		panic(err)
	}
	d := e.Admit(podsecurity.Request{
		Operation:       admissionv1.Create,
		Namespace:       "shop",
		NamespaceLabels: map[string]string{"pod-security.kubernetes.io/enforce": "baseline"},
		Name:            "web",
		Object:          pod,
	})
	fmt.Println(d.Allowed)
	fmt.Println(d.Message)
	// Output:
	// false
	// violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)
}

func ExampleParseLevelVersion() {
	lv, err := podsecurity.ParseLevelVersion("restricted:v1.30")
	fmt.Println(lv, err)
	// Output: restricted:v1.30 <nil>
}
