package inventory

import (
	"context"
	"fmt"
	"io/fs"
)

// Cataloger finds packages of one kind.
//
// Required is the cheap check: it sees every regular file's slash-separated
// path (no leading slash) and mode before anything is read, and says whether
// Catalog needs that file. Catalog then parses exactly those files. A
// cataloger keeps no state between calls and must be safe for concurrent use.
type Cataloger interface {
	// Name is the cataloger's stable name ("dpkg", "npm"), used in
	// --catalogers and in problem reports.
	Name() string
	// Required reports whether the regular file at path is one that Catalog
	// reads.
	Required(path string, mode fs.FileMode) bool
	// Catalog parses the files in in.Paths. A file that cannot be parsed is
	// reported as a *FileError joined into the returned error, next to the
	// packages found in the other files; any other error (a cancelled context)
	// aborts the scan.
	Catalog(ctx context.Context, in Input) ([]Package, error)
}

// Input is what a cataloger reads.
type Input struct {
	// FS is the whole filesystem, read-only. Paths are slash-separated and
	// relative to the root; symbolic links resolve inside the root.
	FS fs.FS
	// Paths are the regular files that the cataloger's Required accepted,
	// sorted.
	Paths []string
	// Distro is the operating system, or nil when none was identified.
	Distro *Distro
}

// Catalogers returns the catalogers a scan runs unless the caller picks
// others, in the order their packages are reported.
func Catalogers() []Cataloger {
	return []Cataloger{
		dpkg{},
		apk{},
		rpm{},
		goBinary{},
		npm{},
		python{},
		java{},
		ruby{},
		rust{},
		php{},
		dotnet{},
	}
}

// FileError is a file that a cataloger could not parse. It does not stop the
// scan: the engine reports it as a problem.
type FileError struct {
	// Cataloger is the name of the cataloger that read the file.
	Cataloger string
	// Path is the file, as in [Location.Path].
	Path string
	// Err says what is wrong with the file.
	Err error
}

// Error implements error.
func (e *FileError) Error() string {
	if e.Cataloger == "" {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Cataloger, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }
