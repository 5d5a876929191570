package suppress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
	"gopkg.in/yaml.v3"
)

// DefaultIgnoreFile is the ignore file a scan reads from the current
// directory, when it exists and no other is named.
const DefaultIgnoreFile = ".kubeshieldignore.yaml"

// MaxIgnoreSize is the largest ignore file ParseIgnore reads, in bytes
// (1 MiB).
const MaxIgnoreSize = 1 << 20

const ignoreFormat = "ignore file"

// Ignore is a parsed ignore file.
type Ignore struct {
	// Entries are the file's entries, in file order, expired ones
	// included.
	Entries []IgnoreEntry
}

// IgnoreEntry is one entry of an ignore file.
type IgnoreEntry struct {
	// ID is a vulnerability ID or alias ("CVE-2021-33203", "GHSA-…") or a
	// Kubeshield rule ID ("KS-IMG-001").
	ID string
	// Package, when set, limits the entry to one package: a purl
	// ("pkg:pypi/django", "pkg:pypi/django@3.2.0") or a name, optionally
	// with "@version" ("Django", "Django@3.2.0"). A name also matches an
	// OS package's source package.
	Package string
	// Path, when set, limits the entry to findings about a file in the
	// image, or about a package recorded in such a file: a path.Match
	// pattern, with or without the leading slash.
	Path string
	// Reason says why the finding does not count.
	Reason string
	// Expires is the first instant after the expiry day (00:00 UTC the
	// day after the date given), or zero when the entry does not expire.
	Expires time.Time
	// Expired is true when the entry had expired at the time given to
	// ParseIgnore; an expired entry suppresses nothing.
	Expired bool
	// Line is the line of the entry in the file.
	Line int
}

// ExpiryDate returns the date the entry was written with (YYYY-MM-DD), or
// "" when it does not expire.
func (e IgnoreEntry) ExpiryDate() string {
	if e.Expires.IsZero() {
		return ""
	}
	return e.Expires.AddDate(0, 0, -1).Format(time.DateOnly)
}

// ignoreKeys are the fields of an entry.
var ignoreKeys = []string{"id", "package", "path", "reason", "expires"}

// ParseIgnore reads an ignore file (see the package documentation) and
// marks the entries that have expired at now. An empty file, or one
// holding only comments, has no entries.
//
// The file is decoded strictly: unknown fields, duplicate keys, anchors and
// aliases, and more than one YAML document are errors. Every entry needs an
// id and a reason; a package that starts with "pkg:" must be a valid purl,
// a path a valid pattern, and expires a date YYYY-MM-DD.
//
// Every error is a *ParseError; it wraps ErrTooLarge for data over
// MaxIgnoreSize, else ErrInvalid.
func ParseIgnore(data []byte, now time.Time) (*Ignore, error) {
	if len(data) > MaxIgnoreSize {
		return nil, &ParseError{Format: ignoreFormat, Err: fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxIgnoreSize)}
	}
	root, err := decodeOneYAML(data)
	if err != nil {
		return nil, &ParseError{Format: ignoreFormat, Err: err}
	}
	ig := &Ignore{}
	if root == nil {
		return ig, nil
	}
	if err := noAliases(root); err != nil {
		return nil, err
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return ig, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &ParseError{Format: ignoreFormat, Line: root.Line, Err: invalidf("want a mapping with an ignore list, not a %s", kindName(root))}
	}
	fields, err := mappingFields(root, "", []string{"ignore"})
	if err != nil {
		return nil, err
	}
	list := fields["ignore"]
	if list == nil || list.ShortTag() == "!!null" {
		return ig, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, &ParseError{Format: ignoreFormat, Field: "ignore", Line: list.Line, Err: invalidf("want a list of entries, not a %s", kindName(list))}
	}
	for i, item := range list.Content {
		e, err := parseIgnoreEntry(item, fmt.Sprintf("ignore[%d]", i), now)
		if err != nil {
			return nil, err
		}
		ig.Entries = append(ig.Entries, e)
	}
	return ig, nil
}

