package rbac

import (
	"github.com/kubeshield/kubeshield/internal/finding"
)

// The rules Risks applies. Their text is the reference in docs/rules.md.
// A rule whose description says so is one severity lower when a
// RoleBinding, not a ClusterRoleBinding, grants the permission.
var (
	riskFullAccess = finding.Rule{
		ID: "KS-RBAC-001", Severity: finding.Critical,
		Title:       "Full access to every resource (cluster-admin)",
		Description: "A binding gives its subject a rule allowing every verb (\"*\") on every resource (\"*\") of every API group (\"*\"), as cluster-admin does: through a ClusterRoleBinding that is the whole cluster, its Secrets, workloads and RBAC included; through a RoleBinding (HIGH) everything in the namespace. The other permission rules are not reported again for the same binding and subject.",
		Remediation: "Bind a role with only the permissions the subject needs, in a RoleBinding where possible; keep cluster-admin for break-glass accounts, reached through impersonation.",
	}
	riskWildcard = finding.Rule{
		ID: "KS-RBAC-002", Severity: finding.High,
		Title:       "Wildcard in a granted rule",
		Description: "A rule of the bound role uses \"*\" for its verbs, resources or API groups. A wildcard grants every verb, resource or group that exists, and every one added later (custom resources, new subresources, verbs such as escalate or impersonate). MEDIUM when granted by a RoleBinding.",
		Remediation: "List the verbs, resources and API groups the subject needs instead of \"*\".",
	}
	riskSecretRead = finding.Rule{
		ID: "KS-RBAC-003", Severity: finding.High,
		Title:       "Read access to Secrets",
		Description: "The subject may get, list or watch Secrets without a resourceNames restriction. list and watch return the Secrets' contents, so they expose every Secret (service account tokens, credentials, TLS keys) as much as get does. MEDIUM when granted by a RoleBinding (the namespace's Secrets only). A get limited by resourceNames is not reported.",
		Remediation: "Remove get, list and watch on secrets, or limit get to the Secrets the subject needs with resourceNames; mount Secrets into pods instead of reading them through the API.",
	}
	riskWorkloads = finding.Rule{
		ID: "KS-RBAC-004", Severity: finding.High,
		Title:       "May create or change pods and workloads",
		Description: "The subject may create pods or workloads that run pods (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, ReplicationControllers), or update or patch them (also of named objects). A pod can run as any service account of its namespace and mount its Secrets, ConfigMaps and volumes, so this grants all of their permissions; a privileged pod reaches the node. MEDIUM when granted by a RoleBinding.",
		Remediation: "Let people deploy through a reviewed pipeline rather than directly; enforce the Baseline or Restricted Pod Security Standard in namespaces where untrusted subjects create pods; keep powerful service accounts out of such namespaces.",
	}
	riskExec = finding.Rule{
		ID: "KS-RBAC-005", Severity: finding.High,
		Title:       "May exec into or attach to pods",
		Description: "The subject may create or get pods/exec or pods/attach (kubectl exec and attach use create, their websocket form get), or update or patch pods/ephemeralcontainers (kubectl debug), also of named pods. It runs commands inside the pods with their service accounts' tokens and their Secrets. MEDIUM when granted by a RoleBinding.",
		Remediation: "Remove these permissions or grant them only temporarily, to named pods, to the people who debug them.",
	}
	riskPortForward = finding.Rule{
		ID: "KS-RBAC-006", Severity: finding.Medium,
		Title:       "May port-forward to pods",
		Description: "The subject may create or get pods/portforward, also of named pods, and so reach any port of the pods, bypassing Services, Ingresses and NetworkPolicies. LOW when granted by a RoleBinding.",
		Remediation: "Remove pods/portforward or grant it only to the people who debug those pods.",
	}
	riskToken = finding.Rule{
		ID: "KS-RBAC-007", Severity: finding.High,
		Title:       "May create service account tokens",
		Description: "The subject may create serviceaccounts/token (TokenRequests), also of named service accounts, and so get a token of, and act as, any such service account. MEDIUM when granted by a RoleBinding (the namespace's service accounts).",
		Remediation: "Remove create on serviceaccounts/token; pods get their own tokens without it.",
	}
	riskBindEscalate = finding.Rule{
		ID: "KS-RBAC-008", Severity: finding.High,
		Title:       "May bind or escalate roles",
		Description: "The subject may bind or escalate roles or clusterroles of any name. bind lets it create bindings to roles with permissions it does not have, escalate lets it add permissions to roles, each bypassing RBAC's protection against privilege escalation. MEDIUM when granted by a RoleBinding. bind or escalate limited by resourceNames is not reported.",
		Remediation: "Remove the bind and escalate verbs, or limit bind with resourceNames to the roles the subject hands out.",
	}
	riskImpersonate = finding.Rule{
		ID: "KS-RBAC-009", Severity: finding.Critical,
		Title:       "May impersonate users, groups or service accounts",
		Description: "The subject may impersonate users, groups, service accounts, UIDs or user extras, also named ones, and so act with their permissions: impersonating the group system:masters, for one, bypasses RBAC altogether. HIGH when granted by a RoleBinding (the namespace's service accounts only).",
		Remediation: "Remove the impersonate verb or limit it with resourceNames to unprivileged identities; audit its use.",
	}
	riskNodeProxy = finding.Rule{
		ID: "KS-RBAC-010", Severity: finding.High,
		Title:       "Access to the nodes/proxy subresource",
		Description: "The subject may use nodes/proxy (any verb: get alone reaches the kubelet's exec endpoint over websockets), so it can run commands in every pod of the nodes, bypassing audit logging and admission control. Only ClusterRoleBindings grant it.",
		Remediation: "Remove nodes/proxy; monitoring agents need nodes/metrics or nodes/stats only.",
	}
	riskCSRApprove = finding.Rule{
		ID: "KS-RBAC-011", Severity: finding.High,
		Title:       "May approve certificate signing requests",
		Description: "The subject may both update certificatesigningrequests/approval and approve for a signer (resource signers of certificates.k8s.io, any name or a named signer), so it can approve its own CSRs: for the kubernetes.io/kube-apiserver-client signer, client certificates with any user name and groups, system components' included. Only ClusterRoleBindings grant it.",
		Remediation: "Keep CSR approval to the controller manager and a few administrators; limit the approve verb to named signers other than kubernetes.io/kube-apiserver-client.",
	}
	riskCSRSign = finding.Rule{
		ID: "KS-RBAC-012", Severity: finding.High,
		Title:       "May sign certificate signing requests",
		Description: "The subject may both update certificatesigningrequests/status and sign for a signer (resource signers of certificates.k8s.io), so it can issue certificates in the signer's name. Only ClusterRoleBindings grant it.",
		Remediation: "Keep signing to the signer's controller; limit the sign verb to the named signer it implements.",
	}
	riskAdmission = finding.Rule{
		ID: "KS-RBAC-013", Severity: finding.High,
		Title:       "May change admission webhooks or policies",
		Description: "The subject may create, update, patch or delete validating or mutating webhook configurations or admission policies and their bindings (also named ones), so it can read every object admitted, rewrite objects (mutating webhooks), or switch off the admission controls that protect the cluster. Only ClusterRoleBindings grant it.",
		Remediation: "Keep write access to admissionregistration.k8s.io to the administrators and the controllers that own the configurations.",
	}
	riskPersistentVolume = finding.Rule{
		ID: "KS-RBAC-014", Severity: finding.High,
		Title:       "May create PersistentVolumes",
		Description: "The subject may create PersistentVolumes, including hostPath volumes that give a pod the node's filesystem (kubelet credentials, other containers' data). Only ClusterRoleBindings grant it.",
		Remediation: "Let administrators and provisioners create PersistentVolumes; others use PersistentVolumeClaims with a StorageClass.",
	}
	riskAnonymous = finding.Rule{
		ID: "KS-RBAC-015", Severity: finding.Critical,
		Title:       "Permissions granted to anonymous users",
		Description: "A binding grants permissions to the user system:anonymous or the group system:unauthenticated, so to anyone who can reach the API server. The API server's own bootstrap bindings of discovery and public information (system:public-info-viewer) are not reported.",
		Remediation: "Remove system:anonymous and system:unauthenticated from the binding; grant the permissions to authenticated subjects.",
	}
	riskAuthenticated = finding.Rule{
		ID: "KS-RBAC-016", Severity: finding.High,
		Title:       "Permissions granted to every authenticated user or service account",
		Description: "A binding grants permissions to the group system:authenticated (every user and service account with any valid credential) or system:serviceaccounts (every service account, so every pod). The API server's own bootstrap bindings (system:basic-user, system:discovery, system:public-info-viewer, system:service-account-issuer-discovery, system:cluster-trust-bundle-discovery) are not reported.",
		Remediation: "Bind the role to the groups or service accounts that need it.",
	}
	riskDefaultSA = finding.Rule{
		ID: "KS-RBAC-017", Severity: finding.Medium,
		Title:       "Permissions granted to a default service account",
		Description: "A binding grants permissions to a namespace's default service account, which every pod of the namespace that names no service account runs as (with its token mounted unless automountServiceAccountToken is false).",
		Remediation: "Create a service account for the workload that needs the permissions, bind the role to it and set serviceAccountName; leave default without permissions.",
	}
	riskMissingSA = finding.Rule{
		ID: "KS-RBAC-018", Severity: finding.Low,
		Title:       "Binding to a service account that does not exist",
		Description: "A binding names a service account that is not among its namespace's loaded service accounts (or, in a ClusterRoleBinding, one without a namespace, which matches nobody). Whoever creates a service account of that name gets the permissions. Reported only when the snapshot holds service accounts of that namespace.",
		Remediation: "Remove the subject, or the binding, or create the intended service account.",
	}
	riskMissingRole = finding.Rule{
		ID: "KS-RBAC-019", Severity: finding.Low,
		Title:       "Binding to a role that does not exist",
		Description: "A binding refers to a Role or ClusterRole that does not exist (or a kind a binding cannot refer to). It grants nothing now, but whoever creates a role of that name grants its subjects whatever the role holds.",
		Remediation: "Delete the binding, or create the role it was meant to refer to.",
	}
)

