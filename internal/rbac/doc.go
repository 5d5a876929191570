// Package rbac answers "who can do what, where" over a cluster.Snapshot
// exactly as the API server's RBAC authorizer does.
//
// New indexes a snapshot's Roles, ClusterRoles, RoleBindings and
// ClusterRoleBindings once; questions are then cheap and never block:
//
//   - Allowed decides one Request (a user, exactly the groups given, and
//     the attributes of one resource or non-resource request, as in a
//     SubjectAccessReview) and says which binding, role and rule allowed it.
//   - Rules lists what a user with some groups may do in a namespace, as a
//     SelfSubjectRulesReview does (kubectl auth can-i --list).
//   - WhoCan lists every subject (User, Group, ServiceAccount) that some
//     binding lets make a request, with that binding, role and rule.
//
// The semantics follow the API server's authorizer: rules are additive and
// there is no deny; ClusterRoleBindings apply everywhere, RoleBindings only
// in their own namespace; a RoleBinding's roleRef names a Role of its own
// namespace or a ClusterRole; "*" matches every verb, API group or
// resource, "*/sub" every resource's subresource sub; a rule with
// resourceNames never matches a request without a name (list, create,
// watch of a collection); non-resource URLs (exact, or a prefix ending in
// "*") come only through ClusterRoleBindings because non-resource requests
// have no namespace; a ServiceAccount subject matches the user
// system:serviceaccount:NAMESPACE:NAME, its namespace defaulting to the
// RoleBinding's; a binding whose roleRef names no role grants nothing and
// is reported (Authorizer.Broken). Aggregated ClusterRoles get the rules
// the clusterrole-aggregation controller leaves them: the union of the
// rules of every other ClusterRole one of their selectors matches, through
// chains of aggregated roles, replacing the rules they hold in the
// snapshot, except that a role whose union is empty keeps its own rules
// (the controller then writes nothing). The same answers come from a
// snapshot of a live cluster, where the controller has filled aggregated
// roles, and from manifests, where they are empty.
//
// Only RBAC is modelled: the API server's other authorizers (the
// system:masters superuser group, Node, webhooks) are not, though a
// cluster's default cluster-admin binding to system:masters gives that
// group the same answers.
//
// # Access policies
//
// Risks (risks.go) reports the grants attackers use as findings of the
// rules RiskRules returns (KS-RBAC-001 to 019): full access, wildcards,
// secret reads, pod and workload creation, exec and attach, service
// account tokens, bind, escalate and impersonate, nodes/proxy, CSR approval
// and signing, admission webhook writes, PersistentVolume creation, grants
// to anonymous, unauthenticated and all authenticated users, default
// service accounts, and bindings to missing subjects or roles. Each
// finding is one (rule, binding, subject), with the exact rules as
// evidence; the API server's own bootstrap grants and system components
// are left out unless RiskOptions.IncludeSystem.
//
// Paths (paths*.go) finds multi-step privilege escalation paths: from an
// identity, through techniques such as creating a pod that mounts another
// service account, reading token secrets, exec into pods, impersonation,
// binding roles, escalate, the kubelet API and CSR approval, to a target
// (cluster-admin, all secrets, the nodes). Every step carries the grant
// that allows it, and steps that depend on something RBAC cannot see
// (a legacy token secret existing) say so. The search is breadth-first
// and bounded; DOT renders paths for Graphviz.
//
// An AccessPolicy (ParsePolicy reads it from YAML, apiVersion
// kubeshield.dev/v1alpha1, kind AccessPolicy) states what a team expects
// of the cluster's RBAC, and AccessPolicy.Check lists every grant (every
// binding, subject and role rule, see Authorizer.Grants) and every
// missing access that breaks it. Each rule of a policy makes one check:
//
//   - onlyIn: its subjects may have its verbs on its resources only in a
//     scope (namespaces by name or label, and clusterScope); a RoleBinding
//     elsewhere, or a ClusterRoleBinding that reaches a namespace outside
//     the scope or, without clusterScope, a cluster-scoped resource,
//     breaks it. onlyIn: {} allows the access nowhere.
//   - onlySubjects: only the subjects listed may have its verbs on its
//     resources, anywhere.
//   - mustAllow: its subjects must be allowed each listed verb on each
//     listed resource in each namespace of a scope.
//
// For example:
//
//	apiVersion: kubeshield.dev/v1alpha1
//	kind: AccessPolicy
//	rules:
//	- name: developers write only in team shop
//	  subjects: [{kind: Group, name: developers}]
//	  verbs: [create, update, patch, delete, deletecollection]
//	  resources: ["*"]
//	  onlyIn: {namespaceSelector: {matchLabels: {team: shop}}}
//	- name: only admins delete
//	  verbs: [delete, deletecollection]
//	  resources: ["*"]
//	  onlySubjects: [{kind: Group, name: cluster-admins}, {kind: ServiceAccount, namespace: ci, name: "*"}]
//	- name: developers read the shop
//	  subjects: [{kind: Group, name: developers}]
//	  mustAllow:
//	  - {verbs: [get, list, watch], resources: [pods, deployments.apps], namespaces: [shop]}
//
// Role wildcards count ("*" verbs grant delete), resourceNames do not
// exempt a grant, and subjects match a binding's subject literally.
// ParsePolicy and Check say the rest; testdata/policy/example.yaml is a
// policy for examples/rbac. Violation.Finding reports violations as
// findings of the rules PolicyRules returns (KS-RBAC-100 to 102).
package rbac
