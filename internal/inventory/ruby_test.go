package inventory

import (
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// gemWant is an expected gem package.
func gemWant(name, version, purl, location string, licenses ...string) Package {
	if len(licenses) == 0 {
		licenses = nil
	}
	return Package{
		Name: name, Version: version, Ecosystem: RubyGems, Type: "gem", PURL: purl,
		Licenses: licenses, Locations: []Location{{Path: location}},
	}
}

func TestRubyCatalog(t *testing.T) {
	const (
		lock    = "srv/app/Gemfile.lock"
		debian  = "usr/share/rubygems-integration/all/specifications/"
		stdlib  = "usr/lib/ruby/gems/3.1.0/specifications/"
		bundled = "usr/local/bundle/specifications/"
	)
	tests := []struct {
		name string
		fsys fs.FS
		want []Package
	}{
		{
			name: "installed gems and a Bundler lock file",
			fsys: os.DirFS("testdata/ruby"),
			want: []Package{
				gemWant("gitlib", "1.4.0", "pkg:gem/gitlib@1.4.0", lock),
				gemWant("json", "2.6.1", "pkg:gem/json@2.6.1", stdlib+"default/json-2.6.1.gemspec", "Ruby"),
				gemWant("ksfixture", "0.3.1", "pkg:gem/ksfixture@0.3.1?platform=x86_64-linux", lock),
				gemWant("ksfixture", "0.3.1", "pkg:gem/ksfixture@0.3.1?platform=x86_64-linux", bundled+"ksfixture-0.3.1-x86_64-linux.gemspec", "Apache-2.0", "MIT"),
				gemWant("minitest", "5.15.0", "pkg:gem/minitest@5.15.0", lock),
				gemWant("mylib", "0.9.0.beta1", "pkg:gem/mylib@0.9.0.beta1", lock),
				gemWant("rack", "2.2.22", "pkg:gem/rack@2.2.22", lock),
				gemWant("rack", "2.2.22", "pkg:gem/rack@2.2.22", debian+"rack-2.2.22.gemspec", "MIT"),
				gemWant("rainbow", "3.1.1", "pkg:gem/rainbow@3.1.1", lock),
				gemWant("rainbow", "3.1.1", "pkg:gem/rainbow@3.1.1", debian+"rainbow-3.1.1.gemspec", "MIT"),
				gemWant("rexml", "3.2.5", "pkg:gem/rexml@3.2.5", stdlib+"rexml-3.2.5.gemspec", "BSD-2-Clause"),
			},
		},
		{
			name: "old RubyGems stub with %q literals, CRLF lock file with checksums",
			fsys: fstest.MapFS{
				"gems/specifications/thor-0.19.1.gemspec": {Data: []byte(
					"# -*- encoding: utf-8 -*-\n\nGem::Specification.new do |s|\n" +
						"  s.name = %q{thor}\n  s.version = \"0.19.1\"\n  s.license = %q{MIT}\n" +
						"  s.platform = Gem::Platform::RUBY\nend\n")},
				"app/gems.locked": {Data: []byte(
					"GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n" +
						"    nokogiri (1.16.0-aarch64-linux)\r\n      racc (~> 1.4)\r\n" +
						"    racc (1.7.3)\r\n\r\nPLATFORMS\r\n  aarch64-linux\r\n\r\n" +
						"DEPENDENCIES\r\n  nokogiri\r\n\r\nCHECKSUMS\r\n" +
						"  nokogiri (1.16.0-aarch64-linux) sha256=0123\r\n  racc (1.7.3) sha256=4567\r\n")},
			},
			want: []Package{
				gemWant("nokogiri", "1.16.0", "pkg:gem/nokogiri@1.16.0?platform=aarch64-linux", "app/gems.locked"),
				gemWant("racc", "1.7.3", "pkg:gem/racc@1.7.3", "app/gems.locked"),
				gemWant("thor", "0.19.1", "pkg:gem/thor@0.19.1", "gems/specifications/thor-0.19.1.gemspec", "MIT"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkCataloger(t, ruby{}, tt.fsys, nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ruby.Catalog (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRubyRequired(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"usr/lib/ruby/gems/3.1.0/specifications/rexml-3.2.5.gemspec", true},
		{"usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", true},
		{"specifications/default/json-2.6.1.gemspec", true},
		{"specifications/rack-2.2.22.gemspec", true},
		{"srv/app/Gemfile.lock", true},
		{"Gemfile.lock", true},
		{"srv/app/gems.locked", true},
		{"srv/app/Gemfile", false},
		{"src/rack/rack.gemspec", false},
		{"usr/lib/ruby/gems/3.1.0/gems/rack-2.2.22/rack.gemspec", false},
		{"usr/lib/ruby/gems/3.1.0/specifications/default/README", false},
		{"usr/lib/ruby/gems/3.1.0/default/x.gemspec", false},
	}
	for _, tt := range tests {
		if got := (ruby{}).Required(tt.path, 0o644); got != tt.want {
			t.Errorf("ruby.Required(%q) = %v; want %v", tt.path, got, tt.want)
		}
	}
}

func TestRubyBadFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		data string
		want []Package // what is still found
	}{
		{
			name: "gemspec with computed version",
			file: "specifications/x-1.gemspec",
			data: "Gem::Specification.new do |s|\n  s.name = \"x\"\n  s.version = X::VERSION\nend\n",
		},
		{
			name: "gemspec with interpolation",
			file: "specifications/x-1.gemspec",
			data: "Gem::Specification.new do |s|\n  s.name = \"x#{1}\"\n  s.version = \"1\"\nend\n",
		},
		{
			name: "lock file with a broken spec line",
			file: "Gemfile.lock",
			data: "GEM\n  specs:\n    rack 2.2.22\n    rake (13.0.6)\n    bad ()\n",
			want: []Package{gemWant("rake", "13.0.6", "pkg:gem/rake@13.0.6", "Gemfile.lock")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMalformed(t, ruby{}, tt.file, tt.data, tt.want)
		})
	}
}

func FuzzGemspec(f *testing.F) {
	for _, name := range []string{
		"testdata/ruby/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
		"testdata/ruby/usr/local/bundle/specifications/ksfixture-0.3.1-x86_64-linux.gemspec",
	} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("s.licenses = %w[MIT Ruby]\ns.name = %q<x>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseGemspec(data, "x.gemspec")
		if err == nil && (p.Name == "" || p.Version == "" || p.PURL == "") {
			t.Errorf("parseGemspec(%q) = %+v without error; want name, version and purl", data, p)
		}
	})
}

func FuzzGemfileLock(f *testing.F) {
	data, err := os.ReadFile("testdata/ruby/srv/app/Gemfile.lock")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parseGemfileLock(data, "Gemfile.lock")
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Errorf("parseGemfileLock(%q) gave incomplete %+v", data, p)
			}
		}
	})
}
