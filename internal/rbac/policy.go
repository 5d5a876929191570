package rbac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The apiVersion and kind of an access policy document.
const (
	PolicyAPIVersion = "kubeshield.dev/v1alpha1"
	PolicyKind       = "AccessPolicy"
)

// MaxPolicySize bounds the access policy documents ParsePolicy reads, in
// bytes (1 MiB).
const MaxPolicySize = 1 << 20

// ErrPolicyTooLarge means an access policy document is larger than
// MaxPolicySize.
var ErrPolicyTooLarge = errors.New("access policy too large")

// PolicyError is an access policy document that ParsePolicy rejects.
type PolicyError struct {
	// Line is the line of the document (from 1) the error is about; 0
	// when not known (the YAML parser's own messages then say it).
	Line int
	// Rule is the name of the policy rule the error is in, or
	// "rules[N]" for a rule without a name; "" outside the rules.
	Rule string
	// Err says what is wrong.
	Err error
}

// Error implements error: "access policy: line 12: rule "x": what".
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("access policy")
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, ": rule %q", e.Rule)
	}
	return b.String() + ": " + e.Err.Error()
}

// Unwrap returns what is wrong.
func (e *PolicyError) Unwrap() error { return e.Err }

// AccessPolicy is a team's access policy: rules the cluster's RBAC
// grants are checked against (AccessPolicy.Check). It is made by
// ParsePolicy; see there for the document format.
type AccessPolicy struct {
	// Rules are the policy's rules, in document order.
	Rules []PolicyRule
}

// ViolationKind says what a policy rule checks, and so what its
// violations mean.
type ViolationKind int

// The kinds of policy rules and of their violations.
const (
	// ViolationOutsideScope is an onlyIn rule's: a grant to one of the
	// rule's subjects outside the allowed scope.
	ViolationOutsideScope ViolationKind = iota + 1
	// ViolationSubjectNotAllowed is an onlySubjects rule's: a grant to a
	// subject the rule does not list.
	ViolationSubjectNotAllowed
	// ViolationAccessMissing is a mustAllow rule's: expected access that
	// no binding grants.
	ViolationAccessMissing
)

// String returns the policy field that makes a rule of this kind:
// "onlyIn", "onlySubjects" or "mustAllow".
func (k ViolationKind) String() string {
	switch k {
	case ViolationOutsideScope:
		return "onlyIn"
	case ViolationSubjectNotAllowed:
		return "onlySubjects"
	case ViolationAccessMissing:
		return "mustAllow"
	}
	return fmt.Sprintf("ViolationKind(%d)", int(k))
}

// PolicyRule is one rule of an AccessPolicy.
type PolicyRule struct {
	// Name names the rule in violations; names are unique in a policy.
	Name string
	// Line is the rule's line in the document.
	Line int
	// Kind says which check the rule makes.
	Kind ViolationKind
	// Subjects are who an onlyIn or mustAllow rule is about.
	Subjects []SubjectPattern
	// Verbs and Resources are the access an onlyIn or onlySubjects rule
	// is about. A verb "*" means every verb; resources are written as
	// kubectl writes them (see ParseResource), "*" meaning every resource
	// and subresource.
	Verbs     []string
	Resources []string
	// OnlyIn is where an onlyIn rule allows its subjects the access.
	OnlyIn PolicyScope
	// OnlySubjects are the only subjects an onlySubjects rule allows the
	// access; empty means nobody.
	OnlySubjects []SubjectPattern
	// MustAllow is the access a mustAllow rule expects every one of its
	// subjects to have.
	MustAllow []ExpectedAccess

	resources []policyResource
}

