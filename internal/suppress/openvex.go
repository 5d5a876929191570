package suppress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
)

// MaxVEXSize is the largest OpenVEX document ParseOpenVEX reads, in bytes
// (16 MiB).
const MaxVEXSize = 16 << 20

// OpenVEXContext is the start of the @context of every OpenVEX document
// ("https://openvex.dev/ns/v0.2.0").
const OpenVEXContext = "https://openvex.dev/ns"

const vexFormat = "OpenVEX document"

// Status is the impact of a vulnerability on a product.
type Status string

// The statuses OpenVEX defines.
const (
	// NotAffected means no remediation is needed; the statement says why
	// with a justification or an impact statement.
	NotAffected Status = "not_affected"
	// Affected means actions are recommended (the action statement).
	Affected Status = "affected"
	// Fixed means these product versions contain a fix.
	Fixed Status = "fixed"
	// UnderInvestigation means it is not known yet.
	UnderInvestigation Status = "under_investigation"
)

var statuses = []Status{NotAffected, Affected, Fixed, UnderInvestigation}

// Justification says why a product is not affected.
type Justification string

// The justifications OpenVEX defines (from the VEX working group's Status
// Justifications).
const (
	ComponentNotPresent                         Justification = "component_not_present"
	VulnerableCodeNotPresent                    Justification = "vulnerable_code_not_present"
	VulnerableCodeNotInExecutePath              Justification = "vulnerable_code_not_in_execute_path"
	VulnerableCodeCannotBeControlledByAdversary Justification = "vulnerable_code_cannot_be_controlled_by_adversary"
	InlineMitigationsAlreadyExist               Justification = "inline_mitigations_already_exist"
)

var justifications = []Justification{
	ComponentNotPresent, VulnerableCodeNotPresent, VulnerableCodeNotInExecutePath,
	VulnerableCodeCannotBeControlledByAdversary, InlineMitigationsAlreadyExist,
}

// VEX is a parsed OpenVEX document.
type VEX struct {
	// Context is the @context ("https://openvex.dev/ns/v0.2.0").
	Context string
	// ID is the document's @id.
	ID string
	// Author and Role say who issued it.
	Author string
	Role   string
	// Timestamp is when it was issued; LastUpdated when it last changed
	// (zero when not given).
	Timestamp   time.Time
	LastUpdated time.Time
	// Version is the document version.
	Version int
	// Tooling says how it was made.
	Tooling string
	// Statements are the document's statements, in document order.
	Statements []Statement
}

// Statement is one assertion about the impact of a vulnerability on
// products.
type Statement struct {
	// ID is the statement's @id, when given.
	ID string
	// Version is the statement's version (0 when not given).
	Version int
	// Vulnerability is what the statement is about.
	Vulnerability Vulnerability
	// Timestamp is when the statement was known to be true: its own
	// timestamp, else the document's (the inheritance the specification
	// describes).
	Timestamp time.Time
	// LastUpdated is when the statement last changed (zero when not
	// given).
	LastUpdated time.Time
	// Products are what the statement is about; at least one.
	Products []Product
	// Status is the impact.
	Status Status
	// Supplier and StatusNotes are free text.
	Supplier    string
	StatusNotes string
	// Justification and ImpactStatement say why a product is not
	// affected; a not_affected statement has at least one of them.
	Justification   Justification
	ImpactStatement string
	// ActionStatement says what to do about an affected product, and
	// ActionStatementTimestamp when it was said.
	ActionStatement          string
	ActionStatementTimestamp time.Time
}

// Vulnerability identifies a vulnerability.
type Vulnerability struct {
	// ID is the vulnerability's @id, an IRI, when given.
	ID string
	// Name is its main identifier ("CVE-2023-32681").
	Name string
	// Description is free text.
	Description string
	// Aliases are other names of the same vulnerability.
	Aliases []string
}

// Component identifies a product or a subcomponent: by @id (a purl, an
// image reference or digest, any IRI), software identifiers ("purl",
// "cpe22", "cpe23") and hashes ("sha-256": hex).
type Component struct {
	ID          string
	Identifiers map[string]string
	Hashes      map[string]string
}

// Product is a component a statement is about, with the subcomponents
// (most often its dependencies) where the vulnerability is.
type Product struct {
	Component
	Subcomponents []Component
}

