package osv

import (
	"encoding/json"
	"fmt"
	"strings"
)

// checkShape bounds a record before encoding/json allocates anything for
// it: nesting depth (MaxDepth), JSON values (MaxValues) and entries of the
// top-level "affected" array (MaxAffected). It reads data once and accepts
// what it does not understand; syntax errors are left to encoding/json.
func checkShape(data []byte) error {
	depth, values := 0, 0
	keyNext := false    // at depth 1, the next string is a member name
	var lastKey []byte  // the last member name met at depth 1
	inAffected := false // inside the top-level "affected" array
	affected := 0       // commas seen at depth 2 of that array
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			end := stringEnd(data, i)
			if depth == 1 && keyNext {
				lastKey = data[i:end]
				keyNext = false
			}
			i = end - 1
		case '{', '[':
			depth++
			values++
			if depth > MaxDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrLimit, MaxDepth)
			}
			if depth == 1 {
				keyNext = c == '{'
			}
			if depth == 2 && c == '[' && isKey(lastKey, "affected") {
				inAffected, affected = true, 0
			}
		case '}', ']':
			if depth == 2 {
				inAffected = false
			}
			depth--
		case ',':
			values++
			if depth == 1 {
				keyNext = true
			}
			if depth == 2 && inAffected {
				if affected++; affected >= MaxAffected {
					return fmt.Errorf("%w: more than %d affected entries", ErrLimit, MaxAffected)
				}
			}
		}
		if values > MaxValues {
			return fmt.Errorf("%w: more than %d JSON values", ErrLimit, MaxValues)
		}
	}
	return nil
}

// stringEnd returns the index just past the JSON string that starts at
// data[start] (a quote), or len(data) if it does not end.
func stringEnd(data []byte, start int) int {
	for j := start + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(data)
}

// isKey reports whether the quoted JSON string raw names the struct field
// name as encoding/json matches it (case-insensitively, after unescaping).
func isKey(raw []byte, name string) bool {
	if len(raw) < 2 {
		return false
	}
	s := string(raw[1 : len(raw)-1])
	if strings.IndexByte(s, '\\') >= 0 {
		if err := json.Unmarshal(raw, &s); err != nil {
			return false
		}
	}
	return strings.EqualFold(s, name)
}

// sole returns the name and value of the only member of the JSON object
// data, and how many members it has. data must be one syntactically valid
// JSON value.
func sole(data []byte) (name, value []byte, n int) {
	depth := 0
	start := -1 // start of the current member at depth 1
	for i := 0; i < len(data); i++ {
		c := data[i]
		if depth == 1 && start < 0 && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '}' && c != ',' {
			start = i
			n++
		}
		switch c {
		case '"':
			i = stringEnd(data, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 && n == 1 {
				value = trimSpace(data[valueStart(data, start):i])
			}
		case ',':
			if depth == 1 {
				start = -1
			}
		}
	}
	if n == 1 {
		name = data[start:stringEnd(data, start)]
	}
	return name, value, n
}

// valueStart returns the index after the colon that follows the member name
// starting at data[start].
func valueStart(data []byte, start int) int {
	i := stringEnd(data, start)
	for i < len(data) && data[i] != ':' {
		i++
	}
	return i + 1
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// unquote decodes the JSON string raw (with its quotes); ok is false when
// raw is not a string.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	s := string(raw[1 : len(raw)-1])
	if strings.IndexByte(s, '\\') < 0 {
		return s, true
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
