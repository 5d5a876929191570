package suppress

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/finding"
)

// exampleDigest is the digest of the example image the findings in
// testdata/findings.json are about.
const exampleDigest = "sha256:ff3a05bf499feab6ae63d0bddf74248dcdae4dc74d768d471a5e0d95ad527194"

// exampleFindings reads testdata/findings.json, findings of
// `kubeshield image scan -o json` on the example image.
func exampleFindings(t testing.TB) []finding.Finding {
	t.Helper()
	var doc struct{ Findings []finding.Finding }
	if err := json.Unmarshal(readTestdata(t, "findings.json"), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Findings
}

// outcome is what Apply did to one finding: its suppression, and the text
// it added to the remediation.
func outcomes(in, out []finding.Finding) map[string]string {
	got := map[string]string{}
	for i, f := range out {
		var parts []string
		if f.Suppressed != nil {
			parts = append(parts, f.Suppressed.Kind+": "+f.Suppressed.Reason)
		}
		if added := strings.TrimPrefix(f.Remediation, in[i].Remediation); added != "" {
			parts = append(parts, "remediation +"+added)
		}
		if len(parts) > 0 {
			got[f.RuleID] = strings.Join(parts, "; ")
		}
	}
	return got
}

func TestApply(t *testing.T) {
	findings := exampleFindings(t)
	ig, err := ParseIgnore(readTestdata(t, "ignore/kubeshieldignore.yaml"), now)
	if err != nil {
		t.Fatal(err)
	}
	app, update := parseVEXFile(t, "example-app.json"), parseVEXFile(t, "example-app-update.json")

	const (
		requestsNotAffected = "vex: vulnerable_code_cannot_be_controlled_by_adversary: The app sends requests only to its own backend and never through a proxy, so no Proxy-Authorization header can leak."
		admindocsNotPresent = "vex: vulnerable_code_not_present: django.contrib.admindocs is not in INSTALLED_APPS."
		urllib3Affected     = "remediation + VEX: Upgrade urllib3 to 1.26.5 or later."
	)
	tests := []struct {
		name string
		ig   *Ignore
		vex  []*VEX
		want map[string]string
	}{
		{"nothing", nil, nil, map[string]string{}},
		{
			// An id, an alias with a purl without version, a name@version
			// that does not match, a rule with a path, an expired entry.
			"ignore file", ig, nil, map[string]string{
				"CVE-2021-33203": "ignore: django.contrib.admindocs is not installed",
				"CVE-2023-43804": "ignore: the app never sends Cookie headers across redirects",
				"KS-IMG-004":     "ignore: needed by the login flow of the debug image",
			},
		},
		{
			// A pkg:oci product with a subcomponent; a name and alias,
			// latest of two statements; a later affected statement that
			// comes first in the document; a product known by its hash; a
			// package product of another version.
			"one document", nil, []*VEX{app}, map[string]string{
				"CVE-2023-32681": requestsNotAffected,
				"CVE-2021-33203": admindocsNotPresent,
				"CVE-2021-33503": urllib3Affected,
				"CVE-2023-43804": "vex: fixed",
			},
		},
		{
			// The later document's affected statement about requests wins
			// over the earlier not_affected; its package product without a
			// version covers Django through the finding's alias.
			"two documents", nil, []*VEX{app, update}, map[string]string{
				"CVE-2023-32681": "remediation + VEX: The app now talks to its backend through an HTTPS proxy: upgrade requests to 2.31.0.",
				"CVE-2021-33203": admindocsNotPresent,
				"CVE-2021-33503": urllib3Affected,
				"CVE-2023-43804": "vex: fixed",
				"CVE-2021-31542": "vex: Uploaded file names are never used by the app.",
			},
		},
		{
			"two documents, other order", nil, []*VEX{update, app}, map[string]string{
				"CVE-2023-32681": "remediation + VEX: The app now talks to its backend through an HTTPS proxy: upgrade requests to 2.31.0.",
				"CVE-2021-33203": admindocsNotPresent,
				"CVE-2021-33503": urllib3Affected,
				"CVE-2023-43804": "vex: fixed",
				"CVE-2021-31542": "vex: Uploaded file names are never used by the app.",
			},
		},
		{
			// Documents first, then the ignore file.
			"ignore file and document", ig, []*VEX{app}, map[string]string{
				"CVE-2023-32681": requestsNotAffected,
				"CVE-2021-33203": admindocsNotPresent,
				"CVE-2021-33503": urllib3Affected,
				"CVE-2023-43804": "vex: fixed",
				"KS-IMG-004":     "ignore: needed by the login flow of the debug image",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, expired := Apply(findings, tt.ig, tt.vex)
			if diff := cmp.Diff(tt.want, outcomes(findings, out)); diff != "" {
				t.Errorf("Apply: outcomes differ (-want +got):\n%s", diff)
			}
			var wantExpired []string
			if tt.ig != nil {
				wantExpired = []string{"CVE-2021-33503 2026-01-31"}
			}
			var gotExpired []string
			for _, e := range expired {
				gotExpired = append(gotExpired, e.ID+" "+e.ExpiryDate())
			}
			if diff := cmp.Diff(wantExpired, gotExpired); diff != "" {
				t.Errorf("Apply: expired entries differ (-want +got):\n%s", diff)
			}
			// Nothing else changes, and findings stay in order.
			restored := make([]finding.Finding, len(out))
			for i, f := range out {
				f.Suppressed, f.Remediation = findings[i].Suppressed, findings[i].Remediation
				restored[i] = f
			}
			if diff := cmp.Diff(findings, restored); diff != "" {
				t.Errorf("Apply changed more than suppressions and remediations (-in +out):\n%s", diff)
			}
		})
	}
}

// TestApplyDeterministic applies everything twice, and checks that the
// input is left alone.
func TestApplyDeterministic(t *testing.T) {
	findings := exampleFindings(t)
	before := exampleFindings(t)
	ig, err := ParseIgnore(readTestdata(t, "ignore/kubeshieldignore.yaml"), now)
	if err != nil {
		t.Fatal(err)
	}
	vex := []*VEX{parseVEXFile(t, "example-app.json"), parseVEXFile(t, "example-app-update.json")}
	first, e1 := Apply(findings, ig, vex)
	second, e2 := Apply(findings, ig, vex)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("Apply gave two results (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(e1, e2); diff != "" {
		t.Errorf("Apply gave two lists of expired entries (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(before, findings); diff != "" {
		t.Errorf("Apply changed its input (-before +after):\n%s", diff)
	}
}

func TestApplyKeepsSuppression(t *testing.T) {
	in := []finding.Finding{{RuleID: "CVE-2021-33203", Suppressed: &finding.Suppression{Kind: "ignore", Reason: "earlier"}}}
	ig := &Ignore{Entries: []IgnoreEntry{{ID: "CVE-2021-33203", Reason: "later"}}}
	out, _ := Apply(in, ig, nil)
	if out[0].Suppressed.Reason != "earlier" {
		t.Errorf("Apply replaced a suppression: %+v", out[0].Suppressed)
	}
	if out, expired := Apply(nil, nil, nil); out != nil || expired != nil {
		t.Errorf("Apply(nil, nil, nil) = %v, %v; want nil, nil", out, expired)
	}
}

// TestApplyIgnoreMatching checks an entry's id, package and path against
// one finding at a time.
func TestApplyIgnoreMatching(t *testing.T) {
	deb := finding.Finding{
		RuleID: "CVE-2024-5535", Aliases: []string{"DSA-5767-1"},
		Resource: finding.Resource{Kind: "Image", Package: &finding.Package{
			Name: "libssl3", Version: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", Source: "openssl",
			PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", Path: "var/lib/dpkg/status",
		}},
	}
	setuid := finding.Finding{RuleID: "KS-IMG-004", Resource: finding.Resource{Kind: "Image", Path: "/usr/bin/passwd"}}
	tests := []struct {
		entry IgnoreEntry
		f     finding.Finding
		want  bool
	}{
		{IgnoreEntry{ID: "CVE-2024-5535"}, deb, true},
		{IgnoreEntry{ID: "cve-2024-5535"}, deb, true},
		{IgnoreEntry{ID: "DSA-5767-1"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5536"}, deb, false},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "libssl3"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "openssl"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "libssl3@3.0.11-1~deb12u2"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "libssl3@3.0.11-1~deb12u1"}, deb, false},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "libcrypto3"}, deb, false},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "pkg:deb/debian/libssl3"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "pkg:deb/debian/libssl3?distro=debian-12&arch=amd64"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "pkg:deb/debian/libssl3?arch=arm64"}, deb, false},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "pkg:deb/debian/libssl3@3.0.13-1~deb12u1"}, deb, false},
		{IgnoreEntry{ID: "CVE-2024-5535", Package: "pkg:deb/ubuntu/libssl3"}, deb, false},
		{IgnoreEntry{ID: "CVE-2024-5535", Path: "/var/lib/dpkg/status"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5535", Path: "var/lib/dpkg/*"}, deb, true},
		{IgnoreEntry{ID: "CVE-2024-5535", Path: "/usr/lib/*"}, deb, false},
		{IgnoreEntry{ID: "KS-IMG-004", Path: "/usr/bin/passwd"}, setuid, true},
		{IgnoreEntry{ID: "KS-IMG-004", Path: "usr/bin/passwd"}, setuid, true},
		{IgnoreEntry{ID: "KS-IMG-004", Path: "/usr/bin/su"}, setuid, false},
		{IgnoreEntry{ID: "KS-IMG-004", Package: "passwd"}, setuid, false},
		{IgnoreEntry{ID: "KS-IMG-004", Expired: true}, setuid, false},
	}
	for _, tt := range tests {
		tt.entry.Reason = "r"
		out, _ := Apply([]finding.Finding{tt.f}, &Ignore{Entries: []IgnoreEntry{tt.entry}}, nil)
		if got := out[0].Suppressed != nil; got != tt.want {
			t.Errorf("Apply(%s, entry %+v): suppressed = %v; want %v", tt.f.RuleID, tt.entry, got, tt.want)
		}
	}
}

// TestApplyProducts checks the ways a statement's product names the image
// and the affected package.
func TestApplyProducts(t *testing.T) {
	const hex = "ff3a05bf499feab6ae63d0bddf74248dcdae4dc74d768d471a5e0d95ad527194"
	requests := finding.Finding{
		RuleID: "CVE-2023-32681",
		Resource: finding.Resource{Kind: "Image", Image: "ghcr.io/example/app:1.0", Digest: exampleDigest, Package: &finding.Package{
			Name: "requests", Version: "2.25.0", Ecosystem: "PyPI", PURL: "pkg:pypi/requests@2.25.0",
		}},
	}
	hub := requests
	hub.Resource.Image = "nginx:1.25"
	c := func(id string) Component { return Component{ID: id} }
	sub := func(p Component, ids ...string) Product {
		out := Product{Component: p}
		for _, id := range ids {
			out.Subcomponents = append(out.Subcomponents, c(id))
		}
		return out
	}
	tests := []struct {
		name    string
		product Product
		f       finding.Finding
		want    bool
	}{
		{"reference", sub(c("ghcr.io/example/app:1.0")), requests, true},
		{"other tag", sub(c("ghcr.io/example/app:1.1")), requests, false},
		{"Docker Hub, fully qualified", sub(c("docker.io/library/nginx:1.25")), hub, true},
		{"Docker Hub, other tag", sub(c("docker.io/library/nginx:1.26")), hub, false},
		{"digest", sub(c(exampleDigest)), requests, true},
		{"other digest", sub(c("sha256:" + strings.Repeat("0", 64))), requests, false},
		{"repository at the digest", sub(c("registry.example/mirror/app@" + exampleDigest)), requests, true},
		{"pkg:oci", sub(c("pkg:oci/app@sha256%3A" + hex)), requests, true},
		{"pkg:oci with qualifiers", sub(c("pkg:oci/app@sha256%3A" + hex + "?repository_url=ghcr.io%2Fexample%2Fapp&tag=1.0")), requests, true},
		{"pkg:oci other digest", sub(c("pkg:oci/app@sha256%3A" + strings.Repeat("0", 64))), requests, false},
		{"pkg:oci without version", sub(c("pkg:oci/app")), requests, false},
		{"pkg:docker", sub(c("pkg:docker/example/app@sha256%3A" + hex)), requests, true},
		{"identifiers purl", sub(Component{Identifiers: map[string]string{"purl": "pkg:oci/app@sha256%3A" + hex}}), requests, true},
		{"sha-256 hash", sub(Component{ID: "https://app.example/1.0", Hashes: map[string]string{"sha-256": hex}}), requests, true},
		{"sha-256 hash upper case", sub(Component{ID: "https://app.example/1.0", Hashes: map[string]string{"sha-256": strings.ToUpper(hex)}}), requests, true},
		{"sha-512 hash", sub(Component{ID: "https://app.example/1.0", Hashes: map[string]string{"sha-512": hex}}), requests, false},
		{"unrelated IRI", sub(c("https://app.example/1.0")), requests, false},
		{"subcomponent", sub(c(exampleDigest), "pkg:pypi/requests@2.25.0"), requests, true},
		{"subcomponent without version", sub(c(exampleDigest), "pkg:pypi/requests"), requests, true},
		{"subcomponent name case", sub(c(exampleDigest), "pkg:pypi/Requests"), requests, true},
		{"subcomponent other version", sub(c(exampleDigest), "pkg:pypi/requests@2.31.0"), requests, false},
		{"subcomponent qualifier the package lacks", sub(c(exampleDigest), "pkg:pypi/requests?extra=socks"), requests, false},
		{"other subcomponents", sub(c(exampleDigest), "pkg:pypi/urllib3", "pkg:npm/requests"), requests, false},
		{"second subcomponent", sub(c(exampleDigest), "pkg:pypi/urllib3", "pkg:pypi/requests"), requests, true},
		{"subcomponent not a purl", sub(c(exampleDigest), "requests"), requests, false},
		{"package as product", sub(c("pkg:pypi/requests@2.25.0")), requests, true},
		{"package as product, other version", sub(c("pkg:pypi/requests@2.31.0")), requests, false},
		{"package as product with subcomponents", sub(c("pkg:pypi/requests"), "pkg:pypi/urllib3"), requests, false},
		{"package product, finding without package", sub(c("pkg:pypi/requests")), finding.Finding{RuleID: "CVE-2023-32681"}, false},
	}
	for _, tt := range tests {
		vex := &VEX{Statements: []Statement{{
			Vulnerability: Vulnerability{Name: "CVE-2023-32681"}, Products: []Product{tt.product},
			Status: NotAffected, Justification: ComponentNotPresent, Timestamp: time.Unix(0, 0),
		}}}
		out, _ := Apply([]finding.Finding{tt.f}, nil, []*VEX{vex})
		if got := out[0].Suppressed != nil; got != tt.want {
			t.Errorf("%s: product %+v suppressed = %v; want %v", tt.name, tt.product, got, tt.want)
		}
	}
}

// TestApplyLatestWins checks the order of statements about one finding:
// time first, then position.
func TestApplyLatestWins(t *testing.T) {
	f := finding.Finding{RuleID: "CVE-2023-32681", Aliases: []string{"GHSA-j8r2-6x86-q33q"},
		Resource: finding.Resource{Digest: exampleDigest}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := func(status Status, ts, updated time.Time, name string) Statement {
		return Statement{
			Vulnerability: Vulnerability{Name: name}, Products: []Product{{Component: Component{ID: exampleDigest}}},
			Status: status, Justification: ComponentNotPresent, Timestamp: ts, LastUpdated: updated,
		}
	}
	tests := []struct {
		name string
		vex  []*VEX
		want bool
	}{
		{"later not_affected", []*VEX{{Statements: []Statement{
			st(Affected, t0, time.Time{}, "CVE-2023-32681"), st(NotAffected, t0.Add(time.Hour), time.Time{}, "CVE-2023-32681"),
		}}}, true},
		{"later under_investigation", []*VEX{{Statements: []Statement{
			st(NotAffected, t0, time.Time{}, "CVE-2023-32681"), st(UnderInvestigation, t0.Add(time.Hour), time.Time{}, "GHSA-j8r2-6x86-q33q"),
		}}}, false},
		{"earlier in the document, later in time", []*VEX{{Statements: []Statement{
			st(Fixed, t0.Add(time.Hour), time.Time{}, "CVE-2023-32681"), st(Affected, t0, time.Time{}, "CVE-2023-32681"),
		}}}, true},
		{"same time: the later statement", []*VEX{{Statements: []Statement{
			st(NotAffected, t0, time.Time{}, "CVE-2023-32681"), st(Affected, t0, time.Time{}, "CVE-2023-32681"),
		}}}, false},
		{"same time: the later document", []*VEX{
			{Statements: []Statement{st(Affected, t0, time.Time{}, "CVE-2023-32681")}},
			{Statements: []Statement{st(NotAffected, t0, time.Time{}, "CVE-2023-32681")}},
		}, true},
		{"last_updated counts", []*VEX{{Statements: []Statement{
			st(NotAffected, t0, t0.Add(2*time.Hour), "CVE-2023-32681"), st(Affected, t0.Add(time.Hour), time.Time{}, "CVE-2023-32681"),
		}}}, true},
		{"statements about other vulnerabilities do not count", []*VEX{{Statements: []Statement{
			st(NotAffected, t0, time.Time{}, "CVE-2023-32681"), st(Affected, t0.Add(time.Hour), time.Time{}, "CVE-2023-32682"),
		}}}, true},
		{"nil document", []*VEX{nil, {Statements: []Statement{st(NotAffected, t0, time.Time{}, "CVE-2023-32681")}}}, true},
	}
	for _, tt := range tests {
		out, _ := Apply([]finding.Finding{f}, nil, tt.vex)
		if got := out[0].Suppressed != nil; got != tt.want {
			t.Errorf("%s: suppressed = %v; want %v", tt.name, got, tt.want)
		}
	}
}
