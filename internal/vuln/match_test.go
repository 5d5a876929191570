package vuln

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeshield/kubeshield/internal/finding"
	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/osv"
)

// memSource is an in-memory Source for the matcher's pure-logic tests; the
// vulndb store is tested against real data in its own package.
type memSource []*osv.Record

func (m memSource) Query(_ context.Context, ecosystem, name string) ([]*osv.Record, error) {
	var out []*osv.Record
	for _, r := range m {
		for _, a := range r.Affected {
			if a.Package.Matches(ecosystem, name) {
				out = append(out, r)
				break
			}
		}
	}
	return out, nil
}

func load(t *testing.T) memSource {
	t.Helper()
	files, _ := filepath.Glob("testdata/osv/*.json")
	var src memSource
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := osv.Parse(b)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		src = append(src, r)
	}
	return src
}

// record builds a synthetic record for cases the real data lacks.
func record(t *testing.T, js string) *osv.Record {
	t.Helper()
	r, err := osv.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMatch(t *testing.T) {
	src := load(t)
	src = append(src,
		record(t, `{"id":"TEST-LA","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001"],
			"affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.2.0"},{"last_affected":"1.4.0"}]}]}]}`),
		record(t, `{"id":"GHSA-test-same","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001"],
			"database_specific":{"severity":"MODERATE"},
			"affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},"versions":["1.3.0"]}]}`),
		record(t, `{"id":"TEST-WD","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
			"affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`),
		record(t, `{"id":"USN-TEST","modified":"2024-01-01T00:00:00Z","upstream":["CVE-2099-0002"],
			"affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.2-0ubuntu1.10"}]}]}]}`),
		record(t, `{"id":"TEST-CVSS","modified":"2024-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
			"affected":[{"package":{"ecosystem":"PyPI","name":"Django"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"3.2"},{"fixed":"3.2.0.post1"}]}]}]}`),
	)
	debian11 := &inventory.Distro{ID: "debian", VersionID: "11"}
	pkg := func(eco inventory.Ecosystem, name, ver string, src *inventory.Source) inventory.Package {
		return inventory.Package{Name: name, Version: ver, Ecosystem: eco, Source: src, Locations: []inventory.Location{{Path: "x"}}}
	}
	tests := []struct {
		name   string
		distro *inventory.Distro
		pkg    inventory.Package
		want   []string // "ID fixed1,fixed2"
	}{
		{"debian source package, epoch", debian11, pkg(inventory.Debian, "zlib1g", "1:1.2.11.dfsg-2", &inventory.Source{Name: "zlib", Version: "1:1.2.11.dfsg-2"}),
			[]string{"CVE-2018-25032 1:1.2.11.dfsg-2+deb11u1"}},
		{"debian fixed", debian11, pkg(inventory.Debian, "zlib1g", "1:1.2.11.dfsg-2+deb11u1", &inventory.Source{Name: "zlib", Version: "1:1.2.11.dfsg-2+deb11u1"}), nil},
		{"debian other release", &inventory.Distro{ID: "debian", VersionID: "12"}, pkg(inventory.Debian, "zlib1g", "1:1.2.11.dfsg-2", &inventory.Source{Name: "zlib", Version: "1:1.2.11.dfsg-2"}), nil},
		{"debian DSA with several CVEs stays the DSA", debian11, pkg(inventory.Debian, "libssl1.1", "1.1.1n-0+deb11u3", &inventory.Source{Name: "openssl", Version: "1.1.1n-0+deb11u3"}),
			[]string{"DSA-5343-1 1.1.1n-0+deb11u4"}},
		{"binNMU: the source version decides", debian11, pkg(inventory.Debian, "libssl1.1", "1.1.1n-0+deb11u4+b1", &inventory.Source{Name: "openssl", Version: "1.1.1n-0+deb11u4"}), nil},
		{"pypi name normalised, one CVE", nil, pkg(inventory.PyPI, "Django", "3.2.0", nil),
			[]string{"CVE-2021-33203 3.2.4", "TEST-CVSS 3.2.0.post1"}},
		{"npm several advisories", nil, pkg(inventory.NPM, "lodash", "4.17.10", nil),
			[]string{"CVE-2018-16487 4.17.11"}},
		{"npm introduced later", nil, pkg(inventory.NPM, "lodash", "4.17.16", nil),
			[]string{"x_NSWG-ECO-516 4.17.19"}},
		{"go pseudo-version", nil, pkg(inventory.Go, "golang.org/x/net", "v0.0.0-20180724234803-3673e40ba225", nil),
			[]string{"CVE-2018-17846 0.0.0-20190125091013-d26f9f9a57f3"}},
		{"last_affected covers its version; versions list merges by alias; withdrawn skipped", nil, pkg(inventory.Go, "example.com/m", "v1.4.0", nil),
			[]string{"CVE-2099-0001 "}},
		{"ubuntu LTS spelling", &inventory.Distro{ID: "ubuntu", VersionID: "22.04"}, pkg(inventory.Ubuntu, "libssl3", "3.0.2-0ubuntu1.9", &inventory.Source{Name: "openssl", Version: "3.0.2-0ubuntu1.9"}),
			[]string{"CVE-2099-0002 3.0.2-0ubuntu1.10"}},
		{"after last_affected", nil, pkg(inventory.Go, "example.com/m", "v1.4.1", nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := MatchAll(context.Background(), src, &inventory.Result{Distro: tt.distro, Packages: []inventory.Package{tt.pkg}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range res.Matches {
				got = append(got, m.ID+" "+strings.Join(m.Fixed, ","))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s\nproblems: %+v", diff, res.Problems)
			}
		})
	}
}

func TestMergeAndFindings(t *testing.T) {
	src := memSource{
		record(t, `{"id":"GHSA-aaaa","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-1"],"summary":"bad thing",
			"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
			"references":[{"type":"ADVISORY","url":"https://example.com/a"}],
			"affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}`),
		record(t, `{"id":"OTHER-1","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-1"],
			"affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.5.0"}]}]}]}`),
	}
	p := inventory.Package{Name: "x", Version: "1.0.0", Ecosystem: inventory.NPM, PURL: "pkg:npm/x@1.0.0", Locations: []inventory.Location{{Path: "app/package-lock.json", Layer: "sha256:l"}}}
	res, err := MatchAll(context.Background(), src, &inventory.Result{Packages: []inventory.Package{p}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 1 {
		t.Fatalf("got %d matches; want the two records merged into one", len(res.Matches))
	}
	fs := Findings(res.Matches, finding.Resource{Kind: "Image", Image: "app:1"})
	got := fs[0]
	want := finding.Finding{
		RuleID: "CVE-2024-1", Aliases: []string{"GHSA-aaaa", "OTHER-1"}, Severity: finding.Critical, Score: 9.8,
		Title: "bad thing", Evidence: "installed x 1.0.0", FixedVersions: []string{"1.5.0", "2.0.0"},
		Remediation: "Upgrade x to 1.5.0 or 2.0.0.", References: []string{"https://example.com/a"},
		Resource: finding.Resource{Kind: "Image", Image: "app:1", Package: &finding.Package{
			Name: "x", Version: "1.0.0", Ecosystem: "npm", PURL: "pkg:npm/x@1.0.0", Path: "app/package-lock.json", Layer: "sha256:l"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("finding (-want +got):\n%s", diff)
	}
	b, _ := json.Marshal(got)
	if !strings.Contains(string(b), `"severity":"CRITICAL"`) {
		t.Errorf("json: %s", b)
	}
}
