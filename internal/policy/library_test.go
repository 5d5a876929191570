package policy

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// libraryDir holds policies copied from the Gatekeeper library, each with
// the suite.yaml that gator runs on it.
const libraryDir = "testdata/gatekeeper-library"

// suite is gator's test suite format (test.gatekeeper.sh/v1alpha1).
type suite struct {
	Tests []struct {
		Name       string `json:"name"`
		Template   string `json:"template"`
		Constraint string `json:"constraint"`
		Cases      []struct {
			Name       string      `json:"name"`
			Object     string      `json:"object"`
			Assertions []assertion `json:"assertions"`
		} `json:"cases"`
	} `json:"tests"`
}

// assertion is one of a case's assertions: violations is "yes", "no" or
// a count of the violations whose message matches the message regexp.
type assertion struct {
	Violations any     `json:"violations"`
	Message    *string `json:"message"`
}

// libraryCase is one object of a suite, with what to load to review it.
type libraryCase struct {
	name                 string // policy/test/case
	template, constraint string
	object               string
	assertions           []assertion
}

func libraryCases(t testing.TB) []libraryCase {
	t.Helper()
	suites, err := filepath.Glob(filepath.Join(libraryDir, "*", "*", "suite.yaml"))
	if err != nil || len(suites) == 0 {
		t.Fatalf("no suites in %s: %v", libraryDir, err)
	}
	var cases []libraryCase
	for _, sf := range suites {
		data, err := os.ReadFile(sf)
		if err != nil {
			t.Fatal(err)
		}
		var s suite
		if err := yaml.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", sf, err)
		}
		dir := filepath.Dir(sf)
		policy, _ := filepath.Rel(libraryDir, dir)
		for _, test := range s.Tests {
			for _, c := range test.Cases {
				cases = append(cases, libraryCase{
					name:       policy + "/" + test.Name + "/" + c.Name,
					template:   filepath.Join(dir, test.Template),
					constraint: filepath.Join(dir, test.Constraint),
					object:     filepath.Join(dir, c.Object),
					assertions: c.Assertions,
				})
			}
		}
	}
	return cases
}

// readObject reads the one manifest of a case file.
func readObject(t testing.TB, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

func loadEngine(t testing.TB, paths ...string) *Engine {
	t.Helper()
	ctx := context.Background()
	p, err := Load(ctx, paths...)
	if err != nil {
		t.Fatalf("Load(%q) = %v", paths, err)
	}
	e, err := New(ctx, p)
	if err != nil {
		t.Fatalf("New(%q) = %v", paths, err)
	}
	return e
}

// TestLibrary runs the Gatekeeper library's own suites: every assertion
// of every case must hold, and the messages must equal the golden file,
// which the gator differential test checks against Gatekeeper itself.
func TestLibrary(t *testing.T) {
	var golden strings.Builder
	for _, c := range libraryCases(t) {
		t.Run(c.name, func(t *testing.T) {
			e := loadEngine(t, c.template, c.constraint)
			obj, err := NewObject(readObject(t, c.object), nil)
			if err != nil {
				t.Fatalf("NewObject(%s) = %v", c.object, err)
			}
			vs, err := e.Review(context.Background(), obj)
			if err != nil {
				t.Fatalf("Review(%s) = %v", c.object, err)
			}
			for _, a := range c.assertions {
				if err := a.check(vs); err != nil {
					t.Errorf("Review(%s): %v", c.object, err)
				}
			}
			fmt.Fprintf(&golden, "%s\n", c.name)
			for _, v := range vs {
				fmt.Fprintf(&golden, "\t%s %s %s: %s\n", v.EnforcementAction, v.ConstraintKind, v.ConstraintName, v.Msg)
			}
		})
	}
	compareGolden(t, filepath.Join("testdata", "library.golden"), golden.String())
}

func (a assertion) check(vs []Violation) error {
	n := 0
	var re *regexp.Regexp
	if a.Message != nil {
		var err error
		if re, err = regexp.Compile(*a.Message); err != nil {
			return err
		}
	}
	var msgs []string
	for _, v := range vs {
		msgs = append(msgs, v.Msg)
		if re == nil || re.MatchString(v.Msg) {
			n++
		}
	}
	switch want := a.Violations.(type) {
	case nil, bool: // YAML 1.1 reads yes and no as booleans
		if want == nil || want == true {
			if n == 0 {
				return fmt.Errorf("got no violation matching %v; want some (messages %q)", a.Message, msgs)
			}
		} else if n != 0 {
			return fmt.Errorf("got %d violations matching %v; want none (messages %q)", n, a.Message, msgs)
		}
	case string:
		if (want == "yes") != (n > 0) {
			return fmt.Errorf("got %d violations matching %v; want %s (messages %q)", n, a.Message, want, msgs)
		}
	case float64:
		if n != int(want) {
			return fmt.Errorf("got %d violations matching %v; want %v (messages %q)", n, a.Message, want, msgs)
		}
	default:
		return fmt.Errorf("assertion violations: %T", want)
	}
	return nil
}

func compareGolden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", file, diff)
	}
}
