package swarm

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Progress is the live line of a swarm on a terminal: seeds done of total,
// failures, seeds per second and the time left, rewritten in place at most
// five times a second. It is quiet when its writer is not a terminal.
type Progress struct {
	w            io.Writer
	total, done  uint64
	failing      uint64
	start, shown time.Time
	width        int
	on           bool
}

// NewProgress returns the progress of total seeds started at start,
// written to w.
func NewProgress(w io.Writer, total uint64, start time.Time) *Progress {
	p := &Progress{w: w, total: total, start: start}
	if f, ok := w.(*os.File); ok {
		fi, err := f.Stat()
		p.on = err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
	return p
}

// Update counts one more result.
func (p *Progress) Update(r Result) {
	p.done++
	if r.Invariant != "" {
		p.failing++
	}
	now := time.Now()
	if !p.on || (now.Sub(p.shown) < 200*time.Millisecond && p.done < p.total) {
		return
	}
	p.shown = now
	rate := float64(p.done) / now.Sub(p.start).Seconds()
	left := "?"
	if rate > 0 {
		left = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	line := fmt.Sprintf("%d/%d seeds  %d failing  %.1f seeds/s  %s left", p.done, p.total, p.failing, rate, left)
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = max(p.width, len(line))
}

// Clear erases the line.
func (p *Progress) Clear() {
	if p.on && p.width > 0 {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
	}
}
