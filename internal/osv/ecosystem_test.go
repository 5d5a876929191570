package osv

import "testing"

func TestSplitEcosystem(t *testing.T) {
	tests := []struct{ in, base, release string }{
		{"Go", "Go", ""},
		{"Debian:12", "Debian", "12"},
		{"Alpine:v3.20", "Alpine", "v3.20"},
		{"Ubuntu:22.04:LTS", "Ubuntu", "22.04:LTS"},
		{"Maven:https://maven.google.com", "Maven", "https://maven.google.com"},
		{"Red Hat:rhel_aus:8.4::appstream", "Red Hat", "rhel_aus:8.4::appstream"},
		{"Debian:", "Debian", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		base, release := SplitEcosystem(tt.in)
		if base != tt.base || release != tt.release {
			t.Errorf("SplitEcosystem(%q) = %q, %q; want %q, %q", tt.in, base, release, tt.base, tt.release)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ eco, in, want string }{
		{"PyPI", "jw.util", "jw-util"},
		{"PyPI", "Django", "django"},
		{"PyPI", "Foo__Bar-._baz", "foo-bar-baz"},
		{"PyPI", "_x_", "-x-"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"PyPI:extra", "A.B", "a-b"},
		{"npm", "JSONStream", "JSONStream"},
		{"Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"},
		{"Maven", "org.apache.logging.log4j:log4j-core", "org.apache.logging.log4j:log4j-core"},
		{"crates.io", "serde_json", "serde_json"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.eco, tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q, %q) = %q; want %q", tt.eco, tt.in, got, tt.want)
		}
	}
}

func TestPackageMatches(t *testing.T) {
	tests := []struct {
		pkg       Package
		eco, name string
		want      bool
	}{
		{Package{Ecosystem: "Debian:12", Name: "openssl"}, "Debian:12", "openssl", true},
		{Package{Ecosystem: "Debian:11", Name: "openssl"}, "Debian:12", "openssl", false},
		{Package{Ecosystem: "Debian", Name: "openssl"}, "Debian:12", "openssl", true},
		{Package{Ecosystem: "Debian:12", Name: "openssl"}, "Debian", "openssl", false},
		{Package{Ecosystem: "Debian:12", Name: "openssl"}, "Ubuntu:12", "openssl", false},
		{Package{Ecosystem: "Alpine:v3.20", Name: "musl"}, "Alpine:3.20", "musl", false},
		{Package{Ecosystem: "PyPI", Name: "jw.util"}, "PyPI", "JW_Util", true},
		{Package{Ecosystem: "npm", Name: "JSONStream"}, "npm", "jsonstream", false},
		{Package{Ecosystem: "Go", Name: "stdlib"}, "Go", "stdlib", true},
	}
	for _, tt := range tests {
		if got := tt.pkg.Matches(tt.eco, tt.name); got != tt.want {
			t.Errorf("%+v.Matches(%q, %q) = %v; want %v", tt.pkg, tt.eco, tt.name, got, tt.want)
		}
	}
}