// The JSON forms, decoded leniently: fields the specification does not
// define are ignored.
type (
	vexWire struct {
		Context     *string           `json:"@context"`
		ID          string            `json:"@id"`
		Author      string            `json:"author"`
		Role        string            `json:"role"`
		Timestamp   string            `json:"timestamp"`
		LastUpdated string            `json:"last_updated"`
		Version     *int              `json:"version"`
		Tooling     string            `json:"tooling"`
		Statements  []json.RawMessage `json:"statements"`
	}
	statementWire struct {
		ID                       string          `json:"@id"`
		Version                  int             `json:"version"`
		Vulnerability            json.RawMessage `json:"vulnerability"`
		Timestamp                string          `json:"timestamp"`
		LastUpdated              string          `json:"last_updated"`
		Products                 []productWire   `json:"products"`
		Status                   string          `json:"status"`
		Supplier                 string          `json:"supplier"`
		StatusNotes              string          `json:"status_notes"`
		Justification            string          `json:"justification"`
		ImpactStatement          string          `json:"impact_statement"`
		ActionStatement          string          `json:"action_statement"`
		ActionStatementTimestamp string          `json:"action_statement_timestamp"`
	}
	vulnerabilityWire struct {
		ID          string   `json:"@id"`
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Aliases     []string `json:"aliases"`
	}
	componentWire struct {
		ID          string            `json:"@id"`
		Identifiers map[string]string `json:"identifiers"`
		Hashes      map[string]string `json:"hashes"`
	}
	productWire struct {
		componentWire
		Subcomponents []componentWire `json:"subcomponents"`
	}
)

// ParseOpenVEX reads one OpenVEX document (JSON, specification 0.2.0; the
// @context must start with OpenVEXContext) and checks what matching relies
// on: the document's @id, author, timestamp (RFC 3339) and version; at
// least one statement, each with a vulnerability name, at least one product
// (an @id or identifiers, and likewise for subcomponents: a standalone
// document cannot inherit them), a known status and justification, and for
// not_affected a justification or an impact statement. Fields the
// specification does not define are ignored.
//
// Every error is a *ParseError naming the field; it wraps ErrTooLarge for
// data over MaxVEXSize, else ErrInvalid (and the *json.SyntaxError or
// *json.UnmarshalTypeError for JSON that does not decode).
func ParseOpenVEX(data []byte) (*VEX, error) {
	if len(data) > MaxVEXSize {
		return nil, &ParseError{Format: vexFormat, Err: fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxVEXSize)}
	}
	var w vexWire
	if field, err := decodeJSON(data, &w); err != nil {
		return nil, &ParseError{Format: vexFormat, Field: field, Err: err}
	}
	fail := func(field string, err error) (*VEX, error) {
		return nil, &ParseError{Format: vexFormat, Field: field, Err: err}
	}
	switch {
	case w.Context == nil:
		return fail("@context", invalidf("required: not an OpenVEX document (want %s/v0.2.0)", OpenVEXContext))
	case !strings.HasPrefix(*w.Context, OpenVEXContext):
		return fail("@context", invalidf("%s: not an OpenVEX document (want %s/v0.2.0)", quote(*w.Context), OpenVEXContext))
	case strings.TrimSpace(w.ID) == "":
		return fail("@id", invalidf("required: the IRI of the document"))
	case strings.TrimSpace(w.Author) == "":
		return fail("author", invalidf("required: who issued the document"))
	case w.Version == nil:
		return fail("version", invalidf("required: the document version"))
	case *w.Version < 1:
		return fail("version", invalidf("%d: want 1 or more", *w.Version))
	case len(w.Statements) == 0:
		return fail("statements", invalidf("required: at least one statement"))
	}
	v := &VEX{Context: *w.Context, ID: w.ID, Author: w.Author, Role: w.Role, Version: *w.Version, Tooling: w.Tooling}
	var err error
	if v.Timestamp, err = parseTime(w.Timestamp, true); err != nil {
		return fail("timestamp", err)
	}
	if v.LastUpdated, err = parseTime(w.LastUpdated, false); err != nil {
		return fail("last_updated", err)
	}
	v.Statements = make([]Statement, 0, len(w.Statements))
	for i, raw := range w.Statements {
		s, err := parseStatement(raw, v.Timestamp)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.Field = fmt.Sprintf("statements[%d]", i) + pe.Field
				return nil, pe
			}
			return fail(fmt.Sprintf("statements[%d]", i), err)
		}
		v.Statements = append(v.Statements, s)
	}
	return v, nil
}

