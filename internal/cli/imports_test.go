package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportGraph enforces the direction of dependencies
// (cmd -> cli -> engines -> report sinks): engines never import cli or
// report, report never imports cli, and only tests and hack/ import the
// fixture and sigstoretest packages.
func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/kubeshield/kubeshield/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/kubeshield/kubeshield/"
	engines := []string{"internal/image", "internal/inventory", "internal/imagefacts", "internal/rpmdb", "internal/version", "internal/osv", "internal/vulndb", "internal/vuln", "internal/suppress", "internal/signature", "internal/notation", "internal/cluster", "internal/rbac", "internal/controlplane", "internal/workload", "internal/admission", "internal/webhook", "internal/podsecurity", "internal/policy"}
	forbidden := map[string][]string{
		"internal/report":  {"internal/cli"},
		"internal/fixture": {"internal/cli", "internal/report"},
	}
	for _, e := range engines {
		forbidden[e] = []string{"internal/cli", "internal/report", "internal/fixture"}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for _, imp := range fields[1:] {
			imp = strings.TrimPrefix(imp, mod)
			for _, bad := range forbidden[pkg] {
				if imp == bad {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
			if pkg == "internal/finding" && strings.HasPrefix(imp, "internal/") {
				t.Errorf("internal/finding imports %s (it is the leaf every engine shares)", imp)
			}
			if (imp == "internal/fixture" || imp == "internal/signature/sigstoretest") && !strings.HasPrefix(pkg, "hack/") {
				t.Errorf("%s imports %s (only tests and hack/ may)", pkg, imp)
			}
		}
	}
}
