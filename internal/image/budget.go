package image

import (
	"fmt"
	"io"
	"sync/atomic"
)

// budget counts the uncompressed layer bytes read for one image against
// Limits.MaxTotalBytes.
type budget struct {
	used atomic.Int64
	max  int64
}

// reader counts what r yields against the budget and fails with a
// *LimitError once the budget is spent.
func (b *budget) reader(r io.Reader) io.Reader { return &budgetReader{r: r, b: b} }

type budgetReader struct {
	r io.Reader
	b *budget
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if used := br.b.used.Add(int64(n)); used > br.b.max {
		return n, &LimitError{
			Limit: "max-total-bytes", Max: br.b.max,
			What: fmt.Sprintf("uncompressed layer data read (%d bytes so far)", used),
		}
	}
	return n, err
}
