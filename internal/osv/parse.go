package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Limits of Parse. Real records stay far below them (the largest in the
// OSV export is a few hundred KiB); they exist so that a hostile record
// cannot make Parse use unbounded memory or time.
const (
	// MaxSize is the largest record Parse reads, in bytes (8 MiB).
	MaxSize = 8 << 20
	// MaxDepth is the deepest nesting of JSON arrays and objects.
	MaxDepth = 64
	// MaxAffected is the most entries in a record's affected list.
	MaxAffected = 100_000
	// MaxValues is the most JSON values (array elements and object
	// members, at any depth) in one record. It bounds the memory a record
	// of MaxSize bytes made of tiny values can take once decoded.
	MaxValues = 1 << 19
)

// ErrInvalid is wrapped by the errors of Parse for data that is not a valid
// OSV record.
var ErrInvalid = errors.New("invalid OSV record")

// ErrLimit is wrapped by the errors of Parse for records over one of its
// limits (MaxSize, MaxDepth, MaxAffected, MaxValues).
var ErrLimit = errors.New("OSV record exceeds a limit")

// ParseError is the error Parse returns. It wraps ErrInvalid or ErrLimit
// and, for JSON that does not fit the schema's types, the
// *json.UnmarshalTypeError or *json.SyntaxError that says where.
type ParseError struct {
	// ID is the record's id, when Parse could read it.
	ID string
	// Field is where in the record the problem is
	// ("affected[2].ranges[0].events[1]"), when known.
	Field string
	// Err is the problem.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("osv record")
	if id := e.ID; id != "" {
		if len(id) > 100 {
			id = id[:100] + "…"
		}
		fmt.Fprintf(&b, " %q", id)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the problem.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse decodes one OSV JSON record and checks what a matcher relies on: an
// id; JSON types as the schema has them; timestamps in RFC 3339; for each
// affected package an ecosystem and a name (without NUL bytes); range types
// SEMVER, ECOSYSTEM or GIT (with a repo); at least one event per range, each
// with exactly one of introduced, fixed, last_affected or limit and a
// non-empty value. Fields the schema does not know are ignored, so records
// of later schema versions still parse. Parse does not check version
// syntax or the order of events.
//
// Every error is a *ParseError naming the record's id when it could be read;
// it wraps ErrLimit for records over MaxSize, MaxDepth, MaxAffected or
// MaxValues, and ErrInvalid otherwise.
func Parse(data []byte) (*Record, error) {
	if len(data) > MaxSize {
		// Name the record if its id comes early, without reading it all.
		return nil, &ParseError{ID: idHint(data[:64<<10]), Err: fmt.Errorf("%w: %d bytes, more than %d", ErrLimit, len(data), MaxSize)}
	}
	if err := checkShape(data); err != nil {
		return nil, &ParseError{ID: idHint(data), Err: err}
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		pe := &ParseError{ID: r.ID, Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
		if pe.ID == "" {
			pe.ID = idHint(data)
		}
		var ee *eventError
		if errors.As(err, &ee) {
			pe.Field = findBadEvent(data)
			pe.Err = fmt.Errorf("%w: %w", ErrInvalid, ee)
		}
		return nil, pe
	}
	if field, err := r.validate(); err != nil {
		return nil, &ParseError{ID: r.ID, Field: field, Err: fmt.Errorf("%w: %s", ErrInvalid, err)}
	}
	return &r, nil
}

// validate checks what JSON decoding cannot; it returns where the problem
// is and what it is.
func (r *Record) validate() (string, error) {
	if r.ID == "" {
		return "id", errors.New("missing or empty")
	}
	for i, s := range r.Severity {
		if s.Type == "" || s.Score == "" {
			return fmt.Sprintf("severity[%d]", i), errors.New("needs a type and a score")
		}
	}
	for i := range r.Affected {
		a := &r.Affected[i]
		at := fmt.Sprintf("affected[%d]", i)
		if p := a.Package; p != (Package{}) {
			switch {
			case p.Ecosystem == "":
				return at + ".package.ecosystem", errors.New("missing or empty")
			case p.Name == "":
				return at + ".package.name", errors.New("missing or empty")
			case strings.IndexByte(p.Ecosystem, 0) >= 0 || strings.IndexByte(p.Name, 0) >= 0:
				return at + ".package", errors.New("ecosystem or name holds a NUL byte")
			}
		}
		for j, s := range a.Severity {
			if s.Type == "" || s.Score == "" {
				return fmt.Sprintf("%s.severity[%d]", at, j), errors.New("needs a type and a score")
			}
		}
		for j, rg := range a.Ranges {
			rat := fmt.Sprintf("%s.ranges[%d]", at, j)
			switch rg.Type {
			case Semver, Ecosystem:
			case Git:
				if rg.Repo == "" {
					return rat + ".repo", errors.New("a GIT range needs a repo")
				}
			case "":
				return rat + ".type", errors.New("missing or empty")
			default:
				return rat + ".type", fmt.Errorf("unknown range type %q (want SEMVER, ECOSYSTEM or GIT)", rg.Type)
			}
			if len(rg.Events) == 0 {
				return rat + ".events", errors.New("a range needs at least one event")
			}
		}
	}
	return "", nil
}

// UnmarshalJSON reads an event object with exactly one key.
func (e *Event) UnmarshalJSON(data []byte) error {
	ev, err := parseEvent(data)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

// MarshalJSON writes the event as an object with one key.
func (e Event) MarshalJSON() ([]byte, error) {
	k, err := json.Marshal(string(e.Kind))
	if err != nil {
		return nil, err
	}
	v, err := json.Marshal(e.Version)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(k)+len(v)+3)
	out = append(out, '{')
	out = append(out, k...)
	out = append(out, ':')
	out = append(out, v...)
	return append(out, '}'), nil
}

// eventError is a range event that is not an object with exactly one known
// key holding a non-empty string.
type eventError struct{ msg string }

func (e *eventError) Error() string { return e.msg }

// parseEvent decodes one event; data is one JSON value (encoding/json has
// checked its syntax).
func parseEvent(data []byte) (Event, error) {
	data = trimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Event{}, &eventError{"an event must be an object"}
	}
	rawName, rawValue, n := sole(data)
	if n != 1 {
		return Event{}, &eventError{fmt.Sprintf("an event must have exactly one key (introduced, fixed, last_affected or limit), not %d", n)}
	}
	name, _ := unquote(rawName)
	kind := EventKind(name)
	switch kind {
	case Introduced, Fixed, LastAffected, Limit:
	default:
		return Event{}, &eventError{fmt.Sprintf("unknown event %q (want introduced, fixed, last_affected or limit)", name)}
	}
	v, ok := unquote(rawValue)
	if !ok {
		return Event{}, &eventError{fmt.Sprintf("event %s: the version must be a string", name)}
	}
	if v == "" {
		return Event{}, &eventError{fmt.Sprintf("event %s: empty version", name)}
	}
	return Event{Kind: kind, Version: v}, nil
}

// findBadEvent returns the place of the first event parseEvent refuses, or
// "" if it cannot tell. It runs only after Parse met such an event.
func findBadEvent(data []byte) string {
	var probe struct {
		Affected []struct {
			Ranges []struct {
				Events []json.RawMessage `json:"events"`
			} `json:"ranges"`
		} `json:"affected"`
	}
	_ = json.Unmarshal(data, &probe) // type errors elsewhere leave the rest decoded
	for i, a := range probe.Affected {
		for j, r := range a.Ranges {
			for k, e := range r.Events {
				if _, err := parseEvent(e); err != nil {
					return fmt.Sprintf("affected[%d].ranges[%d].events[%d]", i, j, k)
				}
			}
		}
	}
	return ""
}

// idHint returns the top-level "id" of data if a JSON tokenizer meets it
// before any syntax error, or "". Parse uses it to name records it cannot
// decode.
func idHint(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	key := true // the next string at depth 1 is a key
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				depth++
			} else {
				depth--
			}
			if depth == 1 {
				key = true
			}
			if depth == 0 && (t == '}' || t == ']') {
				return ""
			}
			continue
		case string:
			if depth == 1 && key && t == "id" {
				next, err := dec.Token()
				if s, ok := next.(string); ok && err == nil {
					return s
				}
				return ""
			}
		}
		if depth == 1 {
			key = !key
		}
	}
}
