package inventory

import (
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// nugetWant is an expected NuGet package.
func nugetWant(name, version, location string) Package {
	return Package{
		Name: name, Version: version, Ecosystem: NuGet, Type: "dotnet",
		PURL: "pkg:nuget/" + name + "@" + version, Locations: []Location{{Path: location}},
	}
}

func TestDotnetCatalog(t *testing.T) {
	const (
		webapi = "app/WebApi.deps.json"
		worker = "opt/worker/Worker.deps.json"
		lock   = "src/WebApi/packages.lock.json"
	)
	tests := []struct {
		name string
		fsys fs.FS
		want []Package
	}{
		{
			name: "deps.json files and a NuGet lock file",
			fsys: os.DirFS("testdata/dotnet"),
			want: []Package{
				nugetWant("Microsoft.Data.SqlClient", "5.1.1", worker),
				nugetWant("Microsoft.NETCore.App.Runtime.linux-x64", "6.0.25", worker),
				nugetWant("Newtonsoft.Json", "13.0.3", webapi),
				nugetWant("Newtonsoft.Json", "13.0.3", lock),
				nugetWant("Serilog", "3.1.1", webapi),
				nugetWant("Serilog", "3.1.1", lock),
				nugetWant("Serilog.Sinks.Console", "5.0.1", webapi),
				nugetWant("Serilog.Sinks.Console", "5.0.1", lock),
				nugetWant("System.Text.Json", "8.0.4", lock),
				nugetWant("runtime.unix.System.Private.Uri", "4.3.0", lock),
			},
		},
		{
			name: "byte order mark",
			fsys: fstest.MapFS{
				"App.deps.json": {Data: []byte("\xEF\xBB\xBF" + `{"libraries": {"Dapper/2.1.35": {"type": "package"}, "App/1.0.0": {"type": "project"}}}`)},
			},
			want: []Package{nugetWant("Dapper", "2.1.35", "App.deps.json")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkCataloger(t, dotnet{}, tt.fsys, nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("dotnet.Catalog (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDotnetRequired(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"app/WebApi.deps.json", true},
		{"WebApi.deps.json", true},
		{"src/WebApi/packages.lock.json", true},
		{"app/.deps.json", false},
		{"app/WebApi.runtimeconfig.json", false},
		{"app/WebApi.dll", false},
		{"node_modules/x/package-lock.json", false},
	}
	for _, tt := range tests {
		if got := (dotnet{}).Required(tt.path, 0o644); got != tt.want {
			t.Errorf("dotnet.Required(%q) = %v; want %v", tt.path, got, tt.want)
		}
	}
}

func TestDotnetBadFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		data string
		want []Package
	}{
		{name: "not JSON", file: "A.deps.json", data: "{"},
		{name: "no libraries", file: "A.deps.json", data: `{"targets": {}}`},
		{name: "lock without dependencies", file: "packages.lock.json", data: `{"version": 1}`},
		{
			name: "key without version",
			file: "A.deps.json",
			data: `{"libraries": {"Broken": {"type": "package"}, "Ok/1.0.0": {"type": "package"}}}`,
			want: []Package{nugetWant("Ok", "1.0.0", "A.deps.json")},
		},
		{
			name: "lock entry without resolved version",
			file: "packages.lock.json",
			data: `{"version": 1, "dependencies": {"net8.0": {"A": {"type": "Direct"}, "B": {"type": "Transitive", "resolved": "2.0.0"}}}}`,
			want: []Package{nugetWant("B", "2.0.0", "packages.lock.json")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMalformed(t, dotnet{}, tt.file, tt.data, tt.want)
		})
	}
}

func FuzzDepsJSON(f *testing.F) {
	for _, name := range []string{
		"testdata/dotnet/app/WebApi.deps.json",
		"testdata/dotnet/opt/worker/Worker.deps.json",
	} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parseDepsJSON(data, "A.deps.json")
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Errorf("parseDepsJSON(%q) gave incomplete %+v", data, p)
			}
		}
	})
}

func FuzzNuGetLock(f *testing.F) {
	data, err := os.ReadFile("testdata/dotnet/src/WebApi/packages.lock.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := parseNuGetLock(data, "packages.lock.json")
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Errorf("parseNuGetLock(%q) gave incomplete %+v", data, p)
			}
		}
	})
}