// SubjectPattern matches binding subjects: Kind is User, Group or
// ServiceAccount; Name (and a ServiceAccount's Namespace) is exact, "*"
// for any, or ends in "*" to match by prefix ("team-*").
type SubjectPattern struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns Kind "name", or ServiceAccount "namespace/name".
func (s SubjectPattern) String() string {
	if s.Kind == "ServiceAccount" {
		return fmt.Sprintf("%s %q", s.Kind, s.Namespace+"/"+s.Name)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

// PolicyScope is a set of places in the cluster: namespaces by name ("*"
// for all the snapshot's), namespaces by label, and the cluster scope.
type PolicyScope struct {
	// Namespaces are namespace names, "*" meaning every namespace of the
	// snapshot.
	Namespaces []string
	// NamespaceSelector, when set, adds the namespaces whose labels it
	// matches.
	NamespaceSelector *metav1.LabelSelector
	// ClusterScope adds cluster-scoped resources and requests across all
	// namespaces at once.
	ClusterScope bool

	selector labels.Selector
}

// ExpectedAccess is one entry of a mustAllow rule: every verb on every
// resource, in every place of the scope.
type ExpectedAccess struct {
	// Verbs and Resources are the access expected, without wildcards.
	Verbs     []string
	Resources []string
	// In is where, from the entry's namespaces, namespaceSelector and
	// clusterScope fields.
	In PolicyScope
	// Line is the entry's line in the document.
	Line int

	resources []policyResource
}

// policyResource is a resource pattern of a policy, parsed: group and
// resource ("*" for any), and the subresource: "" for the resource
// itself (every subresource too when resource is "*"), "*" for any
// subresource.
type policyResource struct {
	text                 string
	group, resource, sub string
}

// The fields of each mapping of the document.
var (
	policyRootKeys      = []string{"apiVersion", "kind", "rules"}
	policyRuleKeys      = []string{"name", "subjects", "verbs", "resources", "onlyIn", "onlySubjects", "mustAllow"}
	policySubjectKeys   = []string{"kind", "namespace", "name"}
	policyScopeKeys     = []string{"namespaces", "namespaceSelector", "clusterScope"}
	policyExpectedKeys  = []string{"verbs", "resources", "namespaces", "namespaceSelector", "clusterScope"}
	policySelectorKeys  = []string{"matchLabels", "matchExpressions"}
	policyRequireKeys   = []string{"key", "operator", "values"}
	policySubjectKinds  = []string{"User", "Group", "ServiceAccount"}
	policyRuleKindField = map[string]ViolationKind{"onlyIn": ViolationOutsideScope, "onlySubjects": ViolationSubjectNotAllowed, "mustAllow": ViolationAccessMissing}
)

// ParsePolicy reads an access policy document:
//
//	apiVersion: kubeshield.dev/v1alpha1
//	kind: AccessPolicy
//	rules:
//	- name: developers read their namespaces     # mustAllow: expected access
//	  subjects: [{kind: Group, name: developers}]
//	  mustAllow:
//	  - verbs: [get, list, watch]
//	    resources: [pods, deployments.apps]
//	    namespaceSelector: {matchLabels: {team: shop}}
//	- name: developers write only in shop         # onlyIn: allowed scope
//	  subjects: [{kind: Group, name: developers}]
//	  verbs: [create, update, patch, delete, deletecollection]
//	  resources: ["*"]
//	  onlyIn: {namespaces: [shop]}
//	- name: only admins delete                     # onlySubjects: allowed subjects
//	  verbs: [delete, deletecollection]
//	  resources: ["*"]
//	  onlySubjects: [{kind: Group, name: cluster-admins}, {kind: ServiceAccount, namespace: ci, name: "*"}]
//
// Every rule has a unique name and exactly one of onlyIn, onlySubjects
// and mustAllow:
//
//   - onlyIn rules have subjects, verbs and resources, and a scope:
//     namespaces (names, "*" for all), a namespaceSelector (matchLabels,
//     matchExpressions) and clusterScope (true or false). An empty
//     scope, onlyIn: {}, allows the access nowhere.
//   - onlySubjects rules have verbs and resources and no subjects; an
//     empty onlySubjects list allows the access to nobody.
//   - mustAllow rules have subjects without wildcards and a list of
//     entries, each with verbs and resources without wildcards and a
//     non-empty scope; a built-in cluster-scoped resource (nodes,
//     namespaces, ...) takes only clusterScope: true.
//
// Subjects have a kind (User, Group or ServiceAccount), a name and, for
// a ServiceAccount only, a namespace; names and namespaces may be "*" or
// end in "*". A verb "*" is every verb; resources are written as kubectl
// writes them (pods, deployments.apps, pods/exec), a resource "*" ("*",
// "*.apps") covering every resource and its subresources as in RBAC,
// "pods/*" every subresource of pods and "*/exec" every exec subresource.
//
// The document is decoded strictly: unknown or repeated fields, values of
// the wrong type (quote strings YAML would read as numbers or booleans),
// anchors and aliases, and more than one YAML document are errors. Every
// error is a *PolicyError naming the line and rule; data larger than
// MaxPolicySize gives one wrapping ErrPolicyTooLarge.
func ParsePolicy(data []byte) (p *AccessPolicy, err error) {
	if len(data) > MaxPolicySize {
		return nil, &PolicyError{Err: fmt.Errorf("%w: %d bytes, the limit is %d", ErrPolicyTooLarge, len(data), MaxPolicySize)}
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &PolicyError{Err: fmt.Errorf("malformed YAML: %v", r)}
		}
	}()
	root, err := policyDocument(data)
	if err != nil {
		return nil, err
	}
	var ps policyParser
	if err := ps.noAliases(root); err != nil {
		return nil, err
	}
	fields, err := ps.mapping(root, "the document", policyRootKeys)
	if err != nil {
		return nil, err
	}
	for _, want := range [][2]string{{"apiVersion", PolicyAPIVersion}, {"kind", PolicyKind}} {
		v, err := ps.str(fields[want[0]], want[0])
		if err != nil {
			return nil, err
		}
		if v == "" {
			return nil, ps.errorf(policyLineOf(fields[want[0]], root), "%s: required, %q", want[0], want[1])
		}
		if v != want[1] {
			return nil, ps.errorf(policyLineOf(fields[want[0]], root), "%s: want %q, not %q", want[0], want[1], v)
		}
	}
	rules, err := ps.list(fields["rules"], "rules")
	if err != nil {
		return nil, err
	}
	p = &AccessPolicy{}
	seen := map[string]int{}
	for i, n := range rules {
		r, err := ps.rule(n, i)
		if err != nil {
			return nil, err
		}
		if line, ok := seen[r.Name]; ok {
			return nil, ps.errorf(n, "name: already used by the rule at line %d", line)
		}
		seen[r.Name] = r.Line
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

// policyDocument parses data as exactly one YAML document and returns its
// root node.
func policyDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &PolicyError{Err: errors.New("empty document")}
		}
		return nil, policySyntaxError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, policySyntaxError(err)
	default:
		return nil, &PolicyError{Line: next.Line, Err: errors.New("more than one YAML document")}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &PolicyError{Err: errors.New("empty document")}
	}
	return doc.Content[0], nil
}

