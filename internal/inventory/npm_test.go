package inventory

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestNPMRequired(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"app/package-lock.json", true},
		{"package-lock.json", true},
		{"app/npm-shrinkwrap.json", true},
		{"srv/yarn.lock", true},
		{"srv/pnpm-lock.yaml", true},
		{"app/node_modules/ms/package.json", true},
		{"node_modules/ms/package.json", true},
		{"app/node_modules/@isaacs/string-locale-compare/package.json", true},
		{"app/node_modules/debug/node_modules/ms/package.json", true},
		{"app/node_modules/.pnpm/ms@2.1.3/node_modules/ms/package.json", true},
		// The project itself, and package.json files that are not package roots.
		{"app/package.json", false},
		{"package.json", false},
		{"app/node_modules/package.json", false},
		{"app/node_modules/@isaacs/package.json", false},
		{"app/node_modules/tslib/modules/package.json", false},
		{"app/node_modules/.bin/package.json", false},
		{"app/node_modules/@a/@b/package.json", false},
		// Lock files that come with an installed package.
		{"app/node_modules/ms/package-lock.json", false},
		{"node_modules/ms/yarn.lock", false},
		{"app/node_modules/.package-lock.json", false},
		{"app/packages/lib/node_modules/x/pnpm-lock.yaml", false},
		{"app/yarn.lock.bak", false},
		{"app/Package.json", false},
	}
	for _, tt := range tests {
		if got := (npm{}).Required(tt.path, 0o644); got != tt.want {
			t.Errorf("Required(%q) = %v; want %v", tt.path, got, tt.want)
		}
	}
}

// npmResolved is one package of the fixture project (testdata/npm/*/package.json:
// a scoped package, an alias ms-old → ms@2.0.0, a nested ms@2.0.0 under
// debug, a dev dependency, a peer dependency and a workspace package that must
// not be reported).
type npmResolved struct {
	name, version, purl, license string
	dev                          bool
}

var npmProject = []npmResolved{
	{"@isaacs/string-locale-compare", "1.1.0", "pkg:npm/%40isaacs/string-locale-compare@1.1.0", "ISC", false},
	{"debug", "2.6.9", "pkg:npm/debug@2.6.9", "MIT", false},
	{"is-number", "7.0.0", "pkg:npm/is-number@7.0.0", "MIT", true},
	{"js-tokens", "4.0.0", "pkg:npm/js-tokens@4.0.0", "MIT", false},
	{"loose-envify", "1.4.0", "pkg:npm/loose-envify@1.4.0", "MIT", false},
	{"ms", "2.0.0", "pkg:npm/ms@2.0.0", "MIT", false},
	{"ms", "2.1.3", "pkg:npm/ms@2.1.3", "MIT", false},
	{"react", "18.3.1", "pkg:npm/react@18.3.1", "MIT", false},
	{"tslib", "2.8.1", "pkg:npm/tslib@2.8.1", "0BSD", false},
	{"use-sync-external-store", "1.2.0", "pkg:npm/use-sync-external-store@1.2.0", "MIT", false},
}

// npmFromLock is what a lock file of the fixture project at loc should give;
// dev and licenses say whether the format records them.
func npmFromLock(loc string, dev, licenses bool) []Package {
	var out []Package
	for _, r := range npmProject {
		p := Package{
			Name: r.name, Version: r.version, Ecosystem: NPM, Type: "npm", PURL: r.purl,
			Locations: []Location{{Path: loc}}, Dev: dev && r.dev,
		}
		if licenses {
			p.Licenses = []string{r.license}
		}
		out = append(out, p)
	}
	return out
}

