package admission

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// DecisionLog writes one JSON line per decision to a writer. It is safe
// for concurrent use. A line holds identifiers only: never the object,
// its old version, patch values or the user's extra attributes.
type DecisionLog struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewDecisionLog returns a log writing to w.
func NewDecisionLog(w io.Writer) *DecisionLog {
	return &DecisionLog{w: w, now: time.Now}
}

// DecisionRecord is one line of the decision log.
type DecisionRecord struct {
	Time time.Time `json:"time"`
	// Webhook is the endpoint that decided ("validate", "mutate"), when
	// written by WriteFrom.
	Webhook      string         `json:"webhook,omitempty"`
	UID          string         `json:"uid"`
	User         string         `json:"user"`
	Groups       []string       `json:"groups,omitempty"`
	Operation    string         `json:"operation"`
	APIVersion   string         `json:"apiVersion"`
	Kind         string         `json:"kind"`
	Resource     string         `json:"resource,omitempty"`
	SubResource  string         `json:"subResource,omitempty"`
	Namespace    string         `json:"namespace,omitempty"`
	Name         string         `json:"name,omitempty"`
	GenerateName string         `json:"generateName,omitempty"`
	DryRun       bool           `json:"dryRun"`
	Allowed      bool           `json:"allowed"`
	Message      string         `json:"message,omitempty"`
	Warnings     int            `json:"warnings,omitempty"`
	Patched      []string       `json:"patched,omitempty"`
	Policies     []PolicyRecord `json:"policies"`
	LatencyMS    float64        `json:"latencyMs"`
}

// PolicyRecord is one policy's result in a DecisionRecord.
type PolicyRecord struct {
	Name          string            `json:"name"`
	Mode          Mode              `json:"mode"`
	FailurePolicy FailurePolicy     `json:"failurePolicy"`
	Violations    []string          `json:"violations,omitempty"`
	Details       map[string]string `json:"details,omitempty"`
	Error         string            `json:"error,omitempty"`
	LatencyMS     float64           `json:"latencyMs"`
}

// Record returns the log line of decision d about r (r may be nil).
// Patched lists the JSON pointers d's patch changes, not the values.
func Record(r *Request, d Decision, at time.Time) DecisionRecord {
	rec := DecisionRecord{
		Time:      at.UTC(),
		UID:       string(d.UID),
		Allowed:   d.Allowed,
		Message:   d.Message,
		Warnings:  len(d.Warnings),
		Policies:  make([]PolicyRecord, 0, len(d.Results)),
		LatencyMS: ms(d.Latency),
	}
	if r != nil {
		rec.UID = string(r.UID)
		rec.User, rec.Groups = r.User.Username, r.User.Groups
		rec.Operation = string(r.Operation)
		rec.APIVersion = r.Kind.GroupVersion().String()
		rec.Kind = r.Kind.Kind
		rec.Resource = r.Resource.Resource
		rec.SubResource = r.SubResource
		rec.Namespace, rec.Name, rec.GenerateName = r.Namespace, r.Name, r.GenerateName
		rec.DryRun = r.DryRun
	}
	for _, op := range d.Patch {
		rec.Patched = append(rec.Patched, op.Op+" "+op.Path)
	}
	for _, res := range d.Results {
		pr := PolicyRecord{
			Name:          res.Policy,
			Mode:          res.Mode,
			FailurePolicy: res.FailurePolicy,
			Violations:    res.Violations,
			Details:       res.Details,
			LatencyMS:     ms(res.Latency),
		}
		if res.Err != nil {
			pr.Error = res.Err.Error()
		}
		rec.Policies = append(rec.Policies, pr)
	}
	return rec
}

// Write appends the line of decision d about r. Errors are the writer's.
func (l *DecisionLog) Write(r *Request, d Decision) error { return l.WriteFrom("", r, d) }

// WriteFrom is Write for the webhook endpoint that decided, named in the
// line (a request goes through the mutating and the validating webhook).
func (l *DecisionLog) WriteFrom(webhook string, r *Request, d Decision) error {
	rec := Record(r, d, l.now())
	rec.Webhook = webhook
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("decision log: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(line); err != nil {
		return fmt.Errorf("decision log: %w", err)
	}
	return nil
}

// ms returns d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
