//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package vulndb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockCache takes an exclusive lock on the file "lock" in dir, so that two
// updates never write the same cached files. It fails at once with ErrBusy
// when another process holds it. The lock ends with unlock or the process.
func lockCache(dir string) (unlock func(), err error) {
	p := filepath.Join(dir, "lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock download cache: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked", ErrBusy, p)
		}
		return nil, fmt.Errorf("lock download cache %s: %w", p, err)
	}
	return func() { f.Close() }, nil
}
