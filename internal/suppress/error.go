package suppress

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by the errors of ParseIgnore and ParseOpenVEX for
// input that is not a valid ignore file or OpenVEX document.
var ErrInvalid = errors.New("invalid")

// ErrTooLarge is wrapped by the errors of ParseIgnore and ParseOpenVEX for
// input over MaxIgnoreSize or MaxVEXSize.
var ErrTooLarge = errors.New("too large")

// ParseError is the error ParseIgnore and ParseOpenVEX return. It wraps
// ErrInvalid or ErrTooLarge and, for input that does not decode, the
// decoder's error.
type ParseError struct {
	// Format is "ignore file" or "OpenVEX document".
	Format string
	// Field is where the problem is ("ignore[2].expires",
	// "statements[0].status"), when known.
	Field string
	// Line is the line of the ignore file entry, when known.
	Line int
	// Err is the problem.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Format)
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the problem.
func (e *ParseError) Unwrap() error { return e.Err }

// invalidError is a problem with the input: it matches ErrInvalid without
// saying so in its message, and wraps the decoder's error when there is one.
type invalidError struct {
	msg string
	err error
}

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }
func (e *invalidError) Unwrap() error        { return e.err }

// invalidf returns an error that matches ErrInvalid.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// invalid returns an error that matches ErrInvalid and wraps err.
func invalid(err error) error {
	return &invalidError{msg: err.Error(), err: err}
}

// quote shortens s for an error message.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf("%q", s)
}
