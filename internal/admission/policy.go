package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Policy is one admission rule. Check judges a request and returns what
// it found; a violation is a result, not an error. An error (a registry
// that does not answer, a namespace that cannot be looked up) means the
// policy could not decide, and the engine answers per the policy's
// FailurePolicy. Check must honour ctx: the engine stops waiting for it
// at the policy's timeout. Check is called concurrently and must not
// change the Request.
type Policy interface {
	// Name identifies the policy in messages, logs and configuration.
	Name() string
	// Check judges r.
	Check(ctx context.Context, r *Request) (Outcome, error)
}

// Outcome is what a Policy found in a request.
type Outcome struct {
	// Violations are one message per problem; none means compliant.
	Violations []string
	// Patch mutates the object (JSON Patch, RFC 6902, against the
	// request's object). It is applied only for enforce-mode policies
	// whose request is admitted, and only by the mutating webhook.
	Patch []JSONPatchOp
	// Warnings are admission warnings the policy gives whatever its mode
	// (Pod Security's warn level, say); an audit-mode policy's go to the
	// audit annotations instead.
	Warnings []string
	// Details are identifiers worth keeping (an image's digest, the
	// rule that matched). They go to the decision log and, as
	// "<policy>.<key>", to the request's audit annotations; they must
	// not hold secrets.
	Details map[string]string
}

// JSONPatchOp is one operation of a JSON Patch (RFC 6902).
type JSONPatchOp struct {
	// Op is add, remove, replace, move, copy or test.
	Op string `json:"op"`
	// Path is the JSON pointer (RFC 6901) the operation applies to.
	Path string `json:"path"`
	// From is the source pointer of move and copy.
	From string `json:"from,omitempty"`
	// Value is the value of add, replace and test.
	Value any `json:"value,omitempty"`
}

// MarshalJSON implements json.Marshaler: value is written for add,
// replace and test even when it is null, false or zero.
func (op JSONPatchOp) MarshalJSON() ([]byte, error) {
	switch op.Op {
	case "add", "replace", "test":
		return json.Marshal(struct {
			Op    string `json:"op"`
			Path  string `json:"path"`
			Value any    `json:"value"`
		}{op.Op, op.Path, op.Value})
	}
	return json.Marshal(struct {
		Op   string `json:"op"`
		Path string `json:"path"`
		From string `json:"from,omitempty"`
	}{op.Op, op.Path, op.From})
}

// validate checks the operation's name and pointers.
func (op JSONPatchOp) validate() error {
	switch op.Op {
	case "add", "remove", "replace", "test":
	case "move", "copy":
		if err := validPointer(op.From); err != nil {
			return fmt.Errorf("patch %s %q: from: %w", op.Op, op.Path, err)
		}
	default:
		return fmt.Errorf("patch: unknown op %q", op.Op)
	}
	if err := validPointer(op.Path); err != nil {
		return fmt.Errorf("patch %s %q: %w", op.Op, op.Path, err)
	}
	if op.Path == "" {
		return fmt.Errorf("patch %s: the whole object cannot be patched", op.Op)
	}
	return nil
}

// validPointer checks a JSON pointer: empty, or "/" separated tokens
// where "~" is followed by 0 or 1.
func validPointer(p string) error {
	if p == "" {
		return nil
	}
	if p[0] != '/' {
		return fmt.Errorf("JSON pointer %q does not start with /", p)
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '~' && (i+1 == len(p) || (p[i+1] != '0' && p[i+1] != '1')) {
			return fmt.Errorf("JSON pointer %q: bad escape", p)
		}
	}
	return nil
}

// pointerOverlaps reports whether pointers a and b are the same or one
// is inside the other.
func pointerOverlaps(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return strings.HasPrefix(b, a) && (a == "" || b[len(a)] == '/')
}

// Mode is what a policy's violations do.
type Mode string

// The modes.
const (
	// ModeEnforce denies a request with violations.
	ModeEnforce Mode = "enforce"
	// ModeWarn admits it with admission warnings.
	ModeWarn Mode = "warn"
	// ModeAudit admits it; violations are only logged (decision log and
	// audit annotations).
	ModeAudit Mode = "audit"
)

// valid reports whether m is one of the modes.
func (m Mode) valid() bool { return m == ModeEnforce || m == ModeWarn || m == ModeAudit }

// FailurePolicy is what happens when a policy cannot decide: it returns
// an error, panics or runs past its timeout. The names are the API
// server's.
type FailurePolicy string

// The failure policies.
const (
	// Fail treats the failure as a violation: an enforce-mode policy
	// denies, a warn-mode one warns, an audit-mode one logs.
	Fail FailurePolicy = "Fail"
	// Ignore admits the request; the failure is logged and recorded in
	// the audit annotations.
	Ignore FailurePolicy = "Ignore"
)

// valid reports whether f is one of the failure policies.
func (f FailurePolicy) valid() bool { return f == Fail || f == Ignore }

// DefaultTimeout is a policy's timeout when its Binding gives none: well
// under the webhook's timeoutSeconds, so the webhook answers even when a
// policy does not.
const DefaultTimeout = 2 * time.Second

// Binding is a Policy as configured: with its mode, failure policy and
// timeout.
type Binding struct {
	// Policy is the rule.
	Policy Policy
	// Mode is what its violations do; empty means ModeEnforce.
	Mode Mode
	// FailurePolicy is what its failures do; empty means Fail.
	FailurePolicy FailurePolicy
	// Timeout bounds one Check; 0 means DefaultTimeout. The request's
	// own deadline applies too.
	Timeout time.Duration
}

// withDefaults fills in the empty fields.
func (b Binding) withDefaults() Binding {
	if b.Mode == "" {
		b.Mode = ModeEnforce
	}
	if b.FailurePolicy == "" {
		b.FailurePolicy = Fail
	}
	if b.Timeout <= 0 {
		b.Timeout = DefaultTimeout
	}
	return b
}
