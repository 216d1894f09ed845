package report

import (
	"fmt"
	"io"
	"time"
)

// progress prints "  n/total images  r img/s  ETA" lines, at most a few per second, ending with a summary.
type progress struct {
	w          io.Writer
	total, n   int
	start, red time.Time
}

func newProgress(w io.Writer, total int) *progress {
	now := time.Now()
	return &progress{w: w, total: total, start: now, red: now}
}

func (p *progress) add(n int) {
	p.n += n
	if p.w == nil || (time.Since(p.red) < 500*time.Millisecond && p.n < p.total) {
		return
	}
	p.red = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(p.n) / max(el, 1e-9)
	eta := float64(p.total-p.n) / max(rate, 1e-9)
	fmt.Fprintf(p.w, "\r  %s %d/%d images  %.1f img/s  ETA %s   ", bar(p.n, p.total, 24), p.n, p.total, rate,
		(time.Duration(eta) * time.Second).Round(time.Second))
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	el := time.Since(p.start)
	fmt.Fprintf(p.w, "\r  %s %d/%d images in %s (%.1f img/s)          \n", bar(p.n, p.total, 24), p.n, p.total,
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
