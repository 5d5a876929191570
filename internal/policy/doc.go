// Package policy evaluates custom Rego policies written for OPA
// Gatekeeper: ConstraintTemplates (templates.gatekeeper.sh/v1 and v1beta1)
// hold the Rego, Constraints (constraints.gatekeeper.sh/v1beta1) say
// which objects a template applies to and with which parameters. A
// template's Rego sees exactly Gatekeeper's input: input.review is the
// AdmissionRequest (plus namespaceObject) and input.parameters the
// constraint's spec.parameters, so policies from the Gatekeeper library
// that define violation[{"msg": msg}] run unmodified.
//
// Parsing (Parse, Load) is deterministic and has no side effects. New
// compiles every template once, with the Rego builtins that reach the
// network (http.send, net.lookup_ip_addr) or the process environment
// (opa.runtime) removed, into an Engine whose Review evaluates the
// prepared queries; an Engine is safe for concurrent use, as the
// admission webhook's hot path needs, and the same Engine checks
// manifests offline through NewObject.
package policy
