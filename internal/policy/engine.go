package policy

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// ErrNoObject means a review has no object to look at: no request, or
// neither object nor oldObject (nor oldObject for a DELETE).
var ErrNoObject = errors.New("no object to review")

// Engine evaluates constraints against admission requests. It is built
// once by New and is safe for concurrent use.
type Engine struct {
	constraints []*prepared
}

// prepared is a constraint ready to evaluate.
type prepared struct {
	c      *Constraint
	t      *compiled
	match  matcher
	params *ast.Term
}

// New compiles every template of p once and binds each constraint to its
// template. ctx bounds compilation.
//
// Errors: each invalid template or constraint is a *PolicyError (wrapping
// ErrNoViolation, ErrDisallowedBuiltin, ErrUnknownTemplate,
// ErrInvalidParameters or the Rego compiler's error), joined with
// errors.Join; ctx's error.
func New(ctx context.Context, p *Policies) (*Engine, error) {
	var errs []error
	templates := map[string]*compiled{}
	for _, t := range p.Templates {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		perr := func(err error) error {
			return &PolicyError{File: t.Source.File, Line: t.Source.Line, Policy: "ConstraintTemplate " + t.Name, Err: err}
		}
		if _, dup := templates[t.Kind]; dup {
			errs = append(errs, perr(fmt.Errorf("another template defines kind %s", t.Kind)))
			continue
		}
		ct, err := compile(ctx, t)
		if err != nil {
			errs = append(errs, perr(err))
			continue
		}
		if t.Schema != nil {
			if ct.schema, err = compileSchema(t.Schema); err != nil {
				errs = append(errs, perr(fmt.Errorf("openAPIV3Schema: %w", err)))
				continue
			}
		}
		templates[t.Kind] = ct
	}
	e := &Engine{}
	seen := map[[2]string]bool{}
	for _, c := range p.Constraints {
		perr := func(err error) error {
			return &PolicyError{File: c.Source.File, Line: c.Source.Line, Policy: c.Kind + " " + c.Name, Err: err}
		}
		key := [2]string{c.Kind, c.Name}
		if seen[key] {
			errs = append(errs, perr(errors.New("defined twice")))
			continue
		}
		seen[key] = true
		ct, ok := templates[c.Kind]
		if !ok {
			errs = append(errs, perr(fmt.Errorf("%w %s", ErrUnknownTemplate, c.Kind)))
			continue
		}
		if ct.schema != nil {
			if err := ct.schema.Validate(jsonValue(c.Parameters)); err != nil {
				errs = append(errs, perr(fmt.Errorf("%w: %v", ErrInvalidParameters, err)))
				continue
			}
		}
		m, err := newMatcher(c.Match)
		if err != nil {
			errs = append(errs, perr(fmt.Errorf("invalid spec.match: %w", err)))
			continue
		}
		params, err := ast.InterfaceToValue(jsonValue(c.Parameters))
		if err != nil {
			errs = append(errs, perr(fmt.Errorf("parameters: %w", err)))
			continue
		}
		e.constraints = append(e.constraints, &prepared{c: c, t: ct, match: m, params: ast.NewTerm(params)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(e.constraints, func(a, b *prepared) int {
		return cmp.Or(cmp.Compare(a.c.Kind, b.c.Kind), cmp.Compare(a.c.Name, b.c.Name))
	})
	return e, nil
}

// compileSchema compiles an openAPIV3Schema as a JSON schema; the
// OpenAPI extensions (nullable, x-kubernetes-*) are ignored.
func compileSchema(s map[string]any) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	if err := c.AddResource("parameters.json", jsonValue(s)); err != nil {
		return nil, err
	}
	return c.Compile("parameters.json")
}

// jsonValue returns v as the jsonschema package reads JSON: numbers as
// json.Number. v holds only what encoding/json decodes.
func jsonValue(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return v
	}
	return out
}

// Object is what Review looks at: an admission request and, when known,
// the Namespace the object is in (for namespaceSelector and
// input.review.namespaceObject).
type Object struct {
	// Request is the AdmissionRequest, input.review in Rego.
	Request *admissionv1.AdmissionRequest
	// Namespace is the object's Namespace; nil when unknown or when the
	// object is cluster-scoped.
	Namespace *corev1.Namespace
}

// NewObject builds the Object for a manifest reviewed offline, as if it
// were being created: operation CREATE, kind, name and namespace from the
// manifest. A manifest of kind AdmissionReview (admission.k8s.io) gives
// its request instead, as gator does. ns may be nil.
//
// Errors: a manifest without apiVersion or kind, an AdmissionReview
// without request or object, a value that is not JSON.
func NewObject(manifest map[string]any, ns *corev1.Namespace) (Object, error) {
	u := &unstructured.Unstructured{Object: manifest}
	gvk := u.GroupVersionKind()
	if gvk.Version == "" || gvk.Kind == "" {
		return Object{}, errors.New("manifest has no apiVersion or kind")
	}
	raw, err := json.Marshal(manifest)
	if err != nil {
		return Object{}, fmt.Errorf("encode manifest: %w", err)
	}
	if gvk.Group == admissionv1.GroupName && gvk.Kind == "AdmissionReview" {
		var ar admissionv1.AdmissionReview
		if err := json.Unmarshal(raw, &ar); err != nil {
			return Object{}, fmt.Errorf("decode AdmissionReview: %w", err)
		}
		if ar.Request == nil || (ar.Request.Object.Raw == nil && ar.Request.OldObject.Raw == nil) {
			return Object{}, fmt.Errorf("AdmissionReview: %w", ErrNoObject)
		}
		return Object{Request: ar.Request, Namespace: ns}, nil
	}
	req := &admissionv1.AdmissionRequest{
		Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		Name:      u.GetName(),
		Namespace: u.GetNamespace(),
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
	}
	return Object{Request: req, Namespace: ns}, nil
}

// Violation is one violation reported by a constraint.
type Violation struct {
	// ConstraintKind and ConstraintName name the constraint.
	ConstraintKind string
	ConstraintName string
	// Template is the template's name.
	Template string
	// Msg is the violation's msg.
	Msg string
	// Details is the violation's details, an empty object when unset.
	Details any
	// EnforcementAction is the constraint's.
	EnforcementAction Action
}

// Review evaluates every constraint that matches obj and returns the
// violations, ordered by constraint kind, name and message. Evaluation is
// bounded by ctx: a policy still running at ctx's deadline is stopped.
//
// Errors: ErrNoObject; a request object that is not JSON; ErrNoNamespace
// (a namespaceSelector and no Namespace); a Rego evaluation error, which
// wraps ctx's error when ctx ended. On an evaluation error the
// violations of the constraints that were evaluated are still returned,
// so the caller can apply its failure policy knowing both.
func (e *Engine) Review(ctx context.Context, obj Object) ([]Violation, error) {
	req := obj.Request
	if req == nil {
		return nil, ErrNoObject
	}
	review := *req
	if review.Operation == admissionv1.Delete {
		// As Gatekeeper: a DELETE is reviewed on the object being deleted.
		if review.OldObject.Raw == nil {
			return nil, fmt.Errorf("DELETE without oldObject: %w", ErrNoObject)
		}
		review.Object = review.OldObject
	}
	if review.Object.Raw == nil && review.OldObject.Raw == nil {
		return nil, ErrNoObject
	}
	// Decode each object once: for matching and for input.review.
	var objs []*unstructured.Unstructured
	var decoded [2]*unstructured.Unstructured
	for i, raw := range [][]byte{review.Object.Raw, review.OldObject.Raw} {
		if raw == nil {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("decode object: %w", err)
		}
		decoded[i] = u
		objs = append(objs, u)
	}

	var matched []*prepared
	for _, p := range e.constraints {
		ok, err := matchAny(&p.match, objs, obj.Namespace)
		if err != nil {
			return nil, fmt.Errorf("match %s %s: %w", p.c.Kind, p.c.Name, err)
		}
		if ok {
			matched = append(matched, p)
		}
	}
	if len(matched) == 0 {
		return nil, nil
	}

	reviewTerm, err := reviewValue(&review, decoded, obj.Namespace)
	if err != nil {
		return nil, err
	}
	// The evaluation runs on a long-lived worker: OPA's evaluator recurses
	// deeply, and a goroutine started per request (as the admission engine
	// starts one per policy) would grow its stack from scratch, copying it
	// several times, on every request.
	var (
		out  []Violation
		errs []error
	)
	err = onWorker(ctx, func() {
		out, errs = e.evaluate(ctx, matched, reviewTerm)
	})
	if err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

// evaluate runs the matched constraints' queries in order.
func (e *Engine) evaluate(ctx context.Context, matched []*prepared, reviewTerm *ast.Term) ([]Violation, []error) {
	var out []Violation
	var errs []error
	for _, p := range matched {
		input := ast.NewObject(
			[2]*ast.Term{ast.StringTerm("review"), reviewTerm},
			[2]*ast.Term{ast.StringTerm("parameters"), p.params},
		)
		rs, err := p.t.query.Eval(ctx, rego.EvalParsedInput(input))
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				errs = append(errs, fmt.Errorf("evaluate %s %s: %w: %w", p.c.Kind, p.c.Name, cerr, err))
				break
			}
			errs = append(errs, fmt.Errorf("evaluate %s %s: %w", p.c.Kind, p.c.Name, err))
			continue
		}
		vs, err := violations(p, rs)
		if err != nil {
			errs = append(errs, fmt.Errorf("evaluate %s %s: %w", p.c.Kind, p.c.Name, err))
			continue
		}
		out = append(out, vs...)
	}
	return out, errs
}

