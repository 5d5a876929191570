package rbac

import (
	"fmt"
	"slices"
	"strings"
)

// APIResource is one resource the API server serves, as discovery lists
// it: enough to read a resource written the way kubectl writes it and to
// draw an access matrix.
type APIResource struct {
	// Group is the API group, "" for the core group.
	Group string
	// Resource is the plural name.
	Resource string
	// Singular is the singular name.
	Singular string
	// ShortNames are kubectl's abbreviations (po, deploy, ...).
	ShortNames []string
	// Namespaced says whether objects live in a namespace.
	Namespaced bool
}

// String returns resource.group, or resource for the core group.
func (r APIResource) String() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// builtinResources are the resources of a Kubernetes 1.37 API server
// that RBAC questions are usually about.
var builtinResources = []APIResource{
	{"", "bindings", "binding", nil, true},
	{"", "componentstatuses", "componentstatus", []string{"cs"}, false},
	{"", "configmaps", "configmap", []string{"cm"}, true},
	{"", "endpoints", "endpoints", []string{"ep"}, true},
	{"", "events", "event", []string{"ev"}, true},
	{"", "limitranges", "limitrange", []string{"limits"}, true},
	{"", "namespaces", "namespace", []string{"ns"}, false},
	{"", "nodes", "node", []string{"no"}, false},
	{"", "persistentvolumeclaims", "persistentvolumeclaim", []string{"pvc"}, true},
	{"", "persistentvolumes", "persistentvolume", []string{"pv"}, false},
	{"", "pods", "pod", []string{"po"}, true},
	{"", "podtemplates", "podtemplate", nil, true},
	{"", "replicationcontrollers", "replicationcontroller", []string{"rc"}, true},
	{"", "resourcequotas", "resourcequota", []string{"quota"}, true},
	{"", "secrets", "secret", nil, true},
	{"", "serviceaccounts", "serviceaccount", []string{"sa"}, true},
	{"", "services", "service", []string{"svc"}, true},
	{"admissionregistration.k8s.io", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", nil, false},
	{"admissionregistration.k8s.io", "validatingadmissionpolicies", "validatingadmissionpolicy", nil, false},
	{"admissionregistration.k8s.io", "validatingadmissionpolicybindings", "validatingadmissionpolicybinding", nil, false},
	{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "validatingwebhookconfiguration", nil, false},
	{"apiextensions.k8s.io", "customresourcedefinitions", "customresourcedefinition", []string{"crd", "crds"}, false},
	{"apiregistration.k8s.io", "apiservices", "apiservice", nil, false},
	{"apps", "controllerrevisions", "controllerrevision", nil, true},
	{"apps", "daemonsets", "daemonset", []string{"ds"}, true},
	{"apps", "deployments", "deployment", []string{"deploy"}, true},
	{"apps", "replicasets", "replicaset", []string{"rs"}, true},
	{"apps", "statefulsets", "statefulset", []string{"sts"}, true},
	{"authentication.k8s.io", "selfsubjectreviews", "selfsubjectreview", nil, false},
	{"authentication.k8s.io", "tokenreviews", "tokenreview", nil, false},
	{"authorization.k8s.io", "localsubjectaccessreviews", "localsubjectaccessreview", nil, true},
	{"authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectaccessreview", nil, false},
	{"authorization.k8s.io", "selfsubjectrulesreviews", "selfsubjectrulesreview", nil, false},
	{"authorization.k8s.io", "subjectaccessreviews", "subjectaccessreview", nil, false},
	{"autoscaling", "horizontalpodautoscalers", "horizontalpodautoscaler", []string{"hpa"}, true},
	{"batch", "cronjobs", "cronjob", []string{"cj"}, true},
	{"batch", "jobs", "job", nil, true},
	{"certificates.k8s.io", "certificatesigningrequests", "certificatesigningrequest", []string{"csr"}, false},
	{"coordination.k8s.io", "leases", "lease", nil, true},
	{"discovery.k8s.io", "endpointslices", "endpointslice", nil, true},
	{"events.k8s.io", "events", "event", []string{"ev"}, true},
	{"flowcontrol.apiserver.k8s.io", "flowschemas", "flowschema", nil, false},
	{"flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", "prioritylevelconfiguration", nil, false},
	{"networking.k8s.io", "ingressclasses", "ingressclass", nil, false},
	{"networking.k8s.io", "ingresses", "ingress", []string{"ing"}, true},
	{"networking.k8s.io", "networkpolicies", "networkpolicy", []string{"netpol"}, true},
	{"node.k8s.io", "runtimeclasses", "runtimeclass", nil, false},
	{"policy", "poddisruptionbudgets", "poddisruptionbudget", []string{"pdb"}, true},
	{"rbac.authorization.k8s.io", "clusterrolebindings", "clusterrolebinding", nil, false},
	{"rbac.authorization.k8s.io", "clusterroles", "clusterrole", nil, false},
	{"rbac.authorization.k8s.io", "rolebindings", "rolebinding", nil, true},
	{"rbac.authorization.k8s.io", "roles", "role", nil, true},
	{"resource.k8s.io", "deviceclasses", "deviceclass", nil, false},
	{"resource.k8s.io", "resourceclaims", "resourceclaim", nil, true},
	{"resource.k8s.io", "resourceclaimtemplates", "resourceclaimtemplate", nil, true},
	{"resource.k8s.io", "resourceslices", "resourceslice", nil, false},
	{"scheduling.k8s.io", "priorityclasses", "priorityclass", []string{"pc"}, false},
	{"storage.k8s.io", "csidrivers", "csidriver", nil, false},
	{"storage.k8s.io", "csinodes", "csinode", nil, false},
	{"storage.k8s.io", "csistoragecapacities", "csistoragecapacity", nil, true},
	{"storage.k8s.io", "storageclasses", "storageclass", []string{"sc"}, false},
	{"storage.k8s.io", "volumeattachments", "volumeattachment", nil, false},
}

// BuiltinResources returns the resources of a Kubernetes API server
// (version 1.37) that Kubeshield knows by name, sorted by group and
// resource. Custom resources are not among them.
func BuiltinResources() []APIResource { return slices.Clone(builtinResources) }

// ParseResource reads a resource written as kubectl writes it:
// "pods", "po", "pod", "deployments.apps", "deploy", "pods/exec",
// "deployments.apps/scale". A name without a group that is a built-in
// resource (or its singular or short name) gets that resource's group,
// as kubectl's discovery would give it ("deployments" is
// deployments.apps); any other name without a group is taken as is in
// the core group, and "*" stays "*" (with group "*" unless one is given).
// The subresource after "/" is returned separately.
//
// Errors: an empty resource or subresource, or more than one "/".
func ParseResource(s string) (group, resource, subresource string, err error) {
	res, sub, hasSub := strings.Cut(s, "/")
	if res == "" || (hasSub && (sub == "" || strings.Contains(sub, "/"))) {
		return "", "", "", fmt.Errorf("resource %q: want RESOURCE[.GROUP][/SUBRESOURCE]", s)
	}
	if res == "*" {
		return "*", "*", sub, nil
	}
	name, grp, hasGroup := strings.Cut(res, ".")
	name = strings.ToLower(name)
	for _, r := range builtinResources {
		if hasGroup && r.Group != grp {
			continue
		}
		if r.Resource == name || r.Singular == name || slices.Contains(r.ShortNames, name) {
			return r.Group, r.Resource, sub, nil
		}
	}
	if hasGroup {
		return grp, name, sub, nil
	}
	return "", name, sub, nil
}
