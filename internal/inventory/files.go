package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// maxManifest bounds the size of a text database or manifest (a dpkg status
// file, a lock file, a METADATA file) that a cataloger reads whole. The
// filesystem may enforce a lower limit of its own.
const maxManifest = 256 << 20

// readFile reads the whole file at name, refusing files larger than max
// bytes. The error names the file.
func readFile(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	if info.Size() > max {
		return nil, fmt.Errorf("read %s: %d bytes is more than the limit of %d", name, info.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("read %s: more than the limit of %d bytes", name, max)
	}
	return data, nil
}

// eachFile runs catalog on every path of in, in order, and collects what
// it finds, keeping the packages of the other files when one fails. An
// error from catalog becomes a *FileError naming the cataloger and path
// (errors that already are file errors are kept as they are); a done
// context stops the loop and is returned as is.
func eachFile(ctx context.Context, in Input, cataloger string, catalog func(name string) ([]Package, error)) ([]Package, error) {
	var (
		pkgs []Package
		errs []error
	)
	for _, name := range in.Paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		found, err := catalogSafely(catalog, name)
		pkgs = append(pkgs, found...)
		if err == nil {
			continue
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		if files, rest := splitFileErrors(err); rest == nil && len(files) > 0 {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, &FileError{Cataloger: cataloger, Path: name, Err: err})
	}
	return pkgs, errors.Join(errs...)
}

// catalogSafely runs catalog on one file and turns a panic into an error:
// the standard library's debug/elf, debug/pe and debug/buildinfo, which the
// binary catalogers use on every executable of an image, are not hardened
// against hostile input, and one file must not end the scan.
func catalogSafely(catalog func(name string) ([]Package, error), name string) (pkgs []Package, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkgs, err = nil, fmt.Errorf("parser panic: %v", r)
		}
	}()
	return catalog(name)
}

// eachManifest is eachFile for catalogers that read each file whole (up to
// maxManifest bytes) and parse the bytes.
func eachManifest(ctx context.Context, in Input, cataloger string, parse func(data []byte, name string) ([]Package, error)) ([]Package, error) {
	return eachFile(ctx, in, cataloger, func(name string) ([]Package, error) {
		data, err := readFile(in.FS, name, maxManifest)
		if err != nil {
			return nil, err
		}
		return parse(data, name)
	})
}
