package suppress_test

import (
	"fmt"
	"time"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/suppress"
)

func ExampleApply() {
	findings := []finding.Finding{
		{RuleID: "CVE-2021-33203", Resource: finding.Resource{Kind: "Image", Image: "ghcr.io/example/app:1.0",
			Package: &finding.Package{Name: "Django", Version: "3.2.0", PURL: "pkg:pypi/django@3.2.0"}}},
		{RuleID: "CVE-2023-32681", Resource: finding.Resource{Kind: "Image", Image: "ghcr.io/example/app:1.0",
			Package: &finding.Package{Name: "requests", Version: "2.25.0", PURL: "pkg:pypi/requests@2.25.0"}}},
		{RuleID: "CVE-2021-33503", Resource: finding.Resource{Kind: "Image", Image: "ghcr.io/example/app:1.0",
			Package: &finding.Package{Name: "urllib3", Version: "1.26.4", PURL: "pkg:pypi/urllib3@1.26.4"}}},
	}
	ig, err := suppress.ParseIgnore([]byte(`
ignore:
  - id: CVE-2021-33203
    package: pkg:pypi/django
    reason: django.contrib.admindocs is not installed
  - id: CVE-2021-33503
    reason: waiting for the base image update
    expires: 2026-01-31
`), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	vex, err := suppress.ParseOpenVEX([]byte(`{
		"@context": "https://openvex.dev/ns/v0.2.0",
		"@id": "https://app.example/vex/1",
		"author": "Example App Security Team",
		"timestamp": "2026-02-01T10:00:00Z",
		"version": 1,
		"statements": [{
			"vulnerability": {"name": "CVE-2023-32681"},
			"products": [{"@id": "ghcr.io/example/app:1.0", "subcomponents": [{"@id": "pkg:pypi/requests"}]}],
			"status": "not_affected",
			"justification": "vulnerable_code_cannot_be_controlled_by_adversary"
		}]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, expired := suppress.Apply(findings, ig, []*suppress.VEX{vex})
	for _, f := range out {
		if f.Suppressed != nil {
			fmt.Printf("%s suppressed (%s): %s\n", f.RuleID, f.Suppressed.Kind, f.Suppressed.Reason)
		} else {
			fmt.Printf("%s counts\n", f.RuleID)
		}
	}
	for _, e := range expired {
		fmt.Printf("expired on %s: %s\n", e.ExpiryDate(), e.ID)
	}

	_, err = suppress.ParseOpenVEX([]byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "a",
		"timestamp": "2026-02-01T10:00:00Z", "version": 1,
		"statements": [{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "x"}], "status": "not_affected"}]}`))
	fmt.Println(err)
	// Output:
	// CVE-2021-33203 suppressed (ignore): django.contrib.admindocs is not installed
	// CVE-2023-32681 suppressed (vex): vulnerable_code_cannot_be_controlled_by_adversary
	// CVE-2021-33503 counts
	// expired on 2026-01-31: CVE-2021-33503
	// OpenVEX document: statements[0]: a not_affected statement needs a justification or an impact_statement
}
