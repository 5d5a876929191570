package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/kubeshield/kubeshield/internal/finding"
)

// Exit codes, decided here and documented in docs/cli.md.
const (
	// ExitOK means the command did what was asked.
	ExitOK = 0
	// ExitError means the command failed (bad input, unreachable registry,
	// a limit hit).
	ExitError = 1
	// ExitUsage means the command line was wrong (unknown flag, bad value).
	ExitUsage = 2
	// ExitFindings means results at or above the --fail-on threshold were
	// found.
	ExitFindings = 3
	// ExitInterrupted means the command was interrupted by a signal.
	ExitInterrupted = 130
)

// UsageError is a mistake on the command line.
type UsageError struct{ Err error }

// Error implements error.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf returns a *UsageError.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// FindingsError means a scan found what --fail-on or --exit-code asked to
// fail on. It is not a failure of the command: the report was written.
type FindingsError struct {
	// Count is the number of findings that triggered it.
	Count int
	// Code is the exit code to use.
	Code int
}

// Error implements error.
func (e *FindingsError) Error() string {
	return fmt.Sprintf("%d findings at or above the threshold", e.Count)
}

// DeniedError means the answer to a yes-or-no question (rbac can-i) is
// no: the command exits 1, like kubectl auth can-i, and prints nothing but
// its answer.
type DeniedError struct {
	// Reason explains the answer.
	Reason string
}

// Error implements error.
func (e *DeniedError) Error() string { return "denied: " + e.Reason }

// ExitCode maps the error a command returned to the process exit code.
func ExitCode(err error) int {
	var (
		ue *UsageError
		fe *FindingsError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &fe):
		return fe.Code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitError
}

// failOn returns a *FindingsError when a finding is at or above the
// --fail-on severity ("" never fails).
func failOn(level string, fs []finding.Finding) error {
	if level == "" {
		return nil
	}
	min, _ := finding.ParseSeverity(level)
	n := 0
	for _, f := range fs {
		if f.Severity >= min {
			n++
		}
	}
	if n > 0 {
		return &FindingsError{Count: n, Code: ExitFindings}
	}
	return nil
}

// checkFailOn validates a --fail-on severity ("" is none).
func checkFailOn(level string) error {
	if level == "" {
		return nil
	}
	if _, err := finding.ParseSeverity(level); err != nil {
		return usageErrorf("--fail-on: %v", err)
	}
	return nil
}
