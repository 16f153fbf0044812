package sim

import (
	"fmt"
	"io"
	"time"
)

// TraceFormat is the version of what a trace hash covers. It changes when
// the events a world schedules change shape, not for every model change
// (those show as different hashes of the same format): seed files record
// it, and a file of another format is reported as such rather than as a
// mismatch. Format 1 scheduled one apply event per replayed entry after a
// restart; format 2 applies a replayed run in one event (issue 21).
const TraceFormat = 2

// Trace is the record of a run: one line per event when a writer is set,
// and always a running 64-bit hash of every event, so that two runs of
// the same seed can be compared by one number. The hash covers the
// event's time, kind, node and two numeric fields; the readable line is
// built only when someone reads it.
type Trace struct {
	h uint64
	n uint64
	w io.Writer
}

// NewTrace returns a trace that writes lines to w (nil: hash only).
func NewTrace(w io.Writer) *Trace {
	return &Trace{h: 14695981039346656037, w: w}
}

// Verbose reports whether lines are written.
func (t *Trace) Verbose() bool { return t.w != nil }

// Add records one event. line is called only when lines are written.
func (t *Trace) Add(at time.Duration, kind uint8, node int, a, b uint64, line func() string) {
	t.n++
	h := t.h
	h = mix(h, uint64(at))
	h = mix(h, uint64(kind)|uint64(node)<<8)
	h = mix(h, a)
	h = mix(h, b)
	t.h = h
	if t.w != nil {
		fmt.Fprintf(t.w, "t=%s %s #%d\n", FormatTime(at), line(), t.n)
	}
}

// Note writes a line without hashing it (headers, comments).
func (t *Trace) Note(format string, args ...any) {
	if t.w != nil {
		fmt.Fprintf(t.w, format+"\n", args...)
	}
}

// Hash returns the running hash.
func (t *Trace) Hash() uint64 { return t.h }

// Events returns the number of events recorded.
func (t *Trace) Events() uint64 { return t.n }

// mix folds v into h: a multiply-xorshift step, cheaper than FNV over bytes.
func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x9e3779b97f4a7c15
	h ^= h >> 29
	return h
}

// FormatTime prints a virtual time as seconds with millisecond precision,
// "12.300s", the form every line of etcdsim uses.
func FormatTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d.%03ds", ms/1000, ms%1000)
}
