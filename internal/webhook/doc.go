// Package webhook serves Kubeshield's admission webhooks over HTTPS: the
// validating and mutating endpoints, /healthz, /readyz and Prometheus
// /metrics, with a request body limit and a deadline per request. The
// decisions come from internal/admission; this package is the transport
// around them: TLS from files reloaded when they change (CertReloader), or
// a CA of its own (CA) whose certificate it writes as the caBundle of its
// webhook configurations (InjectCABundle), for clusters without
// cert-manager.
package webhook
