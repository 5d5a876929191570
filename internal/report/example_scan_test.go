package report_test

import (
	"fmt"
	"os"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/report"
)

func ExampleWriteScanTable() {
	image := finding.Resource{Kind: "Image", Image: "ghcr.io/example/app:1.0"}
	vulnerable := image
	vulnerable.Package = &finding.Package{
		Name: "openssl", Version: "3.0.11-1~deb12u1", Ecosystem: "Debian",
		PURL: "pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12",
		Path: "var/lib/dpkg/status",
	}
	s := report.Scan{
		Subject: report.Subject{Kind: report.KindImage, Name: "ghcr.io/example/app:1.0"},
		Findings: []finding.Finding{
			{RuleID: "KS-IMG-002", Severity: finding.Low, Title: "Image contains a shell", Resource: image},
			{
				RuleID: "CVE-2024-0727", Severity: finding.Medium, Score: 5.5,
				Title:         "openssl: denial of service via null dereference",
				Resource:      vulnerable,
				FixedVersions: []string{"3.0.13-1~deb12u1"},
			},
			{
				RuleID: "CVE-2023-5678", Severity: finding.Medium, Title: "openssl: excessive time spent in DH checks",
				Resource:   vulnerable,
				Suppressed: &finding.Suppression{Kind: "ignore", Reason: "DH is not used"},
			},
		},
	}
	if err := report.WriteScanTable(os.Stdout, s); err != nil {
		fmt.Println(err)
	}
	// Output:
	// SEVERITY  ID             PACKAGE  INSTALLED         FIXED             TITLE
	// MEDIUM    CVE-2024-0727  openssl  3.0.11-1~deb12u1  3.0.13-1~deb12u1  openssl: denial of service via null dereference
	// LOW       KS-IMG-002     -        -                 -                 Image contains a shell
	//
	// 2 findings (0 critical, 0 high, 1 medium, 1 low), 1 suppressed
}