// RiskRules returns the rules Risks applies, in ID order.
func RiskRules() []finding.Rule {
	rules := []finding.Rule{
		riskFullAccess, riskWildcard, riskSecretRead, riskWorkloads, riskExec,
		riskPortForward, riskToken, riskBindEscalate, riskImpersonate, riskNodeProxy,
		riskCSRApprove, riskCSRSign, riskAdmission, riskPersistentVolume,
		riskAnonymous, riskAuthenticated, riskDefaultSA, riskMissingSA, riskMissingRole,
	}
	for i := range rules {
		rules[i].References = riskReferences[rules[i].ID]
	}
	return rules
}

// riskGoodPractices is the Kubernetes RBAC good-practices guide.
const riskGoodPractices = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"

// riskReferences are the references of each rule's findings.
var riskReferences = map[string][]string{
	riskFullAccess.ID:       {riskGoodPractices + "#least-privilege"},
	riskWildcard.ID:         {riskGoodPractices + "#least-privilege"},
	riskSecretRead.ID:       {riskGoodPractices + "#listing-secrets"},
	riskWorkloads.ID:        {riskGoodPractices + "#workload-creation"},
	riskExec.ID:             {riskGoodPractices + "#privilege-escalation-risks", "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources"},
	riskPortForward.ID:      {riskGoodPractices + "#privilege-escalation-risks"},
	riskToken.ID:            {riskGoodPractices + "#token-request"},
	riskBindEscalate.ID:     {riskGoodPractices + "#bind-verb", riskGoodPractices + "#escalate-verb", "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#restrictions-on-role-creation-or-update"},
	riskImpersonate.ID:      {riskGoodPractices + "#impersonate-verb", "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation"},
	riskNodeProxy.ID:        {riskGoodPractices + "#access-to-proxy-subresource-of-nodes"},
	riskCSRApprove.ID:       {riskGoodPractices + "#csrs-and-certificate-issuing", "https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#authorization"},
	riskCSRSign.ID:          {riskGoodPractices + "#csrs-and-certificate-issuing", "https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#authorization"},
	riskAdmission.ID:        {riskGoodPractices + "#control-admission-webhooks"},
	riskPersistentVolume.ID: {riskGoodPractices + "#persistent-volume-creation"},
	riskAnonymous.ID:        {riskGoodPractices + "#hardening", "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests"},
	riskAuthenticated.ID:    {riskGoodPractices + "#least-privilege", "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings"},
	riskDefaultSA.ID:        {riskGoodPractices + "#minimize-distribution-of-privileged-tokens", "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#use-the-default-service-account-to-access-the-api-server"},
	riskMissingSA.ID:        {riskGoodPractices + "#periodic-review"},
	riskMissingRole.ID:      {riskGoodPractices + "#periodic-review"},
}

