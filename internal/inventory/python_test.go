package inventory

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestPythonRequired(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", true},
		{"usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", true},
		{"usr/lib/python2.7/wsgiref.egg-info", true},
		{"app/poetry.lock", true},
		{"poetry.lock", true},
		{"app/Pipfile.lock", true},
		{"app/requirements.txt", true},
		{"app/requirements-dev.txt", true},
		{"app/requirements_test.txt", true},
		{"usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/RECORD", false},
		{"usr/lib/python3/dist-packages/six-1.16.0.egg-info/top_level.txt", false},
		{"src/foo-1.0/PKG-INFO", false},
		{"app/METADATA", false},
		{"app/Pipfile", false},
		{"app/pyproject.toml", false},
		{"app/requirements.in", false},
		{"app/dev-requirements.txt", false},
	}
	for _, tt := range tests {
		if got := (python{}).Required(tt.path, 0o644); got != tt.want {
			t.Errorf("Required(%q) = %v; want %v", tt.path, got, tt.want)
		}
	}
}

// pyPkg builds an expected PyPI package.
func pyPkg(name, version, purl, loc string, dev bool, licenses ...string) Package {
	p := Package{
		Name: name, Version: version, Ecosystem: PyPI, Type: "python", PURL: purl,
		Locations: []Location{{Path: loc}}, Dev: dev,
	}
	if len(licenses) > 0 {
		p.Licenses = licenses
	}
	return p
}

func TestPythonCatalog(t *testing.T) {
	const (
		dist = "usr/lib/python3/dist-packages/"
		site = "usr/local/lib/python3.11/site-packages/"
	)
	tests := []struct {
		dir  string
		want []Package
	}{
		{"site", []Package{
			pyPkg("MarkupSafe", "3.0.3", "pkg:pypi/markupsafe@3.0.3", site+"markupsafe-3.0.3.dist-info/METADATA", false, "BSD-3-Clause"),
			pyPkg("PyYAML", "6.0", "pkg:pypi/pyyaml@6.0", dist+"PyYAML-6.0.dist-info/METADATA", false, "MIT"),
			pyPkg("mypy_extensions", "1.1.0", "pkg:pypi/mypy-extensions@1.1.0", site+"mypy_extensions-1.1.0.dist-info/METADATA", false, "MIT"),
			pyPkg("six", "1.16.0", "pkg:pypi/six@1.16.0", dist+"six-1.16.0.egg-info/PKG-INFO", false, "MIT"),
			// The License header holds the whole licence text; its first line is kept.
			pyPkg("traitlets", "5.15.0", "pkg:pypi/traitlets@5.15.0", site+"traitlets-5.15.0.dist-info/METADATA", false, "BSD 3-Clause License"),
			pyPkg("wsgiref", "0.1.2", "pkg:pypi/wsgiref@0.1.2", "usr/lib/python2.7/wsgiref.egg-info", false, "PSF or ZPL"),
		}},
		{"pipenv", []Package{
			pyPkg("attrs", "19.3.0", "pkg:pypi/attrs@19.3.0", "Pipfile.lock", true),
			pyPkg("importlib-metadata", "1.6.0", "pkg:pypi/importlib-metadata@1.6.0", "Pipfile.lock", true),
			pyPkg("mock", "2.0.0", "pkg:pypi/mock@2.0.0", "Pipfile.lock", true),
			pyPkg("pathlib2", "2.3.5", "pkg:pypi/pathlib2@2.3.5", "Pipfile.lock", true),
			pyPkg("pyasn1", "0.4.4", "pkg:pypi/pyasn1@0.4.4", "Pipfile.lock", false),
			pyPkg("pytest", "3.8.0", "pkg:pypi/pytest@3.8.0", "Pipfile.lock", true),
			pyPkg("six", "1.14.0", "pkg:pypi/six@1.14.0", "Pipfile.lock", true),
			pyPkg("zipp", "3.1.0", "pkg:pypi/zipp@3.1.0", "Pipfile.lock", true),
		}},
		{"poetry-1.1", []Package{
			pyPkg("pip", "22.0.4", "pkg:pypi/pip@22.0.4", "poetry.lock", true),
			pyPkg("setuptools", "47.1.0", "pkg:pypi/setuptools@47.1.0", "poetry.lock", false),
		}},
		{"poetry-2.1", []Package{
			pyPkg("pip", "24.2", "pkg:pypi/pip@24.2", "poetry.lock", true),
			pyPkg("setuptools", "67.6.1", "pkg:pypi/setuptools@67.6.1", "poetry.lock", false),
			pyPkg("wheel", "0.43.0", "pkg:pypi/wheel@0.43.0", "poetry.lock", false),
		}},
		{"pip", []Package{
			pyPkg("PyYAML", "6.0", "pkg:pypi/pyyaml@6.0", "requirements.txt", false),
			pyPkg("certifi", "2023.7.22", "pkg:pypi/certifi@2023.7.22", "requirements.txt", false),
			pyPkg("importlib-metadata", "6.7.0", "pkg:pypi/importlib-metadata@6.7.0", "requirements.txt", false),
			pyPkg("pip", "24.2", "pkg:pypi/pip@24.2", "requirements-dev.txt", false),
			pyPkg("requests", "2.31.0", "pkg:pypi/requests@2.31.0", "requirements.txt", false),
			pyPkg("setuptools", "67.6.1", "pkg:pypi/setuptools@67.6.1", "requirements-dev.txt", false),
			pyPkg("wheel", "0.43.0", "pkg:pypi/wheel@0.43.0", "requirements-dev.txt", false),
			pyPkg("zope.interface", "6.0", "pkg:pypi/zope-interface@6.0", "requirements.txt", false),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got := checkCataloger(t, python{}, os.DirFS(filepath.Join("testdata", "python", tt.dir)), nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Catalog(testdata/python/%s) mismatch (-want +got):\n%s", tt.dir, diff)
			}
		})
	}
}

