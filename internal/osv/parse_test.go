package osv

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readRecord(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "records", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestParseFull checks every field of one real record.
func TestParseFull(t *testing.T) {
	got, err := Parse(readRecord(t, "Go/GO-2020-0001.json"))
	if err != nil {
		t.Fatalf("Parse(GO-2020-0001) = %v", err)
	}
	want := &Record{
		SchemaVersion: "1.3.1",
		ID:            "GO-2020-0001",
		Modified:      mustTime(t, "0001-01-01T00:00:00Z"),
		Published:     mustTime(t, "2021-04-14T20:04:52Z"),
		Aliases:       []string{"CVE-2020-36567", "GHSA-6vm3-jj99-7229"},
		Summary:       "Arbitrary log line injection in github.com/gin-gonic/gin",
		Details:       "The default Formatter for the Logger middleware (LoggerConfig.Formatter), which is included in the Default engine, allows attackers to inject arbitrary log entries by manipulating the request path.",
		Affected: []Affected{{
			Package: Package{Ecosystem: "Go", Name: "github.com/gin-gonic/gin"},
			Ranges: []Range{{Type: Semver, Events: []Event{
				{Kind: Introduced, Version: "0"}, {Kind: Fixed, Version: "1.6.0"},
			}}},
		}},
		References: []Reference{
			{Type: "FIX", URL: "https://github.com/gin-gonic/gin/pull/2237"},
			{Type: "FIX", URL: "https://github.com/gin-gonic/gin/commit/a71af9c144f9579f6dbe945341c1df37aaf09c0d"},
		},
		Credits: []Credit{{Name: "@thinkerou <thinkerou@gmail.com>"}},
	}
	// The raw JSON parts are compared on their own, after compaction.
	rawES, rawDS := got.Affected[0].EcosystemSpecific, got.DatabaseSpecific
	got.Affected[0].EcosystemSpecific, got.DatabaseSpecific = nil, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(GO-2020-0001) mismatch (-want +got):\n%s", diff)
	}
	for _, c := range []struct{ got, want string }{
		{compact(t, rawES), `{"imports":[{"path":"github.com/gin-gonic/gin","symbols":["Default","Logger","LoggerWithConfig","LoggerWithFormatter","LoggerWithWriter"]}]}`},
		{compact(t, rawDS), `{"url":"https://pkg.go.dev/vuln/GO-2020-0001","review_status":"REVIEWED"}`},
	} {
		if c.got != c.want {
			t.Errorf("raw JSON = %s; want %s", c.got, c.want)
		}
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b strings.Builder
	out, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	b.Write(out)
	return b.String()
}

// summary is what TestParseRecords checks of each record.
type summary struct {
	ID        string
	Withdrawn bool
	Aliases   []string
	Packages  []string // ecosystem/name of each affected entry
	Ranges    int
	Versions  int
	FirstLast []Event // first and last event of the first range
}

func summarize(r *Record) summary {
	s := summary{ID: r.ID, Withdrawn: r.IsWithdrawn(), Aliases: r.AllAliases()}
	for _, a := range r.Affected {
		s.Packages = append(s.Packages, a.Package.Ecosystem+"/"+a.Package.Name)
		s.Ranges += len(a.Ranges)
		s.Versions += len(a.Versions)
	}
	if len(r.Affected) > 0 && len(r.Affected[0].Ranges) > 0 {
		ev := r.Affected[0].Ranges[0].Events
		s.FirstLast = []Event{ev[0], ev[len(ev)-1]}
	}
	return s
}

func TestParseRecords(t *testing.T) {
	tests := []struct {
		file string
		want summary
	}{
		{"Go/GO-2022-0617.json", summary{
			ID: "GO-2022-0617", Withdrawn: true,
			Aliases:   []string{"CVE-2020-8562", "GHSA-qh36-44jv-c8xj"},
			Packages:  []string{"Go/k8s.io/kubernetes"},
			Ranges:    1,
			FirstLast: []Event{{Introduced, "0"}, {Introduced, "0"}},
		}},
		{"Alpine/ALPINE-CVE-2016-2105.json", summary{
			ID: "ALPINE-CVE-2016-2105", Aliases: []string{"CVE-2016-2105"},
			Packages: []string{
				"Alpine:v3.3/openssl", "Alpine:v3.4/openssl", "Alpine:v3.5/openssl", "Alpine:v3.6/openssl",
				"Alpine:v3.7/openssl", "Alpine:v3.8/openssl",
			},
			Ranges:    6,
			FirstLast: []Event{{Introduced, "0"}, {Fixed, "1.0.2h-r0"}},
		}},
		{"Debian/DSA-5343-1.json", summary{
			ID:        "DSA-5343-1",
			Aliases:   []string{"CVE-2022-2097", "CVE-2022-4304", "CVE-2022-4450", "CVE-2023-0215", "CVE-2023-0286"},
			Packages:  []string{"Debian:11/openssl"},
			Ranges:    1,
			FirstLast: []Event{{Introduced, "0"}, {Fixed, "1.1.1n-0+deb11u4"}},
		}},
		{"PyPI/PYSEC-2020-341.json", summary{
			ID: "PYSEC-2020-341", Aliases: []string{"CVE-2020-13388", "GHSA-h72c-w3q3-55qq"},
			Packages: []string{"PyPI/jw.util"}, Ranges: 1, Versions: 37,
			FirstLast: []Event{{Introduced, "0"}, {Fixed, "2.3"}},
		}},
		{"PyPI/PYSEC-2017-72.json", summary{
			ID: "PYSEC-2017-72", Aliases: []string{"CVE-2015-3171"},
			Packages: []string{"PyPI/sosreport"}, Ranges: 2, Versions: 2,
			FirstLast: []Event{{Introduced, "0"}, {Fixed, "d7759d3ddae5fe99a340c88a1d370d65cfa73fd6"}},
		}},
		{"GHSA/GHSA-p6mc-m468-83gw.json", summary{
			ID: "GHSA-p6mc-m468-83gw", Aliases: []string{"CVE-2020-8203"},
			Packages: []string{
				"npm/lodash", "npm/lodash-es", "npm/lodash.pick", "npm/lodash.set",
				"npm/lodash.setwith", "npm/lodash.update", "npm/lodash.updatewith",
			},
			Ranges:    7,
			FirstLast: []Event{{Introduced, "3.7.0"}, {Fixed, "4.17.19"}},
		}},
		{"crates.io/RUSTSEC-2019-0031.json", summary{
			ID: "RUSTSEC-2019-0031", Withdrawn: true,
			Packages: []string{"crates.io/spin"}, Ranges: 1,
			FirstLast: []Event{{Introduced, "0.0.0-0"}, {Fixed, "0.0.0"}},
		}},
		{"crates.io/RUSTSEC-2024-0380.json", summary{
			ID: "RUSTSEC-2024-0380", Aliases: nil,
			Packages: []string{"crates.io/pqcrypto-dilithium"}, Ranges: 1,
			FirstLast: []Event{{Introduced, "0.0.0-0"}, {Introduced, "0.0.0-0"}},
		}},
		{"AlmaLinux/ALSA-2024-1502.json", summary{
			ID: "ALSA-2024:1502", Packages: []string{"AlmaLinux:9/grafana-pcp"}, Ranges: 1,
			FirstLast: []Event{{Introduced, "0"}, {Fixed, "5.1.1-2.el9_3.alma.1"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := Parse(readRecord(t, tt.file))
			if err != nil {
				t.Fatalf("Parse(%s) = %v", tt.file, err)
			}
			if diff := cmp.Diff(tt.want, summarize(r)); diff != "" {
				t.Errorf("Parse(%s) mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestParseErrors feeds malformed and hostile records to Parse: each gives
// a *ParseError naming the record and the place, wrapping ErrInvalid or
// ErrLimit.
func TestParseErrors(t *testing.T) {
	const ev = `"events":[{"introduced":"0"},{"fixed":"1"}]`
	rec := func(affected string) string {
		return `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[` + affected + `]}`
	}
	many := func(n int, item string) string {
		return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
	}
	tests := []struct {
		name      string
		in        string
		wantErr   error
		wantID    string
		wantField string
	}{
		{"empty", ``, ErrInvalid, "", ""},
		{"not an object", `[1,2]`, ErrInvalid, "", ""},
		{"null", `null`, ErrInvalid, "", "id"},
		{"syntax error after id", `{"id":"X-1","modified":`, ErrInvalid, "X-1", ""},
		{"missing id", `{"modified":"2024-01-01T00:00:00Z"}`, ErrInvalid, "", "id"},
		{"id is a number", `{"id":5}`, ErrInvalid, "", ""},
		{"aliases is a string", `{"id":"X-1","aliases":"CVE-1"}`, ErrInvalid, "X-1", ""},
		{"bad timestamp before id", `{"modified":"yesterday","id":"X-1"}`, ErrInvalid, "X-1", ""},
		{"affected is an object", `{"id":"X-1","affected":{}}`, ErrInvalid, "X-1", ""},
		{"severity without score", `{"id":"X-1","severity":[{"type":"CVSS_V3"}]}`, ErrInvalid, "X-1", "severity[0]"},
		{"package without name", rec(`{"package":{"ecosystem":"Go"}}`), ErrInvalid, "X-1", "affected[0].package.name"},
		{"package without ecosystem", rec(`{"package":{"name":"x","purl":"pkg:golang/x"}}`), ErrInvalid, "X-1", "affected[0].package.ecosystem"},
		{"NUL in name", rec(`{"package":{"ecosystem":"Go","name":"a\u0000b"}}`), ErrInvalid, "X-1", "affected[0].package"},
		{"unknown range type", rec(`{"package":{"ecosystem":"Go","name":"x"},"ranges":[{"type":"SEMVER",` + ev + `},{"type":"DATE",` + ev + `}]}`), ErrInvalid, "X-1", "affected[0].ranges[1].type"},
		{"range without type", rec(`{"ranges":[{` + ev + `}]}`), ErrInvalid, "X-1", "affected[0].ranges[0].type"},
		{"GIT range without repo", rec(`{"ranges":[{"type":"GIT",` + ev + `}]}`), ErrInvalid, "X-1", "affected[0].ranges[0].repo"},
		{"range without events", rec(`{"ranges":[{"type":"SEMVER","events":[]}]}`), ErrInvalid, "X-1", "affected[0].ranges[0].events"},
		{"event with two keys", rec(`{},{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"introduced":"1","fixed":"2"}]}]}`), ErrInvalid, "X-1", "affected[1].ranges[0].events[1]"},
		{"event with no key", rec(`{"ranges":[{"type":"SEMVER","events":[{}]}]}`), ErrInvalid, "X-1", "affected[0].ranges[0].events[0]"},
		{"unknown event", rec(`{"ranges":[{"type":"SEMVER","events":[{"Introduced":"0"}]}]}`), ErrInvalid, "X-1", "affected[0].ranges[0].events[0]"},
		{"event value not a string", rec(`{"ranges":[{"type":"SEMVER","events":[{"fixed":1}]}]}`), ErrInvalid, "X-1", "affected[0].ranges[0].events[0]"},
		{"event with empty version", rec(`{"ranges":[{"type":"SEMVER","events":[{"fixed":""}]}]}`), ErrInvalid, "X-1", "affected[0].ranges[0].events[0]"},
		{"event not an object", rec(`{"ranges":[{"type":"SEMVER","events":["0"]}]}`), ErrInvalid, "X-1", "affected[0].ranges[0].events[0]"},
		{"too large", `{"id":"X-1","details":"` + strings.Repeat("a", MaxSize) + `"}`, ErrLimit, "X-1", ""},
		{"deep nesting", `{"id":"X-1","database_specific":` + strings.Repeat(`{"a":`, MaxDepth) + `1` + strings.Repeat(`}`, MaxDepth) + `}`, ErrLimit, "X-1", ""},
		{"deep arrays", strings.Repeat(`[`, 100_000), ErrLimit, "", ""},
		{"too many affected", rec(many(MaxAffected+1, `{}`)), ErrLimit, "X-1", ""},
		{"too many affected, escaped key", `{"id":"X-1","AFFECTE\u0044":[` + many(MaxAffected+1, `{}`) + `]}`, ErrLimit, "X-1", ""},
		{"too many values", `{"id":"X-1","aliases":[` + many(MaxValues+1, `""`) + `]}`, ErrLimit, "X-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%.60q) = %v, %v; want an error wrapping %v", tt.in, r, err, tt.wantErr)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%.60q) error %T is not a *ParseError", tt.in, err)
			}
			if pe.ID != tt.wantID || pe.Field != tt.wantField {
				t.Errorf("Parse(%.60q) error names (%q, %q); want (%q, %q) (error: %v)", tt.in, pe.ID, pe.Field, tt.wantID, tt.wantField, err)
			}
		})
	}
}

// TestParseTypeError checks that a wrong JSON type is reported with the
// decoder's own error, so callers can see the field.
func TestParseTypeError(t *testing.T) {
	_, err := Parse([]byte(`{"id":"X-1","affected":[{"package":{"ecosystem":"Go","name":7}}]}`))
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "affected.package.name" {
		t.Errorf("Parse(name: 7) = %v; want a *json.UnmarshalTypeError for affected.package.name", err)
	}
}

// TestParseAcceptsLargeValid checks that a big but reasonable record (a
// 7 MiB details string, 50,000 affected entries) parses.
func TestParseAcceptsLargeValid(t *testing.T) {
	aff := strings.TrimSuffix(strings.Repeat(`{"package":{"ecosystem":"npm","name":"x"},"versions":["1"]},`, 50_000), ",")
	for name, in := range map[string]string{
		"long details":   `{"id":"X-1","details":"` + strings.Repeat("a", 7<<20) + `"}`,
		"many affected":  `{"id":"X-1","affected":[` + aff + `]}`,
		"unknown fields": `{"id":"X-1","x_new":{"a":[1,2]},"affected":[{"package":{"ecosystem":"Go","name":"x"},"x_more":1}]}`,
	} {
		if _, err := Parse([]byte(in)); err != nil {
			t.Errorf("Parse(%s) = %v; want success", name, err)
		}
	}
}

func TestEventJSON(t *testing.T) {
	for _, e := range []Event{{Introduced, "0"}, {Fixed, `1.2"3`}, {LastAffected, "x"}, {Limit, "*"}} {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var got Event
		if err := json.Unmarshal(data, &got); err != nil || got != e {
			t.Errorf("round trip of %+v via %s = %+v, %v", e, data, got, err)
		}
	}
}

func TestAllAliases(t *testing.T) {
	tests := []struct {
		r    Record
		want []string
	}{
		{Record{ID: "A"}, nil},
		{Record{ID: "DSA-1", Upstream: []string{"CVE-1", "CVE-2"}}, []string{"CVE-1", "CVE-2"}},
		{Record{ID: "GO-1", Aliases: []string{"CVE-1", "GHSA-x", "GO-1"}, Upstream: []string{"CVE-1", "CVE-3", ""}}, []string{"CVE-1", "GHSA-x", "CVE-3"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.r.AllAliases()); diff != "" {
			t.Errorf("AllAliases(%+v) mismatch (-want +got):\n%s", tt.r, diff)
		}
	}
}
