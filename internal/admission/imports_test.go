package admission

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the engine an engine: it never imports the CLI, the
// report writers, the server or the test fixtures.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/kubeshield/kubeshield/"
	for _, imp := range strings.Fields(string(out)) {
		switch strings.TrimPrefix(imp, mod) {
		case "internal/cli", "internal/report", "internal/server", "internal/fixture":
			t.Errorf("admission imports %s", imp)
		}
	}
}
