package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// Names of the Gatekeeper API this package reads.
const (
	// TemplateGroup is the API group of ConstraintTemplates.
	TemplateGroup = "templates.gatekeeper.sh"
	// ConstraintGroup is the API group of Constraints.
	ConstraintGroup = "constraints.gatekeeper.sh"
	// Target is the only template target evaluated: Kubernetes admission.
	Target = "admission.k8s.gatekeeper.sh"
)

// MaxPolicySize bounds one policy file read by Load, in bytes.
const MaxPolicySize = 16 << 20

// Sentinel errors, wrapped in a *PolicyError with detail.
var (
	// ErrNoViolation means a template's Rego defines no violation rule.
	ErrNoViolation = errors.New("rego defines no violation rule")
	// ErrDisallowedBuiltin means a template's Rego calls a builtin that
	// reaches the network or the process environment.
	ErrDisallowedBuiltin = errors.New("disallowed builtin")
	// ErrUnknownTemplate means a constraint's kind names no template.
	ErrUnknownTemplate = errors.New("no template for constraint kind")
	// ErrInvalidParameters means a constraint's parameters do not satisfy
	// its template's openAPIV3Schema.
	ErrInvalidParameters = errors.New("invalid parameters")
)

// Source is where a template or constraint was read.
type Source struct {
	// File is the file name; empty when built in code.
	File string
	// Line is the line (from 1) where the document starts.
	Line int
}

// PolicyError is an invalid template or constraint: YAML that does not
// parse, a missing field, Rego that does not parse or compile, a
// disallowed builtin, parameters that do not fit the schema.
type PolicyError struct {
	// File and Line locate the error (the line of the field at fault
	// when known, else of the document).
	File string
	Line int
	// Policy names the template ("ConstraintTemplate NAME") or the
	// constraint ("KIND NAME"); empty when the document has no name yet.
	Policy string
	// Err says what is wrong.
	Err error
}

