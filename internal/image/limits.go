package image

import (
	"errors"
	"fmt"
)

// Default limits; each can be changed with a flag of the commands that open
// images.
const (
	// DefaultMaxEntries is the most tar entries read across all layers.
	DefaultMaxEntries = 1_000_000
	// DefaultMaxFileSize is the largest file a reader may open (512 MiB).
	DefaultMaxFileSize = 512 << 20
	// DefaultMaxTotalBytes is the most uncompressed layer bytes read while
	// opening an image and reading its files (16 GiB).
	DefaultMaxTotalBytes = 16 << 30
)

// Limits bound the work and memory spent on one image. A zero field takes
// its default.
type Limits struct {
	// MaxEntries is the most tar entries across all layers, or the most
	// entries walked in a directory source.
	MaxEntries int
	// MaxFileSize is the largest file that may be opened for reading.
	MaxFileSize int64
	// MaxTotalBytes is the most uncompressed bytes read from layers.
	MaxTotalBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	return l
}

// ErrLimit is wrapped by every *LimitError.
var ErrLimit = errors.New("limit exceeded")

// ErrUnsafePath means a layer entry, hard link or whiteout names a path
// outside the image root.
var ErrUnsafePath = errors.New("path escapes the image root")

// LimitError reports which limit was hit. It wraps [ErrLimit].
type LimitError struct {
	// Limit is the name of the flag that raises the limit
	// ("max-entries", "max-file-size", "max-total-bytes").
	Limit string
	// Max is the limit's value.
	Max int64
	// What says what exceeded it.
	What string
}

// Error implements error.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%s exceeds the limit of %d (raise it with --%s)", e.What, e.Max, e.Limit)
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }
