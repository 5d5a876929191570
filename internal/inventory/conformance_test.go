package inventory

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// checkCataloger is the conformance check every cataloger test runs on its
// testdata: it offers every regular file of fsys to Required, runs Catalog
// twice on the accepted files, and checks that
//   - both runs give the same packages in the same order (determinism);
//   - every package has a name, a version, an ecosystem, a type and a purl;
//   - every location path names a file Required accepted (the cheap check
//     agrees with what Catalog parses), or a file inside such a file ("!").
//
// It returns the packages of the first run, sorted with Sort.
func checkCataloger(t *testing.T, c Cataloger, fsys fs.FS, distro *Distro) []Package {
	t.Helper()
	var paths []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if c.Required(name, info.Mode()) {
			paths = append(paths, name)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	slices.Sort(paths)
	in := Input{FS: fsys, Paths: paths, Distro: distro}
	first, err1 := c.Catalog(context.Background(), in)
	second, err2 := c.Catalog(context.Background(), in)
	if (err1 == nil) != (err2 == nil) {
		t.Errorf("%s: errors differ between runs: %v, then %v", c.Name(), err1, err2)
	}
	if err1 != nil {
		if _, rest := splitFileErrors(err1); rest != nil {
			t.Fatalf("%s.Catalog: %v", c.Name(), rest)
		}
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("%s.Catalog is not deterministic (-first +second):\n%s", c.Name(), diff)
	}
	accepted := map[string]bool{}
	for _, p := range paths {
		accepted[p] = true
	}
	for _, p := range first {
		if p.Name == "" || p.Version == "" || p.Ecosystem == "" || p.Type == "" || p.PURL == "" {
			t.Errorf("%s: incomplete package %+v", c.Name(), p)
		}
		if len(p.Locations) == 0 {
			t.Errorf("%s: package %s@%s has no location", c.Name(), p.Name, p.Version)
		}
		for _, l := range p.Locations {
			if !accepted[outerPath(l.Path)] {
				t.Errorf("%s: package %s@%s located at %q, which Required did not accept", c.Name(), p.Name, p.Version, l.Path)
			}
		}
	}
	Sort(first)
	return first
}

// checkMalformed runs c on one file holding data and checks that the file
// is reported as a *FileError naming it, while the packages the rest of the
// file yields (want) are still returned.
func checkMalformed(t *testing.T, c Cataloger, file, data string, want []Package) {
	t.Helper()
	fsys := fstest.MapFS{file: {Data: []byte(data)}}
	got, err := c.Catalog(t.Context(), Input{FS: fsys, Paths: []string{file}})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != file {
		t.Errorf("%s.Catalog(%q) error = %v; want a *FileError for %s", c.Name(), data, err, file)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s.Catalog(%q) (-want +got):\n%s", c.Name(), data, diff)
	}
}
