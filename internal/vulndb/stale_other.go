//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package vulndb

// removeStale does nothing where flock is not available: a temporary file
// cannot be told from one a live build is writing.
func removeStale(dir, base string) {}
