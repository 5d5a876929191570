package admission

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The apiVersion and kind of a configuration file.
const (
	ConfigAPIVersion = "kubeshield.dev/v1alpha1"
	ConfigKind       = "AdmissionConfig"
)

// MaxConfigSize bounds the configuration files ParseConfig reads, in
// bytes (1 MiB).
const MaxConfigSize = 1 << 20

// ErrInvalidConfig is wrapped by every error of ParseConfig.
var ErrInvalidConfig = errors.New("invalid admission config")

// ConfigError is a configuration file that ParseConfig rejects.
type ConfigError struct {
	// Line is the line (from 1) the error is about; 0 when not known.
	Line int
	// Field is where the error is ("images.mode",
	// "registries.allow.2"), when known.
	Field string
	// Err says what is wrong.
	Err error
}

// Error implements error: "admission config: line 12: images.mode: what".
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("admission config")
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	return b.String() + ": " + e.Err.Error()
}

// Unwrap returns what is wrong.
func (e *ConfigError) Unwrap() error { return e.Err }

// Is makes every ConfigError match ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Config is the admission configuration file: one section per policy
// family; a section that is absent disables its policy. See the package
// documentation for the format.
type Config struct {
	// APIVersion must be ConfigAPIVersion.
	APIVersion string `yaml:"apiVersion"`
	// Kind must be ConfigKind.
	Kind string `yaml:"kind"`
	// Defaults apply to every section that does not set a field.
	Defaults Defaults `yaml:"defaults,omitempty"`
	// RuntimeSockets configures the runtimeSockets policy.
	RuntimeSockets *RuntimeSocketsConfig `yaml:"runtimeSockets,omitempty"`
	// Images configures the images policy.
	Images *ImagesConfig `yaml:"images,omitempty"`
	// Registries configures the registries policy.
	Registries *RegistriesConfig `yaml:"registries,omitempty"`
	// ServiceAccountTokens configures the serviceAccountTokens policy.
	ServiceAccountTokens *ServiceAccountTokensConfig `yaml:"serviceAccountTokens,omitempty"`
	// PodSecurity configures the podSecurity policy (Pod Security
	// Standards).
	PodSecurity *PodSecurityConfig `yaml:"podSecurity,omitempty"`
	// SignedImages configures the signedImages policy.
	SignedImages *SignedImagesConfig `yaml:"signedImages,omitempty"`
	// Rego configures the rego policy (Gatekeeper templates and
	// constraints).
	Rego *RegoConfig `yaml:"rego,omitempty"`
	// ImageGates configures the imageGates policy (scan results).
	ImageGates *ImageGatesConfig `yaml:"imageGates,omitempty"`
}

// Defaults are the mode, failure policy and timeout of sections that do
// not set their own.
type Defaults struct {
	// Mode defaults to enforce.
	Mode Mode `yaml:"mode,omitempty"`
	// FailurePolicy defaults to Fail.
	FailurePolicy FailurePolicy `yaml:"failurePolicy,omitempty"`
	// Timeout defaults to DefaultTimeout.
	Timeout Duration `yaml:"timeout,omitempty"`
}

// Common are the fields of every policy section.
type Common struct {
	// Mode is enforce, warn or audit.
	Mode Mode `yaml:"mode,omitempty"`
	// FailurePolicy is Fail or Ignore.
	FailurePolicy FailurePolicy `yaml:"failurePolicy,omitempty"`
	// Timeout bounds one check ("500ms", "2s").
	Timeout Duration `yaml:"timeout,omitempty"`
	// Exempt lists objects the policy does not judge: "namespace/name",
	// either part "*"; a name also matches the pods and ReplicaSets or
	// Jobs of the workload of that name.
	Exempt []string `yaml:"exempt,omitempty"`
}

