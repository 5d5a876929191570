package inventory

import (
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// composerWant is an expected Composer package.
func composerWant(name, version, purl, location string, dev bool, licenses ...string) Package {
	if len(licenses) == 0 {
		licenses = nil
	}
	return Package{
		Name: name, Version: version, Ecosystem: Packagist, Type: "php-composer", PURL: purl,
		Licenses: licenses, Locations: []Location{{Path: location}}, Dev: dev,
	}
}

func TestPHPCatalog(t *testing.T) {
	const (
		lock      = "var/www/app/composer.lock"
		installed = "var/www/app/vendor/composer/installed.json"
		legacy    = "opt/legacy/vendor/composer/installed.json"
	)
	tests := []struct {
		name string
		fsys fs.FS
		want []Package
	}{
		{
			name: "composer.lock and Composer 1 and 2 installed.json",
			fsys: os.DirFS("testdata/php"),
			want: []Package{
				composerWant("guzzlehttp/guzzle", "6.5.5", "pkg:composer/guzzlehttp/guzzle@6.5.5", legacy, false, "MIT"),
				composerWant("guzzlehttp/psr7", "1.7.0", "pkg:composer/guzzlehttp/psr7@1.7.0", legacy, false, "MIT"),
				composerWant("monolog/monolog", "2.9.1", "pkg:composer/monolog/monolog@2.9.1", lock, false, "MIT"),
				composerWant("monolog/monolog", "2.9.1", "pkg:composer/monolog/monolog@2.9.1", installed, false, "MIT"),
				composerWant("myclabs/deep-copy", "1.11.1", "pkg:composer/myclabs/deep-copy@1.11.1", lock, true, "MIT"),
				composerWant("myclabs/deep-copy", "1.11.1", "pkg:composer/myclabs/deep-copy@1.11.1", installed, true, "MIT"),
				composerWant("psr/log", "1.1.4", "pkg:composer/psr/log@1.1.4", lock, false, "MIT"),
				composerWant("psr/log", "1.1.4", "pkg:composer/psr/log@1.1.4", installed, false, "MIT"),
				composerWant("symfony/polyfill-ctype", "v1.27.0", "pkg:composer/symfony/polyfill-ctype@v1.27.0", lock, false, "MIT"),
				composerWant("symfony/polyfill-ctype", "v1.27.0", "pkg:composer/symfony/polyfill-ctype@v1.27.0", installed, false, "MIT"),
			},
		},
		{
			name: "licence as a string, empty and missing lists",
			fsys: fstest.MapFS{
				"composer.lock": {Data: []byte(`{"packages": [{"name": "a/b", "version": "dev-main", "license": "GPL-2.0-or-later"},
					{"name": "c/d", "version": "1.0.0", "license": []}], "packages-dev": null}`)},
			},
			want: []Package{
				composerWant("a/b", "dev-main", "pkg:composer/a/b@dev-main", "composer.lock", false, "GPL-2.0-or-later"),
				composerWant("c/d", "1.0.0", "pkg:composer/c/d@1.0.0", "composer.lock", false),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkCataloger(t, php{}, tt.fsys, nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("php.Catalog (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPHPRequired(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"composer.lock", true},
		{"var/www/app/composer.lock", true},
		{"var/www/app/vendor/composer/installed.json", true},
		{"app/lib/composer/installed.json", true},
		{"var/www/app/composer.json", false},
		{"var/www/app/vendor/composer/installed.php", false},
		{"var/www/app/installed.json", false},
		{"installed.json", false},
	}
	for _, tt := range tests {
		if got := (php{}).Required(tt.path, 0o644); got != tt.want {
			t.Errorf("php.Required(%q) = %v; want %v", tt.path, got, tt.want)
		}
	}
}

func TestPHPBadFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		data string
		want []Package
	}{
		{name: "not JSON", file: "composer.lock", data: "<?php"},
		{name: "installed.json neither array nor object", file: "vendor/composer/installed.json", data: `"x"`},
		{name: "bad licence", file: "composer.lock", data: `{"packages": [{"name": "a/b", "version": "1", "license": 3}]}`},
		{
			name: "package without version",
			file: "vendor/composer/installed.json",
			data: `[{"name": "a/b"}, {"name": "c/d", "version": "2.0.0"}]`,
			want: []Package{composerWant("c/d", "2.0.0", "pkg:composer/c/d@2.0.0", "vendor/composer/installed.json", false)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMalformed(t, php{}, tt.file, tt.data, tt.want)
		})
	}
}

func FuzzComposer(f *testing.F) {
	for _, name := range []string{
		"testdata/php/var/www/app/composer.lock",
		"testdata/php/var/www/app/vendor/composer/installed.json",
		"testdata/php/opt/legacy/vendor/composer/installed.json",
	} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, _ := parseComposerLock(data, "composer.lock")
		b, _ := parseComposerInstalled(data, "installed.json")
		for _, p := range append(a, b...) {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Errorf("composer parse of %q gave incomplete %+v", data, p)
			}
		}
	})
}