// workers run Rego evaluations on goroutines that live as long as the
// process, so their stacks stay grown; a bounded number, like the cores.
var (
	workersOnce sync.Once
	workQueue   chan func()
)

// onWorker runs f on a worker and waits for it, or returns ctx's error
// when ctx ends before a worker takes it (f then never runs) or finishes.
func onWorker(ctx context.Context, f func()) error {
	workersOnce.Do(func() {
		n := 2 * goruntime.GOMAXPROCS(0)
		workQueue = make(chan func())
		for range n {
			go func() { // lives for the process: takes jobs forever
				for job := range workQueue {
					job()
				}
			}()
		}
	})
	done := make(chan struct{})
	var panicked any
	job := func() {
		defer close(done)
		// A panic must reach the caller's goroutine, where the admission
		// engine recovers it, not end the process from a worker.
		defer func() { panicked = recover() }()
		f()
	}
	select {
	case workQueue <- job:
	case <-ctx.Done():
		return ctx.Err()
	}
	// f honours ctx, so it ends soon after ctx does; its results are
	// the caller's only once it has.
	<-done
	if panicked != nil {
		panic(panicked)
	}
	return nil
}

// matchAny reports whether the constraint matches the object or the old
// object, as Gatekeeper does for updates.
func matchAny(m *matcher, objs []*unstructured.Unstructured, ns *corev1.Namespace) (bool, error) {
	for _, o := range objs {
		ok, err := m.matches(o, ns)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// reviewValue returns input.review: the request as JSON (with object
// and oldObject already decoded) plus namespaceObject, an empty object
// when the Namespace is unknown, as in Gatekeeper.
func reviewValue(req *admissionv1.AdmissionRequest, objs [2]*unstructured.Unstructured, ns *corev1.Namespace) (*ast.Term, error) {
	rest := *req
	rest.Object, rest.OldObject = runtime.RawExtension{}, runtime.RawExtension{}
	data, err := json.Marshal(&rest)
	if err != nil {
		return nil, fmt.Errorf("encode review: %w", err)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("encode review: %w", err)
	}
	o, ok := v.(ast.Object)
	if !ok {
		return nil, errors.New("encode review: not an object")
	}
	for i, key := range []string{"object", "oldObject"} {
		if objs[i] == nil {
			continue // null, as encoding/json writes an empty RawExtension
		}
		ov, err := ast.InterfaceToValue(objs[i].Object)
		if err != nil {
			return nil, fmt.Errorf("encode review %s: %w", key, err)
		}
		o.Insert(ast.StringTerm(key), ast.NewTerm(ov))
	}
	nsValue := ast.Value(ast.NewObject())
	if ns != nil {
		n := ns.DeepCopy()
		n.APIVersion, n.Kind = "v1", "Namespace"
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(n)
		if err != nil {
			return nil, fmt.Errorf("encode namespace: %w", err)
		}
		if nsValue, err = ast.InterfaceToValue(u); err != nil {
			return nil, fmt.Errorf("encode namespace: %w", err)
		}
	}
	o.Insert(ast.StringTerm("namespaceObject"), ast.NewTerm(nsValue))
	return ast.NewTerm(o), nil
}

// violations converts the violation set to Violations.
func violations(p *prepared, rs rego.ResultSet) ([]Violation, error) {
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	set, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, fmt.Errorf("violation is %T, not a set", rs[0].Expressions[0].Value)
	}
	out := make([]Violation, 0, len(set))
	for _, r := range set {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("violation element is %T, not an object", r)
		}
		msg, ok := m["msg"].(string)
		if !ok {
			// Gatekeeper's hook drops results without msg; a msg that is
			// not a string is a policy bug.
			if _, has := m["msg"]; !has {
				continue
			}
			return nil, fmt.Errorf("violation msg is %T, not a string", m["msg"])
		}
		details, ok := m["details"]
		if !ok {
			details = map[string]any{}
		}
		out = append(out, Violation{
			ConstraintKind:    p.c.Kind,
			ConstraintName:    p.c.Name,
			Template:          p.t.template.Name,
			Msg:               msg,
			Details:           details,
			EnforcementAction: p.c.EnforcementAction,
		})
	}
	slices.SortStableFunc(out, func(a, b Violation) int { return cmp.Compare(a.Msg, b.Msg) })
	return out, nil
}
