package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Result is the inventory of one filesystem.
type Result struct {
	// Distro is the operating system, or nil when none was identified.
	Distro *Distro `json:"distro,omitempty"`
	// Packages are sorted with [Sort].
	Packages []Package `json:"packages"`
	// Problems are files that could not be read or parsed; the scan went on
	// without them. They are sorted by cataloger, then path.
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is a file a cataloger, or the distro detection, could not read or
// parse.
type Problem struct {
	// Cataloger is the name of the cataloger that read the file, or
	// "distro" for a release file [DetectDistro] could not read.
	Cataloger string `json:"cataloger"`
	// Path is the file, as in [Location.Path].
	Path string `json:"path"`
	// Message says what is wrong with the file.
	Message string `json:"message"`
}

// layerer is the optional capability of a filesystem that knows which image
// layer holds a file (image.FS has it).
type layerer interface {
	Layer(name string) string
}

// Wants returns the union of the catalogers' Required checks plus the files
// [DetectDistro] reads, for a filesystem that prefetches what will be read.
func Wants(cats []Cataloger) func(name string, mode fs.FileMode) bool {
	return func(name string, mode fs.FileMode) bool {
		if distroFiles[name] {
			return true
		}
		for _, c := range cats {
			if c.Required(name, mode) {
				return true
			}
		}
		return false
	}
}

// Run catalogs fsys with cats. It walks the tree once, detects the distro,
// gives each cataloger the files it asked for, and runs the catalogers
// concurrently. It returns an error when the walk fails or a cataloger fails
// for a reason other than a bad file (see [FileError]); bad files, and
// release files [DetectDistro] could not read, become [Result.Problems].
func Run(ctx context.Context, fsys fs.FS, cats []Cataloger) (*Result, error) {
	paths := make([][]string, len(cats))
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", name, err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", name, err)
		}
		for i, c := range cats {
			if c.Required(name, info.Mode()) {
				paths[i] = append(paths[i], name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// An unreadable release file is the image's doing, not a failure of the
	// scan: DetectDistro returns it as a *FileError beside the distro the
	// other files gave.
	distro, err := DetectDistro(fsys)
	distroErrs, rest := splitFileErrors(err)
	if rest != nil {
		return nil, fmt.Errorf("detect distro: %w", rest)
	}
	var problems []Problem
	for _, fe := range distroErrs {
		problems = append(problems, Problem{Cataloger: fe.Cataloger, Path: fe.Path, Message: fe.Err.Error()})
	}

	found := make([][]Package, len(cats))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, c := range cats {
		if len(paths[i]) == 0 {
			continue
		}
		g.Go(func() error { // ends when the cataloger returns
			slices.Sort(paths[i])
			pkgs, err := c.Catalog(gctx, Input{FS: fsys, Paths: paths[i], Distro: distro})
			fileErrs, rest := splitFileErrors(err)
			if rest != nil {
				return fmt.Errorf("catalog %s: %w", c.Name(), rest)
			}
			found[i] = pkgs
			mu.Lock()
			defer mu.Unlock()
			for _, fe := range fileErrs {
				problems = append(problems, Problem{
					Cataloger: c.Name(), Path: fe.Path, Message: fe.Err.Error(),
				})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	res := &Result{Distro: distro, Problems: problems}
	l, _ := fsys.(layerer)
	for _, pkgs := range found {
		for _, p := range pkgs {
			if l != nil {
				for j := range p.Locations {
					if p.Locations[j].Layer == "" {
						p.Locations[j].Layer = l.Layer(outerPath(p.Locations[j].Path))
					}
				}
			}
			res.Packages = append(res.Packages, p)
		}
	}
	Sort(res.Packages)
	slices.SortFunc(res.Problems, func(a, b Problem) int {
		if a.Cataloger != b.Cataloger {
			if a.Cataloger < b.Cataloger {
				return -1
			}
			return 1
		}
		switch {
		case a.Path < b.Path:
			return -1
		case a.Path > b.Path:
			return 1
		}
		return 0
	})
	if res.Packages == nil {
		res.Packages = []Package{}
	}
	return res, nil
}

// outerPath strips the archive-inner part of a location path
// ("app.war!WEB-INF/lib/x.jar" gives "app.war").
func outerPath(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '!' {
			return p[:i]
		}
	}
	return p
}

// splitFileErrors separates the *FileError values in a (possibly joined)
// error from everything else.
func splitFileErrors(err error) ([]*FileError, error) {
	if err == nil {
		return nil, nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var (
		files []*FileError
		rest  []error
	)
	for _, e := range errs {
		var fe *FileError
		if errors.As(e, &fe) && !errors.Is(e, context.Canceled) && !errors.Is(e, context.DeadlineExceeded) {
			files = append(files, fe)
			continue
		}
		if sub, ok := e.(interface{ Unwrap() []error }); ok {
			f, r := splitFileErrors(errors.Join(sub.Unwrap()...))
			files = append(files, f...)
			if r != nil {
				rest = append(rest, r)
			}
			continue
		}
		rest = append(rest, e)
	}
	return files, errors.Join(rest...)
}
