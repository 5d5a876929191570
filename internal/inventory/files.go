package inventory

import (
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