func TestParseRequirement(t *testing.T) {
	tests := []struct {
		line          string
		name, version string
	}{
		{"requests==2.31.0", "requests", "2.31.0"},
		{"requests == 2.31.0", "requests", "2.31.0"},
		{"requests[socks]==2.31.0", "requests", "2.31.0"},
		{"requests [socks, security] ==2.31.0", "requests", "2.31.0"},
		{`requests==2.31.0; python_version < "3.8"`, "requests", "2.31.0"},
		{`requests==2.31.0 ;python_version<"3.8" and sys_platform == "linux"`, "requests", "2.31.0"},
		{"requests==2.31.0 --hash=sha256:abc --hash=sha256:def", "requests", "2.31.0"},
		{"Django===4.2.1", "Django", "4.2.1"},
		{"zope.interface==6.0", "zope.interface", "6.0"},
		{"requests==2.*", "", ""},
		{"requests>=2.31.0", "", ""},
		{"requests~=2.31", "", ""},
		{"requests!=2.31.0", "", ""},
		{"requests==2.31.0,<3", "", ""},
		{"requests", "", ""},
		{"requests==", "", ""},
		{"requests[socks==2.31.0", "", ""},
		{"requests @ https://example.com/requests.whl", "", ""},
		{"-r other.txt", "", ""},
		{"-e git+https://github.com/a/b#egg=b", "", ""},
		{"--index-url https://pypi.org/simple", "", ""},
		{"./local/package", "", ""},
		{"-requests==1.0", "", ""},
		{"requests-==1.0", "", ""},
	}
	for _, tt := range tests {
		name, version, ok := parseRequirement(tt.line)
		if name != tt.name || version != tt.version || ok != (tt.name != "") {
			t.Errorf("parseRequirement(%q) = %q, %q, %v; want %q, %q", tt.line, name, version, ok, tt.name, tt.version)
		}
	}
}

func TestRequirementLines(t *testing.T) {
	in := "# header\r\n" +
		"a==1.0 \\\n" +
		"    --hash=sha256:x \\\n" +
		"    --hash=sha256:y\n" +
		"    # via b\n" +
		"b==2.0#not-a-comment\n" +
		"c==3.0 # a comment\n" +
		"\n" +
		"d==4.0 \\"
	want := []string{
		"a==1.0     --hash=sha256:x     --hash=sha256:y",
		"b==2.0#not-a-comment",
		"c==3.0",
		"d==4.0",
	}
	if diff := cmp.Diff(want, requirementLines(in)); diff != "" {
		t.Errorf("requirementLines(%q) (-want +got):\n%s", in, diff)
	}
}

