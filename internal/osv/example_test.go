package osv_test

import (
	"fmt"

	"github.com/kubeshield/kubeshield/internal/osv"
)

func ExampleParse() {
	r, err := osv.Parse([]byte(`{
		"id": "DSA-5343-1",
		"modified": "2023-04-02T14:30:54Z",
		"upstream": ["CVE-2022-4450", "CVE-2023-0286"],
		"affected": [{
			"package": {"ecosystem": "Debian:11", "name": "openssl"},
			"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1n-0+deb11u4"}]}]
		}]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	a := r.Affected[0]
	base, release := osv.SplitEcosystem(a.Package.Ecosystem)
	fmt.Println(r.ID, r.AllAliases())
	fmt.Println(base, release, a.Package.Name, a.Package.Matches("Debian:11", "openssl"))
	for _, e := range a.Ranges[0].Events {
		fmt.Println(e.Kind, e.Version)
	}

	_, err = osv.Parse([]byte(`{"id": "X-1", "affected": [{"ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}]}`))
	fmt.Println(err)
	// Output:
	// DSA-5343-1 [CVE-2022-4450 CVE-2023-0286]
	// Debian 11 openssl true
	// introduced 0
	// fixed 1.1.1n-0+deb11u4
	// osv record "X-1": affected[0].ranges[0].events[0]: invalid OSV record: an event must have exactly one key (introduced, fixed, last_affected or limit), not 2
}
