package rbac_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kubeshield/kubeshield/internal/cluster"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

// FuzzParsePolicy checks that ParsePolicy never panics, fails only with a
// *PolicyError, is deterministic, and that what it accepts is valid: named
// rules, unique names, one check each, and a Check over a small cluster
// that does not panic. Run it with -fuzzminimizetime=200x: minimizing
// kilobyte-sized YAML inputs for the default 60 s stalls the fuzzer.
func FuzzParsePolicy(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "policy", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		if filepath.Base(name) == "universe.yaml" {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(policyHeader + "rules:\n- {name: a, verbs: [\"*\"], resources: [\"*/exec\", \"pods/*\"], onlySubjects: [{kind: ServiceAccount, namespace: \"*\", name: \"x*\"}]}\n"))
	f.Add([]byte(policyHeader + "rules:\n- {name: a, subjects: [{kind: User, name: u}], mustAllow: [{verbs: [get], resources: [pods], namespaceSelector: {matchExpressions: [{key: k, operator: Exists}]}, clusterScope: true}]}\n"))

	snap, err := cluster.LoadFiles(context.Background(), []string{filepath.Join("testdata", "policy", "universe.yaml")}, cluster.FileOptions{})
	if err != nil {
		f.Fatal(err)
	}
	a := rbac.New(snap)

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 {
			return
		}
		p, err := rbac.ParsePolicy(data)
		if err != nil {
			var pe *rbac.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePolicy(%q) = %v; want a *PolicyError", data, err)
			}
			return
		}
		again, err := rbac.ParsePolicy(data)
		if err != nil {
			t.Fatalf("ParsePolicy(%q) failed the second time: %v", data, err)
		}
		ignore := cmpopts.IgnoreUnexported(rbac.PolicyRule{}, rbac.PolicyScope{}, rbac.ExpectedAccess{})
		if diff := cmp.Diff(p, again, ignore); diff != "" {
			t.Fatalf("ParsePolicy(%q) is not deterministic:\n%s", data, diff)
		}
		names := map[string]bool{}
		for _, r := range p.Rules {
			if r.Name == "" || names[r.Name] {
				t.Fatalf("ParsePolicy(%q): rule name %q empty or repeated", data, r.Name)
			}
			names[r.Name] = true
			switch r.Kind {
			case rbac.ViolationOutsideScope, rbac.ViolationSubjectNotAllowed:
				if len(r.Verbs) == 0 || len(r.Resources) == 0 {
					t.Fatalf("ParsePolicy(%q): rule %q without verbs or resources", data, r.Name)
				}
			case rbac.ViolationAccessMissing:
				if len(r.Subjects) == 0 || len(r.MustAllow) == 0 {
					t.Fatalf("ParsePolicy(%q): rule %q without subjects or entries", data, r.Name)
				}
			default:
				t.Fatalf("ParsePolicy(%q): rule %q of kind %v", data, r.Name, r.Kind)
			}
		}
		for _, v := range p.Check(a, snap) {
			if !names[v.Rule] || v.Message == "" {
				t.Fatalf("Check: violation %+v of an unknown rule or without a message", v)
			}
		}
	})
}
