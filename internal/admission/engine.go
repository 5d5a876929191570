package admission

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ErrTimeout is wrapped by the Result error of a policy that did not
// answer within its timeout or the request's deadline.
var ErrTimeout = errors.New("policy timed out")

// PanicError is the Result error of a policy that panicked.
type PanicError struct {
	// Policy is the policy's name.
	Policy string
	// Value is what it panicked with.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error implements error. It says the policy panicked, without the panic
// value (which is logged, not shown to users).
func (e *PanicError) Error() string { return "policy " + e.Policy + " panicked" }

// Engine runs a list of policies on admission requests. It is immutable
// and safe for concurrent use; a configuration reload builds a new one.
type Engine struct {
	bindings   []Binding
	namespaces NamespaceLabeler
	logger     *slog.Logger
}

// NewEngine returns an engine running bindings in order. namespaces
// gives the namespaces' labels (nil: none); logger receives the panics
// of policies (nil: discarded). Errors: a nil policy, an empty or
// duplicate name, an unknown mode or failure policy.
func NewEngine(logger *slog.Logger, namespaces NamespaceLabeler, bindings ...Binding) (*Engine, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{namespaces: namespaces, logger: logger}
	seen := map[string]bool{}
	for i, b := range bindings {
		if b.Policy == nil {
			return nil, fmt.Errorf("policy %d: nil", i)
		}
		b = b.withDefaults()
		name := b.Policy.Name()
		switch {
		case name == "":
			return nil, fmt.Errorf("policy %d: empty name", i)
		case seen[name]:
			return nil, fmt.Errorf("policy %s: name used twice", name)
		case !b.Mode.valid():
			return nil, fmt.Errorf("policy %s: unknown mode %q", name, b.Mode)
		case !b.FailurePolicy.valid():
			return nil, fmt.Errorf("policy %s: unknown failure policy %q", name, b.FailurePolicy)
		}
		seen[name] = true
		e.bindings = append(e.bindings, b)
	}
	return e, nil
}

// Bindings returns the engine's policies, as configured (defaults filled
// in).
func (e *Engine) Bindings() []Binding { return append([]Binding(nil), e.bindings...) }

// Result is what one policy said about one request.
type Result struct {
	// Policy is the policy's name.
	Policy string
	// Mode and FailurePolicy are the policy's.
	Mode          Mode
	FailurePolicy FailurePolicy
	// Violations are the policy's messages.
	Violations []string
	// Patch is the policy's patch (applied or not; see Decision.Patch).
	Patch []JSONPatchOp
	// Warnings are the policy's own warnings (Outcome.Warnings).
	Warnings []string
	// Details are the policy's details.
	Details map[string]string
	// Err is why the policy could not decide: its own error, a
	// *PanicError, an error wrapping ErrTimeout, or a patch that
	// conflicts with an earlier policy's. Nil when it decided.
	Err error
	// Latency is how long the policy took (up to its timeout).
	Latency time.Duration
}

// Decision is the engine's answer to a request.
type Decision struct {
	// UID is the request's.
	UID types.UID
	// Allowed says whether the request is admitted.
	Allowed bool
	// Message says why it is denied: "policy: violation" items joined
	// by "; ".
	Message string
	// Warnings are admission warnings ("policy: violation").
	Warnings []string
	// Patch is the merged patch of the enforce-mode policies, in policy
	// order; nil when denied. Only a mutating webhook may return it.
	Patch []JSONPatchOp
	// AuditAnnotations are added to the API server's audit event.
	AuditAnnotations map[string]string
	// Results are the policies' results, in policy order.
	Results []Result
	// Latency is how long the review took.
	Latency time.Duration
}

// WithoutPatch returns d without its patch, for the validating webhook
// (the API server rejects a validating webhook's patch).
func (d Decision) WithoutPatch() Decision {
	d.Patch = nil
	return d
}

// Admit builds the Request of ar (see NewRequest) and reviews it. A nil
// ar is denied.
func (e *Engine) Admit(ctx context.Context, ar *admissionv1.AdmissionRequest) Decision {
	r, err := NewRequest(ctx, ar, e.namespaces)
	if err != nil {
		return Decision{Message: "kubeshield: " + err.Error()}
	}
	return e.Review(ctx, r)
}

// Review runs every policy on r, concurrently, each under its timeout
// and ctx's deadline, and merges their results:
//   - a policy that returns an error, panics or times out has failed:
//     with FailurePolicy Fail its failure counts as a violation (the
//     message says it could not be evaluated), with Ignore it admits and
//     the failure goes to the audit annotations;
//   - the request is denied when an enforce-mode policy has violations;
//     the message lists them prefixed by the policy's name;
//   - warn-mode violations become warnings; audit-mode ones are only in
//     the Results and the audit annotations;
//   - the patches of enforce-mode policies are concatenated in policy
//     order; a patch touching a path an earlier policy's patch touched
//     (the same path, or one inside the other) is that policy's failure.
//
// Review always returns a decision for r's UID and never panics because
// of a policy.
func (e *Engine) Review(ctx context.Context, r *Request) Decision {
	start := time.Now()
	if r == nil {
		return Decision{Message: "kubeshield: no request"}
	}
	results := make([]Result, len(e.bindings))
	var wg sync.WaitGroup
	for i, b := range e.bindings {
		wg.Go(func() { results[i] = e.run(ctx, b, r) }) // ends when the policy answers or its timeout fires
	}
	wg.Wait()
	d := merge(r.UID, results)
	d.Latency = time.Since(start)
	return d
}

// run calls one policy, recovering a panic and giving up at the
// timeout. A policy that ignores ctx keeps its goroutine until it
// returns; its answer is then dropped.
func (e *Engine) run(ctx context.Context, b Binding, r *Request) Result {
	name := b.Policy.Name()
	res := Result{Policy: name, Mode: b.Mode, FailurePolicy: b.FailurePolicy}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	type answer struct {
		out Outcome
		err error
	}
	done := make(chan answer, 1)
	go func() { // ends when Check returns or panics
		defer func() {
			if v := recover(); v != nil {
				stack := debug.Stack()
				e.logger.Error("policy panicked", "policy", name, "uid", string(r.UID), "panic", fmt.Sprint(v), "stack", string(stack))
				done <- answer{err: &PanicError{Policy: name, Value: v, Stack: stack}}
			}
		}()
		out, err := b.Policy.Check(ctx, r)
		done <- answer{out, err}
	}()
	select {
	case a := <-done:
		res.Violations, res.Patch, res.Details, res.Err = a.out.Violations, a.out.Patch, a.out.Details, a.err
		res.Warnings = a.out.Warnings
		if res.Err == nil && ctx.Err() != nil {
			// Answered, but only after the deadline: a policy that
			// returns nil on cancellation has not decided.
			res.Err = fmt.Errorf("%w after %s", ErrTimeout, time.Since(start).Round(time.Millisecond))
		}
	case <-ctx.Done():
		res.Err = fmt.Errorf("%w after %s", ErrTimeout, time.Since(start).Round(time.Millisecond))
	}
	if res.Err == nil {
		for _, op := range res.Patch {
			if err := op.validate(); err != nil {
				res.Err = err
				break
			}
		}
	}
	if res.Err != nil {
		res.Violations, res.Patch, res.Warnings = nil, nil, nil
	}
	res.Latency = time.Since(start)
	return res
}

// merge combines the results into a decision (see Review).
func merge(uid types.UID, results []Result) Decision {
	d := Decision{UID: uid, Results: results}
	var denials []string
	var touched []string
	audit := map[string]string{}
	for i := range results {
		res := &results[i]
		if res.Err == nil && res.Mode == ModeEnforce && len(res.Patch) > 0 {
			if err := conflicts(res.Patch, touched); err != nil {
				res.Err, res.Violations, res.Patch = err, nil, nil
			}
		}
		msgs := res.Violations
		if res.Err != nil {
			if res.FailurePolicy == Ignore {
				audit[auditKey(res.Policy, "failed-open")] = truncateRunes(errorSummary(res.Err), maxAuditValueRunes)
				continue
			}
			msgs = []string{"could not be evaluated: " + errorSummary(res.Err)}
		}
		for k, v := range res.Details {
			audit[auditKey(res.Policy, k)] = truncateRunes(v, maxAuditValueRunes)
		}
		if len(res.Warnings) > 0 {
			if res.Mode == ModeAudit {
				audit[auditKey(res.Policy, "warnings")] = truncateRunes(strings.Join(res.Warnings, "; "), maxAuditValueRunes)
			} else {
				for _, w := range res.Warnings {
					d.Warnings = append(d.Warnings, res.Policy+": "+w)
				}
			}
		}
		if len(msgs) == 0 {
			if res.Mode == ModeEnforce {
				for _, op := range res.Patch {
					touched = append(touched, op.Path)
					if op.From != "" {
						touched = append(touched, op.From)
					}
				}
				d.Patch = append(d.Patch, res.Patch...)
			}
			continue
		}
		switch res.Mode {
		case ModeEnforce:
			for _, m := range msgs {
				denials = append(denials, res.Policy+": "+m)
			}
		case ModeWarn:
			for _, m := range msgs {
				d.Warnings = append(d.Warnings, res.Policy+": "+m)
			}
		case ModeAudit:
			audit[auditKey(res.Policy, "violations")] = truncateRunes(strings.Join(msgs, "; "), maxAuditValueRunes)
		}
	}
	d.Allowed = len(denials) == 0
	if !d.Allowed {
		d.Message = strings.Join(denials, "; ")
		d.Patch = nil
	}
	if len(audit) > 0 {
		d.AuditAnnotations = audit
	}
	return d
}

// conflicts returns an error when patch touches a path in touched.
func conflicts(patch []JSONPatchOp, touched []string) error {
	for _, op := range patch {
		for _, p := range []string{op.Path, op.From} {
			if p == "" {
				continue
			}
			for _, t := range touched {
				if pointerOverlaps(p, t) {
					return fmt.Errorf("%w: %s touches %s, patched by an earlier policy", ErrPatchConflict, p, t)
				}
			}
		}
	}
	return nil
}

// ErrPatchConflict is wrapped by the Result error of a policy whose
// patch touches a path an earlier policy's patch touched.
var ErrPatchConflict = errors.New("patch conflict")

// errorSummary is what users see of a policy's error: panics and
// timeouts without detail.
func errorSummary(err error) string {
	var pe *PanicError
	switch {
	case errors.As(err, &pe):
		return "internal error (panic)"
	case errors.Is(err, ErrTimeout):
		return "timed out"
	}
	return err.Error()
}

// maxAuditValueRunes bounds an audit annotation's value.
const maxAuditValueRunes = 1024

// auditKey returns "<policy>.<key>" as a valid annotation name (at most
// 63 characters of [A-Za-z0-9-_.], alphanumeric at both ends).
func auditKey(policy, key string) string {
	s := []byte(policy + "." + key)
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			s[i] = '-'
		}
	}
	if len(s) > 63 {
		s = s[:63]
	}
	out := strings.Trim(string(s), "-_.")
	if out == "" {
		return "policy"
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
