package imagefacts

import (
	"fmt"
	"strings"

	"github.com/kubeshield/kubeshield/internal/finding"
)

// The rules Check applies. Their text is the reference in docs/rules.md.
var (
	RuleRoot = finding.Rule{
		ID: "KS-IMG-001", Severity: finding.Medium,
		Title:       "Image runs as root",
		Description: "The image configuration sets no user, or user root or UID 0, so its processes run as root unless the pod overrides it. A compromised process then has root inside the container, one step from the host.",
		Remediation: "Add a non-root USER to the image (USER 65532:65532) and set runAsNonRoot: true in the pod's securityContext.",
	}
	RuleShell = finding.Rule{
		ID: "KS-IMG-002", Severity: finding.Low,
		Title:       "Image contains a shell",
		Description: "A shell in a production image lets an attacker who gets code execution run arbitrary commands and scripts; minimal (distroless or scratch) images have none.",
		Remediation: "Build the final stage FROM a distroless or scratch base, copying in only the application.",
	}
	RulePackageManager = finding.Rule{
		ID: "KS-IMG-003", Severity: finding.Low,
		Title:       "Image contains a package manager",
		Description: "A package manager lets an attacker install tools inside a running container, and its presence means the image carries more than the application needs.",
		Remediation: "Use a multi-stage build and leave package managers in the build stage.",
	}
	RuleSetuid = finding.Rule{
		ID: "KS-IMG-004", Severity: finding.Medium,
		Title:       "Image contains a setuid or setgid file",
		Description: "A setuid or setgid executable runs with its owner's or group's privileges whoever starts it, a classic path to privilege escalation.",
		Remediation: "Remove the file or its setuid/setgid bit in the Dockerfile (chmod u-s,g-s FILE), and set allowPrivilegeEscalation: false in the pod.",
	}
	RuleSecretEnv = finding.Rule{
		ID: "KS-IMG-005", Severity: finding.High,
		Title:       "Image sets a secret-looking environment variable",
		Description: "Environment variables set in the image configuration are readable by anyone who can pull the image (docker inspect, the registry API). A value under a name like PASSWORD or TOKEN is probably a leaked secret.",
		Remediation: "Remove the value from the image and inject it at run time from a Kubernetes Secret; rotate the secret, since it has been published with the image.",
	}
)

// Rules returns the rules Check applies, in ID order.
func Rules() []finding.Rule {
	return []finding.Rule{RuleRoot, RuleShell, RulePackageManager, RuleSetuid, RuleSecretEnv}
}

// Check turns facts into findings about image (Kind "Image", with the
// image reference and digest). A secret's value never appears in a finding.
func Check(f *Facts, image finding.Resource) []finding.Finding {
	var out []finding.Finding
	if f.RunsAsRoot {
		user := f.User
		if user == "" {
			user = "(not set)"
		}
		out = append(out, RuleRoot.New(image, "config User: "+user))
	}
	if len(f.Shells) > 0 {
		out = append(out, RuleShell.New(image, "shells: "+strings.Join(f.Shells, ", ")))
	}
	if len(f.PackageManagers) > 0 {
		out = append(out, RulePackageManager.New(image, "package managers: "+strings.Join(f.PackageManagers, ", ")))
	}
	for _, sf := range f.SpecialFiles {
		res := image
		res.Path = sf.Path
		bits := []string{}
		if sf.Setuid {
			bits = append(bits, "setuid")
		}
		if sf.Setgid {
			bits = append(bits, "setgid")
		}
		out = append(out, RuleSetuid.New(res, fmt.Sprintf("%s mode %s (%s)", sf.Path, sf.Mode, strings.Join(bits, ", "))))
	}
	for _, name := range f.SecretEnv {
		out = append(out, RuleSecretEnv.New(image, "ENV "+name+" is set (value not shown)"))
	}
	return out
}