// decodeOneYAML parses data as at most one YAML document and returns its
// root node, or nil for a stream without documents.
func decodeOneYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, invalid(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, invalid(err)
	default:
		return nil, invalidf("more than one YAML document (line %d)", next.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// noAliases rejects anchors and aliases anywhere under n: an ignore file
// has no use for them, and they are how small YAML files expand into huge
// ones.
func noAliases(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return &ParseError{Format: ignoreFormat, Line: n.Line, Err: invalidf("anchors and aliases are not allowed")}
	}
	for _, c := range n.Content {
		if err := noAliases(c); err != nil {
			return err
		}
	}
	return nil
}

// mappingFields returns the values of mapping m by key, and an error for a
// key not in allowed, a key given twice or a key that is not a string.
func mappingFields(m *yaml.Node, field string, allowed []string) (map[string]*yaml.Node, error) {
	out := make(map[string]*yaml.Node, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		name := k.Value
		at := name
		if field != "" {
			at = field + "." + name
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			return nil, &ParseError{Format: ignoreFormat, Field: field, Line: k.Line, Err: invalidf("a key must be a string, not a %s", kindName(k))}
		case !slices.Contains(allowed, name):
			return nil, &ParseError{Format: ignoreFormat, Field: at, Line: k.Line, Err: invalidf("unknown field (want %s)", strings.Join(allowed, ", "))}
		case out[name] != nil:
			return nil, &ParseError{Format: ignoreFormat, Field: at, Line: k.Line, Err: invalidf("given twice")}
		}
		out[name] = v
	}
	return out, nil
}

// parseIgnoreEntry checks one entry of the ignore list.
func parseIgnoreEntry(n *yaml.Node, field string, now time.Time) (IgnoreEntry, error) {
	e := IgnoreEntry{Line: n.Line}
	fail := func(sub string, err error) (IgnoreEntry, error) {
		if sub != "" {
			sub = field + "." + sub
		} else {
			sub = field
		}
		return IgnoreEntry{}, &ParseError{Format: ignoreFormat, Field: sub, Line: n.Line, Err: err}
	}
	if n.Kind != yaml.MappingNode {
		return fail("", invalidf("want a mapping with id and reason, not a %s", kindName(n)))
	}
	fields, err := mappingFields(n, field, ignoreKeys)
	if err != nil {
		return IgnoreEntry{}, err
	}
	values := map[string]string{}
	for k, v := range fields {
		if v.Kind != yaml.ScalarNode {
			return fail(k, invalidf("want a string, not a %s", kindName(v)))
		}
		if v.ShortTag() != "!!null" {
			values[k] = strings.TrimSpace(v.Value)
		}
	}
	e.ID, e.Package, e.Path, e.Reason = values["id"], values["package"], values["path"], values["reason"]
	if e.ID == "" {
		return fail("id", invalidf("required: a vulnerability ID or alias, or a KS- rule ID"))
	}
	if e.Reason == "" {
		return fail("reason", invalidf("required: say why the finding does not count"))
	}
	if isPURL(e.Package) {
		if _, err := packageurl.FromString(e.Package); err != nil {
			return fail("package", invalidf("%s is not a valid purl: %v", quote(e.Package), err))
		}
	}
	if e.Path != "" {
		if _, err := path.Match(cleanPath(e.Path), ""); err != nil {
			return fail("path", invalidf("%s: %v", quote(e.Path), err))
		}
	}
	if s := values["expires"]; s != "" {
		day, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return fail("expires", invalidf("%s: want a date YYYY-MM-DD", quote(s)))
		}
		e.Expires = day.AddDate(0, 0, 1)
		e.Expired = !now.Before(e.Expires)
	}
	return e, nil
}

// kindName names a YAML node kind for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "scalar"
}

// isPURL reports whether s is written as a package URL.
func isPURL(s string) bool {
	return len(s) >= 4 && strings.EqualFold(s[:4], "pkg:")
}

// cleanPath makes a path in the image comparable: cleaned, without the
// leading slash.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}
