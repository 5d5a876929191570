// Package admission is Kubeshield's admission control engine: it decodes
// AdmissionReview requests, runs policies on them and builds the
// responses, the same way in the webhook, offline on manifests and in
// tests.
//
// The pipeline is
//
//	review, err := admission.DecodeReview(body, admission.DefaultMaxReviewSize)
//	req, err := admission.NewRequest(ctx, review.Request, namespaces)
//	d := engine.Review(ctx, req)               // or engine.Admit(ctx, review.Request)
//	decisions.Write(req, d)                    // DecisionLog, one JSON line
//	json.NewEncoder(w).Encode(admission.Response(review, d))
//
// DecodeReview is strict (admission.k8s.io/v1 AdmissionReview, a request
// with a UID, a kind and a known operation, bounded size) and never
// panics; its errors wrap ErrInvalidReview or ErrReviewTooLarge. A
// Request is the AdmissionRequest as policies see it, with the pod the
// object describes (a Pod, or the pod template of any workload kind; see
// package workload) and its namespace's labels, given by a
// NamespaceLabeler.
//
// A Policy judges a Request and returns an Outcome: violations
// (results, not errors), a JSON patch, details. A Binding gives a policy
// its Mode (enforce denies, warn answers with admission warnings, audit
// only logs), FailurePolicy (what an error, a panic or a timeout of the
// policy does: Fail counts it as a violation, Ignore admits) and timeout.
// Engine.Review runs the bindings concurrently, recovers panics (logged
// with the stack, answered per the failure policy, the UID kept) and
// merges the results into a Decision; see there for the rules. Response
// turns a Decision into the AdmissionReview the API server expects,
// keeping warnings within what the API server passes on. The engine
// never logs, except the panics of policies.
//
// # Built-in policies
//
// Four policies check every container, init container and ephemeral
// container of a pod or pod template on CREATE and UPDATE (an UPDATE
// that leaves the pod spec unchanged, and subresources other than
// pods/ephemeralcontainers, are not judged):
//
//   - runtimeSockets: a hostPath volume whose path, cleaned (//, trailing
//     slashes, . and .. removed, /var/run read as /run), is a container
//     runtime socket (RuntimeSockets plus configured paths), a directory
//     holding one (/run, /var/run, /run/containerd, /var, /), or a file
//     named like one (docker.sock, containerd.sock, crio.sock, …).
//   - images: an image reference that does not parse; without a digest,
//     when requireDigest; without a digest and with the tag latest or no
//     tag, when forbidLatest.
//   - registries: an image whose registry and repository (normalised as
//     docker does: nginx is index.docker.io/library/nginx) match no
//     entry of the allow list.
//   - serviceAccountTokens: a pod spec whose automountServiceAccountToken
//     is not false, unless its service account is listed in needAPI.
//
// Each takes an exempt list of "namespace/name" (either part "*"); a name
// also matches the workload that controls the object (a Deployment's
// ReplicaSets and pods, a DaemonSet's or StatefulSet's pods, a CronJob's
// Jobs and their pods).
//
// # Configuration
//
// ParseConfig reads the policies' configuration file, YAML or JSON. A
// section per policy family; an absent section disables its policy.
// Unknown fields, wrong types, anchors, a second document and invalid
// values are errors naming the line (*ConfigError).
//
//	apiVersion: kubeshield.dev/v1alpha1
//	kind: AdmissionConfig
//	defaults:                  # for sections that do not say
//	  mode: enforce            # enforce | warn | audit (default enforce)
//	  failurePolicy: Fail      # Fail | Ignore (default Fail)
//	  timeout: 2s              # per policy (default 2s)
//	runtimeSockets:
//	  exempt: ["monitoring/node-exporter"]
//	  paths: ["/run/user/1000/podman/podman.sock"]
//	images:
//	  mode: warn
//	  requireDigest: false     # default false
//	  forbidLatest: true       # default true
//	registries:
//	  failurePolicy: Ignore
//	  allow: ["registry.example.com", "ghcr.io/acme", "docker.io/library"]
//	serviceAccountTokens:
//	  mode: audit
//	  needAPI: ["kube-system/*", "monitoring/prometheus"]
//	  exempt: ["kube-system/*"]
//
// Config.Bindings builds the configured policies in a fixed order
// (runtimeSockets, images, registries, serviceAccountTokens).
//
// # Decision log
//
// DecisionLog writes one JSON line per decision (DecisionRecord): time,
// request UID, user and groups, operation, kind, namespace and name,
// dry run, allowed, each policy's mode, violations, error and latency,
// and the total latency. It holds no object contents.
//
// # Policies of other packages
//
// Three more sections build policies from other packages (sections.go):
//
//	podSecurity:               # Pod Security Standards (package podsecurity)
//	  enforce: baseline        # defaults, LEVEL[:VERSION]; namespace labels win
//	  warn: restricted
//	  exemptNamespaces: [kube-system]
//	  enforceTemplates: true   # deny workloads by their pod template (default)
//	signedImages:              # only signed images; tags pinned to digests
//	  insecure: ["127.0.0.1:5000"]
//	  rules:
//	  - name: team
//	    images: ["registry.example.com/team/**"]
//	    keyFile: team.pub      # or key: | PEM; cosign signatures and bundles
//	    annotations: {env: prod}
//	  - name: ci
//	    images: ["ghcr.io/acme/*"]
//	    keyless:
//	      trustedRoot: trusted_root.json
//	      identities: [{subjectRegexp: "^https://github.com/acme/", issuer: "https://token.actions.githubusercontent.com"}]
//	  - name: vendor
//	    images: ["vendor.example.com/**"]
//	    notation: {trustPolicy: trustpolicy.json, trustStore: truststore}
//	rego:                      # Gatekeeper templates and constraints (package policy)
//	  paths: [policies/]
//
// Files are read by Config.Bindings, relative to BuildEnv.Dir (the
// configuration file's directory); ParseConfig only checks the
// configuration itself.
package admission
