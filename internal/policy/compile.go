package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
)

// disallowedBuiltins are the Rego builtins a template may not call:
// those that reach the network or read the process environment. The
// webhook must answer from memory, and a policy must not exfiltrate what
// it reviews.
var disallowedBuiltins = []string{"http.send", "net.lookup_ip_addr", "opa.runtime"}

// capabilities returns OPA's capabilities without disallowedBuiltins and
// with no host allowed for network access.
func capabilities() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.Builtins = slices.DeleteFunc(slices.Clone(c.Builtins), func(b *ast.Builtin) bool {
		return slices.Contains(disallowedBuiltins, b.Name)
	})
	c.AllowNet = []string{}
	return c
}

// moduleError is a Rego parse error located in the template's module.
type moduleError struct {
	row int // line in the Rego text, from 1; 0 when unknown
	err error
}

func (e *moduleError) Error() string { return e.err.Error() }
func (e *moduleError) Unwrap() error { return e.err }

// parseModules parses and checks a template's module and libraries: the
// module must define violation, libraries must be packages under lib (as
// Gatekeeper requires), and no module may call a disallowed builtin.
func parseModules(t *Template) (*ast.Module, []*ast.Module, error) {
	opts := ast.ParserOptions{RegoVersion: ast.RegoV0}
	if t.RegoV1 {
		opts.RegoVersion = ast.RegoV1
	}
	mod, err := ast.ParseModuleWithOpts("template.rego", t.Rego, opts)
	if err != nil {
		return nil, nil, &moduleError{row: errorRow(err), err: fmt.Errorf("parse rego: %w", err)}
	}
	if mod == nil {
		return nil, nil, errors.New("parse rego: empty module")
	}
	if !slices.ContainsFunc(mod.Rules, func(r *ast.Rule) bool { return r.Head.Name == "violation" || r.Head.Ref().String() == "violation" }) {
		return nil, nil, ErrNoViolation
	}
	if err := checkBuiltins(mod); err != nil {
		return nil, nil, err
	}
	libs := make([]*ast.Module, 0, len(t.Libs))
	for i, src := range t.Libs {
		lib, err := ast.ParseModuleWithOpts(fmt.Sprintf("lib%d.rego", i), src, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("parse lib %d: %w", i, err)
		}
		if lib == nil {
			return nil, nil, fmt.Errorf("parse lib %d: empty module", i)
		}
		if p := lib.Package.Path; len(p) < 2 || !p[1].Equal(ast.StringTerm("lib")) {
			return nil, nil, fmt.Errorf("lib %d: package %s is not under lib", i, strings.TrimPrefix(p.String(), "data."))
		}
		if err := checkBuiltins(lib); err != nil {
			return nil, nil, fmt.Errorf("lib %d: %w", i, err)
		}
		libs = append(libs, lib)
	}
	return mod, libs, nil
}

// checkBuiltins rejects calls to disallowedBuiltins with a clear error
// (the compiler would only say the function is undefined).
func checkBuiltins(m *ast.Module) error {
	var found error
	ast.WalkRefs(m, func(r ast.Ref) bool {
		if found != nil {
			return true
		}
		if name := r.String(); slices.Contains(disallowedBuiltins, name) {
			row := 0
			if r[0].Location != nil {
				row = r[0].Location.Row
			}
			found = &moduleError{row: row, err: fmt.Errorf("%w %s: policies may not reach the network", ErrDisallowedBuiltin, name)}
		}
		return false
	})
	return found
}

// errorRow returns the row of the first located OPA error.
func errorRow(err error) int {
	var errs ast.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			if e.Location != nil {
				return e.Location.Row
			}
		}
	}
	return 0
}

// compiled is a template prepared for evaluation.
type compiled struct {
	template *Template
	query    rego.PreparedEvalQuery
	schema   *jsonschema.Schema
}

// compile prepares the query for the template's violation set.
func compile(ctx context.Context, t *Template) (*compiled, error) {
	mod, libs, err := parseModules(t)
	if err != nil {
		return nil, err
	}
	version := ast.RegoV0
	if t.RegoV1 {
		version = ast.RegoV1
	}
	// data.inventory is Gatekeeper's cache of cluster objects; it is
	// empty here, so templates that read it see no objects.
	store := inmem.NewFromObject(map[string]any{"inventory": map[string]any{}})
	opts := []func(*rego.Rego){
		rego.Query(mod.Package.Path.String() + ".violation"),
		rego.ParsedModule(mod),
		rego.Capabilities(capabilities()),
		rego.SetRegoVersion(version),
		rego.Store(store),
		rego.EnablePrintStatements(false),
	}
	for _, l := range libs {
		opts = append(opts, rego.ParsedModule(l))
	}
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compile rego: %w", err)
	}
	return &compiled{template: t, query: pq}, nil
}
