package policy_test

import (
	"context"
	"fmt"

	"github.com/kubeshield/kubeshield/internal/policy"
)

// A Gatekeeper ConstraintTemplate and a Constraint, compiled once and
// evaluated against a manifest as the webhook evaluates each request.
func Example() {
	ctx := context.Background()
	p, err := policy.Parse("policies.yaml", []byte(`
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: string
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredlabels

        violation[{"msg": msg}] {
          provided := {label | input.review.object.metadata.labels[label]}
          required := {label | label := input.parameters.labels[_]}
          missing := required - provided
          count(missing) > 0
          msg := sprintf("you must provide labels: %v", [missing])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: pods-need-owner
spec:
  enforcementAction: warn
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
    excludedNamespaces: ["kube-*"]
  parameters:
    labels: ["owner"]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	engine, err := policy.New(ctx, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ns := range []string{"shop", "kube-system"} {
		obj, err := policy.NewObject(map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": "web", "namespace": ns},
		}, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		violations, err := engine.Review(ctx, obj)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %d violation(s)\n", ns, len(violations))
		for _, v := range violations {
			fmt.Printf("  %s %s/%s: %s\n", v.EnforcementAction, v.ConstraintKind, v.ConstraintName, v.Msg)
		}
	}
	// Output:
	// shop: 1 violation(s)
	//   warn K8sRequiredLabels/pods-need-owner: you must provide labels: {"owner"}
	// kube-system: 0 violation(s)
}
