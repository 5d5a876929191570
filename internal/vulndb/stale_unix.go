//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package vulndb

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// removeStale deletes the temporary files that killed builds of base left
// in dir. A live build holds an exclusive lock on its file (bbolt's flock),
// so a file whose lock can be taken belongs to no one.
func removeStale(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), base+tempInfix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.Remove(p)
		}
		f.Close()
	}
}
