package report

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress shows "n/total images  r img/s  ETA": on a terminal as a bar redrawn in place (\r) a few times per
// second, otherwise (a file, a pipe, a notebook) as a plain line at each quarter, so logs stay clean.
type progress struct {
	w          io.Writer
	terminal   bool
	total, n   int
	quarter    int
	start, red time.Time
}

func newProgress(w io.Writer, total int) *progress {
	now := time.Now()
	return &progress{w: w, terminal: isTerminal(w), total: total, start: now, red: now}
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) add(n int) {
	p.n += n
	if p.w == nil || p.total <= 0 {
		return
	}
	el := time.Since(p.start).Seconds()
	rate := float64(p.n) / max(el, 1e-9)
	eta := (time.Duration(float64(p.total-p.n)/max(rate, 1e-9)) * time.Second).Round(time.Second)
	if !p.terminal {
		if q := 4 * p.n / p.total; q > p.quarter && p.n < p.total {
			p.quarter = q
			fmt.Fprintf(p.w, "  %d/%d images  %.1f img/s  ETA %s\n", p.n, p.total, rate, eta)
		}
		return
	}
	if time.Since(p.red) < 500*time.Millisecond && p.n < p.total {
		return
	}
	p.red = time.Now()
	fmt.Fprintf(p.w, "\r  %s %d/%d images  %.1f img/s  ETA %s   ", bar(p.n, p.total, 24), p.n, p.total, rate, eta)
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	el := time.Since(p.start)
	cr := "\r"
	if !p.terminal {
		cr = ""
	}
	fmt.Fprintf(p.w, "%s  %d/%d images in %s (%.1f img/s)\n", cr, p.n, p.total,
		el.Round(100*time.Millisecond), float64(p.n)/max(el.Seconds(), 1e-9))
}

func bar(n, total, width int) string {
	filled := width
	if total > 0 {
		filled = min(width, n*width/total)
	}
	b := make([]rune, width)
	for i := range b {
		b[i] = '░'
		if i < filled {
			b[i] = '█'
		}
	}
	return "[" + string(b) + "]"
}