// policySyntaxLine matches the YAML parser's "yaml: line N: what".
var policySyntaxLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// policySyntaxError turns an error of the YAML parser into a *PolicyError,
// with its line when the parser gives one.
func policySyntaxError(err error) error {
	m := policySyntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &PolicyError{Err: err}
	}
	line, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return &PolicyError{Err: err}
	}
	return &PolicyError{Line: line, Err: fmt.Errorf("YAML: %s", m[2])}
}

// policyParser reads the nodes of a document; rule is the rule being
// read (its name), for errors.
type policyParser struct {
	ruleName string
}

// errorf returns a *PolicyError at n's line (n may be nil) in the current
// rule.
func (ps *policyParser) errorf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &PolicyError{Line: line, Rule: ps.ruleName, Err: fmt.Errorf(format, args...)}
}

// policyLineOf returns n, or parent when n is nil (a missing field).
func policyLineOf(n, parent *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return parent
}

// noAliases rejects anchors and aliases anywhere under n: a policy has no
// use for them, and they are how small YAML documents expand into huge
// ones.
func (ps *policyParser) noAliases(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return ps.errorf(n, "anchors and aliases are not allowed")
	}
	for _, c := range n.Content {
		if err := ps.noAliases(c); err != nil {
			return err
		}
	}
	return nil
}

// policyKindName names a YAML node's kind, with an article, for messages.
func policyKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!bool":
			return "a boolean"
		case "!!float":
			return "a number"
		case "!!null":
			return "null"
		}
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!")
	}
	return "an alias"
}

// policyIsNull reports whether n is missing or an explicit null.
func policyIsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// mapping returns the values of mapping n by key; what names n in
// messages. A key not in allowed, a key given twice or a key that is not
// a string is an error.
func (ps *policyParser) mapping(n *yaml.Node, what string, allowed []string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, ps.errorf(n, "%s: want a mapping, not %s", what, policyKindName(n))
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str":
			return nil, ps.errorf(k, "%s: a key must be a string, not %s", what, policyKindName(k))
		case allowed != nil && !slices.Contains(allowed, k.Value):
			return nil, ps.errorf(k, "%s: unknown field %q (want %s)", what, k.Value, strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			return nil, ps.errorf(k, "%s: field %q given twice", what, k.Value)
		}
		out[k.Value] = v
	}
	return out, nil
}

