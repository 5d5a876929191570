package suppress

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func parseVEXFile(t *testing.T, name string) *VEX {
	t.Helper()
	v, err := ParseOpenVEX(readTestdata(t, "openvex/"+name))
	if err != nil {
		t.Fatalf("ParseOpenVEX(%s) = %v", name, err)
	}
	return v
}

// TestParseOpenVEXMinimal reads the specification's minimal document.
func TestParseOpenVEXMinimal(t *testing.T) {
	got := parseVEXFile(t, "spec-minimal.json")
	ts := mustTime(t, "2023-01-08T18:02:03.647787998-06:00")
	want := &VEX{
		Context: "https://openvex.dev/ns/v0.2.0", ID: "https://openvex.dev/docs/example/vex-9fb3463de1b57",
		Author: "Wolfi J Inkinson", Role: "Document Creator", Timestamp: ts, Version: 1,
		Statements: []Statement{{
			Vulnerability: Vulnerability{Name: "CVE-2023-12345"},
			Timestamp:     ts,
			Products: []Product{
				{Component: Component{ID: "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"}},
				{Component: Component{ID: "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"}},
			},
			Status: Fixed,
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseOpenVEX(spec-minimal.json) differs (-want +got):\n%s", diff)
	}
}

// TestParseOpenVEXSpring reads the specification's example (with its JSON
// mistakes fixed): every field of a not_affected statement.
func TestParseOpenVEXSpring(t *testing.T) {
	got := parseVEXFile(t, "spec-spring-log4shell.json")
	want := Statement{
		Vulnerability: Vulnerability{
			ID: "https://nvd.nist.gov/vuln/detail/CVE-2021-44228", Name: "CVE-2021-44228",
			Description: "Remote code injection in Log4j", Aliases: []string{"GHSA-jfh8-c2jp-5v3q"},
		},
		Timestamp: mustTime(t, "2023-01-16T19:07:16.853479631-06:00"),
		Products: []Product{{Component: Component{
			ID:          "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3",
			Identifiers: map[string]string{"purl": "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3"},
			Hashes:      map[string]string{"sha-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		}}},
		Status:          NotAffected,
		Justification:   VulnerableCodeNotInExecutePath,
		ImpactStatement: "Spring Boot users are only affected by this vulnerability if they have switched the default logging system to Log4J2. The log4j-to-slf4j and log4j-api jars that we include in spring-boot-starter-logging cannot be exploited on their own. Only applications using log4j-core and including user input in log messages are vulnerable.",
	}
	if len(got.Statements) != 1 {
		t.Fatalf("ParseOpenVEX(spec-spring-log4shell.json): %d statements; want 1", len(got.Statements))
	}
	if diff := cmp.Diff(want, got.Statements[0]); diff != "" {
		t.Errorf("statement differs (-want +got):\n%s", diff)
	}
}

// TestParseOpenVEXInheritance checks the specification's example of a
// statement keeping its own timestamp while a new one inherits the
// document's.
func TestParseOpenVEXInheritance(t *testing.T) {
	got := parseVEXFile(t, "spec-history.json")
	var times []time.Time
	var st []Status
	for _, s := range got.Statements {
		times = append(times, s.Timestamp)
		st = append(st, s.Status)
	}
	wantTimes := []time.Time{mustTime(t, "2023-01-08T18:02:03-06:00"), mustTime(t, "2023-01-09T09:08:42-06:00")}
	if diff := cmp.Diff(wantTimes, times); diff != "" {
		t.Errorf("statement timestamps differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Status{UnderInvestigation, Fixed}, st); diff != "" {
		t.Errorf("statuses differ (-want +got):\n%s", diff)
	}
}

func TestParseOpenVEXExampleApp(t *testing.T) {
	for _, name := range []string{"example-app.json", "example-app-update.json"} {
		v := parseVEXFile(t, name)
		for i, s := range v.Statements {
			if s.Timestamp.IsZero() || s.Vulnerability.Name == "" || len(s.Products) == 0 {
				t.Errorf("%s: statement %d = %+v", name, i, s)
			}
		}
	}
}

func TestParseOpenVEXErrors(t *testing.T) {
	doc := func(stmt string) []byte {
		return []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://app.example/vex/1", "author": "a",
			"timestamp": "2026-02-01T10:00:00Z", "version": 1, "statements": [` + stmt + `]}`)
	}
	tests := []struct {
		name  string
		data  []byte
		field string
	}{
		{"unknown status", readTestdata(t, "openvex/bad/unknown-status.json"), "statements[0].status"},
		{"not_affected without justification", readTestdata(t, "openvex/bad/not-affected-without-justification.json"), "statements[0]"},
		{"unknown justification", readTestdata(t, "openvex/bad/unknown-justification.json"), "statements[0].justification"},
		{"no products", readTestdata(t, "openvex/bad/no-products.json"), "statements[0].products"},
		{"products as strings", readTestdata(t, "openvex/bad/products-as-strings.json"), "statements[0].products"},
		{"subcomponent without id", readTestdata(t, "openvex/bad/subcomponent-without-id.json"), "statements[0].products[0].subcomponents[0]"},
		{"no vulnerability name", readTestdata(t, "openvex/bad/no-vulnerability-name.json"), "statements[0].vulnerability"},
		{"bad statement timestamp", readTestdata(t, "openvex/bad/bad-statement-timestamp.json"), "statements[0].timestamp"},
		{"OpenVEX 0.0.1", readTestdata(t, "openvex/bad/openvex-0.0.1.json"), "statements[0].vulnerability"},
		{"CycloneDX", readTestdata(t, "openvex/bad/cyclonedx-vex.json"), "@context"},
		{"no timestamp", readTestdata(t, "openvex/bad/no-timestamp.json"), "timestamp"},
		{"spec example as printed", readTestdata(t, "openvex/bad/spec-spring-log4shell-as-printed.json"), ""},
		{"empty", nil, ""},
		{"not an object", []byte(`[]`), ""},
		{"trailing data", append(readTestdata(t, "openvex/spec-minimal.json"), "{}"...), ""},
		{"other context", bytes.Replace(readTestdata(t, "openvex/spec-minimal.json"), []byte("https://openvex.dev/ns/v0.2.0"), []byte("https://cyclonedx.org/"), 1), "@context"},
		{"no @id", bytes.Replace(readTestdata(t, "openvex/spec-minimal.json"), []byte(`"@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",`), nil, 1), "@id"},
		{"version 0", bytes.Replace(readTestdata(t, "openvex/spec-minimal.json"), []byte(`"version": 1`), []byte(`"version": 0`), 1), "version"},
		{"version as string", bytes.Replace(readTestdata(t, "openvex/spec-minimal.json"), []byte(`"version": 1`), []byte(`"version": "1"`), 1), "version"},
		{"no statements", doc(""), "statements"},
		{"no status", doc(`{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "x"}]}`), "statements[0].status"},
		{"vulnerability missing", doc(`{"products": [{"@id": "x"}], "status": "fixed"}`), "statements[0].vulnerability"},
		{"aliases not a list", doc(`{"vulnerability": {"name": "CVE-1", "aliases": "CVE-2"}, "products": [{"@id": "x"}], "status": "fixed"}`), "statements[0].vulnerability"},
		{"second statement", doc(`{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "x"}], "status": "fixed"},
			{"vulnerability": {"name": "CVE-1"}, "products": [{}], "status": "fixed"}`), "statements[1].products[0]"},
	}
	for _, tt := range tests {
		got, err := ParseOpenVEX(tt.data)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseOpenVEX(%s) = %v, %v; want a *ParseError wrapping ErrInvalid", tt.name, got, err)
			continue
		}
		if got != nil {
			t.Errorf("ParseOpenVEX(%s) returned a document with an error", tt.name)
		}
		if pe.Field != tt.field {
			t.Errorf("ParseOpenVEX(%s) = %v; want the field %q", tt.name, err, tt.field)
		}
	}
}

func TestParseOpenVEXTooLarge(t *testing.T) {
	data := append(readTestdata(t, "openvex/spec-minimal.json"), bytes.Repeat([]byte(" "), MaxVEXSize)...)
	_, err := ParseOpenVEX(data)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseOpenVEX(%d bytes) = %v; want ErrTooLarge", len(data), err)
	}
}
