package image

import (
	"errors"
	"io"
	"sync"
)

// readahead reads its source in a goroutine of its own, a few chunks ahead
// of the consumer, so that decompressing and hashing a layer (the
// producer) runs on one core while walking the tar and keeping wanted
// files (the consumer) runs on another.
type readahead struct {
	src  io.Reader
	full chan chunk
	free chan []byte
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	cur   []byte
	owned []byte // the buffer cur points into, returned to free when drained
	err   error
}

type chunk struct {
	buf []byte
	n   int
	err error
}

const (
	readaheadChunk = 256 << 10
	readaheadDepth = 4 // chunks in flight: 1 MiB
)

func newReadahead(src io.Reader) *readahead {
	ra := &readahead{
		src:  src,
		full: make(chan chunk, readaheadDepth),
		free: make(chan []byte, readaheadDepth+1),
		done: make(chan struct{}),
	}
	for i := 0; i < readaheadDepth+1; i++ {
		ra.free <- make([]byte, readaheadChunk)
	}
	ra.wg.Add(1)
	go ra.produce() // ends at the end of src, on an error, or on Close
	return ra
}

func (ra *readahead) produce() {
	defer ra.wg.Done()
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.done:
			return
		}
		n, err := io.ReadFull(ra.src, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		select {
		case ra.full <- chunk{buf: buf, n: n, err: err}:
		case <-ra.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (ra *readahead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.owned != nil {
			ra.free <- ra.owned
			ra.owned = nil
		}
		if ra.err != nil {
			return 0, ra.err
		}
		c := <-ra.full
		ra.cur, ra.owned, ra.err = c.buf[:c.n], c.buf, c.err
		if len(ra.cur) == 0 && ra.err == nil {
			ra.err = io.ErrNoProgress
		}
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the producer and waits for it, so that the source can be
// closed safely afterwards.
func (ra *readahead) Close() error {
	ra.once.Do(func() { close(ra.done) })
	ra.wg.Wait()
	return nil
}
