package rbac

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Request is one question to the authorizer: who asks, and the attributes
// of the request as the API server's authorizer sees them. Like a
// SubjectAccessReview, the asker has exactly the user name and groups
// given: no group (system:authenticated, system:serviceaccounts, ...) is
// implied.
type Request struct {
	// User is the user name; a service account's is
	// system:serviceaccount:NAMESPACE:NAME (see ServiceAccountUser).
	User string
	// Groups are the user's groups, exactly.
	Groups []string
	// Verb is the API verb (get, list, create, ...) or, for a
	// non-resource request, the lower-case HTTP verb (get, post, ...).
	Verb string

	// NonResource marks a non-resource request (Path); otherwise the
	// request is for a resource (APIGroup, Resource, ...).
	NonResource bool
	// Path is a non-resource request's URL path, such as /healthz.
	Path string

	// APIGroup is the resource's API group, "" for the core group.
	APIGroup string
	// Resource is the resource's plural name, such as pods.
	Resource string
	// Subresource is the subresource, such as exec or status, or "".
	Subresource string
	// Name is the object's name, "" for requests on a collection.
	Name string
	// Namespace is the request's namespace, "" for cluster-scoped
	// resources and all-namespace requests. It is ignored for non-resource
	// requests, which never have one.
	Namespace string
}

// String describes the request in one line, for messages and tests.
func (r Request) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "user %q groups %q: %s ", r.User, r.Groups, r.Verb)
	if r.NonResource {
		fmt.Fprintf(&b, "nonResourceURL %q", r.Path)
		return b.String()
	}
	b.WriteString(r.Resource)
	if r.Subresource != "" {
		b.WriteString("/" + r.Subresource)
	}
	if r.APIGroup != "" {
		b.WriteString("." + r.APIGroup)
	}
	if r.Name != "" {
		fmt.Fprintf(&b, " named %q", r.Name)
	}
	if r.Namespace != "" {
		fmt.Fprintf(&b, " in namespace %q", r.Namespace)
	} else {
		b.WriteString(" cluster-wide")
	}
	return b.String()
}

// namespace is the namespace whose RoleBindings apply to r.
func (r Request) namespace() string {
	if r.NonResource {
		return ""
	}
	return r.Namespace
}

// ServiceAccountUser returns the user name of the service account name in
// namespace, system:serviceaccount:NAMESPACE:NAME.
func ServiceAccountUser(namespace, name string) string {
	return ServiceAccountUserPrefix + namespace + ":" + name
}

// ServiceAccountGroups returns the groups the API server gives every
// token of a service account in namespace: system:serviceaccounts and
// system:serviceaccounts:NAMESPACE. A SubjectAccessReview, and so Request,
// includes them only when they are given.
func ServiceAccountGroups(namespace string) []string {
	return []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace}
}

// ServiceAccountUserPrefix starts the user name of every service account.
const ServiceAccountUserPrefix = "system:serviceaccount:"

// ParseServiceAccountUser returns the namespace and name of a service
// account's user name (system:serviceaccount:NAMESPACE:NAME); ok is false
// for any other user name.
func ParseServiceAccountUser(user string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, ServiceAccountUserPrefix)
	if !ok {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	if !ok || namespace == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return namespace, name, true
}

// RuleAllows reports whether rule allows r, ignoring who asks: for a
// resource request its verbs, API groups, resources (with "*",
// "resource/subresource" and "*/subresource") and resource names must
// match; for a non-resource request its verbs and non-resource URLs
// (exact, "*", or a prefix ending in "*").
func RuleAllows(rule *rbacv1.PolicyRule, r Request) bool {
	if !anyMatches(rule.Verbs, r.Verb) {
		return false
	}
	if r.NonResource {
		return urlMatches(rule.NonResourceURLs, r.Path)
	}
	return anyMatches(rule.APIGroups, r.APIGroup) &&
		resourceMatches(rule.Resources, r.Resource, r.Subresource) &&
		nameMatches(rule.ResourceNames, r.Name)
}

// anyMatches reports whether values holds want or the wildcard "*", the
// matching of verbs and API groups.
func anyMatches(values []string, want string) bool {
	for _, v := range values {
		if v == rbacv1.VerbAll || v == want {
			return true
		}
	}
	return false
}

// resourceMatches reports whether a rule's resources cover resource and
// subresource: "*", the exact "resource" or "resource/subresource", or
// "*/subresource" when a subresource is asked for.
func resourceMatches(resources []string, resource, subresource string) bool {
	combined := resource
	if subresource != "" {
		combined = resource + "/" + subresource
	}
	for _, v := range resources {
		if v == rbacv1.ResourceAll || v == combined {
			return true
		}
		if subresource != "" && v == "*/"+subresource {
			return true
		}
	}
	return false
}

// nameMatches reports whether a rule's resourceNames allow name: any name
// when the rule lists none, otherwise only one listed, so never a request
// without a name.
func nameMatches(names []string, name string) bool {
	if len(names) == 0 {
		return true
	}
	for _, v := range names {
		if v == name {
			return true
		}
	}
	return false
}

// urlMatches reports whether a rule's nonResourceURLs allow path: exactly,
// or by prefix when the rule's URL ends in "*" ("*" alone allows all).
func urlMatches(urls []string, path string) bool {
	for _, v := range urls {
		if v == path {
			return true
		}
		if prefix, ok := strings.CutSuffix(v, "*"); ok && strings.HasPrefix(path, strings.TrimRight(prefix, "*")) {
			return true
		}
	}
	return false
}