func TestNPMCatalog(t *testing.T) {
	installed := func(dir string, r npmResolved) Package {
		return Package{
			Name: r.name, Version: r.version, Ecosystem: NPM, Type: "npm", PURL: r.purl,
			Licenses:  []string{r.license},
			Locations: []Location{{Path: dir + "/package.json"}},
		}
	}
	p := npmProject
	tests := []struct {
		dir  string
		want []Package
	}{
		{"lock-v1", npmFromLock("package-lock.json", true, false)},
		{"lock-v2", npmFromLock("package-lock.json", true, true)},
		{"lock-v3", npmFromLock("package-lock.json", true, true)},
		{"yarn-v1", npmFromLock("yarn.lock", false, false)},
		{"yarn-berry", npmFromLock("yarn.lock", false, false)},
		{"pnpm-v5", npmFromLock("pnpm-lock.yaml", true, false)},
		{"pnpm-v6", npmFromLock("pnpm-lock.yaml", true, false)},
		{"pnpm-v9", npmFromLock("pnpm-lock.yaml", true, false)},
		{"shrinkwrap", []Package{
			{Name: "is-number", Version: "7.0.0", Ecosystem: NPM, Type: "npm", PURL: "pkg:npm/is-number@7.0.0",
				Licenses: []string{"MIT"}, Locations: []Location{{Path: "npm-shrinkwrap.json"}}},
			{Name: "ms", Version: "2.1.3", Ecosystem: NPM, Type: "npm", PURL: "pkg:npm/ms@2.1.3",
				Licenses: []string{"MIT"}, Locations: []Location{{Path: "npm-shrinkwrap.json"}}, Dev: true},
		}},
		// The tree npm installed for lock-v3: every package root, the alias
		// under its real name, and neither the project, the workspace package,
		// tslib/modules/package.json nor node_modules/.package-lock.json.
		{"installed", []Package{
			installed("node_modules/@isaacs/string-locale-compare", p[0]),
			installed("node_modules/debug", p[1]),
			installed("node_modules/is-number", p[2]),
			installed("node_modules/js-tokens", p[3]),
			installed("node_modules/loose-envify", p[4]),
			installed("node_modules/debug/node_modules/ms", p[5]),
			installed("node_modules/ms-old", p[5]),
			installed("node_modules/ms", p[6]),
			installed("node_modules/react", p[7]),
			installed("node_modules/tslib", p[8]),
			installed("node_modules/use-sync-external-store", p[9]),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got := checkCataloger(t, npm{}, os.DirFS(filepath.Join("testdata", "npm", tt.dir)), nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Catalog(testdata/npm/%s) mismatch (-want +got):\n%s", tt.dir, diff)
			}
		})
	}
}

func TestNPMLicenses(t *testing.T) {
	tests := []struct {
		json string
		want []string
	}{
		{`{"name":"a","version":"1.0.0","license":"(MIT OR Apache-2.0)"}`, []string{"(MIT OR Apache-2.0)"}},
		{`{"name":"a","version":"1.0.0","license":{"type":"BSD-3-Clause","url":"https://x"}}`, []string{"BSD-3-Clause"}},
		{`{"name":"a","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"GPL-2.0"},"MIT"]}`, []string{"MIT", "GPL-2.0"}},
		{`{"name":"a","version":"1.0.0","license":42}`, nil},
		{`{"name":"a","version":"1.0.0"}`, nil},
	}
	for _, tt := range tests {
		p, err := parsePackageJSON([]byte(tt.json), "node_modules/a/package.json")
		if err != nil || p == nil {
			t.Fatalf("parsePackageJSON(%q) = %v, %v; want a package", tt.json, p, err)
		}
		if diff := cmp.Diff(tt.want, p.Licenses); diff != "" {
			t.Errorf("parsePackageJSON(%q) licenses (-want +got):\n%s", tt.json, diff)
		}
	}
}

