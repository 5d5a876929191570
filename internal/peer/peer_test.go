package peer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompare(t *testing.T) {
	ks, err := KubeshieldGroups([]byte(`{"findings":[
		{"ruleID":"CVE-1","aliases":["GHSA-a","PYSEC-1"],"resource":{"package":{"name":"Django","version":"3.2.0","ecosystem":"PyPI"}}},
		{"ruleID":"CVE-2","resource":{"package":{"name":"Django","version":"3.2.0","ecosystem":"PyPI"}}},
		{"ruleID":"KS-IMG-001","resource":{}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	osv, err := OSVScannerGroups([]byte(`{"results":[{"packages":[
		{"package":{"name":"django","version":"3.2.0","ecosystem":"PyPI"},"groups":[{"ids":["PYSEC-1"],"aliases":["CVE-1"]},{"ids":["GHSA-a"]},{"ids":["CVE-3"]}]},
		{"package":{"name":"libc6","os_package_name":"glibc","version":"2.36","ecosystem":"Debian:12"},"groups":[]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	diffs, info := Compare(ks, osv)
	want := []Difference{
		{Side: "kubeshield", Package: "PyPI django 3.2.0", IDs: []string{"CVE-2"}},
		{Side: "osv-scanner", Package: "PyPI django 3.2.0", IDs: []string{"CVE-3"}},
	}
	if diff := cmp.Diff(want, diffs); diff != "" {
		t.Errorf("Compare (-want +got):\n%s", diff)
	}
	if len(info) != 1 {
		t.Errorf("info = %v; want the merged CVE-1 noted once", info)
	}
	if _, listed := osv["Debian glibc 2.36"]; !listed || osv.Vulnerable() != 1 || ks.Count() != 2 {
		t.Errorf("listed=%v vulnerable=%d count=%d", listed, osv.Vulnerable(), ks.Count())
	}
}