// str reads a string field; a missing or null field is "".
func (ps *policyParser) str(n *yaml.Node, field string) (string, error) {
	if policyIsNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		if n.Kind == yaml.ScalarNode {
			return "", ps.errorf(n, "%s: want a string, not %s (quote it)", field, policyKindName(n))
		}
		return "", ps.errorf(n, "%s: want a string, not %s", field, policyKindName(n))
	}
	return n.Value, nil
}

// list reads a list field; a missing or null field is an empty list.
func (ps *policyParser) list(n *yaml.Node, field string) ([]*yaml.Node, error) {
	if policyIsNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, ps.errorf(n, "%s: want a list, not %s", field, policyKindName(n))
	}
	return n.Content, nil
}

// strs reads a list of non-empty strings without spaces.
func (ps *policyParser) strs(n *yaml.Node, field string) ([]string, error) {
	items, err := ps.list(n, field)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, item := range items {
		s, err := ps.str(item, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		if s == "" || strings.ContainsFunc(s, policyIsSpace) {
			return nil, ps.errorf(item, "%s[%d]: %q: want a non-empty value without spaces", field, i, s)
		}
		out = append(out, s)
	}
	return out, nil
}

// policyIsSpace reports whether r is white space or a control character.
func policyIsSpace(r rune) bool { return r <= ' ' || r == 0x7f }

// rule reads rules[i].
func (ps *policyParser) rule(n *yaml.Node, i int) (PolicyRule, error) {
	ps.ruleName = fmt.Sprintf("rules[%d]", i)
	if n.Kind == yaml.MappingNode {
		// Name the rule in every error, even one about a field before
		// its name.
		for j := 0; j+1 < len(n.Content); j += 2 {
			if k, v := n.Content[j], n.Content[j+1]; k.Value == "name" && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && v.Value != "" {
				ps.ruleName = v.Value
				break
			}
		}
	}
	f, err := ps.mapping(n, "rule", policyRuleKeys)
	if err != nil {
		return PolicyRule{}, err
	}
	r := PolicyRule{Line: n.Line}
	if r.Name, err = ps.str(f["name"], "name"); err != nil {
		return PolicyRule{}, err
	}
	if strings.TrimSpace(r.Name) == "" {
		return PolicyRule{}, ps.errorf(policyLineOf(f["name"], n), "name: required")
	}
	var kinds []string
	for _, field := range []string{"onlyIn", "onlySubjects", "mustAllow"} {
		if f[field] != nil {
			kinds = append(kinds, field)
		}
	}
	if len(kinds) != 1 {
		return PolicyRule{}, ps.errorf(n, "want exactly one of onlyIn, onlySubjects and mustAllow, not %d", len(kinds))
	}
	r.Kind = policyRuleKindField[kinds[0]]

	if r.Subjects, err = ps.subjects(f["subjects"], "subjects", r.Kind == ViolationAccessMissing); err != nil {
		return PolicyRule{}, err
	}
	if r.Verbs, err = ps.verbs(f["verbs"], "verbs", false); err != nil {
		return PolicyRule{}, err
	}
	if r.Resources, r.resources, err = ps.resources(f["resources"], "resources", false); err != nil {
		return PolicyRule{}, err
	}
	switch r.Kind {
	case ViolationOutsideScope, ViolationSubjectNotAllowed:
		for _, need := range []struct {
			field string
			n     int
		}{{"verbs", len(r.Verbs)}, {"resources", len(r.Resources)}} {
			if need.n == 0 {
				return PolicyRule{}, ps.errorf(policyLineOf(f[need.field], n), "%s: required by %s rules", need.field, r.Kind)
			}
		}
	case ViolationAccessMissing:
		for _, field := range []string{"verbs", "resources"} {
			if f[field] != nil {
				return PolicyRule{}, ps.errorf(f[field], "%s: not used by mustAllow rules, whose entries name their own", field)
			}
		}
	}
	switch r.Kind {
	case ViolationOutsideScope:
		if len(r.Subjects) == 0 {
			return PolicyRule{}, ps.errorf(policyLineOf(f["subjects"], n), "subjects: required by onlyIn rules")
		}
		sf, err := ps.mapping(f["onlyIn"], "onlyIn", policyScopeKeys)
		if err != nil {
			return PolicyRule{}, err
		}
		if r.OnlyIn, err = ps.scope(sf, "onlyIn"); err != nil {
			return PolicyRule{}, err
		}
	case ViolationSubjectNotAllowed:
		if f["subjects"] != nil {
			return PolicyRule{}, ps.errorf(f["subjects"], "subjects: not used by onlySubjects rules, which apply to every subject; list the allowed ones in onlySubjects")
		}
		if r.OnlySubjects, err = ps.subjects(f["onlySubjects"], "onlySubjects", false); err != nil {
			return PolicyRule{}, err
		}
		if r.OnlySubjects == nil {
			r.OnlySubjects = []SubjectPattern{}
		}
	case ViolationAccessMissing:
		if len(r.Subjects) == 0 {
			return PolicyRule{}, ps.errorf(policyLineOf(f["subjects"], n), "subjects: required by mustAllow rules")
		}
		entries, err := ps.list(f["mustAllow"], "mustAllow")
		if err != nil {
			return PolicyRule{}, err
		}
		if len(entries) == 0 {
			return PolicyRule{}, ps.errorf(f["mustAllow"], "mustAllow: want at least one entry")
		}
		for j, e := range entries {
			ea, err := ps.expected(e, fmt.Sprintf("mustAllow[%d]", j))
			if err != nil {
				return PolicyRule{}, err
			}
			r.MustAllow = append(r.MustAllow, ea)
		}
	}
	return r, nil
}

// subjects reads a list of subject patterns; exact forbids wildcards.
func (ps *policyParser) subjects(n *yaml.Node, field string, exact bool) ([]SubjectPattern, error) {
	items, err := ps.list(n, field)
	if err != nil {
		return nil, err
	}
	var out []SubjectPattern
	for i, item := range items {
		at := fmt.Sprintf("%s[%d]", field, i)
		f, err := ps.mapping(item, at, policySubjectKeys)
		if err != nil {
			return nil, err
		}
		var s SubjectPattern
		for _, v := range []struct {
			field string
			dst   *string
		}{{"kind", &s.Kind}, {"namespace", &s.Namespace}, {"name", &s.Name}} {
			if *v.dst, err = ps.str(f[v.field], at+"."+v.field); err != nil {
				return nil, err
			}
		}
		switch {
		case !slices.Contains(policySubjectKinds, s.Kind):
			return nil, ps.errorf(item, "%s.kind: %q: want User, Group or ServiceAccount", at, s.Kind)
		case s.Name == "":
			return nil, ps.errorf(item, "%s.name: required", at)
		case s.Kind == "ServiceAccount" && s.Namespace == "":
			return nil, ps.errorf(item, "%s.namespace: required for a ServiceAccount", at)
		case s.Kind != "ServiceAccount" && f["namespace"] != nil:
			return nil, ps.errorf(item, "%s.namespace: only a ServiceAccount has one", at)
		}
		for _, v := range []string{s.Namespace, s.Name} {
			if strings.ContainsFunc(v, policyIsSpace) || strings.Contains(strings.TrimSuffix(v, "*"), "*") {
				return nil, ps.errorf(item, "%s: %q: want a name without spaces, \"*\", or a prefix ending in \"*\"", at, v)
			}
			if exact && strings.HasSuffix(v, "*") {
				return nil, ps.errorf(item, "%s: %s: mustAllow subjects take no wildcards", at, s)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// verbs reads a list of verbs; exact forbids "*".
func (ps *policyParser) verbs(n *yaml.Node, field string, exact bool) ([]string, error) {
	verbs, err := ps.strs(n, field)
	if err != nil {
		return nil, err
	}
	for i, v := range verbs {
		if exact && v == "*" {
			return nil, ps.errorf(n.Content[i], "%s[%d]: mustAllow entries take no wildcards", field, i)
		}
	}
	return verbs, nil
}

// resources reads a list of resources; exact forbids wildcards.
func (ps *policyParser) resources(n *yaml.Node, field string, exact bool) ([]string, []policyResource, error) {
	texts, err := ps.strs(n, field)
	if err != nil {
		return nil, nil, err
	}
	var out []policyResource
	for i, t := range texts {
		group, resource, sub, err := ParseResource(t)
		if err != nil {
			return nil, nil, ps.errorf(n.Content[i], "%s[%d]: %v", field, i, err)
		}
		pr := policyResource{text: t, group: group, resource: resource, sub: sub}
		if strings.Contains(resource, "*") && resource != "*" || strings.Contains(sub, "*") && sub != "*" || strings.Contains(group, "*") && group != "*" {
			return nil, nil, ps.errorf(n.Content[i], "%s[%d]: %q: \"*\" stands for a whole resource, group or subresource", field, i, t)
		}
		if exact && (group == "*" || resource == "*" || sub == "*") {
			return nil, nil, ps.errorf(n.Content[i], "%s[%d]: %q: mustAllow entries take no wildcards", field, i, t)
		}
		out = append(out, pr)
	}
	return texts, out, nil
}

// scope reads the scope fields of f (onlyIn, or a mustAllow entry).
func (ps *policyParser) scope(f map[string]*yaml.Node, at string) (PolicyScope, error) {
	var s PolicyScope
	var err error
	if s.Namespaces, err = ps.strs(f["namespaces"], at+".namespaces"); err != nil {
		return PolicyScope{}, err
	}
	if n := f["clusterScope"]; !policyIsNull(n) {
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return PolicyScope{}, ps.errorf(n, "%s.clusterScope: want true or false, not %s", at, policyKindName(n))
		}
		s.ClusterScope = n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
	}
	if n := f["namespaceSelector"]; !policyIsNull(n) {
		if s.NamespaceSelector, err = ps.selector(n, at+".namespaceSelector"); err != nil {
			return PolicyScope{}, err
		}
		if s.selector, err = metav1.LabelSelectorAsSelector(s.NamespaceSelector); err != nil {
			return PolicyScope{}, ps.errorf(n, "%s.namespaceSelector: %v", at, err)
		}
	}
	return s, nil
}

// selector reads a label selector.
func (ps *policyParser) selector(n *yaml.Node, at string) (*metav1.LabelSelector, error) {
	f, err := ps.mapping(n, at, policySelectorKeys)
	if err != nil {
		return nil, err
	}
	sel := &metav1.LabelSelector{}
	if ml := f["matchLabels"]; !policyIsNull(ml) {
		labelsAt := at + ".matchLabels"
		m, err := ps.mapping(ml, labelsAt, nil)
		if err != nil {
			return nil, err
		}
		sel.MatchLabels = map[string]string{}
		for k, v := range m {
			if sel.MatchLabels[k], err = ps.str(v, labelsAt+"."+k); err != nil {
				return nil, err
			}
		}
	}
	exprs, err := ps.list(f["matchExpressions"], at+".matchExpressions")
	if err != nil {
		return nil, err
	}
	for i, e := range exprs {
		eAt := fmt.Sprintf("%s.matchExpressions[%d]", at, i)
		ef, err := ps.mapping(e, eAt, policyRequireKeys)
		if err != nil {
			return nil, err
		}
		var req metav1.LabelSelectorRequirement
		if req.Key, err = ps.str(ef["key"], eAt+".key"); err != nil {
			return nil, err
		}
		op, err := ps.str(ef["operator"], eAt+".operator")
		if err != nil {
			return nil, err
		}
		req.Operator = metav1.LabelSelectorOperator(op)
		if req.Values, err = ps.strs(ef["values"], eAt+".values"); err != nil {
			return nil, err
		}
		sel.MatchExpressions = append(sel.MatchExpressions, req)
	}
	return sel, nil
}

// expected reads one mustAllow entry.
func (ps *policyParser) expected(n *yaml.Node, at string) (ExpectedAccess, error) {
	f, err := ps.mapping(n, at, policyExpectedKeys)
	if err != nil {
		return ExpectedAccess{}, err
	}
	ea := ExpectedAccess{Line: n.Line}
	if ea.Verbs, err = ps.verbs(f["verbs"], at+".verbs", true); err != nil {
		return ExpectedAccess{}, err
	}
	if ea.Resources, ea.resources, err = ps.resources(f["resources"], at+".resources", true); err != nil {
		return ExpectedAccess{}, err
	}
	if len(ea.Verbs) == 0 || len(ea.Resources) == 0 {
		return ExpectedAccess{}, ps.errorf(n, "%s: verbs and resources are required", at)
	}
	if ea.In, err = ps.scope(f, at); err != nil {
		return ExpectedAccess{}, err
	}
	namespaced := len(ea.In.Namespaces) > 0 || ea.In.NamespaceSelector != nil
	if !namespaced && !ea.In.ClusterScope {
		return ExpectedAccess{}, ps.errorf(n, "%s: say where: namespaces, namespaceSelector or clusterScope: true", at)
	}
	for _, r := range ea.resources {
		if namespaced && policyScopeOf(r.group, r.resource) == policyClusterScoped {
			return ExpectedAccess{}, ps.errorf(n, "%s: %s is cluster-scoped: use clusterScope: true, not namespaces", at, r.text)
		}
	}
	return ea, nil
}
