package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progressBar draws "layers [#####     ] 12.3/45.6 MB" on a terminal. A nil
// *progressBar does nothing, so callers need not check.
type progressBar struct {
	w     io.Writer
	label string

	mu    sync.Mutex
	last  time.Time
	drawn bool
}

// newProgressBar returns a bar on w when w is a terminal and quiet is false,
// else nil.
func newProgressBar(w io.Writer, quiet bool, label string) *progressBar {
	if quiet {
		return nil
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progressBar{w: w, label: label}
}

// update redraws the bar at most ten times a second.
func (p *progressBar) update(done, total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = now
	const width = 30
	filled := 0
	if total > 0 {
		filled = int(int64(width) * min(done, total) / total)
	}
	fmt.Fprintf(p.w, "\r%s [%s%s] %.1f/%.1f MB", p.label, strings.Repeat("#", filled), strings.Repeat(" ", width-filled), float64(done)/1e6, float64(total)/1e6)
	p.drawn = true
}

// finish clears the bar's line.
func (p *progressBar) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