// parseStatement checks one statement; errors name the field relative to
// the statement (".status").
func parseStatement(raw json.RawMessage, docTime time.Time) (Statement, error) {
	fail := func(field string, err error) (Statement, error) {
		return Statement{}, &ParseError{Format: vexFormat, Field: field, Err: err}
	}
	var w statementWire
	if field, err := decodeJSON(raw, &w); err != nil {
		var old struct{ Vulnerability json.RawMessage }
		if json.Unmarshal(raw, &old) == nil && bytes.HasPrefix(bytes.TrimSpace(old.Vulnerability), []byte(`"`)) {
			return fail(".vulnerability", errOpenVEX001)
		}
		if field != "" {
			field = "." + field
		}
		return fail(field, err)
	}
	s := Statement{
		ID: w.ID, Version: w.Version, Status: Status(w.Status), Supplier: w.Supplier, StatusNotes: w.StatusNotes,
		Justification: Justification(w.Justification), ImpactStatement: w.ImpactStatement, ActionStatement: w.ActionStatement,
	}
	vuln, err := parseVulnerability(w.Vulnerability)
	if err != nil {
		return fail(".vulnerability", err)
	}
	s.Vulnerability = vuln
	if s.Timestamp, err = parseTime(w.Timestamp, false); err != nil {
		return fail(".timestamp", err)
	}
	if s.Timestamp.IsZero() {
		s.Timestamp = docTime
	}
	if s.LastUpdated, err = parseTime(w.LastUpdated, false); err != nil {
		return fail(".last_updated", err)
	}
	if s.ActionStatementTimestamp, err = parseTime(w.ActionStatementTimestamp, false); err != nil {
		return fail(".action_statement_timestamp", err)
	}
	if len(w.Products) == 0 {
		return fail(".products", invalidf("required: at least one product (a standalone document cannot inherit them)"))
	}
	for i, pw := range w.Products {
		p := Product{Component: component(pw.componentWire)}
		if !p.named() {
			return fail(fmt.Sprintf(".products[%d]", i), invalidf("a product needs an @id or identifiers"))
		}
		for j, sw := range pw.Subcomponents {
			sc := component(sw)
			if !sc.named() {
				return fail(fmt.Sprintf(".products[%d].subcomponents[%d]", i, j), invalidf("a subcomponent needs an @id or identifiers"))
			}
			p.Subcomponents = append(p.Subcomponents, sc)
		}
		s.Products = append(s.Products, p)
	}
	switch {
	case s.Status == "":
		return fail(".status", invalidf("required: one of %s", joinNames(statuses)))
	case !slices.Contains(statuses, s.Status):
		return fail(".status", invalidf("unknown status %s (want one of %s)", quote(w.Status), joinNames(statuses)))
	case s.Justification != "" && !slices.Contains(justifications, s.Justification):
		return fail(".justification", invalidf("unknown justification %s (want one of %s)", quote(w.Justification), joinNames(justifications)))
	case s.Status == NotAffected && s.Justification == "" && strings.TrimSpace(s.ImpactStatement) == "":
		return fail("", invalidf("a not_affected statement needs a justification or an impact_statement"))
	}
	return s, nil
}

// errOpenVEX001 explains a vulnerability given as a string.
var errOpenVEX001 = invalidf("a string is the OpenVEX 0.0.1 form; want the 0.2.0 form, an object with a name (and products as objects with an @id)")

// parseVulnerability reads the vulnerability object; a bare string is the
// form of OpenVEX 0.0.1, which this package does not read.
func parseVulnerability(raw json.RawMessage) (Vulnerability, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return Vulnerability{}, invalidf("required: an object with a name")
	}
	if raw[0] == '"' {
		return Vulnerability{}, errOpenVEX001
	}
	var w vulnerabilityWire
	if field, err := decodeJSON(raw, &w); err != nil {
		if field != "" {
			return Vulnerability{}, fmt.Errorf("%s: %w", field, err)
		}
		return Vulnerability{}, err
	}
	if strings.TrimSpace(w.Name) == "" {
		return Vulnerability{}, invalidf("name is required")
	}
	return Vulnerability(w), nil
}

func component(w componentWire) Component {
	return Component(w)
}

// named reports whether c has an @id or an identifier.
func (c Component) named() bool {
	if strings.TrimSpace(c.ID) != "" {
		return true
	}
	for _, v := range c.Identifiers {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// decodeJSON decodes exactly one JSON value from data into v. For a value
// of the wrong type it returns the field, as encoding/json names it.
func decodeJSON(data []byte, v any) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var (
			se *json.SyntaxError
			te *json.UnmarshalTypeError
		)
		switch {
		case errors.Is(err, io.EOF):
			return "", invalidf("empty: want a JSON object")
		case errors.As(err, &se):
			line := 1 + bytes.Count(data[:min(max(se.Offset, 0), int64(len(data)))], []byte("\n"))
			return "", &invalidError{msg: fmt.Sprintf("bad JSON on line %d: %v", line, se), err: err}
		case errors.As(err, &te):
			return te.Field, &invalidError{msg: fmt.Sprintf("want %s, not %s", jsonKind(te.Type), jsonValueName(te.Value)), err: err}
		}
		return "", &invalidError{msg: "bad JSON: " + err.Error(), err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", invalidf("data after the JSON value (at byte %d)", dec.InputOffset())
	}
	return "", nil
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.Kind().String()
}

// jsonValueName names the kind of JSON value a *json.UnmarshalTypeError
// reports.
func jsonValueName(v string) string {
	switch v {
	case "string":
		return "a string"
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	return v
}

// parseTime reads an RFC 3339 timestamp; "" is the zero time unless
// required.
func parseTime(s string, required bool) (time.Time, error) {
	if s == "" {
		if required {
			return time.Time{}, invalidf("required: an RFC 3339 timestamp")
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalidf("%s: want an RFC 3339 timestamp (2023-01-08T18:02:03Z)", quote(s))
	}
	return t, nil
}

func joinNames[T ~string](list []T) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