// riskProbe is a set of requests a permission rule looks for: each verb on
// one resource (and subresource).
type riskProbe struct {
	verbs    []string
	group    string
	resource string
	// sub is the subresource; riskAnySub means any (userextras/KEY).
	sub string
	// cluster marks a cluster-scoped resource: RoleBindings never grant it.
	cluster bool
	// named marks requests that carry the object's name, so that a rule
	// limited by resourceNames grants them for those names. Creating a
	// top-level object has no name; its subresources do.
	named bool
}

// riskAnySub stands for any subresource of a probe's resource.
const riskAnySub = "\x00any"

// riskCheck is a permission rule: reported when, for every entry of
// needs, one of its probes matches a rule of the bound role.
type riskCheck struct {
	rule finding.Rule
	// scoped lowers the severity by one for RoleBindings.
	scoped bool
	needs  [][]riskProbe
}

// riskWorkloadResources are the resources whose objects are, or make,
// pods.
var riskWorkloadResources = []struct{ group, resource string }{
	{"", "pods"},
	{"apps", "deployments"},
	{"apps", "replicasets"},
	{"apps", "statefulsets"},
	{"apps", "daemonsets"},
	{"batch", "jobs"},
	{"batch", "cronjobs"},
	{"", "replicationcontrollers"},
}

