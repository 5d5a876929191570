package cli

import (
	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/imagefacts"
	"github.com/kubeshield/kubeshield/internal/rbac"
)

// allRules returns every Kubeshield rule, in the order docs/rules.md lists
// them.
func allRules() []finding.Rule {
	rules := imagefacts.Rules()
	rules = append(rules, rbac.RiskRules()...)
	return append(rules, rbac.PolicyRules()...)
}