// binding returns the Binding of p configured by c and d.
func (c Common) binding(p Policy, d Defaults) Binding {
	b := Binding{Policy: p, Mode: c.Mode, FailurePolicy: c.FailurePolicy, Timeout: c.Timeout.Duration}
	if b.Mode == "" {
		b.Mode = d.Mode
	}
	if b.FailurePolicy == "" {
		b.FailurePolicy = d.FailurePolicy
	}
	if b.Timeout == 0 {
		b.Timeout = d.Timeout.Duration
	}
	return b.withDefaults()
}

// Duration is a time.Duration written as a Go duration string ("2s").
type Duration struct{ time.Duration }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return &ConfigError{Line: n.Line, Err: fmt.Errorf("timeout: want a duration such as \"2s\", not %q", n.Value)}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		return &ConfigError{Line: n.Line, Err: fmt.Errorf("timeout: want a positive duration such as \"2s\", not %q", n.Value)}
	}
	d.Duration = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// IsZero lets omitempty omit a zero Duration.
func (d Duration) IsZero() bool { return d.Duration == 0 }

// section is a policy section of the file. check validates it without
// I/O (ParseConfig calls it); build makes its policy, reading the files it
// names.
type section struct {
	name   string
	common Common
	check  func() error
	build  func(context.Context, BuildEnv) (Policy, error)
}

// pure makes the section of a policy built without I/O.
func pure(name string, c Common, policy func() (Policy, error)) section {
	return section{name, c,
		func() error { _, err := policy(); return err },
		func(context.Context, BuildEnv) (Policy, error) { return policy() }}
}

// sections returns the sections present, in policy order.
func (c *Config) sections() []section {
	var out []section
	if s := c.PodSecurity; s != nil {
		out = append(out, pure(PodSecurityPolicy, s.Common, s.policy))
	}
	if s := c.RuntimeSockets; s != nil {
		out = append(out, pure(RuntimeSocketsPolicy, s.Common, s.policy))
	}
	if s := c.Images; s != nil {
		out = append(out, pure(ImagesPolicy, s.Common, s.policy))
	}
	if s := c.Registries; s != nil {
		out = append(out, pure(RegistriesPolicy, s.Common, s.policy))
	}
	if s := c.ServiceAccountTokens; s != nil {
		out = append(out, pure(ServiceAccountTokensPolicy, s.Common, s.policy))
	}
	if s := c.SignedImages; s != nil {
		out = append(out, section{SignedImagesPolicy, s.Common, s.check, s.build})
	}
	if s := c.Rego; s != nil {
		out = append(out, section{RegoPolicy, s.Common, s.check, s.build})
	}
	if s := c.ImageGates; s != nil {
		out = append(out, section{ImageGatesPolicy, s.Common, s.check, s.build})
	}
	return out
}

// Bindings builds the configured policies, in a fixed order
// (podSecurity, runtimeSockets, images, registries, serviceAccountTokens,
// signedImages, rego, imageGates), with their modes, failure policies and timeouts,
// reading the files the configuration names (keys, trusted roots, trust
// policies, Rego) relative to env.Dir. Errors: those ParseConfig reports,
// without lines, and files that cannot be read or do not parse.
func (c *Config) Bindings(ctx context.Context, env BuildEnv) ([]Binding, error) {
	var out []Binding
	for _, s := range c.sections() {
		p, err := s.build(ctx, env)
		if err != nil {
			return nil, &ConfigError{Field: s.name, Err: err}
		}
		out = append(out, s.common.binding(p, c.Defaults))
	}
	return out, nil
}

