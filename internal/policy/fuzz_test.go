package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error it returns
// is a *PolicyError with a line, and that what it accepts compiles or
// fails with a *PolicyError.
func FuzzParse(f *testing.F) {
	for _, p := range []string{
		filepath.Join(libraryDir, "general", "disallowedtags", "template.yaml"),
		filepath.Join(libraryDir, "general", "requiredlabels", "samples", "all-must-have-owner", "constraint.yaml"),
		filepath.Join("testdata", "match", "constraints.yaml"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(templateYAML("package x\nviolation[{\"msg\": \"m\"}] { true }") + constraintYAML))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkPolicyErrors(t, err)
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if _, err := New(ctx, p); err != nil {
			checkPolicyErrors(t, err)
		}
	})
}

func checkPolicyErrors(t *testing.T, err error) {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var pe *PolicyError
		if !errors.As(e, &pe) || pe.File != "fuzz.yaml" || pe.Line < 1 {
			t.Fatalf("error %v (%T) is not a *PolicyError with file and line", e, e)
		}
	}
}