// Error implements error: "FILE:LINE: POLICY: what".
func (e *PolicyError) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	}
	if e.Policy != "" {
		b.WriteString(e.Policy)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns what is wrong.
func (e *PolicyError) Unwrap() error { return e.Err }

// Template is a parsed ConstraintTemplate.
type Template struct {
	// Name is metadata.name.
	Name string
	// Kind is spec.crd.spec.names.kind, the kind of its constraints.
	Kind string
	// Rego is the template's module; it must define violation.
	Rego string
	// Libs are library modules (packages under lib) the module imports.
	Libs []string
	// RegoV1 is set when the source says version "v1"; Gatekeeper's
	// default, and this package's, is Rego v0 syntax.
	RegoV1 bool
	// Schema is spec.crd.spec.validation.openAPIV3Schema, the schema of
	// the constraints' parameters; nil when there is none.
	Schema map[string]any
	// Source is where the template was read.
	Source Source
	// regoLine is the file line of the Rego's first line (0: unknown).
	regoLine int
}

// Action is a constraint's spec.enforcementAction.
type Action string

// Enforcement actions. Deny is the default.
const (
	Deny   Action = "deny"
	Warn   Action = "warn"
	DryRun Action = "dryrun"
)

// Constraint is a parsed Constraint: an instance of a template.
type Constraint struct {
	// Kind is the template's kind; Name is metadata.name.
	Kind string
	Name string
	// Match selects the objects the constraint applies to.
	Match Match
	// Parameters is spec.parameters, input.parameters in Rego; never nil.
	Parameters map[string]any
	// EnforcementAction is spec.enforcementAction, Deny when unset.
	EnforcementAction Action
	// Source is where the constraint was read.
	Source Source
}

// Match is a constraint's spec.match, with Gatekeeper's semantics: every
// field that is set must match; an unset field matches everything.
type Match struct {
	// Kinds match the object's API group and kind; "*" matches any, and
	// an empty list inside an entry matches any.
	Kinds []Kinds `json:"kinds,omitempty"`
	// Namespaces and ExcludedNamespaces hold names or globs with a "*"
	// at the start, the end or both ("kube-*", "*-system").
	Namespaces         []string `json:"namespaces,omitempty"`
	ExcludedNamespaces []string `json:"excludedNamespaces,omitempty"`
	// LabelSelector matches the object's labels.
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	// NamespaceSelector matches the labels of the object's namespace
	// (of the object itself for a Namespace).
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	// Scope is "*" (or empty), "Cluster" or "Namespaced".
	Scope string `json:"scope,omitempty"`
	// Name matches metadata.name (or generateName), with globs as for
	// namespaces.
	Name string `json:"name,omitempty"`
	// Source is "All" (or empty), "Original" or "Generated"; objects
	// reviewed here are all original.
	Source string `json:"source,omitempty"`
}

// Kinds is one entry of Match.Kinds.
type Kinds struct {
	APIGroups []string `json:"apiGroups,omitempty"`
	Kinds     []string `json:"kinds,omitempty"`
}

// Policies are the templates and constraints read from files.
type Policies struct {
	Templates   []*Template
	Constraints []*Constraint
}

// Load reads the templates and constraints in paths: files (read
// whatever their name) and directories (every *.yaml, *.yml and *.json
// file below, in lexical order). Documents of other kinds are skipped, so
// policies may sit next to the manifests they check.
//
// Errors: an unreadable path, a file over MaxPolicySize, ctx's error, and
// the errors of Parse, joined so every invalid document is reported.
func Load(ctx context.Context, paths ...string) (*Policies, error) {
	all := &Policies{}
	var errs []error
	add := func(name string) error {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("read policies: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, MaxPolicySize+1))
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if len(data) > MaxPolicySize {
			return fmt.Errorf("read %s: larger than %d bytes", name, MaxPolicySize)
		}
		p, err := Parse(name, data)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		all.Templates = append(all.Templates, p.Templates...)
		all.Constraints = append(all.Constraints, p.Constraints...)
		return nil
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read policies: %w", err)
		}
		if !fi.IsDir() {
			if err := add(p); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("read policies: %w", err)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(name)) {
			case ".yaml", ".yml", ".json":
				return add(name)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return all, nil
}

// Parse reads the ConstraintTemplates and Constraints of one file's
// content (YAML, one or more documents, or JSON). file names the file in
// errors. Documents of other kinds are skipped. The Rego of each template
// is parsed (not compiled) so that syntax errors name their line.
//
// Errors: each invalid document is a *PolicyError naming file, line and
// policy; they are joined with errors.Join.
func Parse(file string, data []byte) (*Policies, error) {
	p := &Policies{}
	var errs []error
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The decoder cannot go on after a syntax error.
			errs = append(errs, &PolicyError{File: file, Line: yamlErrorLine(err), Err: fmt.Errorf("invalid YAML: %w", err)})
			break
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			if len(doc.Content) > 0 && doc.Content[0].Tag != "!!null" {
				errs = append(errs, &PolicyError{File: file, Line: doc.Line, Err: errors.New("document is not an object")})
			}
			continue
		}
		root := doc.Content[0]
		if err := p.document(file, root); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// header is the part of every document that says what it is.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func (p *Policies) document(file string, root *yaml.Node) error {
	js, err := nodeJSON(root)
	if err != nil {
		return &PolicyError{File: file, Line: root.Line, Err: err}
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return &PolicyError{File: file, Line: root.Line, Err: fmt.Errorf("invalid object: %w", err)}
	}
	group, _, _ := strings.Cut(h.APIVersion, "/")
	switch {
	case group == TemplateGroup && h.Kind == "ConstraintTemplate":
		t, err := parseTemplate(file, root, js)
		if err != nil {
			return err
		}
		p.Templates = append(p.Templates, t)
	case group == ConstraintGroup:
		c, err := parseConstraint(file, root, js)
		if err != nil {
			return err
		}
		p.Constraints = append(p.Constraints, c)
	}
	return nil
}

type templateDoc struct {
	header
	Spec struct {
		CRD struct {
			Spec struct {
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
				Validation *struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"validation"`
			} `json:"spec"`
		} `json:"crd"`
		Targets []struct {
			Target string   `json:"target"`
			Rego   string   `json:"rego"`
			Libs   []string `json:"libs"`
			Code   []struct {
				Engine string          `json:"engine"`
				Source json.RawMessage `json:"source"`
			} `json:"code"`
		} `json:"targets"`
	} `json:"spec"`
}

type regoSource struct {
	Rego    string   `json:"rego"`
	Libs    []string `json:"libs"`
	Version string   `json:"version"`
}

func parseTemplate(file string, root *yaml.Node, js []byte) (*Template, error) {
	var d templateDoc
	perr := func(line int, err error) error {
		if line == 0 {
			line = root.Line
		}
		name := ""
		if d.Metadata.Name != "" {
			name = "ConstraintTemplate " + d.Metadata.Name
		}
		return &PolicyError{File: file, Line: line, Policy: name, Err: err}
	}
	if err := json.Unmarshal(js, &d); err != nil {
		return nil, perr(0, fmt.Errorf("invalid ConstraintTemplate: %w", err))
	}
	t := &Template{Name: d.Metadata.Name, Kind: d.Spec.CRD.Spec.Names.Kind, Source: Source{File: file, Line: root.Line}}
	switch {
	case t.Name == "":
		return nil, perr(0, errors.New("metadata.name is missing"))
	case t.Kind == "":
		return nil, perr(line(root, "spec", "crd"), errors.New("spec.crd.spec.names.kind is missing"))
	case !strings.EqualFold(t.Kind, t.Name):
		// Gatekeeper requires the name to be the lower-cased kind.
		return nil, perr(line(root, "spec", "crd"), fmt.Errorf("metadata.name %q is not the lower-case kind %q", t.Name, t.Kind))
	case len(d.Spec.Targets) != 1:
		return nil, perr(line(root, "spec", "targets"), fmt.Errorf("spec.targets has %d entries, want exactly one", len(d.Spec.Targets)))
	case d.Spec.Targets[0].Target != Target:
		return nil, perr(line(root, "spec", "targets"), fmt.Errorf("target %q is not %s", d.Spec.Targets[0].Target, Target))
	}
	if v := d.Spec.CRD.Spec.Validation; v != nil {
		t.Schema = v.OpenAPIV3Schema
	}
	target := d.Spec.Targets[0]
	targetNode := index(find(root, "spec", "targets"), 0)
	regoNode := find(targetNode, "rego")
	t.Rego, t.Libs = target.Rego, target.Libs
	for i, c := range target.Code {
		if c.Engine != "Rego" {
			continue
		}
		var src regoSource
		if err := json.Unmarshal(c.Source, &src); err != nil {
			return nil, perr(line(index(find(targetNode, "code"), i)), fmt.Errorf("invalid Rego source: %w", err))
		}
		t.Rego, t.Libs = src.Rego, src.Libs
		regoNode = find(index(find(targetNode, "code"), i), "source", "rego")
		switch src.Version {
		case "v1":
			t.RegoV1 = true
		case "", "v0":
		default:
			return nil, perr(line(regoNode), fmt.Errorf("rego version %q is neither v0 nor v1", src.Version))
		}
		break
	}
	if t.Rego == "" {
		return nil, perr(line(targetNode), errors.New("target has no Rego"))
	}
	t.regoLine = contentLine(regoNode)
	if _, _, err := parseModules(t); err != nil {
		l := t.regoLine
		var me *moduleError
		if errors.As(err, &me) && me.row > 0 && l > 0 {
			l += me.row - 1
		}
		return nil, perr(l, err)
	}
	return t, nil
}

type constraintDoc struct {
	header
	Spec struct {
		Match             json.RawMessage `json:"match"`
		Parameters        json.RawMessage `json:"parameters"`
		EnforcementAction string          `json:"enforcementAction"`
	} `json:"spec"`
}

func parseConstraint(file string, root *yaml.Node, js []byte) (*Constraint, error) {
	var d constraintDoc
	perr := func(line int, err error) error {
		if line == 0 {
			line = root.Line
		}
		name := ""
		if d.Metadata.Name != "" {
			name = d.Kind + " " + d.Metadata.Name
		}
		return &PolicyError{File: file, Line: line, Policy: name, Err: err}
	}
	if err := json.Unmarshal(js, &d); err != nil {
		return nil, perr(0, fmt.Errorf("invalid constraint: %w", err))
	}
	c := &Constraint{Kind: d.Kind, Name: d.Metadata.Name, Source: Source{File: file, Line: root.Line}}
	if c.Kind == "" || c.Name == "" {
		return nil, perr(0, errors.New("kind or metadata.name is missing"))
	}
	if len(d.Spec.Match) > 0 && !bytes.Equal(d.Spec.Match, []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(d.Spec.Match))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c.Match); err != nil {
			return nil, perr(line(root, "spec", "match"), fmt.Errorf("invalid spec.match: %w", err))
		}
	}
	if err := checkMatch(&c.Match); err != nil {
		return nil, perr(line(root, "spec", "match"), fmt.Errorf("invalid spec.match: %w", err))
	}
	c.Parameters = map[string]any{}
	if len(d.Spec.Parameters) > 0 && !bytes.Equal(d.Spec.Parameters, []byte("null")) {
		if err := json.Unmarshal(d.Spec.Parameters, &c.Parameters); err != nil {
			return nil, perr(line(root, "spec", "parameters"), fmt.Errorf("spec.parameters is not an object: %w", err))
		}
	}
	switch a := Action(strings.ToLower(d.Spec.EnforcementAction)); a {
	case "":
		c.EnforcementAction = Deny
	case Deny, Warn, DryRun:
		c.EnforcementAction = a
	default:
		return nil, perr(line(root, "spec", "enforcementAction"), fmt.Errorf("enforcementAction %q is not deny, warn or dryrun", d.Spec.EnforcementAction))
	}
	return c, nil
}

// checkMatch rejects what Gatekeeper's validation would.
func checkMatch(m *Match) error {
	switch m.Scope {
	case "", "*", "Cluster", "Namespaced":
	default:
		return fmt.Errorf("scope %q is not *, Cluster or Namespaced", m.Scope)
	}
	switch m.Source {
	case "", "All", "Original", "Generated":
	default:
		return fmt.Errorf("source %q is not All, Original or Generated", m.Source)
	}
	for _, s := range []*metav1.LabelSelector{m.LabelSelector, m.NamespaceSelector} {
		if s == nil {
			continue
		}
		if _, err := metav1.LabelSelectorAsSelector(s); err != nil {
			return err
		}
	}
	return nil
}

// nodeJSON converts a YAML node to JSON.
func nodeJSON(n *yaml.Node) ([]byte, error) {
	y, err := yaml.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	js, err := sigsyaml.YAMLToJSON(y)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	return js, nil
}

// find returns the value at the path of mapping keys below n, or nil.
func find(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// index returns item i of a sequence node, or nil.
func index(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

// line returns the line of the last key of the path below n (of n
// itself when there are no keys), or 0 when the path is absent.
func line(n *yaml.Node, keys ...string) int {
	if len(keys) == 0 {
		if n == nil {
			return 0
		}
		return n.Line
	}
	parent := find(n, keys[:len(keys)-1]...)
	if parent == nil || parent.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if parent.Content[i].Value == keys[len(keys)-1] {
			return parent.Content[i].Line
		}
	}
	return 0
}

// contentLine returns the file line of the first line of a scalar's
// text: the line after the indicator of a block scalar.
func contentLine(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Line + 1
	}
	return n.Line
}

// yamlErrorLine extracts the line from a yaml.v3 error, else 1.
func yamlErrorLine(err error) int {
	var n int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+len("line "):], "%d", &n)
	}
	if n == 0 {
		n = 1
	}
	return n
}