// ParseConfig reads a configuration file (YAML, or JSON) and validates
// it. Unknown fields, fields of the wrong type, anchors and aliases,
// more than one document, an unknown mode or failure policy, and values
// a policy rejects are errors. Every error is a *ConfigError matching
// ErrInvalidConfig, naming the line when known.
func ParseConfig(data []byte) (cfg *Config, err error) {
	if len(data) > MaxConfigSize {
		return nil, &ConfigError{Err: fmt.Errorf("%d bytes, the limit is %d", len(data), MaxConfigSize)}
	}
	defer func() {
		if r := recover(); r != nil {
			cfg, err = nil, &ConfigError{Err: fmt.Errorf("malformed YAML: %v", r)}
		}
	}()
	root, err := configDocument(data)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	cfg = &Config{}
	if err := dec.Decode(cfg); err != nil {
		return nil, configDecodeError(err)
	}
	for _, want := range [][3]string{{"apiVersion", cfg.APIVersion, ConfigAPIVersion}, {"kind", cfg.Kind, ConfigKind}} {
		if want[1] != want[2] {
			return nil, &ConfigError{Line: lineAt(root, want[0]), Field: want[0], Err: fmt.Errorf("want %q, not %q", want[2], want[1])}
		}
	}
	if err := checkCommon(root, "defaults", Common{Mode: cfg.Defaults.Mode, FailurePolicy: cfg.Defaults.FailurePolicy}); err != nil {
		return nil, err
	}
	for _, s := range cfg.sections() {
		if err := checkCommon(root, s.name, s.common); err != nil {
			return nil, err
		}
		if err := s.check(); err != nil {
			path := []string{s.name}
			var fe *fieldError
			if errors.As(err, &fe) {
				path = append(path, fe.Path...)
				err = fe.Err
			}
			return nil, &ConfigError{Line: lineAt(root, path...), Field: strings.Join(path, "."), Err: err}
		}
	}
	return cfg, nil
}

// checkCommon validates a section's mode and failure policy.
func checkCommon(root *yaml.Node, name string, c Common) error {
	if c.Mode != "" && !c.Mode.valid() {
		return &ConfigError{Line: lineAt(root, name, "mode"), Field: name + ".mode", Err: fmt.Errorf("unknown mode %q (want enforce, warn or audit)", c.Mode)}
	}
	if c.FailurePolicy != "" && !c.FailurePolicy.valid() {
		return &ConfigError{Line: lineAt(root, name, "failurePolicy"), Field: name + ".failurePolicy", Err: fmt.Errorf("unknown failure policy %q (want Fail or Ignore)", c.FailurePolicy)}
	}
	return nil
}

// configDocument parses data as exactly one YAML document without
// anchors or aliases and returns its root node.
func configDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{Err: errors.New("empty document")}
		}
		return nil, configDecodeError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, configDecodeError(err)
	default:
		return nil, &ConfigError{Line: next.Line, Err: errors.New("more than one YAML document")}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &ConfigError{Err: errors.New("empty document")}
	}
	if n := aliasIn(doc.Content[0]); n != nil {
		return nil, &ConfigError{Line: n.Line, Err: errors.New("anchors and aliases are not allowed")}
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, &ConfigError{Line: doc.Content[0].Line, Err: errors.New("want a mapping")}
	}
	return doc.Content[0], nil
}

// aliasIn returns the first node under n with an anchor or an alias.
func aliasIn(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return n
	}
	for _, c := range n.Content {
		if a := aliasIn(c); a != nil {
			return a
		}
	}
	return nil
}

// lineAt returns the line of the node at path (mapping keys and list
// indexes) under root, or of the deepest node found on the way.
func lineAt(root *yaml.Node, path ...string) int {
	n := root
	line := root.Line
	for _, p := range path {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next = n.Content[i+1]
					line = n.Content[i].Line
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(p); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

var (
	// yamlLine matches the YAML parser's "yaml: line N: what" and its
	// type errors' "line N: what".
	yamlLine = regexp.MustCompile(`^(?:yaml: )?line ([0-9]+): (.*)$`)
	// unknownField matches the decoder's KnownFields message.
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// configDecodeError turns an error of the YAML decoder into a
// *ConfigError with the line of its first problem.
func configDecodeError(err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce
	}
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &ConfigError{Err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
	}
	line, _ := strconv.Atoi(m[1])
	what := m[2]
	if f := unknownField.FindStringSubmatch(what); f != nil {
		what = fmt.Sprintf("unknown field %q", f[1])
	}
	what = strings.ReplaceAll(what, "admission.", "")
	return &ConfigError{Line: line, Err: errors.New(what)}
}
