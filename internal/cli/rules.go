package cli

import (
	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/imagefacts"
)

// allRules returns every Kubeshield rule, in the order docs/rules.md lists
// them.
func allRules() []finding.Rule {
	return imagefacts.Rules()
}
