// Package podsecurity evaluates the Pod Security Standards (privileged,
// baseline, restricted; version-pinned) for pods and for the pod templates
// of workloads, with the checks of the upstream
// k8s.io/pod-security-admission library, and decides admission requests as
// the API server's built-in PodSecurity admission plugin does: the level
// per namespace from the pod-security.kubernetes.io labels over a
// configured default, exemptions by namespace, user and runtime class, and
// the plugin's denial, warning and audit texts word for word.
//
// Kubeshield goes one step further when asked: with
// Config.EnforceTemplates a workload whose pod template violates the
// namespace's enforce level is denied, not only its pods later.
//
// Everything here is a pure function of its inputs: the caller looks up
// the namespace's labels; nothing blocks, logs or talks to an API server.
package podsecurity