// TestNPMBadFiles checks that files that cannot be parsed become FileErrors
// next to the packages of the good files, and that files that describe no
// package are skipped silently.
func TestNPMBadFiles(t *testing.T) {
	good, err := os.ReadFile("testdata/npm/shrinkwrap/npm-shrinkwrap.json")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"ok/npm-shrinkwrap.json":                    {Data: good},
		"bad-json/package-lock.json":                {Data: []byte(`{"packages": [`)},
		"bad-yarn/yarn.lock":                        {Data: []byte("# yarn lockfile v1\n\nnot an entry\n")},
		"no-version-yarn/yarn.lock":                 {Data: []byte("a@^1:\n  resolved \"x\"\n")},
		"bad-berry/yarn.lock":                       {Data: []byte("__metadata:\n  version: 8\n\"a@npm:1\": [\n")},
		"bad-pnpm/pnpm-lock.yaml":                   {Data: []byte("lockfileVersion: 4\n")},
		"no-version-pnpm/pnpm-lock.yaml":            {Data: []byte("packages: {}\n")},
		"app/node_modules/broken/package.json":      {Data: []byte(`{"name": "broken",`)},
		"app/node_modules/stub/package.json":        {Data: []byte(`{"name": "stub"}`)},
		"app/node_modules/@s/nameless/package.json": {Data: []byte(`{"version": "1.0.0"}`)},
	}
	got := checkCataloger(t, npm{}, fsys, nil)
	if len(got) != 2 || got[0].Name != "is-number" || got[1].Name != "ms" {
		t.Errorf("Catalog = %+v; want the two packages of ok/npm-shrinkwrap.json", got)
	}
	paths := []string{
		"app/node_modules/@s/nameless/package.json", "app/node_modules/broken/package.json",
		"app/node_modules/stub/package.json", "bad-berry/yarn.lock", "bad-json/package-lock.json",
		"bad-pnpm/pnpm-lock.yaml", "bad-yarn/yarn.lock", "no-version-pnpm/pnpm-lock.yaml",
		"no-version-yarn/yarn.lock", "ok/npm-shrinkwrap.json",
	}
	_, err = npm{}.Catalog(t.Context(), Input{FS: fsys, Paths: paths})
	fileErrs, rest := splitFileErrors(err)
	if rest != nil {
		t.Fatalf("Catalog: error that is not a *FileError: %v", rest)
	}
	var bad []string
	for _, fe := range fileErrs {
		if fe.Cataloger != "npm" {
			t.Errorf("FileError %v: Cataloger = %q; want npm", fe, fe.Cataloger)
		}
		bad = append(bad, fe.Path)
	}
	want := []string{
		"app/node_modules/broken/package.json", "bad-berry/yarn.lock", "bad-json/package-lock.json",
		"bad-pnpm/pnpm-lock.yaml", "bad-yarn/yarn.lock", "no-version-pnpm/pnpm-lock.yaml",
		"no-version-yarn/yarn.lock",
	}
	if diff := cmp.Diff(want, bad); diff != "" {
		t.Errorf("Catalog file errors (-want +got):\n%s", diff)
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Errorf("Catalog error %v is not a *FileError", err)
	}
}

// TestNPMYAMLLockTooLarge: a YAML lock file over maxYAMLLock is refused
// before yaml.v3 builds its node tree, even when it is valid (here, a
// small lock padded with a comment).
func TestNPMYAMLLockTooLarge(t *testing.T) {
	pad := func(head string) []byte {
		data := []byte(head + "# ")
		data = append(data, bytes.Repeat([]byte("x"), maxYAMLLock+1-len(data))...)
		return data
	}
	for _, tc := range []struct {
		name  string
		parse func([]byte, string) ([]Package, error)
		data  []byte
	}{
		{"pnpm-lock.yaml", parsePnpmLock, pad("lockfileVersion: '9.0'\n")},
		{"yarn.lock", parseYarnLock, pad("__metadata:\n  version: 8\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkgs, err := tc.parse(tc.data, tc.name)
			if !errors.Is(err, errYAMLLockTooLarge) {
				t.Errorf("parse %s of %d bytes = %d packages, %v; want %v", tc.name, len(tc.data), len(pkgs), err, errYAMLLockTooLarge)
			}
			// Not over the limit, the same lock is read.
			if _, err := tc.parse(tc.data[:1024], tc.name); err != nil {
				t.Errorf("parse %s of 1024 bytes: %v", tc.name, err)
			}
		})
	}
}

func TestNPMCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := npm{}.Catalog(ctx, Input{FS: os.DirFS("testdata/npm/lock-v3"), Paths: []string{"package-lock.json"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Catalog with a cancelled context = %v; want %v", err, context.Canceled)
	}
}

func TestPnpmSplitKey(t *testing.T) {
	tests := []struct {
		key           string
		major         int
		name, version string
	}{
		{"/ms/2.1.3", 5, "ms", "2.1.3"},
		{"/@isaacs/string-locale-compare/1.1.0", 5, "@isaacs/string-locale-compare", "1.1.0"},
		{"/use-sync-external-store/1.2.0_react@18.3.1", 5, "use-sync-external-store", "1.2.0"},
		{"/@a/b/1.0.0_@types+react@18.0.0+react@18.3.1", 5, "@a/b", "1.0.0"},
		{"github.com/user/repo/0123abc", 5, "", ""},
		{"/@a", 5, "", ""},
		{"/ms@2.1.3", 6, "ms", "2.1.3"},
		{"/@isaacs/string-locale-compare@1.1.0", 6, "@isaacs/string-locale-compare", "1.1.0"},
		{"/use-sync-external-store@1.2.0(react@18.3.1)", 6, "use-sync-external-store", "1.2.0"},
		{"/a@1.0.0(@types/react@18.0.0)(react@18.3.1)", 6, "a", "1.0.0"},
		{"registry.example.com/a@1.0.0", 6, "", ""},
		{"ms@2.1.3", 9, "ms", "2.1.3"},
		{"@isaacs/string-locale-compare@1.1.0", 9, "@isaacs/string-locale-compare", "1.1.0"},
		{"use-sync-external-store@1.2.0(react@18.3.1)", 9, "use-sync-external-store", "1.2.0"},
	}
	for _, tt := range tests {
		name, version := pnpmSplitKey(tt.key, tt.major)
		if name != tt.name || version != tt.version {
			t.Errorf("pnpmSplitKey(%q, %d) = %q, %q; want %q, %q", tt.key, tt.major, name, version, tt.name, tt.version)
		}
	}
}

// npmFuzzSeeds adds the files under testdata/npm whose base name is base to
// the fuzz corpus.
func npmFuzzSeeds(f *testing.F, base string) {
	f.Helper()
	err := fs.WalkDir(os.DirFS("testdata/npm"), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(name) != base {
			return err
		}
		data, err := os.ReadFile(filepath.Join("testdata/npm", name))
		if err != nil {
			return err
		}
		f.Add(data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// checkParsed is the property every fuzzed parser must keep: complete
// packages located at the parsed file.
func checkParsed(t *testing.T, pkgs []Package, location string) {
	t.Helper()
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.PURL == "" || len(p.Locations) != 1 || p.Locations[0].Path != location {
			t.Fatalf("incomplete package %+v", p)
		}
	}
}

func FuzzPackageLock(f *testing.F) {
	npmFuzzSeeds(f, "package-lock.json")
	npmFuzzSeeds(f, "npm-shrinkwrap.json")
	f.Add([]byte(`{"lockfileVersion":1,"dependencies":{"a":{"version":"npm:@s/b@1.0.0","dependencies":{"c":{"version":"2.0.0","dev":true}}}}}`))
	f.Add([]byte(`{"packages":{"":{},"node_modules/@s/a":{"version":"1.0.0","license":{"type":"MIT"}},"x":{"version":"1"},"node_modules/l":{"link":true}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := parsePackageLock(data, "package-lock.json")
		if err != nil {
			return
		}
		checkParsed(t, pkgs, "package-lock.json")
	})
}

func FuzzYarnLock(f *testing.F) {
	npmFuzzSeeds(f, "yarn.lock")
	f.Add([]byte("a@^1, \"a@npm:b@1\":\n  version \"1.0.0\"\n\nc@file:x:\n  version 2\n"))
	f.Add([]byte("__metadata:\n  version: 8\n\"r@patch:r@npm%3A1#x\":\n  version: 1.0.0\n  resolution: \"r@patch:r@npm%3A1#x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parseYarnLock(data, "yarn.lock")
		checkParsed(t, pkgs, "yarn.lock")
	})
}

func FuzzPnpmLock(f *testing.F) {
	npmFuzzSeeds(f, "pnpm-lock.yaml")
	f.Add([]byte("lockfileVersion: 5.3\npackages:\n  /@s/a/1.0.0_b@2.0.0:\n    dev: true\n"))
	f.Add([]byte("lockfileVersion: '6.0'\npackages:\n  /a@1.0.0(b@2.0.0):\n    dev: false\n  git.host/x/y:\n    name: y\n    version: 1.0.0\n"))
	f.Add([]byte("lockfileVersion: '9.0'\nimporters:\n  .:\n    devDependencies:\n      a:\n        version: 1.0.0(b@2.0.0)\npackages:\n  a@1.0.0: {}\n  b@2.0.0: {}\nsnapshots:\n  a@1.0.0(b@2.0.0):\n    dependencies:\n      b: 2.0.0\n  b@2.0.0: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parsePnpmLock(data, "pnpm-lock.yaml")
		checkParsed(t, pkgs, "pnpm-lock.yaml")
	})
}

func FuzzPackageJSON(f *testing.F) {
	npmFuzzSeeds(f, "package.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePackageJSON(data, "node_modules/a/package.json")
		if err != nil || p == nil {
			return
		}
		checkParsed(t, []Package{*p}, "node_modules/a/package.json")
	})
}