// riskAdmissionResources are the admission configuration resources.
var riskAdmissionResources = []string{
	"validatingwebhookconfigurations",
	"mutatingwebhookconfigurations",
	"validatingadmissionpolicies",
	"validatingadmissionpolicybindings",
	"mutatingadmissionpolicies",
	"mutatingadmissionpolicybindings",
}

// riskChecks returns the permission rules (those probing the bound role's
// rules), full access first.
func riskChecks() []riskCheck {
	var workloads []riskProbe
	for _, w := range riskWorkloadResources {
		workloads = append(workloads, riskProbe{verbs: []string{"create"}, group: w.group, resource: w.resource})
	}
	for _, w := range riskWorkloadResources {
		workloads = append(workloads, riskProbe{verbs: []string{"update", "patch"}, group: w.group, resource: w.resource, named: true})
	}
	var admission []riskProbe
	for _, r := range riskAdmissionResources {
		admission = append(admission,
			riskProbe{verbs: []string{"create", "deletecollection"}, group: "admissionregistration.k8s.io", resource: r, cluster: true},
			riskProbe{verbs: []string{"update", "patch", "delete"}, group: "admissionregistration.k8s.io", resource: r, cluster: true, named: true})
	}
	const rbacGroup = "rbac.authorization.k8s.io"
	const certGroup = "certificates.k8s.io"
	return []riskCheck{
		{rule: riskFullAccess, scoped: true, needs: [][]riskProbe{{
			{verbs: []string{"*"}, group: "*", resource: "*"},
		}}},
		{rule: riskSecretRead, scoped: true, needs: [][]riskProbe{{
			{verbs: []string{"get", "list", "watch"}, resource: "secrets"},
		}}},
		{rule: riskWorkloads, scoped: true, needs: [][]riskProbe{workloads}},
		{rule: riskExec, scoped: true, needs: [][]riskProbe{{
			{verbs: []string{"create", "get"}, resource: "pods", sub: "exec", named: true},
			{verbs: []string{"create", "get"}, resource: "pods", sub: "attach", named: true},
			{verbs: []string{"update", "patch"}, resource: "pods", sub: "ephemeralcontainers", named: true},
		}}},
		{rule: riskPortForward, scoped: true, needs: [][]riskProbe{{
			{verbs: []string{"create", "get"}, resource: "pods", sub: "portforward", named: true},
		}}},
		{rule: riskToken, scoped: true, needs: [][]riskProbe{{
			{verbs: []string{"create"}, resource: "serviceaccounts", sub: "token", named: true},
		}}},
		{rule: riskBindEscalate, scoped: true, needs: [][]riskProbe{{
			{verbs: []string{"bind", "escalate"}, group: rbacGroup, resource: "roles"},
			// A RoleBinding's bind on clusterroles lets its subject bind
			// ClusterRoles in the namespace; escalating a ClusterRole
			// takes a ClusterRoleBinding.
			{verbs: []string{"bind"}, group: rbacGroup, resource: "clusterroles"},
			{verbs: []string{"escalate"}, group: rbacGroup, resource: "clusterroles", cluster: true},
		}}},
		{rule: riskImpersonate, scoped: true, needs: [][]riskProbe{{
			{verbs: []string{"impersonate"}, resource: "users", cluster: true, named: true},
			{verbs: []string{"impersonate"}, resource: "groups", cluster: true, named: true},
			{verbs: []string{"impersonate"}, resource: "serviceaccounts", named: true},
			{verbs: []string{"impersonate"}, group: "authentication.k8s.io", resource: "uids", cluster: true, named: true},
			{verbs: []string{"impersonate"}, group: "authentication.k8s.io", resource: "userextras", sub: riskAnySub, cluster: true, named: true},
		}}},
		{rule: riskNodeProxy, needs: [][]riskProbe{{
			{verbs: []string{"get", "create", "update", "patch", "delete"}, resource: "nodes", sub: "proxy", cluster: true, named: true},
		}}},
		{rule: riskCSRApprove, needs: [][]riskProbe{
			{{verbs: []string{"update", "patch"}, group: certGroup, resource: "certificatesigningrequests", sub: "approval", cluster: true}},
			{{verbs: []string{"approve"}, group: certGroup, resource: "signers", cluster: true, named: true}},
		}},
		{rule: riskCSRSign, needs: [][]riskProbe{
			{{verbs: []string{"update", "patch"}, group: certGroup, resource: "certificatesigningrequests", sub: "status", cluster: true}},
			{{verbs: []string{"sign"}, group: certGroup, resource: "signers", cluster: true, named: true}},
		}},
		{rule: riskAdmission, needs: [][]riskProbe{admission}},
		{rule: riskPersistentVolume, needs: [][]riskProbe{{
			{verbs: []string{"create"}, resource: "persistentvolumes", cluster: true},
		}}},
	}
}