func TestNormalizePythonName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"PyYAML", "pyyaml"},
		{"mypy_extensions", "mypy-extensions"},
		{"zope.interface", "zope-interface"},
		{"Foo.-_Bar", "foo-bar"},
		{"a--b__c..d", "a-b-c-d"},
		{"_x_", "-x-"},
	}
	for _, tt := range tests {
		if got := normalizePythonName(tt.in); got != tt.want {
			t.Errorf("normalizePythonName(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestPythonMetadata(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // licences
	}{
		{"expression wins", "Name: a\nVersion: 1\nLicense: MIT License\nLicense-Expression: MIT\n", []string{"MIT"}},
		{"unknown", "Name: a\nVersion: 1\nLicense: UNKNOWN\n", nil},
		{"value on the next line", "Name: a\nVersion: 1\nLicense:\n        Apache-2.0\n        text\n", []string{"Apache-2.0"}},
		{"crlf", "Name: a\r\nVersion: 1\r\nLicense: MIT\r\n\r\nLicense: GPL\r\n", []string{"MIT"}},
		{"body is not read", "Name: a\nVersion: 1\n\nLicense: GPL\n", nil},
		{"first wins", "Name: a\nVersion: 1\nLicense: MIT\nLicense: GPL\n", []string{"MIT"}},
		{"case", "name: a\nVERSION: 1\nlicense: MIT\n", []string{"MIT"}},
	}
	for _, tt := range tests {
		p, err := parsePythonMetadata([]byte(tt.in), "a.egg-info")
		if err != nil {
			t.Errorf("%s: parsePythonMetadata(%q): %v", tt.name, tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, p.Licenses); diff != "" {
			t.Errorf("%s: parsePythonMetadata(%q) licences (-want +got):\n%s", tt.name, tt.in, diff)
		}
	}
}

// TestPythonBadFiles checks that files that cannot be parsed become
// FileErrors next to the packages of the good files.
func TestPythonBadFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"ok.dist-info/METADATA":             {Data: []byte("Name: ok\nVersion: 1.0\n")},
		"noversion.dist-info/METADATA":      {Data: []byte("Metadata-Version: 2.1\nName: noversion\n")},
		"body.egg-info":                     {Data: []byte("\nName: body\nVersion: 1.0\n")},
		"bad-poetry/poetry.lock":            {Data: []byte("[[package]\nname = 1\n")},
		"bad-pipenv/Pipfile.lock":           {Data: []byte(`{"default": []}`)},
		"long.dist-info/METADATA":           {Data: []byte("Name: long\n" + strings.Repeat("X-Pad: "+strings.Repeat("x", 1000)+"\n", 1100) + "Version: 1.0\n")},
		"empty/requirements.txt":            {Data: []byte("")},
		"garbage/requirements.txt":          {Data: []byte("\x00\xff==\n==1.0\n[x]==1\n")},
		"fine/requirements-prod.txt":        {Data: []byte("ok==1.0\n")},
		"fine/requirements-prod.txt.orig":   {Data: []byte("ignored==1.0\n")},
		"six-1.0.egg-info/top_level.txt":    {Data: []byte("six\n")},
		"six-1.0.egg-info/dependency_links": {Data: []byte("\n")},
	}
	got := checkCataloger(t, python{}, fsys, nil)
	want := []Package{
		pyPkg("ok", "1.0", "pkg:pypi/ok@1.0", "fine/requirements-prod.txt", false),
		pyPkg("ok", "1.0", "pkg:pypi/ok@1.0", "ok.dist-info/METADATA", false),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Catalog (-want +got):\n%s", diff)
	}
	var paths []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (python{}).Required(name, 0) {
			paths = append(paths, name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = python{}.Catalog(t.Context(), Input{FS: fsys, Paths: paths})
	fileErrs, rest := splitFileErrors(err)
	if rest != nil {
		t.Fatalf("Catalog: error that is not a *FileError: %v", rest)
	}
	var bad []string
	for _, fe := range fileErrs {
		bad = append(bad, fe.Path)
	}
	wantBad := []string{
		"bad-pipenv/Pipfile.lock", "bad-poetry/poetry.lock", "body.egg-info",
		"long.dist-info/METADATA", "noversion.dist-info/METADATA",
	}
	if diff := cmp.Diff(wantBad, bad); diff != "" {
		t.Errorf("Catalog file errors (-want +got):\n%s", diff)
	}
}

// pythonFuzzSeeds adds the files under testdata/python that keep accepts to
// the fuzz corpus.
func pythonFuzzSeeds(f *testing.F, keep func(name string) bool) {
	f.Helper()
	err := fs.WalkDir(os.DirFS("testdata/python"), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !keep(name) {
			return err
		}
		data, err := os.ReadFile(filepath.Join("testdata/python", name))
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

func FuzzPythonMetadata(f *testing.F) {
	pythonFuzzSeeds(f, func(name string) bool {
		b := filepath.Base(name)
		return b == "METADATA" || b == "PKG-INFO" || strings.HasSuffix(b, ".egg-info")
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePythonMetadata(data, "a.dist-info/METADATA")
		if err != nil {
			return
		}
		checkParsed(t, []Package{p}, "a.dist-info/METADATA")
	})
}

func FuzzRequirements(f *testing.F) {
	pythonFuzzSeeds(f, func(name string) bool { return strings.HasSuffix(name, ".txt") })
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs := parseRequirements(data, "requirements.txt")
		checkParsed(t, pkgs, "requirements.txt")
		for _, p := range pkgs {
			if !validPythonName(p.Name) || strings.ContainsAny(p.Version, " \t,;*") {
				t.Fatalf("parseRequirements(%q) gave %s %q", data, p.Name, p.Version)
			}
		}
	})
}

func FuzzPoetryLock(f *testing.F) {
	pythonFuzzSeeds(f, func(name string) bool { return filepath.Base(name) == "poetry.lock" })
	f.Add([]byte("[[package]]\nname = \"a\"\nversion = \"1\"\ngroups = [\"dev\"]\n[package.source]\ntype = \"git\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parsePoetryLock(data, "poetry.lock")
		checkParsed(t, pkgs, "poetry.lock")
	})
}

func FuzzPipfileLock(f *testing.F) {
	pythonFuzzSeeds(f, func(name string) bool { return filepath.Base(name) == "Pipfile.lock" })
	f.Add([]byte(`{"default":{"a":{"version":"==1.0"},"b":{"editable":true}},"develop":{"c":{"version":"===2"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parsePipfileLock(data, "Pipfile.lock")
		checkParsed(t, pkgs, "Pipfile.lock")
	})
}
