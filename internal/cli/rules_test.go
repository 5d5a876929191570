package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubeshield/kubeshield/internal/report"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/rules.md")

// TestRulesDoc keeps docs/rules.md equal to the rules in the code.
func TestRulesDoc(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteRulesMarkdown(&buf, allRules()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "rules.md")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("docs/rules.md is out of date: run go test ./internal/cli -run TestRulesDoc -update")
	}
	ids := map[string]bool{}
	for _, r := range allRules() {
		if ids[r.ID] || r.Title == "" || r.Description == "" || r.Remediation == "" {
			t.Errorf("rule %s is duplicated or lacks text", r.ID)
		}
		ids[r.ID] = true
	}
}
